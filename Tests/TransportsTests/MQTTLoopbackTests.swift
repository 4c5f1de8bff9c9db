import Framing
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// MQTT over real sockets: a `HeartbeatConnection` client against a `HeartbeatListener`
    /// server, both ours.
    @Suite(.timeLimit(.minutes(1))) struct MQTTLoopbackTests {
        /// The client writes a PUBLISH right after connecting, before CONNACK (held until it
        /// comes); the server echoes it; PINGREQs get PINGRESPs with RTT samples; the client's
        /// DISCONNECT reaches the server as the peer closing.
        @Test(arguments: [("127.0.0.1:0", MQTTVersion.v3_1_1), ("127.0.0.1:0", .v5), ("unix:/tmp/hb-loopback-mqtt-test.sock", .v3_1_1)])
        func publishEchoPingsAndDisconnect(_ address: String, _ version: MQTTVersion) async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            // A 1 s Keep Alive, pings every 50 ms.
            let dialect = MQTTDialect(version: version, keepAlive: 1)
            let configuration = ConnectionConfiguration(dialect: dialect, heartbeat: fastHeartbeats())
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: address), configuration: configuration, on: loop)
            let server = Task { () -> (goAway: Bool, pings: Int) in
                for await connection in listener.connections {
                    let echo = Task {
                        for try await frame in connection.inbound where frame.header.type == UInt64(MQTTPacket.PacketType.publish) {
                            try await connection.write(frame.payload, type: UInt64(MQTTPacket.PacketType.publish))
                        }
                    }
                    var goAway = false
                    for await event in connection.events {
                        if case .peerGoAway(let code, _) = event { goAway = code == 0 }
                    }
                    echo.cancel()
                    return (goAway, connection.counters.pingsReceived)
                }
                return (false, 0)
            }
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
            let publish: [UInt8] = [0x00, 0x05] + Array("hb/mq".utf8) + Array("hello heartbeat".utf8)
            try await client.write(publish)
            var iterator = client.inbound.makeAsyncIterator()
            let echoed = try await iterator.next()
            #expect(echoed?.header.type == UInt64(MQTTPacket.PacketType.publish) && echoed?.payload == publish)
            var samples = 0
            for await event in client.events {
                if case .heartbeat(let heartbeat) = event, case .rttSample(let rtt) = heartbeat.kind {
                    #expect(rtt.latest > .zero && rtt.latest < .seconds(1))
                    samples += 1
                    if samples == 3 { break }
                }
            }
            #expect(samples == 3)
            await client.close()
            #expect(client.closeReason == .closed)
            let (goAway, pings) = await server.value
            #expect(goAway, "the server read our DISCONNECT")
            #expect(pings >= 3)
            await listener.close()
        }
    }
}
