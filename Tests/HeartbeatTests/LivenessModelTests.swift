import Framing
import Heartbeat
import Testing

/// A configuration with the fixed policy: ping every 10 s, wait `ackTimeout` for a pong.
private func configuration(ackTimeout: Duration = .seconds(1), missed: Int = 1, maxOutstanding: Int = 2,
                           trafficCountsAsLiveness: Bool = false) -> HeartbeatConfiguration {
    HeartbeatConfiguration(
        pingInterval: .seconds(10), ackTimeout: ackTimeout, failureDetector: .fixedTimeout,
        missedPongsBeforeDead: missed, trafficCountsAsLiveness: trafficCountsAsLiveness,
        maxOutstandingPings: maxOutstanding)
}

/// Whatever an in-order pong carries: the engine must ignore it.
private let anyPayload = HeartbeatPayload(rawValue: 0xDEAD_BEEF)

private func pings(_ actions: [HeartbeatAction]) -> Int {
    actions.filter { if case .sendPing = $0 { return true } else { return false } }.count
}

private func pongs(_ actions: [HeartbeatAction]) -> Int {
    actions.filter { if case .sendPong = $0 { return true } else { return false } }.count
}

@Suite struct EchoAndAcknowledgementModelTests {
    @Test func echoIsTheDefaultModel() {
        let engine = HeartbeatEngine(configuration: configuration(), dialect: .http2, now: at(0))
        #expect(engine.liveness == .echo)
    }

    @Test(arguments: [LivenessModel.echo, .acknowledgement])
    func pongsAndAcknowledgementsMatchAsBefore(model: LivenessModel) throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .quic, liveness: model, now: at(0))
        #expect(engine.liveness == model)
        let ping = try engine.expectPing(at: at(10))
        engine.pingWritten(ping, packetNumber: 41, now: at(10))
        engine.receivedPong(anyPayload, now: at(10.01))
        #expect(engine.counters.unknownPongs == 1)
        engine.receivedAcknowledgement(packetNumber: 41, ackDelay: nil, now: at(10.05))
        #expect(engine.state == .idle)
        #expect(engine.counters.pongsReceived == 1)
        let second = try engine.expectPing(at: at(20))
        engine.receivedPong(second, now: at(20.03))
        #expect(engine.rtt.latest == ms(30))
        #expect(engine.counters.pongsReceived == 2)
    }
}

@Suite struct InOrderModelTests {
    @Test func aPongAnswersTheOldestAwaitedPingWhateverItCarries() throws {
        var engine = HeartbeatEngine(configuration: configuration(ackTimeout: .seconds(15)), dialect: .envelope,
                                     liveness: .inOrder, now: at(0))
        let first = try engine.expectPing(at: at(10))
        let second = try engine.expectPing(at: at(20))
        #expect(first != second)
        #expect(engine.outstandingPings == 2)
        #expect(engine.nextDeadline == at(25))
        _ = engine.drainEvents()

        engine.receivedPong(anyPayload, now: at(21))
        #expect(engine.rtt.latest == .seconds(11))  // against the first ping, sent at 10
        #expect(engine.outstandingPings == 1)
        #expect(engine.state == .awaitingPong)
        #expect(engine.nextDeadline == at(30))      // next ping; the second's deadline is 35
        engine.receivedPong(second, now: at(21.5))  // its own payload makes no difference either
        #expect(engine.rtt.latest == .seconds(1.5))
        #expect(engine.outstandingPings == 0)
        #expect(engine.state == .idle)
        #expect(engine.counters.pongsReceived == 2)
        #expect(engine.counters.rttSamples == 2)
        #expect(engine.counters.unknownPongs == 0)
    }

