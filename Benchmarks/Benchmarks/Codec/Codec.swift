// The PING path, side by side in one run (issue 11 item 4): every built-in dialect's pings demuxed
// and answered into a reused buffer (CodecPingCases), swift-nio-http2's NIOHTTP2Handler in an
// EmbeddedChannel answering the same HTTP/2 PINGs, and a bare unsafe header walk (the ceiling).
// Each iteration is 1,000 pings (8 passes over 125): divide its wall clock and instructions by
// 1,000 for a ping's; mallocs are counted per iteration, unscaled, so that 0 means none at all.
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target Codec
import Benchmark
import Glibc
import CodecPingCases
import Framing
import NIOCore
import NIOEmbedded
import NIOHTTP2

/// NIOHTTP2Handler as a server in an EmbeddedChannel, past the preface and SETTINGS exchange,
/// its inbound control-frame rate limit (200 per 30 s by default) raised so that it never trips.
final class NIOPingServer {
    let channel = EmbeddedChannel()
    let pings: ByteBuffer

    init(count: Int) throws {
        pings = channel.allocator.buffer(bytes: pingInput(.http2, count))
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.controlFrameRateLimit.maximumCount = .max
        configuration.maximumBufferedControlFrames = .max
        let handler = NIOHTTP2Handler(mode: .server, frameDelegate: nil, connectionConfiguration: configuration)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        var preface: [UInt8] = []
        HTTP2Frame.appendClientPreface(to: &preface)
        HTTP2Frame.appendHeader(length: 0, type: HTTP2Frame.FrameType.settings, flags: 0, streamID: 0, to: &preface)
        try channel.writeInbound(channel.allocator.buffer(bytes: preface))
        channel.pipeline.fireChannelReadComplete()
        drain()
    }

    /// Writes the pings in and reads the ACKs out; returns the octets answered.
    func pass() throws -> Int {
        try channel.writeInbound(pings)
        channel.pipeline.fireChannelReadComplete()
        return drain()
    }

    @discardableResult
    func drain() -> Int {
        var octets = 0
        while let buffer = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let bytes) = buffer { octets += bytes.readableBytes }
        }
        return octets
    }
}

/// Passes per iteration of a PING path benchmark (together 1,000 pings).
let pingPassesPerIteration = 8

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .instructions, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .one,
        maxDuration: .seconds(Int(getenv("CODEC_BENCHMARK_SECONDS").flatMap { Int(String(cString: $0)) } ?? 2)),
        maxIterations: 1_000_000
    )
    for name in pingPathNames {
        Benchmark("PING path \(name)") { benchmark in
            // Setup (input, demuxer, buffers) is not measured; warm passes instantiate metadata once.
            // The 1,000 pings are `pingPassesPerIteration` passes over 125, so that an allocation
            // in a pass counts at least 8 in an iteration: well clear of the harness's own noise
            // (its floor is 16 or 18 mallocs, differing between processes), which
            // Benchmarks/codec-smoke.sh therefore tolerates below 8.
            guard let run = pingPathCase(name, 1000 / pingPassesPerIteration) else { fatalError("no case \(name)") }
            for _ in 0..<pingPassesPerIteration { blackHole(run.pass()) }
            benchmark.startMeasurement()
            for _ in 0..<pingPassesPerIteration { blackHole(run.pass()) }
        }
    }
    // What the harness itself allocates between startMeasurement and the end of an iteration:
    // the floor the malloc thresholds are counted from.
    Benchmark("PING path harness floor") { benchmark in
        benchmark.startMeasurement()
        blackHole(0)
    }
    Benchmark("PING path NIOHTTP2Handler") { benchmark in
        let server = try NIOPingServer(count: 1000)
        blackHole(try server.pass())
        benchmark.startMeasurement()
        blackHole(try server.pass())
    }
}
