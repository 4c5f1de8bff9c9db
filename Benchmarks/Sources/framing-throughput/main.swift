// DATA-path throughput (issue 11 items 2 and 4): an HTTP/2 client stream of 16 KiB DATA frames
// with one PING per 100 frames, fed in chunks of 1,500 octets, 4 KiB, 16 KiB and 64 KiB, through
//   ours (whole frame)    StreamDemuxer.feed: split frames gathered into the aligned buffer
//   ours (streaming)      StreamDemuxer.feedStreaming: split frames handed over in pieces
//   NIOHTTP2Handler       swift-nio-http2 as a server in an EmbeddedChannel (inline stream
//                         multiplexer, windows and control-frame limits raised), same bytes
//   memcpy                each chunk copied into a chunk-sized buffer (the ceiling)
//   naive walk            header walk over raw pointers, split frames memcpy'd into one buffer
// all in one run, interleaved, each point the median of several passes; GB/s, ratio to memcpy,
// and mallocs per pass (MallocInterposer).
//
// Usage: swift run -c release framing-throughput [--passes N] [--frames N] [--csv FILE] [CHUNK...]
//        framing-throughput [--frames N] --only METHOD CHUNK   one pass of one method (for
//        callgrind; METHOD build only builds the stream, the cost to subtract)
import Framing
import Glibc
import MallocInterposerSwift
import NIOCore
import NIOEmbedded
import NIOHTTP2

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
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

func padRight(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

/// The client side of one HTTP/2 connection: preface, SETTINGS, a GET on stream 1, then
/// `dataFrames` DATA frames of 16 KiB on it with a PING after every 100th.
struct ClientStream {
    var bytes: [UInt8] = []
    let dataFrames: Int
    var pings = 0
    static let payloadLength = 16_384

    init(dataFrames: Int) {
        self.dataFrames = dataFrames
        let preface = Framing.HTTP2Frame.clientPreface
        for index in preface.indices { bytes.append(preface[index]) }
        Framing.HTTP2Frame.appendFrame(type: Framing.HTTP2Frame.FrameType.settings, streamID: 0, payload: [UInt8]().span.bytes, to: &bytes)
        // HEADERS with END_HEADERS: :method GET, :scheme http, :path / (HPACK static indices 2, 6, 4).
        let block: [UInt8] = [0x82, 0x86, 0x84]
        bytes += [0, 0, UInt8(block.count), Framing.HTTP2Frame.FrameType.headers, Framing.HTTP2Frame.Flags.endHeaders, 0, 0, 0, 1] + block
        let payload = [UInt8](repeating: 0x5a, count: Self.payloadLength)
        for index in 0..<dataFrames {
            Framing.HTTP2Frame.appendFrame(type: Framing.HTTP2Frame.FrameType.data, streamID: 1, payload: payload.span.bytes, to: &bytes)
            if index % 100 == 99 {
                Framing.HTTP2Frame.appendPing(HeartbeatPayload(sequence: UInt32(index), timestampMilliseconds: 0), ack: false, to: &bytes)
                pings += 1
            }
        }
    }

    var payloadOctets: Int { dataFrames * Self.payloadLength }
}

/// What a pass saw, checked against the stream so that no method can skip work.
struct Tally: Equatable {
    var dataOctets = 0
    var pings = 0
}

func oursWhole(_ stream: ClientStream, chunkSize: Int) -> Tally {
    var demuxer = StreamDemuxer(HTTP2FrameDecoder(preface: .required))
    var tally = Tally()
    stream.bytes.withUnsafeBytes { raw in
        let all = raw.bytes
        var index = 0
        while index < all.byteCount {
            let end = min(index + chunkSize, all.byteCount)
            do {
                try demuxer.feed(all.extracting(index..<end)) { item, payload in
                    switch item {
                    case .business(let frame) where frame.type == UInt64(Framing.HTTP2Frame.FrameType.data): tally.dataOctets &+= payload.byteCount
                    case .ping: tally.pings += 1
                    default: break
                    }
                }
            } catch {
                fatalError("benchmark stream failed to decode: \(error)")
            }
            index = end
        }
    }
    return tally
}

func oursStreaming(_ stream: ClientStream, chunkSize: Int) -> Tally {
    var demuxer = StreamDemuxer(HTTP2FrameDecoder(preface: .required))
    var tally = Tally()
    var inData = false
    stream.bytes.withUnsafeBytes { raw in
        let all = raw.bytes
        var index = 0
        while index < all.byteCount {
            let end = min(index + chunkSize, all.byteCount)
            do {
                try demuxer.feedStreaming(all.extracting(index..<end)) { item, bytes in
                    switch item {
                    case .whole(.business(let frame)) where frame.type == UInt64(Framing.HTTP2Frame.FrameType.data): tally.dataOctets &+= bytes.byteCount
                    case .whole(.ping): tally.pings += 1
                    case .frameStart(let frame): inData = frame.type == UInt64(Framing.HTTP2Frame.FrameType.data)
                    case .payload: if inData { tally.dataOctets &+= bytes.byteCount }
                    default: break
                    }
                }
            } catch {
                fatalError("benchmark stream failed to decode: \(error)")
            }
            index = end
        }
    }
    return tally
}

/// Counts DATA octets and PINGs as NIO's stream channels and connection deliver them.
final class DataCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOHTTP2.HTTP2Frame.FramePayload
    var octets = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .data(let data) = unwrapInboundIn(data).self, case .byteBuffer(let buffer) = data.data { octets &+= buffer.readableBytes }
    }
}