    @Test func aPongWithNoPingOwedIsUnknown() throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope, liveness: .inOrder, now: at(0))
        engine.receivedPong(anyPayload, now: at(1))
        #expect(engine.counters.unknownPongs == 1)
        #expect(engine.drainEvents() == [.pongIgnored(anyPayload, .unknown)])
        #expect(engine.state == .idle)

        _ = try engine.expectPing(at: at(10))
        engine.receivedPong(anyPayload, now: at(10.1))
        #expect(engine.counters.pongsReceived == 1)
        engine.receivedPong(anyPayload, now: at(10.2))  // a second pong for one ping
        #expect(engine.counters.unknownPongs == 2)
        #expect(engine.counters.duplicatePongs == 0)
        #expect(engine.counters.rttSamples == 1)
        #expect(engine.rtt.latest == ms(100))
    }

    @Test func outstandingPingsStayBounded() throws {
        var engine = HeartbeatEngine(configuration: configuration(ackTimeout: .seconds(100), maxOutstanding: 2),
                                     dialect: .envelope, liveness: .inOrder, now: at(0))
        _ = try engine.expectPing(at: at(10))
        _ = try engine.expectPing(at: at(20))
        engine.tick(now: at(30))
        #expect(pings(engine.drainActions()) == 0)
        #expect(engine.counters.pingsSkipped == 1)
        #expect(engine.outstandingPings == 2)
        engine.receivedPong(anyPayload, now: at(31))
        #expect(engine.outstandingPings == 1)
        #expect(engine.rtt.latest == .seconds(21))
        _ = try engine.expectPing(at: at(40))
        #expect(engine.outstandingPings == 2)
        #expect(engine.counters.pingsSent == 3)
    }

    /// The choice this model makes: a ping judged missed is still owed its pong, and the next
    /// pong pays that debt (late) rather than being credited to the newer ping.
    @Test func aMissedPingStaysOwedSoTheNextPongIsLateAndTheOneAfterRecovers() throws {
        var engine = HeartbeatEngine(configuration: configuration(missed: 1), dialect: .envelope,
                                     liveness: .inOrder, now: at(0))
        let first = try engine.expectPing(at: at(10))
        engine.tick(now: at(11))
        #expect(engine.drainActions() == [.peerDead(.ackTimeout(missedPongs: 1))])
        #expect(engine.state == .failed)
        let retryAt = try #require(engine.nextDeadline)
        #expect(retryAt >= at(11.08) && retryAt <= at(11.12))
        let retry = try engine.expectPing(at: retryAt)
        #expect(retry != first)
        _ = engine.drainEvents()

        // The first ping's pong, late: not credited to the retry.
        engine.receivedPong(anyPayload, now: retryAt + ms(50))
        #expect(engine.counters.latePongs == 1)
        #expect(engine.counters.rttSamples == 0)
        #expect(engine.state == .failed)
        #expect(engine.outstandingPings == 1)
        #expect(engine.drainEvents() == [.pongIgnored(first, .late)])

        // The retry's own pong: measured against the retry, and the peer recovers.
        engine.receivedPong(anyPayload, now: retryAt + ms(80))
        #expect(engine.rtt.latest == ms(80))
        #expect(engine.drainActions() == [.peerRecovered])
        #expect(engine.state == .idle)
        #expect(engine.counters.pongsReceived == 1)
        #expect(engine.counters.peerRecoveries == 1)
        engine.receivedPong(anyPayload, now: retryAt + ms(90))
        #expect(engine.counters.unknownPongs == 1)
    }

    @Test func missesAreJudgedOldestFirst() throws {
        var engine = HeartbeatEngine(configuration: configuration(ackTimeout: .seconds(15), missed: 3),
                                     dialect: .envelope, liveness: .inOrder, now: at(0))
        let first = try engine.expectPing(at: at(10))
        _ = try engine.expectPing(at: at(20))
        _ = engine.drainEvents()
        engine.tick(now: at(25))
        #expect(engine.drainEvents().first == .pongMissed(first, consecutive: 1))
        #expect(engine.outstandingPings == 1)
        #expect(engine.state == .awaitingPong)
        // The miss scheduled a retry after 100 ms ± 20 %, as in the echo model.
        let retryAt = try #require(engine.nextDeadline)
        #expect(retryAt >= at(25.08) && retryAt <= at(25.12))
        _ = try engine.expectPing(at: retryAt)
        #expect(engine.outstandingPings == 2)
        // The pong that comes now is the first ping's: late. The second and the retry are awaited.
        engine.receivedPong(anyPayload, now: at(26))
        #expect(engine.counters.latePongs == 1)
        #expect(engine.outstandingPings == 2)
        engine.receivedPong(anyPayload, now: at(26.5))
        #expect(engine.counters.pongsReceived == 1)
        #expect(engine.rtt.latest == .seconds(6.5))  // against the second, sent at 20
        #expect(engine.outstandingPings == 1)
        #expect(engine.state == .awaitingPong)
        engine.receivedPong(anyPayload, now: at(26.6))
        #expect(engine.rtt.latest == at(26.6) - retryAt)  // the retry's
        #expect(engine.state == .idle)
        #expect(engine.counters.pongsReceived == 2)
    }

    @Test func aPingExcusedByTrafficStillGetsItsPongAsAnRTTSample() throws {
        var engine = HeartbeatEngine(configuration: configuration(trafficCountsAsLiveness: true), dialect: .envelope,
                                     liveness: .inOrder, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.receivedTraffic(now: at(10.2))
        #expect(engine.counters.pingsExcusedByTraffic == 1)
        #expect(engine.outstandingPings == 0)
        engine.receivedPong(anyPayload, now: at(10.3))
        #expect(engine.counters.pongsAfterTraffic == 1)
        #expect(engine.rtt.latest == ms(300))
        engine.receivedPong(anyPayload, now: at(10.4))
        #expect(engine.counters.unknownPongs == 1)
    }

    @Test func anAcknowledgementIsTakenAsAnInOrderPong() throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope, liveness: .inOrder, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.receivedAcknowledgement(packetNumber: 999, ackDelay: nil, now: at(10.2))
        #expect(engine.counters.pongsReceived == 1)
        #expect(engine.rtt.latest == ms(200))
    }

    @Test func peerPingsAreAnsweredAsInTheEchoModel() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope, liveness: .inOrder, now: at(0))
        engine.receivedPing(anyPayload, now: at(1))
        #expect(engine.drainActions() == [.sendPong(anyPayload)])
    }
}

