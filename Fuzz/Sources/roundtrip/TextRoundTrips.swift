import FuzzSupport
import Framing

// MARK: - RESP

/// Operations (mod 6): 0 our client's PING (bare, or `PING hb-<8 octets>` in the echo mode;
/// 8 payload octets), 1 a server's answer (`+PONG`, or the bulk echo of `hb-` and 8 octets in the
/// echo mode), 2 a random value (nested to the decoder's depth, from the input), 3 an inline
/// command of lowercase words (a server's or a capture's view; a value otherwise), 4 a value
/// written through `appendData`, 5 an attribute and the value it annotates. Each must come back
/// as what the role reads it as: a ping, a pong, or a business item of the value's type.
func respRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .resp, options: input.byte())
    let chunkSize = Int(input.byte())
    let echo = setup.options & 4 != 0
    let maxDepth = min(max(DemuxerSetup.respMaxDepths[Int(setup.options >> 6) & 3], 1), 4)
    var client = RESPFrameEncoder(role: .client, pingMessage: echo ? "hb-" : nil)
    var server = RESPFrameEncoder(role: .server)
    var stream: [UInt8] = []
    var expected: [Received] = []
    func add(_ value: [UInt8], _ item: DemuxedItem, bytes: [UInt8]? = nil) {
        guard value.count <= setup.maxFrameSize else { return }
        stream += value
        expected.append(Received(item, bytes: bytes ?? value))
    }
    func business(_ value: [UInt8], type: UInt8) { add(value, .business(BusinessFrame(type: UInt64(type), length: value.count))) }
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 6 {
        case 0:
            let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
            var value: [UInt8] = []
            client.appendPing(payload, to: &value)
            let message = echo ? Array("hb-".utf8) + octets(payload.rawValue, width: 8) : []
            if setup.role == .client {
                business(value, type: RESPFrame.TypeOctet.array)
            } else {
                add(value, .ping(HeartbeatPayload(prefixOf: message.span.bytes)), bytes: message)
            }
        case 1:
            let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
            let message = echo ? Array("hb-".utf8) + octets(payload.rawValue, width: 8) : []
            var value: [UInt8] = []
            server.appendPong(echoing: message.span.bytes, to: &value)
            if setup.role == .server {
                business(value, type: value[0])
            } else {
                add(value, .pong(echo ? payload : .empty), bytes: echo ? octets(payload.rawValue, width: 8) : [])
            }
        case 2, 4:
            let (value, type) = randomRESPValue(&input, depth: 0, maxDepth: maxDepth)
            var written: [UInt8] = []
            client.appendData(value.span.bytes, type: nil, to: &written)
            check(written == value, "RESP appendData changed the value")
            business(written, type: type)
        case 3 where setup.role != .client:
            var line: [UInt8] = []
            for index in 0..<(1 + Int(input.byte() % 3)) {
                if index > 0 { line.append(0x20) }
                line += lowercaseWord(&input, avoiding: ["ping"])
            }
            line += input.flag() ? [0x0D, 0x0A] : [0x0A]
            business(line, type: UInt8(RESPFrame.inlineCommandType))
        case 3:
            business(Array("+ok\r\n".utf8), type: RESPFrame.TypeOctet.simpleString)
        default:
            guard maxDepth >= 2 else { continue }
            let key = lowercaseWord(&input, avoiding: [])
            let (annotated, type) = randomRESPValue(&input, depth: 1, maxDepth: maxDepth)
            business(Array("|1\r\n+".utf8) + key + [0x0D, 0x0A] + Array(":1\r\n".utf8) + annotated, type: type)
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}

/// A word of 1–8 lowercase letters, never one of `avoiding`.
func lowercaseWord(_ input: inout FuzzInput, avoiding: [String]) -> [UInt8] {
    var word = (0..<(1 + Int(input.byte() % 8))).map { _ in UInt8(ascii: "a") + input.byte() % 26 }
    if avoiding.contains(String(decoding: word, as: UTF8.self)) { word.append(UInt8(ascii: "x")) }
    return word
}

