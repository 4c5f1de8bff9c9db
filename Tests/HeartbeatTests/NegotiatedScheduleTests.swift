import Framing
import Heartbeat
import Testing

private func configuration(interval: Duration = .seconds(10)) -> HeartbeatConfiguration {
    HeartbeatConfiguration(pingInterval: interval, ackTimeout: .seconds(1), failureDetector: .fixedTimeout,
                           missedPongsBeforeDead: 1, maxOutstandingPings: 2)
}

private func pingCount(_ actions: [HeartbeatAction]) -> Int {
    actions.filter { if case .sendPing = $0 { return true } else { return false } }.count
}

private func deaths(_ actions: [HeartbeatAction]) -> [PeerDeathReason] {
    actions.compactMap { if case .peerDead(let reason) = $0 { return reason } else { return nil } }
}

/// `HeartbeatEngine.applyNegotiated`: a schedule settled by a handshake replaces the configuration's.
@Suite struct NegotiatedScheduleEngineTests {
    /// An MQTT server: answers pings, sends none, and allows 1.5 × Keep Alive of silence.
    @Test func noPingsAndASilenceLimitInTheInOrderModel() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope, liveness: .inOrder, now: at(0))
        engine.applyNegotiated(NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: .seconds(3)), now: at(1))
        #expect(engine.nextDeadline == at(4))
        // Octets every 2 s keep the client alive; no ping goes out in a minute.
        var actions: [HeartbeatAction] = []
        for second in stride(from: 2.0, through: 60, by: 2) {
            engine.receivedOctets(now: at(second))
            engine.tick(now: at(second + 1))
            actions += engine.drainActions()
        }
        #expect(pingCount(actions) == 0)
        #expect(deaths(actions).isEmpty)
        // A PINGREQ is answered (in order, with an empty pong), and restarts the silence clock.
        engine.receivedPing(.empty, now: at(61))
        #expect(engine.drainActions() == [.sendPong(.empty)])
        // Then 3 s of silence: dead, by silence.
        engine.tick(now: at(63.9))
        #expect(deaths(engine.drainActions()).isEmpty)
        engine.tick(now: at(64))
        let dead = deaths(engine.drainActions())
        #expect(dead == [.silence(intervals: 0, elapsed: .seconds(3))])
        #expect(engine.state == .failed)
    }

    /// AMQP after Connection.Tune: beats at the negotiated interval, dead after two silent ones;
    /// any octet (even part of a frame) restarts the clock.
    @Test func negotiatedBeatsAndSilenceInTheUnilateralModel() {
        var engine = HeartbeatEngine(configuration: configuration(interval: .seconds(60)), dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 2), now: at(0))
        engine.applyNegotiated(NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil), now: at(0))
        engine.tick(now: at(500))
        #expect(engine.drainActions().isEmpty)  // untuned: no beats, no silence rule
        engine.applyNegotiated(NegotiatedHeartbeat(pingInterval: .seconds(1), peerSilenceLimit: .seconds(2)), now: at(500))
        var beats = 0
        for tenth in 1...50 {
            let now = 500 + Double(tenth) / 10
            if tenth % 15 == 0 { engine.receivedOctets(now: at(now)) }
            engine.tick(now: at(now))
            let actions = engine.drainActions()
            beats += pingCount(actions)
            #expect(deaths(actions).isEmpty, "at \(now)")
        }
        #expect(beats == 5)
        // Last octet at 504.5: dead at 506.5, after two intervals.
        engine.tick(now: at(506.4))
        #expect(deaths(engine.drainActions()).isEmpty)
        engine.tick(now: at(506.5))
        #expect(deaths(engine.drainActions()) == [.silence(intervals: 2, elapsed: .seconds(2))])
        // Anything from the peer brings it back.
        engine.receivedOctets(now: at(507))
        #expect(engine.drainActions().contains(.peerRecovered))
        #expect(engine.isPeerAlive)
    }

    @Test func heartbeatZeroDisablesBothRules() {
        var engine = HeartbeatEngine(configuration: configuration(interval: .seconds(1)), dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 2), now: at(0))
        engine.applyNegotiated(NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil), now: at(0.5))
        #expect(engine.nextDeadline == nil)
        engine.tick(now: at(3600))
        #expect(engine.drainActions().isEmpty)
        #expect(engine.isPeerAlive)
    }

    /// Without a silence rule (echo model, nothing negotiated) octets change nothing.
    @Test func octetsAloneDoNotAnswerAPing() throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.receivedOctets(now: at(10.5))
        engine.tick(now: at(11))
        #expect(deaths(engine.drainActions()) == [.ackTimeout(missedPongs: 1)])
    }
}

