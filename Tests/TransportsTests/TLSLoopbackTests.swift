import Framing
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// TLS Heartbeat (RFC 6520) on plaintext records over real loopback connections.
    @Suite(.timeLimit(.minutes(1))) struct TLSLoopbackTests {
        @Test func echoAndRTTOverLoopback() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let configuration = ConnectionConfiguration(dialect: TLSDialect(), heartbeat: fastHeartbeats())
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
            let server = Task {
                for await connection in listener.connections {
                    for try await frame in connection.inbound {
                        try await connection.write(frame.payload, type: frame.header.type)
                    }
                    return
                }
            }
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
            let message: [UInt8] = Array("hello heartbeat".utf8)
            try await client.write(message)
            var iterator = client.inbound.makeAsyncIterator()
            let echoed = try await iterator.next()
            #expect(echoed?.payload == message)
            #expect(echoed?.header.type == UInt64(TLSRecord.ContentType.applicationData))
            var samples = 0
            for await event in client.events {
                if case .heartbeat(let heartbeat) = event, case .rttSample(let rtt) = heartbeat.kind {
                    #expect(rtt.latest > .zero)
                    samples += 1
                    if samples == 3 { break }
                }
            }
            #expect(samples == 3)
            await client.close()
            await listener.close()
            _ = try? await server.value
        }

        /// CVE-2014-0160 over a real connection: a raw peer sends the original Heartbleed request
        /// and then a valid request. Our side handles records in order, so an answer to the first
        /// would arrive before the answer to the second: the first octets back must be exactly the
        /// valid request's response, and nothing else comes (our own pings are 60 s away).
        @Test func heartbleedRequestGetsNothingBack() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let configuration = ConnectionConfiguration(dialect: TLSDialect(), heartbeat: fastHeartbeats(interval: .seconds(60), ackTimeout: .seconds(60)))
            async let accepted: Void = Task.detached { try peer.accept() }.value
            let connection = try await HeartbeatConnection.connect(to: peer.address, configuration: configuration, on: loop)
            try await accepted
            let heartbleed: [UInt8] = [0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0x40, 0x00]
            var valid: [UInt8] = []
            TLSRecord.appendHeartbeat(messageType: TLSRecord.HeartbeatMessageType.request, payload: Array("still there?".utf8).span.bytes,
                                      padding: [UInt8](repeating: 0x5C, count: 16).span.bytes, to: &valid)
            let received = try await Task.detached { () throws -> [UInt8] in
                try peer.send(heartbleed)
                try peer.send(valid)
                var received: [UInt8] = []
                let expected = 5 + 3 + 12 + 16
                for _ in 0..<100 where received.count < expected {
                    received += try peer.receive(timeout: .milliseconds(100))
                }
                // Anything more that is already on its way.
                received += try peer.receive(timeout: .milliseconds(100))
                return received
            }.value
            let responseLength = 5 + 3 + 12 + 16
            let header: [UInt8] = [0x18, 0x03, 0x03, 0x00, 0x1F, 0x02, 0x00, 0x0C]
            let echoed: [UInt8] = header + Array("still there?".utf8)
            #expect(received.count == responseLength)
            #expect(Array(received.prefix(20)) == echoed)
            #expect(connection.state != .failed)
            await connection.close()
        }
    }
}
