import Foundation
import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOEmbedded
import NIOHTTP2
import NIOHTTP2Keepalive
import NIOPosix
import Testing

typealias NIOFrame = NIOHTTP2.HTTP2Frame

@Suite struct HTTP2KeepaliveTests {
    // MARK: EmbeddedChannel: the handler alone, frames in and out, virtual time

    func keepaliveChannel(_ configuration: HeartbeatConfiguration, mode: NIOHTTP2Handler.ParserMode = .client) throws
        -> (EmbeddedChannel, NIOHTTP2KeepaliveHandler, EventRecorder<NIOFrame>) {
        let keepalive = NIOHTTP2KeepaliveHandler(mode: mode, configuration: configuration)
        let recorder = EventRecorder<NIOFrame>()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(keepalive)
        try channel.pipeline.syncOperations.addHandler(recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, keepalive, recorder)
    }

    @Test func pingAcksAreTimedAndSilenceEndsInGoAway() throws {
        let (channel, keepalive, recorder) = try keepaliveChannel(quickConfiguration())
        defer { _ = try? channel.finish() }
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            let frame = try #require(try channel.readOutbound(as: NIOFrame.self))
            guard case .ping(let data, ack: false) = frame.payload else { Issue.record("expected a PING, got \(frame)"); return }
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
            try channel.writeInbound(NIOFrame(streamID: .rootStream, payload: .ping(data, ack: true)))
        }
        #expect(recorder.rttSamples.count == 3)
        // The first ACK came 20 ms after its PING; later PINGs went out at their deadline, which the
        // 1 s steps passed by the previous 20 ms.
        #expect(recorder.rttSamples.map(\.latest) == [.milliseconds(20), .milliseconds(40), .milliseconds(60)])
        #expect(recorder.business.count == 3)  // the ACKs pass on

        // The peer goes silent: one missed pong (fixed timeout) declares it dead.
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        var goAway: NIOFrame?
        while let frame = try channel.readOutbound(as: NIOFrame.self) { goAway = frame }
        guard case .goAway(_, let code, let debug)? = goAway?.payload else { Issue.record("expected GOAWAY, got \(String(describing: goAway))"); return }
        #expect(code == .noError)
        #expect(debug.map { String(buffer: $0) }?.contains("missed") == true)
        #expect(!channel.isActive)
        #expect(keepalive.state == .failed)
        #expect(recorder.errors.contains { if case .peerDead = $0 as? HeartbeatNIOError { return true } else { return false } })
    }

    @Test func aPeersPingFloodGetsGoAwayEnhanceYourCalmButDataForgivesStrikes() throws {
        var configuration = HeartbeatConfiguration(pingInterval: .seconds(3600))
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .seconds(1), maxPingStrikes: 2)
        let (channel, _, _) = try keepaliveChannel(configuration, mode: .server)
        defer { _ = try? channel.finish() }
        func peerPings(_ count: Int, dataBetween: Bool) throws {
            for value in 0..<count where channel.isActive {
                try channel.writeInbound(NIOFrame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: UInt64(value)), ack: false)))
                if dataBetween {
                    try channel.writeInbound(NIOFrame(streamID: 1, payload: .data(.init(data: .byteBuffer(channel.allocator.buffer(string: "x"))))))
                }
                channel.embeddedEventLoop.advanceTime(by: .milliseconds(10))
            }
        }
        try peerPings(10, dataBetween: true)
        #expect(channel.isActive)
        try peerPings(4, dataBetween: false)
        #expect(!channel.isActive)
        var goAway: NIOFrame?
        while let frame = try channel.readOutbound(as: NIOFrame.self) { goAway = frame }
        guard case .goAway(let lastStreamID, let code, let debug)? = goAway?.payload else { Issue.record("expected GOAWAY"); return }
        #expect(code == .enhanceYourCalm)
        #expect(debug.map { String(buffer: $0) } == "too_many_pings")
        #expect(lastStreamID == 1)
    }

    // MARK: Real peers over loopback

    /// A NIO HTTP/2 client (NIOHTTP2Handler + the keepalive) to 127.0.0.1:`port`; succeeds with the
    /// number of RTT samples once there are `samples`.
    func keepAlive(port: Int, samples: Int) async throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.next().makePromise(of: Int.self)
        var configuration = HeartbeatConfiguration(pingInterval: .milliseconds(100), ackTimeout: .seconds(5))
        configuration.failureDetector = .fixedTimeout
        let clientConfiguration = configuration
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let keepalive = NIOHTTP2KeepaliveHandler(mode: .client, configuration: clientConfiguration)
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOHTTP2Handler(mode: .client, frameDelegate: keepalive.frameDelegate), keepalive,
                        SampleCounter(target: samples, done: done),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        return try await done.futureResult.get(within: .seconds(30))
    }

    @Test func keepsNghttpdAliveWithPingsItAcknowledges() async throws {
        let port = try await freePort()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nghttpd-\(port)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let nghttpd = try TestProcess(executable: "/usr/sbin/nghttpd", ["--no-tls", "-a", "127.0.0.1", "-d", root.path, "\(port)"])
        defer { nghttpd.stop() }
        try await waitUntilListening(port: port, process: nghttpd)
        let samples = try await keepAlive(port: port, samples: 5)
        #expect(samples >= 5)
    }

    @Test func keepsHBServeAliveWithPingsItAcknowledges() async throws {
        let (serve, port) = try await startServe(dialect: "http2", interval: "0.2")
        defer { serve.stop() }
        let samples = try await keepAlive(port: port, samples: 5)
        #expect(samples >= 5)
        // hb serve pinged us too: NIOHTTP2Handler acknowledged, and hb timed it.
        _ = try await serve.waitForOutput(containing: "conn 1: rtt")
    }

    @Test func aPeerThatNeverAnswersIsSentGoAwayAndClosed() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let received = group.next().makePromise(of: [UInt8].self)
        // A black hole: accepts, reads everything, answers nothing.
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(BlackHole(received: received)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let closed = group.next().makePromise(of: HeartbeatNIOError.self)
        var configuration = HeartbeatConfiguration.fixedTimeout
        configuration.pingInterval = .milliseconds(100)
        configuration.ackTimeout = .milliseconds(200)
        let clientConfiguration = configuration
        _ = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let keepalive = NIOHTTP2KeepaliveHandler(mode: .client, configuration: clientConfiguration)
                    try channel.pipeline.syncOperations.addHandlers([NIOHTTP2Handler(mode: .client), keepalive, ErrorCatcher(caught: closed)])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let error = try await closed.futureResult.get(within: .seconds(30))
        guard case .peerDead = error else { Issue.record("expected peerDead, got \(error)"); return }
        // What the black hole read ends with our GOAWAY (RFC 9113 §6.8), after the preface, SETTINGS and PING.
        let bytes = try await received.futureResult.get(within: .seconds(30))
        var demuxer = Demuxer(dialect: .http2, role: .server)
        var types: [UInt64] = []
        var pings = 0
        try demuxer.feed(bytes) { item, _ in
            switch item {
            case .business(let frame): types.append(frame.type)
            case .ping: pings += 1
            default: break
            }
        }
        #expect(pings >= 1)
        #expect(types.last == 0x7)
    }
}

