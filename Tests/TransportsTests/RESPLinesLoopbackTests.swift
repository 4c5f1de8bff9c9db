import Framing
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// RESP and text lines over real loopback connections: a client and a server built on this
    /// library, business data both ways and RTT samples from the heartbeats.
    @Suite(.timeLimit(.minutes(1))) struct RESPAndLinesLoopbackTests {
        /// The RESP server answers PING itself and every other command with `-ERR unknown
        /// command`, in order; the client pings in the in-order or the echo mode.
        @Test(arguments: [nil, "hb-"] as [String?])
        func respClientAndServerOverLoopback(pingMessage: String?) async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let serverConfiguration = ConnectionConfiguration(dialect: RESPDialect(answersCommands: true), heartbeat: fastHeartbeats())
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: serverConfiguration, on: loop)
            let server = Task {
                for await connection in listener.connections {
                    for try await _ in connection.inbound {}
                    return
                }
            }
            let clientConfiguration = ConnectionConfiguration(dialect: RESPDialect(pingMessage: pingMessage), heartbeat: fastHeartbeats())
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: clientConfiguration, on: loop)
            try await client.write(Array("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n".utf8))
            var iterator = client.inbound.makeAsyncIterator()
            let reply = try await iterator.next()
            #expect(reply?.header.type == 45)
            #expect(reply?.payload == Array("-ERR unknown command\r\n".utf8))
            #expect(await Self.rttSamples(client, 3) == 3)
            await client.close()
            await listener.close()
            _ = try? await server.value
        }

        /// Text lines: the server echoes lines; both ends ping and answer.
        @Test func linesClientAndServerOverLoopback() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let configuration = ConnectionConfiguration(dialect: LinesDialect(), heartbeat: fastHeartbeats())
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
            let server = Task {
                for await connection in listener.connections {
                    for try await frame in connection.inbound { try await connection.write(frame.payload) }
                    return
                }
            }
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
            try await client.write(Array("hello lines".utf8))
            var iterator = client.inbound.makeAsyncIterator()
            let echoed = try await iterator.next()
            #expect(echoed?.payload == Array("hello lines".utf8))
            #expect(echoed?.header.type == 0)
            #expect(await Self.rttSamples(client, 3) == 3)
            await client.close()
            await listener.close()
            _ = try? await server.value
        }

        /// Waits for `count` RTT samples on `client`'s events, each positive and under a second;
        /// how many came before the events ended.
        static func rttSamples(_ client: HeartbeatConnection, _ count: Int) async -> Int {
            var samples = 0
            for await event in client.events {
                if case .heartbeat(let heartbeat) = event, case .rttSample(let rtt) = heartbeat.kind {
                    #expect(rtt.latest > .zero && rtt.latest < .seconds(1))
                    samples += 1
                    if samples == count { break }
                }
            }
            return samples
        }
    }
}
