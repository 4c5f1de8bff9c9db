import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOPosix
import Testing

/// Over real loopback sockets: a NIO client running `NIOHeartbeatHandler` against `hb serve`, and
/// `hb probe` against a NIO server running it, in each stream dialect.
@Suite struct LoopbackTests {
    /// After three RTT samples, writes `message` and succeeds with the sample count when the echo of
    /// `expected` comes back.
    final class EchoCheck: ChannelInboundHandler {
        typealias InboundIn = HeartbeatNIOBusiness
        typealias OutboundOut = HeartbeatNIOWrite

        let message: [UInt8]
        let expected: [UInt8]
        let done: EventLoopPromise<Int>
        var samples = 0
        var sent = false

        init(message: [UInt8], expected: [UInt8], done: EventLoopPromise<Int>) {
            self.message = message
            self.expected = expected
            self.done = done
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard let event = event as? HeartbeatNIOEvent, case .event(let heartbeat) = event.output,
                  case .rttSample = heartbeat.kind else { return }
            samples += 1
            if samples >= 3 && !sent {
                sent = true
                context.writeAndFlush(wrapOutboundOut(HeartbeatNIOWrite(context.channel.allocator.buffer(bytes: message))), promise: nil)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let business = unwrapInboundIn(data)
            if sent, Array(business.payload.readableBytesView) == expected { done.succeed(samples) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ProcessFailure("the connection closed after \(samples) RTT samples"))
        }
    }

    @Test(arguments: DialectCase.all)
    func aNIOClientKeepsHBServeAliveAndItsDataIsEchoed(_ testCase: DialectCase) async throws {
        let (serve, port) = try await startServe(dialect: testCase.name)
        defer { serve.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.next().makePromise(of: Int.self)
        var configuration = quickConfiguration()
        configuration.pingInterval = .milliseconds(100)
        configuration.ackTimeout = .seconds(5)
        let clientConfiguration = configuration
        let dialect = testCase.name == "ws" ? WebSocketDialect(host: "127.0.0.1:\(port)", path: "/") : testCase.dialect
        let payload = Array("echo over \(testCase.name)".utf8)
        let message = testCase.message(payload)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        makeHeartbeatHandler(dialect: dialect, role: .client, configuration: clientConfiguration))
                    try channel.pipeline.syncOperations.addHandler(EchoCheck(message: message, expected: payload, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let samples = try await done.futureResult.get(within: .seconds(30))
        #expect(samples >= 3)
        try await channel.close()
        // hb serve pinged us too, every 0.3 s, and we answered.
        let output = try await serve.waitForOutput(containing: "closed")
        #expect(output.contains("conn 1: connected"))
    }

    /// Succeeds with the engine's state once three heartbeats went out and were answered (or, in
    /// the unilateral model, the peer's own were heard twice); fails on an error or a close.
    final class HeartbeatsFlowing: ChannelInboundHandler {
        typealias InboundIn = HeartbeatNIOBusiness
        let unilateral: Bool
        let done: EventLoopPromise<HeartbeatState>
        init(unilateral: Bool, done: EventLoopPromise<HeartbeatState>) {
            self.unilateral = unilateral
            self.done = done
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard let event = event as? HeartbeatNIOEvent else { return }
            let answered = unilateral ? event.counters.peerArrivals >= 2 : event.counters.rttSamples >= 3
            if event.counters.pingsSent >= 3 && answered { done.succeed(event.state) }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { done.fail(error) }
        func channelInactive(context: ChannelHandlerContext) { done.fail(ProcessFailure("the connection closed")) }
    }

    @Test(arguments: EveryDialectTests.streamDialects)
    func aNIOClientOfEveryDialectKeepsHBServeAlive(_ name: Dialect) async throws {
        let (serve, port) = try await startServe(dialect: name.name, interval: name == .amqp ? "1" : "0.3")
        defer { serve.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.next().makePromise(of: HeartbeatState.self)
        let configuration = HeartbeatConfiguration(pingInterval: .milliseconds(100), ackTimeout: .seconds(5))
        let dialect: any StreamDialect = switch name {
        case .webSocket: WebSocketDialect(host: "127.0.0.1:\(port)", path: "/")
        case .amqp: AMQPDialect(heartbeat: 1)  // whole seconds, negotiated on the wire
        default: try #require(DialectRegistry.streamDialect(name))
        }
        let unilateral = dialect.liveness != .echo && dialect.liveness != .inOrder
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        makeHeartbeatHandler(dialect: dialect, role: .client, configuration: configuration))
                    try channel.pipeline.syncOperations.addHandler(HeartbeatsFlowing(unilateral: unilateral, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let state = try await done.futureResult.get(within: .seconds(30))
        #expect(state != .failed && state != .closed)
        try await channel.close()
    }

    @Test(arguments: EveryDialectTests.streamDialects)
    func hbProbeGetsEveryReplyFromANIOServer(_ name: Dialect) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let configuration = HeartbeatConfiguration(pingPolicy: PingPolicy(minimumPeerPingInterval: .milliseconds(100), maxPingStrikes: 10))
        let dialect = try #require(DialectRegistry.streamDialect(name))
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        makeHeartbeatHandler(dialect: dialect, role: .server, configuration: configuration))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let target = name == .webSocket ? "ws://127.0.0.1:\(port)/" : "127.0.0.1:\(port)"
        // AMQP heartbeats are whole seconds and answer nothing: two beats, and the server's own.
        let (count, interval) = name == .amqp ? ("2", "1") : ("3", "0.2")
        let probe = try TestProcess(hb: ["probe", "--dialect", name.name, target, "--count", count, "--interval", interval])
        defer { probe.stop() }
        let status = await probe.exitStatus()
        try await server.close()
        let output = probe.output
        #expect(status == 0, "hb probe printed:\n\(output)")
        if name != .amqp {
            #expect(output.contains("3 pings sent, 3 replies, 0.0% loss"), "hb probe printed:\n\(output)")
        }
    }
}
