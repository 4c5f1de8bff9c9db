import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOEmbedded
import Testing

/// `NIOHeartbeatHandler` runs every built-in stream dialect, with nothing dialect-specific in it.
@Suite struct EveryDialectTests {
    static let streamDialects = DialectRegistry.builtIn.filter { DialectRegistry.streamDialect($0) != nil }

    @Test(arguments: streamDialects)
    func aClientKeepsItsPeerAliveForFiveIntervals(_ name: Dialect) throws {
        func run<D: StreamDialect>(_ dialect: D) throws {
            var harness = try ClientHarness(dialect: dialect)
            defer { _ = try? harness.channel.finish() }
            for _ in 0..<5 { try harness.step(.seconds(1)) }
            let counters = harness.handler.counters
            #expect(harness.channel.isActive)
            #expect(harness.handler.state != .failed && harness.handler.state != .closed)
            #expect(harness.recorder.errors.isEmpty)
            let peerCounters = harness.peer.session.engine.counters
            switch dialect.liveness {
            case .unilateral:
                #expect(counters.pingsSent >= 3)
                #expect(peerCounters.peerArrivals >= 3)
            default:
                #expect(counters.pingsSent >= 4)
                #expect(counters.rttSamples >= 4)
                #expect(peerCounters.pingsReceived >= 4)
            }
        }
        // AMQP's heartbeat is negotiated on the wire in whole seconds (60 by default): ask for 1.
        let stream = name == .amqp ? AMQPDialect(heartbeat: 1) : try #require(DialectRegistry.streamDialect(name))
        try run(stream)
    }
}