/// A dialect that settles its schedule in a handshake: the envelope, whose encoder reports
/// "no pings" until the peer's first business frame, then the schedule that frame's first octet
/// names (in seconds; 0: none). Written with the public API only, as a protocol implementer would.
private struct NegotiatingEnvelope: StreamDialect {
    var dialect: Dialect { .envelope }
    var liveness: LivenessModel { .unilateral(deadAfterIntervals: 2) }
    func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> EnvelopeFrameDecoder {
        EnvelopeDialect(expectsPreface: false).makeDecoder(role: role, maxFrameSize: maxFrameSize)
    }
    func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> Encoder {
        Encoder(base: EnvelopeDialect(expectsPreface: false).makeEncoder(role: role, randomSeed: randomSeed))
    }

    struct Encoder: StreamFrameEncoder {
        var base: EnvelopeFrameEncoder
        var negotiatedHeartbeat: NegotiatedHeartbeat? = NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil)
        var closeCodes: CloseCodes { base.closeCodes }
        var maxHeartbeatLength: Int { base.maxHeartbeatLength }
        var maxDataPayload: Int { base.maxDataPayload }
        mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) { base.appendPing(payload, to: &buffer) }
        mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) { base.appendPong(echoing: payload, to: &buffer) }
        mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
            base.appendClose(code: code, reason: reason, to: &buffer)
        }
        mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
            base.appendData(payload, type: type, to: &buffer)
        }
        mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
            guard payload.byteCount > 0 else { return try base.inbound(frame, payload: payload, reply: &reply) }
            let seconds = payload.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
            negotiatedHeartbeat = seconds == 0 ? NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil)
                : NegotiatedHeartbeat(pingInterval: .seconds(Int(seconds)), peerSilenceLimit: .seconds(2 * Int(seconds)))
            return .consumed
        }
    }
}

/// `HeartbeatSession` applies what its dialect's encoder negotiated.
@Suite struct NegotiatedScheduleSessionTests {
    @Test func theSessionAppliesTheEncodersScheduleWhenItChanges() throws {
        var session = HeartbeatSession(dialect: NegotiatingEnvelope(), role: .client,
                                       configuration: configuration(interval: .seconds(1)), encoderSeed: 1, now: at(0))
        // Not yet negotiated: no beat however long we wait.
        session.tick(now: at(100))
        #expect(!session.hasControlBytes)
        #expect(session.nextDeadline == nil)
        // The "handshake" says 3 s: beats every 3 s, dead after 6 s of silence.
        var tune: [UInt8] = []
        EnvelopeFrame.appendFrame(payload: [3].span.bytes, to: &tune)
        try session.receive(tune.span.bytes, now: at(100)) { _, _ in Issue.record("a consumed frame was delivered") }
        #expect(session.nextDeadline == at(103))
        session.tick(now: at(103))
        #expect(session.hasControlBytes)
        // Half a frame at 105 counts as hearing from the peer: not dead at 106 (6 s after 100).
        var half: [UInt8] = []
        EnvelopeFrame.appendFrame(payload: [9, 9, 9, 9].span.bytes, to: &half)
        let firstThree = Array(half[..<3])
        try session.receive(firstThree.span.bytes, now: at(105)) { _, _ in }
        session.tick(now: at(106))
        var dead: [PeerDeathReason] = []
        while let output = session.pollOutput() { if case .peerDead(let reason) = output { dead.append(reason) } }
        #expect(dead.isEmpty)
        session.tick(now: at(111))
        while let output = session.pollOutput() { if case .peerDead(let reason) = output { dead.append(reason) } }
        #expect(dead == [.silence(intervals: 2, elapsed: .seconds(6))])
    }
}
