import Framing
import Heartbeat
import Testing

@Suite struct QUICAcknowledgementTests {
    func quicEngine() -> HeartbeatEngine {
        HeartbeatEngine(configuration: fixedConfiguration(), dialect: .quic, now: at(0))
    }

    /// A PING due at `time` goes out in packet `packetNumber` and is acknowledged `roundTrip`
    /// seconds later with `ackDelay`.
    func acknowledgedPing(_ engine: inout HeartbeatEngine, at time: Double, packetNumber: UInt64,
                          roundTrip: Double, ackDelay: Duration?) throws {
        let ping = try engine.expectPing(at: at(time))
        engine.pingWritten(ping, packetNumber: packetNumber, now: at(time))
        engine.receivedAcknowledgement(packetNumber: packetNumber, ackDelay: ackDelay, now: at(time + roundTrip))
    }

    @Test func theAcknowledgementOfThePingPacketIsThePong() throws {
        var engine = quicEngine()
        try acknowledgedPing(&engine, at: 10, packetNumber: 42, roundTrip: 0.1, ackDelay: ms(20))
        #expect(engine.state == .idle)
        #expect(engine.counters.pongsReceived == 1)
        // First sample: min RTT is the sample itself, so no ACK delay can be subtracted.
        #expect(engine.rtt.latest == ms(100))
        #expect(engine.rtt.minimum == ms(100))
    }

    @Test func ackDelayIsCappedAndSubtractedOnlyAboveTheMinimum() throws {
        var engine = quicEngine()
        try acknowledgedPing(&engine, at: 10, packetNumber: 1, roundTrip: 0.1, ackDelay: .zero)
        // 150 ms with a reported 40 ms delay: capped at max_ack_delay 25 ms, 150 ≥ 100 + 25.
        try acknowledgedPing(&engine, at: 20, packetNumber: 7, roundTrip: 0.15, ackDelay: ms(40))
        #expect(engine.rtt.latest == ms(125))
        // 110 ms with 20 ms delay: 110 < 100 + 20, so the delay is not subtracted.
        try acknowledgedPing(&engine, at: 30, packetNumber: 9, roundTrip: 0.11, ackDelay: ms(20))
        #expect(engine.rtt.latest == ms(110))
        #expect(engine.rtt.minimum == ms(100))
    }

    @Test func anAcknowledgementWithoutDelayProvesLifeWithoutASample() throws {
        var engine = quicEngine()
        try acknowledgedPing(&engine, at: 10, packetNumber: 5, roundTrip: 0.3, ackDelay: nil)
        #expect(engine.state == .idle)
        #expect(engine.counters.rttSamples == 0)
        engine.receivedAcknowledgement(packetNumber: 5, ackDelay: nil, now: at(10.4))
        #expect(engine.counters.duplicatePongs == 1)
    }

    @Test func anUnboundOrUnknownPacketNumberIsIgnored() throws {
        var engine = quicEngine()
        _ = try engine.expectPing(at: at(10))
        engine.receivedAcknowledgement(packetNumber: 42, ackDelay: .zero, now: at(10.1))
        engine.receivedAcknowledgement(packetNumber: .max, ackDelay: .zero, now: at(10.1))
        #expect(engine.counters.unknownPongs == 2)
        #expect(engine.state == .awaitingPong)
    }
}

@Suite struct PhiAccrualEngineTests {
    @Test func theAckTimeoutAdaptsToTheLearnedRoundTrip() throws {
        var engine = HeartbeatEngine(configuration: HeartbeatConfiguration(), dialect: .http2, now: at(0))
        let coldTimeout = engine.currentAckTimeout
        #expect(coldTimeout < .seconds(3))
        var time = 0.0
        for _ in 0..<40 {
            time += 30
            let ping = try engine.expectPing(at: at(time))
            engine.receivedPong(ping, now: at(time + 0.1))
        }
        let detector = try #require(engine.phiDetector)
        #expect(detector.mean == ms(250))  // 100 ms learned + 150 ms acceptable pause
        #expect(detector.standardDeviation == ms(100))  // floored
        #expect(engine.currentAckTimeout == detector.timeout)
        #expect(engine.currentAckTimeout < coldTimeout)
        #expect(engine.currentAckTimeout > ms(750) && engine.currentAckTimeout < ms(900))
    }

    @Test func theTimeoutNeverExceedsAckTimeout() {
        var configuration = HeartbeatConfiguration()
        configuration.ackTimeout = .milliseconds(200)
        let engine = HeartbeatEngine(configuration: configuration, dialect: .http2, now: at(0))
        #expect(engine.currentAckTimeout == ms(200))
    }

    @Test func suspicionRisesWhileAPongIsAwaitedAndDeathCitesIt() throws {
        var engine = HeartbeatEngine(configuration: HeartbeatConfiguration(), dialect: .http2, now: at(0))
        #expect(engine.suspicion(at: at(1)) == 0)
        _ = try engine.expectPing(at: at(30))
        let early = try #require(engine.suspicion(at: at(30.1)))
        let later = try #require(engine.suspicion(at: at(30.9)))
        #expect(early < later)
        var actions: [HeartbeatAction] = []
        while engine.state != .failed {
            engine.tick(now: try #require(engine.nextDeadline))
            actions += engine.drainActions()
        }
        guard case .peerDead(.suspicion(let missed, let timeout))? = actions.last else {
            Issue.record("expected a death by suspicion, got \(actions)")
            return
        }
        #expect(missed == 3)
        #expect(timeout == engine.currentAckTimeout)
        let fixed = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .http2, now: at(0))
        #expect(fixed.suspicion(at: at(1)) == nil)
    }
}