/// Succeeds `done` once `target` RTT samples were fired; fails it on an error or a close.
final class SampleCounter: ChannelInboundHandler {
    typealias InboundIn = NIOFrame
    let target: Int
    let done: EventLoopPromise<Int>
    var samples = 0

    init(target: Int, done: EventLoopPromise<Int>) {
        self.target = target
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? HeartbeatNIOEvent, case .event(let heartbeat) = event.output,
              case .rttSample = heartbeat.kind else { return }
        samples += 1
        if samples == target { done.succeed(samples) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { done.fail(error) }
    func channelInactive(context: ChannelHandlerContext) { done.fail(ProcessFailure("closed after \(samples) RTT samples")) }
}

/// Succeeds `caught` with the first `HeartbeatNIOError`.
final class ErrorCatcher: ChannelInboundHandler {
    typealias InboundIn = NIOFrame
    let caught: EventLoopPromise<HeartbeatNIOError>
    init(caught: EventLoopPromise<HeartbeatNIOError>) { self.caught = caught }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HeartbeatNIOError { caught.succeed(error) }
    }
}

/// Reads everything and never writes; succeeds `received` with all it read when the peer closes.
final class BlackHole: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let received: EventLoopPromise<[UInt8]>
    var bytes: [UInt8] = []
    init(received: EventLoopPromise<[UInt8]>) { self.received = received }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { bytes += unwrapInboundIn(data).readableBytesView }
    func channelInactive(context: ChannelHandlerContext) { received.succeed(bytes) }
}

/// A loopback port free a moment ago.
func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = try #require(channel.localAddress?.port)
    try await channel.close()
    return port
}

/// Waits (at most 30 s) until something accepts connections on 127.0.0.1:`port`.
func waitUntilListening(port: Int, process: TestProcess) async throws {
    let clock = ContinuousClock()
    let end = clock.now + .seconds(30)
    while clock.now < end {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
            try await channel.close()
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw ProcessFailure("nothing listens on \(port); the server printed:\n\(process.output)")
}