@Suite struct UnilateralModelTests {
    static let twoIntervals = LivenessModel.unilateral(deadAfterIntervals: 2)

    @Test func beatsKeepTheScheduleWithoutDriftWhenTicksComeLate() throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: Self.twoIntervals, now: at(0))
        #expect(engine.nextDeadline == at(10))
        engine.tick(now: at(10.3))
        #expect(pings(engine.drainActions()) == 1)
        engine.receivedPing(anyPayload, now: at(10.3))  // keeps the peer alive
        #expect(engine.outstandingPings == 0)
        #expect(engine.state == .idle)
        #expect(engine.nextDeadline == at(20))          // not 20.3
        engine.tick(now: at(20.7))
        #expect(pings(engine.drainActions()) == 1)
        engine.receivedPing(anyPayload, now: at(20.7))
        #expect(engine.nextDeadline == at(30))
        engine.tick(now: at(35))                        // later than a whole interval: one beat
        #expect(pings(engine.drainActions()) == 1)
        #expect(engine.nextDeadline == at(40))
        #expect(engine.counters.pingsSent == 3)
        #expect(engine.state == .idle)
        // Beats go on while the peer is silent and after it is declared dead.
        for second in stride(from: 40.0, through: 100, by: 10) {
            engine.tick(now: at(second))
        }
        #expect(engine.state == .failed)
        #expect(engine.counters.pingsSent == 10)
        #expect(engine.outstandingPings == 0)
    }

    @Test func thePeerIsDeadAfterExactlyNIntervalsOfSilenceAndNotBefore() throws {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: Self.twoIntervals, now: at(0))
        engine.tick(now: at(10))
        #expect(pings(engine.drainActions()) == 1)
        engine.tick(now: Timestamp(nanoseconds: 20_000_000_000 - 1))
        #expect(engine.drainActions().isEmpty)
        #expect(engine.state == .idle)
        #expect(engine.nextDeadline == at(20))
        _ = engine.drainEvents()

        engine.tick(now: at(20))
        let death = PeerDeathReason.silence(intervals: 2, elapsed: .seconds(20))
        let actions = engine.drainActions()
        #expect(actions.first == .peerDead(death))
        #expect(pings(actions) == 1)
        #expect(engine.state == .failed)
        #expect(!engine.isPeerAlive)
        #expect(engine.counters.peerDeaths == 1)
        let events = engine.drainEvents()
        #expect(events.prefix(2) == [.peerDead(death), .stateChanged(from: .idle, to: .failed)])
        #expect(engine.nextDeadline == at(30))  // only beats are due now
    }

    @Test func aLateTickReportsTheSilenceItSaw() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 3), now: at(5))
        engine.tick(now: at(38))
        #expect(engine.drainActions().contains(.peerDead(.silence(intervals: 3, elapsed: .seconds(33)))))
    }

    /// 0: a peer ping, 1: a pong, 2: business data, 3: a QUIC acknowledgement.
    @Test(arguments: 0..<4)
    func anythingHeardRestartsTheSilenceClock(kind: Int) {
        var engine = HeartbeatEngine(configuration: configuration(trafficCountsAsLiveness: false), dialect: .envelope,
                                     liveness: Self.twoIntervals, now: at(0))
        switch kind {
        case 0: engine.receivedPing(anyPayload, now: at(15))
        case 1: engine.receivedPong(anyPayload, now: at(15))
        case 2: engine.receivedTraffic(now: at(15))
        default: engine.receivedAcknowledgement(packetNumber: 3, ackDelay: nil, now: at(15))
        }
        #expect(engine.counters.peerArrivals == 1)
        #expect(engine.counters.unknownPongs == 0)
        engine.tick(now: at(20))
        #expect(engine.state == .idle)
        engine.tick(now: Timestamp(nanoseconds: 35_000_000_000 - 1))
        #expect(engine.state == .idle)
        #expect(engine.nextDeadline == at(35))
        engine.tick(now: at(35))
        #expect(engine.state == .failed)
        #expect(engine.drainActions().contains(.peerDead(.silence(intervals: 2, elapsed: .seconds(20)))))
    }

    @Test func thePeerRecoversWhenHeardFromAgain() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: Self.twoIntervals, now: at(0))
        engine.tick(now: at(20))
        #expect(engine.state == .failed)
        _ = engine.drainActions()
        _ = engine.drainEvents()
        engine.receivedTraffic(now: at(27))
        #expect(engine.drainActions() == [.peerRecovered])
        #expect(engine.drainEvents() == [.peerRecovered, .stateChanged(from: .failed, to: .idle)])
        #expect(engine.state == .idle)
        #expect(engine.counters.peerRecoveries == 1)
        #expect(engine.nextDeadline == at(30))
        engine.tick(now: at(30))
        #expect(engine.nextDeadline == at(40))
        engine.tick(now: at(47))
        #expect(engine.state == .failed)
        #expect(engine.counters.peerDeaths == 2)
    }

    @Test func peerPingsAreNotAnsweredButArePoliced() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: Self.twoIntervals, now: at(0))
        engine.receivedPing(anyPayload, now: at(3))
        engine.receivedPing(anyPayload, now: at(6))
        #expect(pongs(engine.drainActions()) == 0)
        #expect(engine.pendingPongCount == 0)
        #expect(engine.counters.pingsReceived == 2)
        #expect(engine.counters.pongsSent == 0)
        // A peer beating far faster than allowed (1 s by default, 2 strikes) is closed on.
        for tenth in 1...3 { engine.receivedPing(anyPayload, now: at(6 + Double(tenth) / 10)) }
        #expect(engine.policingStrikes == 3)
        #expect(engine.drainActions() == [.close(.tooManyPings)])
        #expect(engine.state == .closed)
        #expect(engine.nextDeadline == nil)
    }

    @Test func phiAccrualDoesNotApplyTheFixedRuleDecides() {
        var engine = HeartbeatEngine(configuration: HeartbeatConfiguration(pingInterval: .seconds(10)),
                                     dialect: .envelope, liveness: Self.twoIntervals, now: at(0))
        #expect(engine.phiDetector == nil)
        #expect(engine.suspicion(at: at(5)) == nil)
        engine.tick(now: Timestamp(nanoseconds: 20_000_000_000 - 1))
        #expect(engine.state == .idle)
        engine.tick(now: at(20))
        #expect(engine.state == .failed)
    }

    @Test func nothingIsAwaitedAndNoRetryOrCircuitBreakerRuns() {
        var engine = HeartbeatEngine(configuration: configuration(), dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 1), now: at(0))
        var beats: [HeartbeatPayload] = []
        for second in stride(from: 10.0, through: 200, by: 10) {
            engine.tick(now: at(second))
            for action in engine.drainActions() { if case .sendPing(let payload) = action { beats.append(payload) } }
            if let last = beats.last { engine.pingWritten(last, now: at(second)) }
        }
        #expect(beats.count == 20)
        #expect(engine.counters.pongsMissed == 0)
        #expect(engine.consecutiveMissedPongs == 0)
        #expect(engine.counters.circuitOpenings == 0)
        #expect(engine.circuitState == .closed)
        #expect(engine.outstandingPings == 0)
        #expect(engine.counters.peerDeaths == 1)
    }
}