/// A RESP value built from the input, and its type octet; never one a reader takes for a
/// heartbeat (no PING command, no `+PONG`, no bulk string of 11 octets, no `pong` array).
func randomRESPValue(_ input: inout FuzzInput, depth: Int, maxDepth: Int) -> ([UInt8], UInt8) {
    let kinds = Array((depth + 1 < maxDepth ? "+-:$_#,(!=*%~>" : "+-:$_#,(!=").utf8)
    let kind = kinds[Int(input.byte()) % kinds.count]
    var out: [UInt8] = [kind]
    func line(_ text: [UInt8]) { out += text + [0x0D, 0x0A] }
    switch kind {
    case UInt8(ascii: "+"), UInt8(ascii: "-"): line(lowercaseWord(&input, avoiding: []))
    case UInt8(ascii: ":"): line(Array(String(Int64(bitPattern: input.integer(octets: 8))).utf8))
    case UInt8(ascii: "_"): line([])
    case UInt8(ascii: "#"): line(input.flag() ? [0x74] : [0x66])
    case UInt8(ascii: ","): line(Array(["1.5", "-0.25e-3", "inf", "-inf", "nan", "42", "3E+7"][Int(input.byte() % 7)].utf8))
    case UInt8(ascii: "("): line(Array(String(input.integer(octets: 8)).utf8))
    case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
        var data = input.take(Int(input.byte() % 40))
        if kind == UInt8(ascii: "=") { data = Array("txt:".utf8) + data }
        if data.count == 4 || data.count == 11 { data.append(0x2E) }
        if kind == UInt8(ascii: "$"), input.byte() % 8 == 0 { line(Array("-1".utf8)); break }
        line(Array(String(data.count).utf8))
        out += data + [0x0D, 0x0A]
    default:
        let count = Int(input.byte() % 4)
        line(Array(String(count).utf8))
        // The first element of an array of one or two is never a bulk string (no PING command,
        // no subscribed-mode pong).
        for index in 0..<(kind == UInt8(ascii: "%") ? 2 * count : count) {
            var element = randomRESPValue(&input, depth: depth + 1, maxDepth: maxDepth).0
            if index == 0, element.first == UInt8(ascii: "$") { element = Array(":0\r\n".utf8) }
            out += element
        }
    }
    return (out, kind)
}

// MARK: - Text lines

/// Operations (mod 4): 0 PING, 1 PONG (through the encoder), 2 a line of up to 127 octets from the
/// input through `appendData` (LF replaced, no CR last, never a heartbeat word), 3 the same with
/// CR LF written by hand.
func linesRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .lines, options: input.byte())
    let chunkSize = Int(input.byte())
    var encoder = LinesFrameEncoder()
    var stream: [UInt8] = []
    var expected: [Received] = []
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 4 {
        case 0:
            encoder.appendPing(HeartbeatPayload(rawValue: 1), to: &stream)
            expected.append(Received(.ping(.empty), bytes: []))
        case 1:
            encoder.appendPong(echoing: [UInt8]().span.bytes, to: &stream)
            expected.append(Received(.pong(.empty), bytes: []))
        default:
            let crlf = input.byte() & 1 == 1
            var content = input.take(min(Int(input.byte() % 128), setup.maxFrameSize)).map { $0 == 0x0A ? 0x20 : $0 }
            if content.last == 0x0D { content[content.count - 1] = 0x20 }
            if content == Array("PING".utf8) || content == Array("PONG".utf8) { content[0] = 0x70 }
            if crlf { stream += content + [0x0D, 0x0A] } else { encoder.appendData(content.span.bytes, type: nil, to: &stream) }
            expected.append(Received(.business(BusinessFrame(type: 0, length: content.count)), bytes: content))
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}
