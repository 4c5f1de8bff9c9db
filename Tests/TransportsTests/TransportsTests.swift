import Framing
import Heartbeat
import Testing
import Transports

/// Short heartbeats so that tests see several round trips in well under a second.
func fastHeartbeats(interval: Duration = .milliseconds(50), ackTimeout: Duration = .milliseconds(200)) -> HeartbeatConfiguration {
    var configuration = HeartbeatConfiguration()
    configuration.pingInterval = interval
    configuration.ackTimeout = ackTimeout
    configuration.failureDetector = .fixedTimeout
    configuration.missedPongsBeforeDead = 1
    return configuration
}

extension TransportSuites {
    @Suite(.timeLimit(.minutes(1))) struct LoopbackTests {
        /// WebSocket's client writes right after connecting, before the opening handshake is done:
        /// the write waits for it.
        @Test(arguments: [(Dialect.envelope, "127.0.0.1:0"), (.http2, "127.0.0.1:0"), (.envelope, "[::1]:0"), (.http2, "unix:/tmp/hb-loopback-test.sock"),
                          (.webSocket, "127.0.0.1:0"), (.webSocket, "unix:/tmp/hb-loopback-ws-test.sock")])
        func echoAndRTTOverLoopback(_ dialect: Dialect, _ address: String) async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let configuration = ConnectionConfiguration(dialect: streamDialect(dialect), heartbeat: fastHeartbeats())
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: address), configuration: configuration, on: loop)
            let server = Task {
                for await connection in listener.connections {
                    for try await frame in connection.inbound {
                        if dialect == .envelope {
                            try await connection.write(frame.payload)
                        } else if dialect == .webSocket {
                            try await connection.write(frame.payload, type: frame.header.type)
                        } else {
                            var echo: [UInt8] = []
                            HTTP2Frame.appendFrame(type: UInt8(frame.header.type), flags: frame.header.flags, streamID: frame.header.streamID,
                                                   payload: frame.payload.span.bytes, to: &echo)
                            try await connection.write(echo)
                        }
                    }
                    return
                }
            }
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
            let message: [UInt8] = Array("hello heartbeat".utf8)
            if dialect == .envelope || dialect == .webSocket {
                try await client.write(message)
            } else {
                var frame: [UInt8] = []
                HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 1, payload: message.span.bytes, to: &frame)
                try await client.write(frame)
            }
            var iterator = client.inbound.makeAsyncIterator()
            let echoed = try await iterator.next()
            #expect(echoed?.payload == message)
            var samples = 0
            for await event in client.events {
                if case .heartbeat(let heartbeat) = event, case .rttSample(let rtt) = heartbeat.kind {
                    #expect(rtt.latest > .zero && rtt.latest < .seconds(1))
                    samples += 1
                    if samples == 3 { break }
                }
            }
            #expect(samples == 3)
            #expect(client.state == .idle || client.state == .awaitingPong)
            await client.close()
            #expect(client.closeReason == .closed)
            await listener.close()
            _ = try? await server.value
        }
    }
}