final class PingCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOHTTP2.HTTP2Frame
    var pings = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .ping(_, ack: false) = unwrapInboundIn(data).payload { pings += 1 }
    }
}

func nio(_ stream: ClientStream, chunkSize: Int) -> Tally {
    let channel = EmbeddedChannel()
    let counter = DataCounter()
    var connection = NIOHTTP2Handler.ConnectionConfiguration()
    // Raised so that one PING per 100 DATA frames, 16 KiB each, never trips a limit.
    connection.controlFrameRateLimit.maximumCount = .max
    connection.maximumBufferedControlFrames = .max
    connection.targetWindowSize = Int(Int32.max)
    connection.initialSettings = [
        HTTP2Setting(parameter: .maxConcurrentStreams, value: 100),
        HTTP2Setting(parameter: .initialWindowSize, value: Int(Int32.max)),
    ]
    var streamConfiguration = NIOHTTP2Handler.StreamConfiguration()
    streamConfiguration.targetWindowSize = Int(Int32.max)
    let handler = NIOHTTP2Handler(mode: .server, eventLoop: channel.embeddedEventLoop,
                                  connectionConfiguration: connection, streamConfiguration: streamConfiguration) { stream in
        stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(counter) }
    }
    let pings = PingCounter()
    do {
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(pings)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    } catch {
        fatalError("NIO setup: \(error)")
    }
    var buffer = channel.allocator.buffer(capacity: stream.bytes.count)
    buffer.writeBytes(stream.bytes)
    var index = 0
    while index < stream.bytes.count {
        let length = min(chunkSize, stream.bytes.count - index)
        do {
            try channel.writeInbound(buffer.getSlice(at: index, length: length)!)
            while try channel.readOutbound(as: ByteBuffer.self) != nil {}
        } catch {
            fatalError("NIOHTTP2Handler failed on the stream: \(error)")
        }
        index += length
    }
    _ = try? channel.finish()
    return Tally(dataOctets: counter.octets, pings: pings.pings)
}

func copyChunks(_ stream: ClientStream, into destination: UnsafeMutableRawPointer, chunkSize: Int) -> Int {
    var checksum = 0
    stream.bytes.withUnsafeBytes { source in
        var index = 0
        while index < source.count {
            let count = min(chunkSize, source.count - index)
            memcpy(destination, source.baseAddress! + index, count)
            checksum &+= Int(destination.load(fromByteOffset: count - 1, as: UInt8.self))
            index += count
        }
    }
    return checksum
}

/// The least a gathering demuxer can do: read each 9-octet header, hand over frames wholly in a
/// chunk in place and memcpy split ones into one preallocated buffer; no checks.
func naiveWalk(_ stream: ClientStream, gather: UnsafeMutableRawPointer, chunkSize: Int) -> Tally {
    var tally = Tally()
    stream.bytes.withUnsafeBytes { source in
        let base = source.baseAddress!
        var gathered = 0, frameLength = 0
        var offset = 24
        var index = 0
        func deliver(_ frame: UnsafeRawPointer, _ length: Int) {
            let type = frame.load(fromByteOffset: 3, as: UInt8.self)
            if type == 0 { tally.dataOctets &+= length - 9 } else if type == 6 { tally.pings += 1 }
        }
        while index < source.count {
            let end = min(index + chunkSize, source.count)
            var position = max(index, offset)
            if gathered > 0 || frameLength > 0 {
                // Finish the split frame (or header) from this chunk.
                while true {
                    let want = (frameLength > 0 ? frameLength : 9) - gathered
                    let take = min(want, end - position)
                    memcpy(gather + gathered, base + position, take)
                    gathered += take
                    position += take
                    if take < want { break }
                    if frameLength == 0 {
                        frameLength = 9 + (Int(gather.load(as: UInt8.self)) << 16 | Int(gather.load(fromByteOffset: 1, as: UInt8.self)) << 8
                            | Int(gather.load(fromByteOffset: 2, as: UInt8.self)))
                        if gathered < frameLength { continue }
                    }
                    deliver(gather, frameLength)
                    gathered = 0
                    frameLength = 0
                    break
                }
            }
            while position < end {
                if end - position < 9 {
                    memcpy(gather, base + position, end - position)
                    gathered = end - position
                    position = end
                    break
                }
                let length = 9 + (Int(base.load(fromByteOffset: position, as: UInt8.self)) << 16
                    | Int(base.load(fromByteOffset: position + 1, as: UInt8.self)) << 8 | Int(base.load(fromByteOffset: position + 2, as: UInt8.self)))
                if position + length <= end {
                    deliver(base + position, length)
                    position += length
                } else {
                    memcpy(gather, base + position, end - position)
                    gathered = end - position
                    frameLength = length
                    position = end
                }
            }
            offset = position
            index = end
        }
    }
    return tally
}

