// `interop-frames resp-delimit|lines-delimit SEED INPUT_FILE OUTPUT_FILE`: feeds INPUT_FILE to our
// RESP decoder (a capture: either direction) or text-lines decoder in chunks of random sizes
// (SplitMix64 from SEED; 1 to 64 octets, sometimes up to 4,096) and writes one line per item —
// `business TYPE LENGTH`, `ping HEX`, `pong HEX` — and, on failure, `error CODE OFFSET` last.
// Interop/resp_interop.py compares the boundaries with hiredis' reader.
import Framing
import Glibc

/// Runs the text-dialect delimiting mode when the arguments ask for it; otherwise returns.
func runTextDelimitingIfAsked(_ arguments: [String]) {
    guard arguments.count == 5, arguments[1] == "resp-delimit" || arguments[1] == "lines-delimit" else { return }
    guard let seed = UInt64(arguments[2]), let input = readWholeFile(arguments[3]) else {
        fail("usage: interop-frames resp-delimit|lines-delimit SEED INPUT_FILE OUTPUT_FILE")
    }
    var demuxer = arguments[1] == "resp-delimit" ? Demuxer(RESPDialect(), role: nil, maxFrameSize: 1 << 30)
        : Demuxer(LinesDialect(), role: nil, maxFrameSize: 1 << 20)
    var random = SplitMix64(seed: seed)
    var lines: [String] = []
    var index = 0
    do {
        while index < input.count {
            let size = random.next() % 8 == 0 ? Int(random.next() % 4096) + 1 : Int(random.next() % 64) + 1
            let end = min(index + size, input.count)
            try demuxer.feed(input.span.bytes.extracting(index..<end)) { item, bytes in
                switch item {
                case .business(let frame): lines.append("business \(frame.type) \(frame.length)")
                case .ping: lines.append("ping \(bytes.hexDescription)")
                case .pong: lines.append("pong \(bytes.hexDescription)")
                default: lines.append("other")
                }
            }
            index = end
        }
        try demuxer.finish()
    } catch {
        lines.append("error \(error.reason == .truncated ? "TRUNCATED" : error.code.name) \(error.offset)")
    }
    let text = Array((lines.joined(separator: "\n") + "\n").utf8)
    guard let file = fopen(arguments[4], "wb") else { fail("cannot open \(arguments[4])") }
    defer { fclose(file) }
    guard text.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == text.count else { fail("cannot write \(arguments[4])") }
    print("interop-frames: \(lines.count) items from \(input.count) octets")
    exit(0)
}

/// The whole contents of the file at `path`, or nil.
func readWholeFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        contents += chunk[0..<count]
    }
    return contents
}
