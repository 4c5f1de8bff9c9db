import Framing
import Heartbeat
import HeartbeatLogging
import HeartbeatMetrics
import HeartbeatNIO
import Logging
import MetricsTestKit
import NIOCore
import NIOPosix
import Testing

/// The README's "Running over SwiftNIO" example, as written there (host, port and interval aside),
/// against `hb serve`.
@Suite struct ReadmeExampleTests {
    /// Stands for the application's handler; here it only waits for the first RTT sample.
    final class MyBusinessHandler: ChannelInboundHandler {
        typealias InboundIn = HeartbeatNIOBusiness
        let sampled: EventLoopPromise<Void>
        init(sampled: EventLoopPromise<Void>) { self.sampled = sampled }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? HeartbeatNIOEvent, case .event(let heartbeat) = event.output,
               case .rttSample = heartbeat.kind { sampled.succeed() }
        }
    }

    @Test func theReadmePipelineRuns() async throws {
        let (serve, port) = try await startServe(dialect: "tcp")
        defer { serve.stop() }
        let factory = TestMetrics()
        let sampled = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)

        let metrics = HeartbeatMetrics(service: "checkout", dialect: .envelope, peer: "127.0.0.1:\(port)", factory: factory)
        let log = HeartbeatLogger(logger: Logger(label: "heartbeat"), peer: "127.0.0.1:\(port)")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client,     // any StreamDialect
                                            configuration: HeartbeatConfiguration(pingInterval: .milliseconds(100))),
                        NIOHeartbeatObserver { event in                                     // liveness, as it happens
                            metrics.record(event.output, counters: event.counters)
                            log.log(event.output)
                        },
                        MyBusinessHandler(sampled: sampled),   // reads HeartbeatNIOBusiness, writes HeartbeatNIOWrite
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()

        try await sampled.futureResult.get(within: .seconds(30))
        #expect(try factory.expectTimer("heartbeat_rtt_seconds", metrics.dimensions + [("status", "up")]).values.count >= 1)
        try await channel.close()
    }
}
