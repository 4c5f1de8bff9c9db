import Framing
import Heartbeat
import Testing
import Transports

/// A dialect defined outside the library runs through the demuxer, a session and real loopback
/// connections, with no change to the library.
@Suite(.timeLimit(.minutes(1))) struct ExternalDialectTests {
    func message(_ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        return [UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
    }

    @Test func theDemuxerSplitsItsStreamHoweverItIsCut() throws {
        let stream = message("hello") + message("PING 42") + message("PONG 7") + message("world")
        for chunk in [1, 2, 3, 5, stream.count] {
            var demuxer = StreamDemuxer(LengthPrefixedDialect().makeDecoder(role: .server, maxFrameSize: nil))
            var items: [DemuxedItem] = []
            var bodies: [[UInt8]] = []
            var index = 0
            while index < stream.count {
                let end = min(index + chunk, stream.count)
                try demuxer.feed(Array(stream[index..<end])) { item, bytes in
                    items.append(item)
                    bodies.append(bytes.withUnsafeBytes { Array($0) })
                }
                index = end
            }
            try demuxer.finish()
            #expect(items == [.business(BusinessFrame(type: 1, length: 5)), .ping(HeartbeatPayload(rawValue: 42)),
                              .pong(HeartbeatPayload(rawValue: 7)), .business(BusinessFrame(type: 1, length: 5))])
            #expect(bodies.first == Array("hello".utf8))
        }
    }

    @Test func itsOwnRulesFailWithItsOwnCodes() {
        var demuxer = StreamDemuxer(LengthPrefixedDialect().makeDecoder(role: .server, maxFrameSize: nil))
        #expect(throws: FramingError.self) { try demuxer.feed(message("PING x")) { _, _ in } }
        #expect(demuxer.failure?.code == WireErrorCode(value: 1, name: "BAD_MESSAGE"))
        #expect(demuxer.failure?.reason.identifier == "lp-bad-number")
        #expect(demuxer.failure?.dialect == Dialect(name: "lp"))
    }

    @Test func aSessionAnswersPingsAndTimesItsOwn() throws {
        var configuration = HeartbeatConfiguration.fixedTimeout
        configuration.pingInterval = .seconds(1)
        var session = HeartbeatSession(dialect: LengthPrefixedDialect(), role: .client, configuration: configuration,
                                       encoderSeed: 1, now: Timestamp(nanoseconds: 0))
        var delivered: [[UInt8]] = []
        try session.receive((message("PING 99") + message("data")).span.bytes, now: Timestamp(nanoseconds: 1_000)) { _, bytes in
            delivered.append(bytes.withUnsafeBytes { Array($0) })
        }
        #expect(delivered == [Array("data".utf8)])
        var control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        #expect(control == message("PONG 99"))
        session.controlBytesWritten(control.count, now: Timestamp(nanoseconds: 1_000))
        session.tick(now: Timestamp(nanoseconds: 1_000_000_000))
        control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(control.count, now: Timestamp(nanoseconds: 1_000_000_000))
        let ping = String(decoding: control.dropFirst(2), as: UTF8.self)
        #expect(ping.hasPrefix("PING "))
        try session.receive(message("PONG " + ping.dropFirst(5)).span.bytes, now: Timestamp(nanoseconds: 1_030_000_000)) { _, _ in }
        #expect(session.engine.counters.pongsReceived == 1)
        #expect(session.engine.rtt.latest == .milliseconds(30))
    }

    @Test func connectionsOverLoopbackEchoAndMeasureRTT() async throws {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        var heartbeat = HeartbeatConfiguration.fixedTimeout
        heartbeat.pingInterval = .milliseconds(50)
        // Generous: under a sanitizer with every suite running at once a loop can stall for half a
        // second, and a missed pong would close the connection this test reads from.
        heartbeat.ackTimeout = .seconds(5)
        heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        let configuration = ConnectionConfiguration(dialect: LengthPrefixedDialect(), heartbeat: heartbeat)
        let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
        let server = Task {
            for await connection in listener.connections {
                for try await frame in connection.inbound { try await connection.write(frame.payload) }
                return
            }
        }
        let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
        try await client.write(Array("over the wire".utf8))
        var inbound = client.inbound.makeAsyncIterator()
        #expect(try await inbound.next()?.payload == Array("over the wire".utf8))
        var samples = 0
        for await event in client.events {
            if case .heartbeat(let heartbeat) = event, case .rttSample(let rtt) = heartbeat.kind {
                #expect(rtt.latest > .zero && rtt.latest < .seconds(1))
                samples += 1
                if samples == 3 { break }
            }
        }
        #expect(samples == 3)
        #expect(client.counters.pingsReceived > 0)  // the server pings too, and we answered
        await client.close()
        await listener.close()
        _ = try? await server.value
    }
}
