import Framing
import Heartbeat
import Testing
import Transports
@testable import hb

/// `hb probe --dialect amqp` against our own AMQP server, in the test process, over loopback.
@Suite(.timeLimit(.minutes(1))) struct AMQPCommandLineTests {
    @Test func probeNegotiatesTheIntervalAndReportsThePeerAlive() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        var configuration = ConnectionConfiguration(dialect: AMQPDialect(heartbeat: 30), heartbeat: HeartbeatConfiguration())
        configuration.heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
        let server = Task {
            for await connection in listener.connections {
                do { for try await _ in connection.inbound {} } catch {}
            }
        }
        let (status, output) = CommandLineTests.run(["probe", "--dialect", "amqp", "\(listener.localAddress)", "--interval", "1", "--count", "3"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("AMQP 0-9-1 heartbeat, 3 beats every 1.000 s"))
        #expect(output.contains("3 beats sent"))
        #expect(output.contains("peer alive"))
        await listener.close()
        server.cancel()
    }

    @Test func theIntervalIsAskedForInWholeSeconds() throws {
        let dialect = try #require(CommandLineDialect.amqpAsking(AMQPDialect(), .milliseconds(1500)) as? AMQPDialect)
        #expect(dialect.heartbeat == 2)
        #expect((CommandLineDialect.amqpAsking(AMQPDialect(), .milliseconds(10)) as? AMQPDialect)?.heartbeat == 1)
        #expect((CommandLineDialect.amqpAsking(AMQPDialect(), .seconds(1_000_000)) as? AMQPDialect)?.heartbeat == UInt16.max)
    }

    @Test func decodePrintsHeartbeatsAsPings() {
        var bytes = AMQPFrame.protocolHeader
        AMQPFrame.appendHeartbeat(to: &bytes)
        AMQPConnectionMethod.tune(AMQPTuning(channelMax: 0, frameMax: 131_072, heartbeat: 60)).append(to: &bytes)
        bytes += [0x08, 0, 1]
        let (status, output) = CommandLineTests.run(["decode", "--dialect", "amqp", "--format", "jsonl"], input: bytes)
        #expect(status == 1)
        #expect(output == """
            {"item":"business","type":256,"length":8}
            {"item":"ping"}
            {"item":"business","type":1,"length":12}
            {"item":"error","code":"FRAME_ERROR","offset":36}

            """)
    }
}
