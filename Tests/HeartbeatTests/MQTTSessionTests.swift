import AllocationCounting
import Framing
import Heartbeat
import Testing

/// An MQTT client and server `HeartbeatSession` wired back to back by hand, in virtual time:
/// CONNECT/CONNACK, PINGREQ/PINGRESP in order, the server's 1.5 × Keep Alive rule, refusals and
/// DISCONNECT.
@Suite struct MQTTSessionTests {
    typealias Session = HeartbeatSession<MQTTDialect>

    static func takeControl(_ session: inout Session, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    static func receive(_ bytes: [UInt8], into session: inout Session, now: Timestamp) throws -> [BusinessFrame] {
        var delivered: [BusinessFrame] = []
        try session.receive(bytes.span.bytes, now: now) { frame, _ in delivered.append(frame) }
        return delivered
    }

    static func outputs(_ session: inout Session) -> [HeartbeatSessionOutput] {
        var all: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { all.append(output) }
        return all
    }

    static func rttSamples(_ outputs: [HeartbeatSessionOutput]) -> [Duration] {
        outputs.compactMap { output in
            if case .event(let event) = output, case .rttSample(let rtt) = event.kind { return rtt.latest }
            return nil
        }
    }

    static func deaths(_ outputs: [HeartbeatSessionOutput]) -> [PeerDeathReason] {
        outputs.compactMap { if case .peerDead(let reason) = $0 { return reason } else { return nil } }
    }

    /// A client (Keep Alive `keepAlive`, pinging every `interval`) and a server, CONNECT and
    /// CONNACK exchanged at `now`.
    static func openedPair(version: MQTTVersion = .v3_1_1, keepAlive: UInt16 = 10, interval: Duration = .seconds(10),
                           ackTimeout: Duration = .seconds(1), now: Timestamp) throws -> (client: Session, server: Session) {
        var configuration = fixedConfiguration()
        configuration.pingInterval = interval
        configuration.ackTimeout = ackTimeout
        let dialect = MQTTDialect(version: version, keepAlive: keepAlive, clientID: "session-test")
        var client = Session(dialect: dialect, role: .client, configuration: configuration, encoderSeed: 1, now: now)
        var server = Session(dialect: dialect, role: .server, configuration: configuration, encoderSeed: 2, now: now)
        #expect(!client.isOpen && !server.isOpen)
        let connect = Self.takeControl(&client, now: now)
        #expect(connect.first == 0x10 && connect[8] == version.level)
        #expect(try Self.receive(connect, into: &server, now: now).isEmpty)
        #expect(server.isOpen)
        let connack = Self.takeControl(&server, now: now)
        #expect(connack == (version == .v5 ? [0x20, 0x03, 0x00, 0x00, 0x00] : [0x20, 0x02, 0x00, 0x00]))
        #expect(try Self.receive(connack, into: &client, now: now).isEmpty)
        #expect(client.isOpen)
        _ = Self.outputs(&client)
        _ = Self.outputs(&server)
        return (client, server)
    }

    @Test(arguments: MQTTVersion.allCases)
    func pingsAreAnsweredInOrderWithRTTSamples(_ version: MQTTVersion) throws {
        var (client, server) = try Self.openedPair(version: version, keepAlive: 10, interval: .seconds(5), now: at(0))
        for round in 1...3 {
            let sent = Double(round * 5)
            client.tick(now: at(sent))
            let ping = Self.takeControl(&client, now: at(sent))
            #expect(ping == [0xC0, 0x00])
            #expect(try Self.receive(ping, into: &server, now: at(sent + 0.01)).isEmpty)
            let pong = Self.takeControl(&server, now: at(sent + 0.01))
            #expect(pong == [0xD0, 0x00])
            #expect(try Self.receive(pong, into: &client, now: at(sent + 0.02)).isEmpty)
            #expect(Self.rttSamples(Self.outputs(&client)) == [.milliseconds(20)])
        }
        #expect(server.engine.counters.pingsReceived == 3)
    }

    /// Two PINGREQs in flight: the first PINGRESP answers the first ping, the second the second.
    @Test func twoPingsInFlightAreMatchedInOrder() throws {
        var (client, server) = try Self.openedPair(keepAlive: 60, interval: .seconds(1), ackTimeout: .seconds(5), now: at(0))
        client.tick(now: at(1))
        var pings = Self.takeControl(&client, now: at(1))
        client.tick(now: at(2))
        pings += Self.takeControl(&client, now: at(2))
        #expect(pings == [0xC0, 0x00, 0xC0, 0x00])
        #expect(try Self.receive(pings, into: &server, now: at(2.1)).isEmpty)
        let pongs = Self.takeControl(&server, now: at(2.1))
        #expect(pongs == [0xD0, 0x00, 0xD0, 0x00])
        #expect(try Self.receive(Array(pongs[0..<2]), into: &client, now: at(2.2)).isEmpty)
        #expect(try Self.receive(Array(pongs[2...]), into: &client, now: at(2.3)).isEmpty)
        #expect(Self.rttSamples(Self.outputs(&client)) == [.milliseconds(1200), .milliseconds(300)])
    }

    /// The server never pings, and declares a client silent for 1.5 × its Keep Alive dead (not before).
    @Test func serverNeverPingsAndAllowsOneAndAHalfKeepAlives() throws {
        var (client, server) = try Self.openedPair(keepAlive: 4, interval: .seconds(4), now: at(0))
        // The client pings at 4 s and 8 s; the server answers and pings nothing itself.
        for sent in [4.0, 8.0] {
            client.tick(now: at(sent))
            let ping = Self.takeControl(&client, now: at(sent))
            #expect(ping == [0xC0, 0x00])
            _ = try Self.receive(ping, into: &server, now: at(sent))
            server.tick(now: at(sent + 0.5))
            let pong = Self.takeControl(&server, now: at(sent + 0.5))
            #expect(pong == [0xD0, 0x00])
            _ = try Self.receive(pong, into: &client, now: at(sent + 0.5))
        }
        // Then the client falls silent: alive at 8 + 5.999 s, dead at 8 + 6 s (1.5 × 4 s).
        server.tick(now: at(13.999))
        #expect(Self.deaths(Self.outputs(&server)).isEmpty && !server.hasControlBytes)
        server.tick(now: at(14))
        #expect(Self.deaths(Self.outputs(&server)) == [.silence(intervals: 0, elapsed: .seconds(6))])
        #expect(!server.hasControlBytes)   // an MQTT 3.1.1 server has no DISCONNECT to send
    }

    /// Part of a packet counts as hearing from the client.
    @Test func partOfAPacketRestartsTheSilenceClock() throws {
        var (_, server) = try Self.openedPair(keepAlive: 2, now: at(0))
        _ = try Self.receive([0x30, 0x05, 0x00], into: &server, now: at(2.9))   // a PUBLISH begins
        server.tick(now: at(4))
        #expect(Self.deaths(Self.outputs(&server)).isEmpty)
        #expect(try Self.receive([0x01, 0x61, 0x68, 0x69], into: &server, now: at(4.1)).map(\.type) == [3])
        server.tick(now: at(7.1))
        #expect(Self.deaths(Self.outputs(&server)).count == 1)
    }

    @Test func keepAliveZeroMeansNoSilenceRule() throws {
        var (_, server) = try Self.openedPair(keepAlive: 0, now: at(0))
        server.tick(now: at(100_000))
        #expect(Self.deaths(Self.outputs(&server)).isEmpty && !server.hasControlBytes)
        #expect(server.nextDeadline == nil)
    }

    /// An MQTT 5 Server Keep Alive shorter than the client's own sets its ping interval.
    @Test func serverKeepAliveShortensTheClientsInterval() throws {
        var configuration = fixedConfiguration()
        configuration.pingInterval = .seconds(30)
        var client = Session(dialect: MQTTDialect(version: .v5, keepAlive: 30), role: .client, configuration: configuration,
                             encoderSeed: 1, now: at(0))
        _ = Self.takeControl(&client, now: at(0))
        // CONNACK with Server Keep Alive 5.
        _ = try Self.receive([0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x05], into: &client, now: at(1))
        #expect(client.isOpen && client.nextDeadline == at(6))
        client.tick(now: at(6))
        #expect(Self.takeControl(&client, now: at(6)) == [0xC0, 0x00])
    }

    @Test func noPingBeforeConnackAndRefusalFails() throws {
        var client = Session(dialect: MQTTDialect(keepAlive: 1), role: .client, configuration: fixedConfiguration(),
                             encoderSeed: 1, now: at(0))
        #expect(Self.takeControl(&client, now: at(0)).first == 0x10)
        client.tick(now: at(10))
        #expect(!client.hasControlBytes)    // the ping is held until CONNACK
        do throws(FramingError) {
            try client.receive(([0x20, 0x02, 0x00, 0x05] as [UInt8]).span.bytes, now: at(10.5)) { _, _ in }
            Issue.record("a refused CONNACK was accepted")
        } catch {
            #expect(error.reason.identifier == "mqtt-connack-refused")
            #expect("\(error.reason)" == "CONNACK refused: not authorized (5)")
        }
        #expect(!client.isOpen && !client.hasControlBytes)
    }

    @Test func pingBeforeConnackGoesOutAfterIt() throws {
        var client = Session(dialect: MQTTDialect(keepAlive: 10), role: .client, configuration: fixedConfiguration(),
                             encoderSeed: 1, now: at(0))
        _ = Self.takeControl(&client, now: at(0))
        client.tick(now: at(10))
        #expect(!client.hasControlBytes)
        _ = try Self.receive([0x20, 0x02, 0x00, 0x00], into: &client, now: at(10.2))
        #expect(Self.takeControl(&client, now: at(10.2)) == [0xC0, 0x00])
    }

    @Test func disconnectFromTheClientIsAGoAway() throws {
        var (client, server) = try Self.openedPair(version: .v5, now: at(0))
        client.appendClose(code: client.closeCodes.noError, reason: "bye")
        let disconnect = Self.takeControl(&client, now: at(1))
        #expect(disconnect == [0xE0, 0x01, 0x00])
        #expect(try Self.receive(disconnect, into: &server, now: at(1)).isEmpty)
        #expect(Self.outputs(&server).contains(.peerGoAway(code: 0, reason: "")))
    }

    @Test func businessPacketsFlowBothWays() throws {
        var (client, server) = try Self.openedPair(now: at(0))
        var bytes: [UInt8] = []
        let publish: [UInt8] = [0x00, 0x03, 0x61, 0x2F, 0x62, 0x68, 0x69]
        client.encodeData(publish.span.bytes, to: &bytes)
        #expect(bytes == [0x30, 0x07] + publish)
        #expect(try Self.receive(bytes, into: &server, now: at(1)) == [BusinessFrame(type: 3, flags: 0, length: 7)])
        bytes.removeAll()
        server.encodeData(publish.span.bytes, type: 0x31, to: &bytes)   // RETAIN
        #expect(try Self.receive(bytes, into: &client, now: at(1)) == [BusinessFrame(type: 3, flags: 1, length: 7)])
    }

    /// Once open, a PINGREQ written, read, answered and the PINGRESP read back allocate nothing.
    @Test(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
    func pingRoundTripsThroughSessionsAllocateNothing() throws {
        var (client, server) = try Self.openedPair(keepAlive: 60, interval: .seconds(1), ackTimeout: .seconds(5), now: at(0))
        var samples = 0
        func round(_ second: Int) throws {
            let now = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
            client.tick(now: now)
            let ping = try client.withPendingControlBytes { bytes in
                try server.receive(bytes, now: now) { _, _ in }
                return bytes.byteCount
            }
            client.controlBytesWritten(ping, now: now)
            let pong = try server.withPendingControlBytes { bytes in
                try client.receive(bytes, now: now + .milliseconds(10)) { _, _ in }
                return bytes.byteCount
            }
            server.controlBytesWritten(pong, now: now)
            while let output = client.pollOutput() {
                if case .event(let event) = output, case .rttSample = event.kind { samples += 1 }
            }
            while server.pollOutput() != nil {}
        }
        try round(1)
        let count = try allocations {
            for second in 2...1001 { try round(second) }
        }
        #expect(count == 0, "\(count) allocations in 1,000 MQTT session round trips")
        #expect(samples == 1001)
    }
}
