import Framing
import Heartbeat
import Testing

@Suite struct EngineTransitionTests {
    @Test func startsIdleWithTheFirstPingOneIntervalAway() {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), connectionID: 7, dialect: .http2, now: at(0))
        #expect(engine.state == .idle)
        #expect(engine.nextDeadline == at(10))
        #expect(engine.isPeerAlive)
        engine.tick(now: at(9.999))
        #expect(engine.pollAction() == nil)
        #expect(engine.pollEvent() == nil)
    }

    @Test func idleToAwaitingPongSendsAPingCarryingSequenceAndTimestamp() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), connectionID: 7, dialect: .http2, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        #expect(ping.sequence == 1)
        #expect(ping.timestampMilliseconds == 10_000)
        #expect(engine.state == .awaitingPong)
        #expect(engine.outstandingPings == 1)
        #expect(engine.nextDeadline == at(11))
        let polled = engine.pollEvent()
        let first = try #require(polled)
        #expect(first.connectionID == 7)
        #expect(first.dialect == .http2)
        #expect(first.time == at(10))
        #expect(first.kind == .pingSent(ping, deadline: at(11)))
        #expect(engine.drainEvents() == [.stateChanged(from: .idle, to: .awaitingPong)])
        #expect(engine.counters.pingsSent == 1)
    }

    @Test func awaitingPongToIdleOnTheMatchingPong() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        _ = engine.drainEvents()
        engine.receivedPong(ping, now: at(10.05))
        #expect(engine.state == .idle)
        #expect(engine.outstandingPings == 0)
        #expect(engine.rtt.latest == ms(50))
        #expect(engine.counters.pongsReceived == 1)
        #expect(engine.counters.rttSamples == 1)
        #expect(engine.nextDeadline == at(20))
        let kinds = engine.drainEvents()
        #expect(kinds.count == 2)
        if case .rttSample(let snapshot) = kinds[0] {
            #expect(snapshot.latest == ms(50))
            #expect(snapshot.smoothed == ms(50))
            #expect(snapshot.variation == ms(25))
            #expect(snapshot.minimum == ms(50))
            #expect(snapshot.percentile75 == ms(50))
        } else {
            Issue.record("expected an RTT sample, got \(kinds[0])")
        }
        #expect(kinds[1] == .stateChanged(from: .awaitingPong, to: .idle))
    }

    @Test func aMissedPongDeclaresThePeerDeadUnderTheSeedDesign() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(missed: 1), dialect: .http2, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        _ = engine.drainEvents()
        engine.tick(now: at(11))
        #expect(engine.drainActions() == [.peerDead(.ackTimeout(missedPongs: 1))])
        #expect(engine.state == .failed)
        #expect(!engine.isPeerAlive)
        #expect(engine.counters.pongsMissed == 1)
        #expect(engine.counters.peerDeaths == 1)
        #expect(engine.drainEvents() == [
            .pongMissed(ping, consecutive: 1),
            .peerDead(.ackTimeout(missedPongs: 1)),
            .stateChanged(from: .awaitingPong, to: .failed),
        ])
        // Retries go on after 100 ms ± 20 %.
        let retry = try #require(engine.nextDeadline)
        #expect(retry >= at(11.08) && retry <= at(11.12))
    }

    @Test func missesBackOffThenRetryThenFail() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(missed: 3), dialect: .http2, now: at(0))
        _ = try engine.expectPing(at: at(10))
        var changes: [String] = transitions(engine.drainEvents())
        var actions: [HeartbeatAction] = []
        for _ in 0..<5 {  // miss, retry, miss, retry, miss
            let deadline = try #require(engine.nextDeadline)
            engine.tick(now: deadline)
            actions += engine.drainActions()
            changes += transitions(engine.drainEvents())
        }
        #expect(changes == [
            "idle->awaitingPong", "awaitingPong->backingOff", "backingOff->awaitingPong",
            "awaitingPong->backingOff", "backingOff->awaitingPong", "awaitingPong->failed",
        ])
        #expect(actions.count == 3)
        #expect(actions.last == .peerDead(.ackTimeout(missedPongs: 3)))
        #expect(engine.consecutiveMissedPongs == 3)
        // The third miss also opened the circuit for the 30 s cool-down.
        guard case .open(let until) = engine.circuitState else {
            Issue.record("circuit should be open, is \(engine.circuitState)")
            return
        }
        #expect(engine.nextDeadline == until)
        #expect(engine.counters.circuitOpenings == 1)
    }

    @Test func failedToIdleWhenTheHalfOpenProbeIsAnswered() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(missed: 3), dialect: .http2, now: at(0))
        _ = try engine.expectPing(at: at(10))
        for _ in 0..<5 { engine.tick(now: try #require(engine.nextDeadline)) }
        _ = engine.drainActions()
        _ = engine.drainEvents()
        guard case .open(let until) = engine.circuitState else {
            Issue.record("circuit should be open")
            return
        }
        let probe = try engine.expectPing(at: until)
        #expect(engine.circuitState == .halfOpen)
        #expect(engine.drainEvents().contains(.circuitChanged(from: .open(until: until), to: .halfOpen)))
        // Only one probe while half-open: nothing else is due until the probe's deadline.
        #expect(engine.nextDeadline == until + .seconds(1))
        engine.receivedPong(probe, now: until + ms(40))
        #expect(engine.drainActions() == [.peerRecovered])
        #expect(engine.state == .idle)
        #expect(engine.circuitState == .closed)
        #expect(engine.consecutiveMissedPongs == 0)
        #expect(engine.counters.peerRecoveries == 1)
        let kinds = engine.drainEvents()
        #expect(kinds.contains(.circuitChanged(from: .halfOpen, to: .closed)))
        #expect(kinds.contains(.peerRecovered))
        #expect(transitions(kinds) == ["failed->idle"])
        // The regular schedule resumes on its original grid (multiples of 10 s).
        let next = try #require(engine.nextDeadline)
        #expect(next.nanoseconds % 10_000_000_000 == 0)
        #expect(next > until + ms(40))
    }

    @Test func aMissedHalfOpenProbeReopensTheCircuit() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(missed: 3), dialect: .http2, now: at(0))
        _ = try engine.expectPing(at: at(10))
        for _ in 0..<5 { engine.tick(now: try #require(engine.nextDeadline)) }
        guard case .open(let until) = engine.circuitState else {
            Issue.record("circuit should be open")
            return
        }
        _ = engine.drainActions()
        _ = try engine.expectPing(at: until)
        engine.tick(now: until + .seconds(1))
        #expect(engine.circuitState == .open(until: until + .seconds(31)))
        #expect(engine.nextDeadline == until + .seconds(31))
        #expect(engine.counters.circuitOpenings == 2)
        #expect(engine.state == .failed)
        #expect(engine.counters.peerDeaths == 1)  // declared once, not again
    }

    @Test func countedTrafficAnswersAnAwaitedPingAndPostponesTheNext() throws {
        var configuration = fixedConfiguration()
        configuration.trafficCountsAsLiveness = true
        var engine = HeartbeatEngine(configuration: configuration, dialect: .envelope, now: at(0))
        engine.receivedTraffic(now: at(5))
        #expect(engine.nextDeadline == at(15))
        let ping = try engine.expectPing(at: at(15))
        engine.receivedTraffic(now: at(15.5))
        #expect(engine.state == .idle)
        #expect(engine.outstandingPings == 0)
        #expect(engine.counters.pingsExcusedByTraffic == 1)
        #expect(engine.nextDeadline == at(25.5))
        // Its pong still gives an RTT sample.
        engine.receivedPong(ping, now: at(15.6))
        #expect(engine.counters.pongsAfterTraffic == 1)
        #expect(engine.counters.pongsReceived == 0)
        #expect(engine.rtt.latest == ms(600))
        #expect(engine.state == .idle)
    }

    @Test func countedTrafficRevivesADeadPeer() throws {
        var configuration = fixedConfiguration()
        configuration.trafficCountsAsLiveness = true
        var engine = HeartbeatEngine(configuration: configuration, dialect: .envelope, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.tick(now: at(11))
        #expect(engine.state == .failed)
        _ = engine.drainActions()
        engine.receivedTraffic(now: at(11.01))
        #expect(engine.drainActions() == [.peerRecovered])
        #expect(engine.state == .idle)
        #expect(engine.nextDeadline == at(21.01))
    }

    @Test func uncountedTrafficDoesNotAnswerAPing() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.receivedTraffic(now: at(10.5))
        #expect(engine.state == .awaitingPong)
        engine.tick(now: at(11))
        #expect(engine.state == .failed)
    }

    @Test func unknownDuplicateAndLatePongsAreIgnoredAndCounted() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(missed: 2), dialect: .http2, now: at(0))
        let first = try engine.expectPing(at: at(10))
        // A forged pong: right sequence, wrong timestamp.
        let forged = HeartbeatPayload(sequence: first.sequence, timestampMilliseconds: first.timestampMilliseconds &+ 1)
        engine.receivedPong(forged, now: at(10.01))
        var kinds = engine.drainEvents()
        #expect(engine.counters.unknownPongs == 1)
        #expect(engine.state == .awaitingPong)
        engine.receivedPong(first, now: at(10.02))
        engine.receivedPong(first, now: at(10.03))
        #expect(engine.counters.duplicatePongs == 1)
        #expect(engine.counters.rttSamples == 1)
        let second = try engine.expectPing(at: at(20))
        engine.tick(now: at(21))
        #expect(engine.state == .backingOff)
        engine.receivedPong(second, now: at(21.01))
        #expect(engine.counters.latePongs == 1)
        #expect(engine.counters.rttSamples == 1)
        #expect(engine.state == .backingOff)
        kinds += engine.drainEvents()
        #expect(kinds.contains(.pongIgnored(forged, .unknown)))
        #expect(kinds.contains(.pongIgnored(first, .duplicate)))
        #expect(kinds.contains(.pongIgnored(second, .late)))
    }

    @Test func aPingFallingDueAtTheOutstandingLimitIsSkipped() throws {
        let configuration = HeartbeatConfiguration(
            pingInterval: .seconds(1), ackTimeout: .seconds(3), failureDetector: .fixedTimeout,
            missedPongsBeforeDead: 1, maxOutstandingPings: 2)
        var engine = HeartbeatEngine(configuration: configuration, dialect: .http2, now: at(0))
        _ = try engine.expectPing(at: at(1))
        _ = try engine.expectPing(at: at(2))
        #expect(engine.outstandingPings == 2)
        engine.tick(now: at(3))
        #expect(engine.pollAction() == nil)
        #expect(engine.counters.pingsSkipped == 1)
        #expect(engine.drainEvents().contains(.pingSkipped))
        #expect(engine.nextDeadline == at(4))
    }

    @Test func pingWrittenMeasuresFromTheActualWrite() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        engine.pingWritten(ping, now: at(10.5))
        #expect(engine.nextDeadline == at(11.5))
        engine.receivedPong(ping, now: at(10.6))
        #expect(engine.rtt.latest == ms(100))
    }

    @Test func timeThatRunsBackwardsIsTakenAsTheLatestTimeSeen() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        engine.receivedPong(ping, now: at(5))
        #expect(engine.rtt.latest == .zero)
        #expect(engine.state == .idle)
        let next = try #require(engine.nextDeadline)
        #expect(next == at(20))
    }

    @Test func eventsBeyondEightUnpolledAreDroppedAndCounted() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        for index in 0..<10 {
            engine.receivedPong(HeartbeatPayload(rawValue: UInt64(index)), now: at(1))
        }
        #expect(engine.counters.eventsDropped == 2)
        let kinds = engine.drainEvents()
        #expect(kinds.count == 8)
        #expect(kinds.first == .pongIgnored(HeartbeatPayload(rawValue: 2), .unknown))
    }

    @Test func actionsBeyondEightUnpolledAreDroppedAndCounted() throws {
        let configuration = HeartbeatConfiguration(
            pingInterval: .seconds(1), ackTimeout: .milliseconds(500), failureDetector: .fixedTimeout,
            missedPongsBeforeDead: 100, circuitBreakerThreshold: 100)
        var engine = HeartbeatEngine(configuration: configuration, dialect: .envelope, now: at(0))
        // A regular ping, then misses and retries: a ping each time, none polled.
        for _ in 0..<24 { engine.tick(now: try #require(engine.nextDeadline)) }
        #expect(engine.counters.actionsDropped == 4)
        #expect(engine.drainActions().count == 8)
    }
}
