import Framing
import Heartbeat
import Testing

/// Two AMQP 0-9-1 sessions, a client and a server, wired back to back by hand in virtual time: the
/// whole connection handshake, the negotiated heartbeat, death after two silent intervals.
@Suite struct AMQPSessionTests {
    typealias Session = HeartbeatSession<AMQPDialect>

    /// The configuration's own schedule (every 10 s) must never show: the wire decides.
    static func configuration() -> HeartbeatConfiguration {
        var configuration = fixedConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        return configuration
    }

    static func takeControl(_ session: inout Session, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    /// Feeds `bytes` to `session` at `now`; the business frames it delivers, with their payloads.
    static func receive(_ bytes: [UInt8], into session: inout Session, now: Timestamp) throws -> [(BusinessFrame, [UInt8])] {
        var delivered: [(BusinessFrame, [UInt8])] = []
        try session.receive(bytes.span.bytes, now: now) { frame, payload in
            delivered.append((frame, payload.withUnsafeBytes { Array($0) }))
        }
        return delivered
    }

    static func outputs(_ session: inout Session) -> [HeartbeatSessionOutput] {
        var all: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { all.append(output) }
        return all
    }

    static func deaths(_ outputs: [HeartbeatSessionOutput]) -> [PeerDeathReason] {
        outputs.compactMap { if case .peerDead(let reason) = $0 { return reason } else { return nil } }
    }

    /// How many heartbeat frames `bytes` holds (and nothing else).
    static func heartbeats(_ bytes: [UInt8]) throws -> Int {
        var demuxer = StreamDemuxer(AMQPFrameDecoder())
        var count = 0
        try demuxer.feed(bytes) { item, _ in
            #expect(item == .ping(.empty))
            count += 1
        }
        return count
    }

    /// A client asking for `clientHeartbeat` and a server proposing `serverHeartbeat`, their
    /// handshake run to the open state at `now`.
    static func openedPair(client clientHeartbeat: UInt16, server serverHeartbeat: UInt16, now: Timestamp) throws -> (client: Session, server: Session) {
        var client = Session(dialect: AMQPDialect(heartbeat: clientHeartbeat), role: .client, configuration: configuration(), encoderSeed: 1, now: now)
        var server = Session(dialect: AMQPDialect(heartbeat: serverHeartbeat), role: .server, configuration: configuration(), encoderSeed: 2, now: now)
        // No beats before tuning; only the handshake timeout runs.
        let handshakeDeadline = Timestamp(nanoseconds: now.nanoseconds + NegotiatedHeartbeat.handshakeTimeout.nanosecondCount)
        #expect(client.nextDeadline == handshakeDeadline && server.nextDeadline == handshakeDeadline, "no beats before tuning, only the handshake timeout")
        // Protocol header → Start → StartOk → Tune → TuneOk + Open → OpenOk.
        let header = takeControl(&client, now: now)
        #expect(header == AMQPFrame.protocolHeader)
        var toClient: [UInt8] = [], toServer = header
        for _ in 0..<3 {
            #expect(try receive(toServer, into: &server, now: now).isEmpty)
            toClient = takeControl(&server, now: now)
            #expect(!toClient.isEmpty)
            #expect(try receive(toClient, into: &client, now: now).isEmpty)
            toServer = takeControl(&client, now: now)
            if client.isOpen { break }
        }
        #expect(toServer.isEmpty)
        #expect(client.isOpen && server.isOpen)
        #expect(client.encoder.peerProduct == "swift-heartbeat")
        return (client, server)
    }

    @Test func theHandshakeNegotiatesTheSmallerHeartbeatAndBothSidesBeatAtIt() throws {
        var (client, server) = try Self.openedPair(client: 1, server: 5, now: at(0))
        #expect(client.encoder.tuning?.heartbeat == 1 && server.encoder.tuning?.heartbeat == 1)
        var clientBeats = 0, serverBeats = 0
        // Ten seconds, a tenth at a time, each side reading the other's beats 10 ms later.
        for tenth in 1...100 {
            let now = Double(tenth) / 10
            client.tick(now: at(now))
            server.tick(now: at(now))
            let fromClient = Self.takeControl(&client, now: at(now))
            let fromServer = Self.takeControl(&server, now: at(now))
            clientBeats += try Self.heartbeats(fromClient)
            serverBeats += try Self.heartbeats(fromServer)
            #expect(try Self.receive(fromClient, into: &server, now: at(now + 0.01)).isEmpty)
            #expect(try Self.receive(fromServer, into: &client, now: at(now + 0.01)).isEmpty)
            #expect(Self.deaths(Self.outputs(&client)).isEmpty && Self.deaths(Self.outputs(&server)).isEmpty, "at \(now)")
        }
        #expect(clientBeats == 10 && serverBeats == 10)
        #expect(client.engine.counters.pingsReceived == 10 && server.engine.counters.pingsReceived == 10)
        #expect(client.engine.counters.pongsSent == 0, "nothing answers a beat")
    }

    @Test func aPeerSilentForTwoIntervalsIsDead() throws {
        var (client, _) = try Self.openedPair(client: 3, server: 0, now: at(0))
        #expect(client.encoder.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: .seconds(3), peerSilenceLimit: .seconds(6)))
        client.tick(now: at(5.9))
        #expect(Self.deaths(Self.outputs(&client)).isEmpty)
        client.tick(now: at(6))
        #expect(Self.deaths(Self.outputs(&client)) == [.silence(intervals: 2, elapsed: .seconds(6))])
        // Beats go on while it is dead (two so far, at 3 s and 6 s).
        #expect(try Self.heartbeats(Self.takeControl(&client, now: at(6))) == 2)
    }

    @Test func anyOctetRestartsTheSilenceClock() throws {
        var (client, _) = try Self.openedPair(client: 1, server: 1, now: at(0))
        // One octet of a body frame at 1.5 s, the rest of it at 3 s: never two silent seconds.
        var frame: [UInt8] = []
        AMQPFrame.appendFrame(type: 3, channel: 1, payload: Array("body".utf8).span.bytes, to: &frame)
        #expect(try Self.receive(Array(frame[..<1]), into: &client, now: at(1.5)).isEmpty)
        client.tick(now: at(3.4))
        #expect(Self.deaths(Self.outputs(&client)).isEmpty)
        let delivered = try Self.receive(Array(frame[1...]), into: &client, now: at(3.4))
        #expect(delivered.map(\.1) == [Array("body".utf8)])
        #expect(delivered.first?.0 == BusinessFrame(type: 3, streamID: 1, length: 4))
        client.tick(now: at(5.39))
        #expect(Self.deaths(Self.outputs(&client)).isEmpty)
        client.tick(now: at(5.4))
        #expect(Self.deaths(Self.outputs(&client)).count == 1)
    }

    @Test func heartbeatZeroOnBothSidesDisablesBeatsAndDeath() throws {
        var (client, server) = try Self.openedPair(client: 0, server: 0, now: at(0))
        #expect(client.encoder.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil))
        #expect(client.nextDeadline == nil && server.nextDeadline == nil)
        client.tick(now: at(3600))
        server.tick(now: at(3600))
        #expect(!client.hasControlBytes && !server.hasControlBytes)
        #expect(Self.deaths(Self.outputs(&client)).isEmpty && Self.deaths(Self.outputs(&server)).isEmpty)
    }

    @Test func ourZeroTakesTheServersHeartbeat() throws {
        let (client, _) = try Self.openedPair(client: 0, server: 4, now: at(0))
        #expect(client.encoder.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: .seconds(4), peerSilenceLimit: .seconds(8)))
    }

    @Test func businessFramesFlowOnceOpenAndAPeerCloseIsAnswered() throws {
        var (client, server) = try Self.openedPair(client: 60, server: 60, now: at(0))
        var toServer: [UInt8] = []
        client.encodeData(Array("hello".utf8).span.bytes, type: AMQPFrame.dataType(frameType: 3, channel: 2), to: &toServer)
        let delivered = try Self.receive(toServer, into: &server, now: at(1))
        #expect(delivered.map(\.0) == [BusinessFrame(type: 3, streamID: 2, length: 5)])
        server.appendClose(code: .amqp(.connectionForced), reason: "bye")
        let close = Self.takeControl(&server, now: at(2))
        #expect(try Self.receive(close, into: &client, now: at(2)).isEmpty)
        #expect(Self.outputs(&client).contains(.peerGoAway(code: 320, reason: "bye")))
        var demuxer = StreamDemuxer(AMQPFrameDecoder())
        var payloads: [[UInt8]] = []
        try demuxer.feed(Self.takeControl(&client, now: at(2))) { _, payload in payloads.append(payload.withUnsafeBytes { Array($0) }) }
        #expect(payloads == [[0, 10, 0, 51]], "Connection.CloseOk")
    }

    @Test func aServerRefusesAnotherProtocolVersionWithItsHeader() throws {
        var server = Session(dialect: AMQPDialect(), role: .server, configuration: Self.configuration(), encoderSeed: 2, now: at(0))
        #expect(throws: FramingError.self) { _ = try Self.receive(Array("AMQP".utf8) + [0, 0, 9, 0], into: &server, now: at(0)) }
        let error = try #require(server.failure)
        #expect(error.code == .amqp(.notImplemented))
        server.appendClose(code: error.code, reason: "\(error.reason)")
        #expect(Self.takeControl(&server, now: at(0)) == AMQPFrame.protocolHeader)
    }
}
