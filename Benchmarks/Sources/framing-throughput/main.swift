// Decode throughput of the HTTP/2 demuxer on a stream of 16 KiB DATA frames with one PING per
// 100 frames, fed in socket-sized chunks, against memcpy of the same bytes in the same run.
// Usage: swift run -c release framing-throughput [CHUNK_OCTETS]
import Framing
import Glibc

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fixed(_ value: Double, _ digits: Int) -> String {
    let scale = (0..<digits).reduce(1.0) { value, _ in value * 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        text += String(repeating: "0", count: max(0, digits - decimals))
        if digits == 0 { text = String(text[..<dot]) }
    }
    return text
}

func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

struct Stream {
    var bytes: [UInt8] = []
    var dataFrames = 0
    var pings = 0

    init(dataFrames: Int) {
        let payload = [UInt8](repeating: 0x5a, count: 16_384)
        for index in 0..<dataFrames {
            HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 1, payload: payload.span.bytes, to: &bytes)
            if index % 100 == 99 {
                HTTP2Frame.appendPing(HeartbeatPayload(sequence: UInt32(index), timestampMilliseconds: 0), ack: false, to: &bytes)
                pings += 1
            }
        }
        self.dataFrames = dataFrames
    }
}

func demux(_ stream: Stream, chunkSize: Int) -> (business: Int, pings: Int, bytes: Int) {
    var demuxer = StreamDemuxer(HTTP2FrameDecoder())
    var business = 0
    var heartbeats = 0
    var bytes = 0
    var index = 0
    let all = stream.bytes.span.bytes
    while index < all.byteCount {
        let end = min(index + chunkSize, all.byteCount)
        do {
            try demuxer.feed(all.extracting(index..<end)) { item, payload in
                switch item {
                case .business: business += 1; bytes &+= payload.byteCount
                case .ping: heartbeats += 1
                default: break
                }
            }
        } catch {
            fatalError("benchmark stream failed to decode: \(error)")
        }
        index = end
    }
    return (business, heartbeats, bytes)
}

func copy(_ stream: Stream, into destination: inout [UInt8], chunkSize: Int) -> Int {
    var checksum = 0
    stream.bytes.withUnsafeBytes { source in
        destination.withUnsafeMutableBytes { target in
            var index = 0
            while index < source.count {
                let count = min(chunkSize, source.count - index)
                memcpy(target.baseAddress!, source.baseAddress! + index, count)
                checksum &+= Int(target[count - 1])
                index += count
            }
        }
    }
    return checksum
}

func main() {
    let chunkSize = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 65_536
    let repetitions = 15
    let stream = Stream(dataFrames: 4_000)
    let megabytes = Double(stream.bytes.count) / 1e6
    var destination = [UInt8](repeating: 0, count: chunkSize)
    var demuxTimes: [Double] = []
    var copyTimes: [Double] = []
    for _ in 0..<repetitions {
        var start = now()
        let result = demux(stream, chunkSize: chunkSize)
        demuxTimes.append(now() - start)
        precondition(result.business == stream.dataFrames && result.pings == stream.pings && result.bytes == stream.dataFrames * 16_384)
        start = now()
        precondition(copy(stream, into: &destination, chunkSize: chunkSize) != -1)
        copyTimes.append(now() - start)
    }
    let demuxRate = megabytes / median(demuxTimes)
    let copyRate = megabytes / median(copyTimes)
    print("stream: \(stream.dataFrames) HTTP/2 DATA frames of 16 KiB + \(stream.pings) PINGs = \(fixed(megabytes, 1)) MB, fed in \(chunkSize)-octet chunks; median of \(repetitions) passes")
    print("HTTP/2 demux     \(pad(fixed(demuxRate, 0), 9)) MB/s  (\(fixed(median(demuxTimes) * 1e3, 2)) ms per pass)")
    print("memcpy baseline  \(pad(fixed(copyRate, 0), 9)) MB/s  (\(fixed(median(copyTimes) * 1e3, 2)) ms per pass)")
    print("demux / memcpy   \(pad(fixed(demuxRate / copyRate, 2), 9))")
}

main()
