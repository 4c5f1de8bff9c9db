import Framing
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// AMQP 0-9-1 over loopback: our client and our server run the connection handshake, agree on
    /// a 1-second heartbeat, beat at it both ways and carry a body frame.
    @Suite(.timeLimit(.minutes(1))) struct AMQPLoopbackTests {
        @Test func handshakeBeatsAndABodyFrameOverLoopback() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            // The configuration's own 50 ms schedule must not show: the handshake settles 1 s.
            var serverConfiguration = ConnectionConfiguration(dialect: AMQPDialect(heartbeat: 5), heartbeat: fastHeartbeats())
            serverConfiguration.heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: serverConfiguration, on: loop)
            let server = Task { () -> [InboundFrame] in
                var frames: [InboundFrame] = []
                for await connection in listener.connections {
                    for try await frame in connection.inbound { frames.append(frame) }
                    return frames
                }
                return frames
            }
            var clientConfiguration = ConnectionConfiguration(dialect: AMQPDialect(heartbeat: 1), heartbeat: fastHeartbeats())
            clientConfiguration.heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: clientConfiguration, on: loop)
            // Written before the handshake is done: held until Connection.OpenOk.
            try await client.write(Array("hello".utf8), type: AMQPFrame.dataType(frameType: AMQPFrame.FrameType.body, channel: 1))
            var beats: [Timestamp] = []
            for await event in client.events {
                if case .heartbeat(let heartbeat) = event {
                    if case .pingSent = heartbeat.kind { beats.append(heartbeat.time) }
                    if case .peerDead(let reason) = heartbeat.kind { Issue.record("peer declared dead: \(reason)") }
                }
                if beats.count == 3 { break }
            }
            // Three beats, a negotiated second apart (not the configuration's 50 ms).
            #expect(beats.count == 3)
            if beats.count == 3 {
                let gap = beats[2].nanoseconds - beats[1].nanoseconds
                #expect(gap > 900_000_000 && gap < 1_100_000_000, "\(gap) ns between beats")
            }
            #expect(client.counters.pingsReceived >= 2, "the server beats at the negotiated second too")
            #expect(client.state == .idle)
            await client.close()
            let frames = try await server.value
            #expect(frames.first == InboundFrame(header: BusinessFrame(type: 3, streamID: 1, length: 5), payload: Array("hello".utf8)))
            await listener.close()
        }
    }
}