enum Method: String, CaseIterable {
    case memcpy, naive, whole, streaming, nio

    var label: String {
        switch self {
        case .memcpy: return "memcpy"
        case .naive: return "naive walk"
        case .whole: return "ours, whole frame"
        case .streaming: return "ours, streaming"
        case .nio: return "NIOHTTP2Handler"
        }
    }
}

func run(_ method: Method, _ stream: ClientStream, chunkSize: Int, scratch: UnsafeMutableRawPointer) {
    let expected = Tally(dataOctets: stream.payloadOctets, pings: stream.pings)
    switch method {
    case .memcpy: precondition(copyChunks(stream, into: scratch, chunkSize: chunkSize) != -1)
    case .naive: precondition(naiveWalk(stream, gather: scratch, chunkSize: chunkSize) == expected, "naive walk miscounted")
    case .whole: precondition(oursWhole(stream, chunkSize: chunkSize) == expected, "whole-frame mode miscounted")
    case .streaming: precondition(oursStreaming(stream, chunkSize: chunkSize) == expected, "streaming mode miscounted")
    case .nio:
        let tally = nio(stream, chunkSize: chunkSize)
        precondition(tally == expected, "NIO miscounted: \(tally) of \(expected)")
    }
}

func main() {
    var arguments = Array(CommandLine.arguments.dropFirst())
    var passes = 7, frames = 4_000
    var csvPath: String?
    var only: Method?
    var buildOnly = false
    while let first = arguments.first, first.hasPrefix("--") {
        arguments.removeFirst()
        let value = arguments.isEmpty ? "" : arguments.removeFirst()
        switch first {
        case "--passes": passes = Int(value) ?? passes
        case "--frames": frames = Int(value) ?? frames
        case "--csv": csvPath = value
        case "--only": only = Method(rawValue: value); buildOnly = value == "build"
        default: fatalError("unknown option \(first)")
        }
    }
    let chunkSizes = arguments.isEmpty ? [1_500, 4_096, 16_384, 65_536] : arguments.compactMap { Int($0) }
    let stream = ClientStream(dataFrames: frames)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { scratch.deallocate() }
    if buildOnly { return }
    if let only {
        for chunkSize in chunkSizes { run(only, stream, chunkSize: chunkSize, scratch: scratch) }
        return
    }
    let gigabytes = Double(stream.bytes.count) / 1e9
    print("stream: \(stream.dataFrames) HTTP/2 DATA frames of 16 KiB + \(stream.pings) PINGs = \(fixed(gigabytes * 1e3, 1)) MB; median of \(passes) interleaved passes per point")
    var csv = "chunk,method,gbps,ratio_to_memcpy,mallocs_per_pass\n"
    MallocInterposerSwift.initialize()
    for chunkSize in chunkSizes {
        var times: [Method: [Double]] = [:]
        var mallocs: [Method: Int] = [:]
        // One untimed pass each first: first-use metadata, page faults, buffers.
        for method in Method.allCases { run(method, stream, chunkSize: chunkSize, scratch: scratch) }
        for _ in 0..<passes {
            for method in Method.allCases {
                MallocInterposerSwift.reset()
                MallocInterposerSwift.hook()
                let start = now()
                run(method, stream, chunkSize: chunkSize, scratch: scratch)
                let elapsed = now() - start
                MallocInterposerSwift.unhook()
                times[method, default: []].append(elapsed)
                mallocs[method] = MallocInterposerSwift.getStatistics().mallocCount
            }
        }
        let memcpyRate = gigabytes / median(times[.memcpy]!)
        print("\nchunk \(chunkSize) octets")
        print("  \(padRight("method", 18))      GB/s  × memcpy   mallocs/pass")
        for method in Method.allCases {
            let rate = gigabytes / median(times[method]!)
            print("  \(padRight(method.label, 18)) \(pad(fixed(rate, 2), 9)) \(pad(fixed(rate / memcpyRate, 2), 9)) \(pad(String(mallocs[method]!), 14))")
            csv += "\(chunkSize),\(method.rawValue),\(fixed(rate, 3)),\(fixed(rate / memcpyRate, 3)),\(mallocs[method]!)\n"
        }
    }
    if let csvPath {
        guard let file = fopen(csvPath, "w") else { fatalError("cannot write \(csvPath)") }
        fputs(csv, file)
        fclose(file)
    }
}

main()