/// Found by the heartbeat-engine fuzzer: in order, misses are judged oldest first, so a younger
/// ping whose deadline passed while an older one was still awaited must be judged as soon as the
/// older one is answered; no deadline may be left in the past.
@Suite struct InOrderDeadlineRegressionTests {
    @Test func answeringTheOldestJudgesAnOverdueYoungerPingAtOnce() {
        var configuration = HeartbeatConfiguration.fixedTimeout
        configuration.pingInterval = .milliseconds(300)
        configuration.ackTimeout = .seconds(1)
        configuration.maxOutstandingPings = 2
        configuration.missedPongsBeforeDead = 3
        var engine = HeartbeatEngine(configuration: configuration, dialect: .envelope, liveness: .inOrder, now: at(0))
        engine.tick(now: at(0.3))   // ping 1, deadline 1.3
        var pings: [HeartbeatPayload] = []
        while let action = engine.pollAction() { if case .sendPing(let payload) = action { pings.append(payload) } }
        engine.tick(now: at(0.6))   // ping 2, deadline 1.6
        while let action = engine.pollAction() { if case .sendPing(let payload) = action { pings.append(payload) } }
        #expect(pings.count == 2)
        engine.pingWritten(pings[0], now: at(0.9))  // ping 1 written late: deadline 1.9, after ping 2's
        engine.receivedPong(.empty, now: at(1.7))   // answers ping 1; ping 2's deadline (1.6) has passed
        #expect(engine.counters.pongsReceived == 1)
        #expect(engine.counters.pongsMissed == 1)
        #expect(engine.nextDeadline.map { $0 > at(1.7) } ?? true)
    }
}
