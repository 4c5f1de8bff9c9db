import AllocationCounting
import Framing
import Heartbeat
import Simulation
import Testing

/// Ping every 10 s, 1 s fixed timeout, dead after `missed`, local health with its defaults
/// (tolerance 100 ms, hold 50 ms, half-life 2 s, no allowance).
private func healthConfiguration(missed: Int = 1, localHealth: LocalHealthPolicy? = LocalHealthPolicy()) -> HeartbeatConfiguration {
    var configuration = fixedConfiguration(missed: missed)
    configuration.localHealth = localHealth
    return configuration
}

/// Local health with the allowance on: 1 × the lag score, capped at min(1 s, 10 s / 2·missed).
private let withAllowance = LocalHealthPolicy(allowanceMultiplier: 1)

private func deaths(_ actions: [HeartbeatAction]) -> Int {
    actions.filter { if case .peerDead = $0 { true } else { false } }.count
}

extension HeartbeatEngine {
    /// Ticks at every deadline until the peer is declared dead (or `limit` passes); returns when.
    fileprivate mutating func tickUntilDead(limit: Timestamp) -> Timestamp? {
        while let deadline = nextDeadline, deadline <= limit {
            tick(now: deadline)
            if deaths(drainActions()) > 0 { return deadline }
            _ = drainEvents()
        }
        return nil
    }
}

@Suite struct LocalHealthEngineTests {
    /// The case in virtual time: a ping goes out, our process stops for 3 s, the pong
    /// waits in the kernel. On resume the loop runs its timers first: without local health the
    /// pong is judged missed; with it the verdict waits for the read, and the round trip, which
    /// measured our stall, is not sampled.
    @Test func aThreeSecondStallWithAPongWaitingGivesNoVerdict() throws {
        var plain = HeartbeatEngine(configuration: healthConfiguration(localHealth: nil), dialect: .envelope, now: at(0))
        var aware = HeartbeatEngine(configuration: healthConfiguration(), dialect: .envelope, now: at(0))
        for index in 0..<2 {
            var engine = index == 0 ? plain : aware
            let ping = try engine.expectPing(at: at(10))
            _ = engine.drainEvents()
            // The pong reached the kernel at 10.05; we were stopped from 10.01 to 13.01.
            engine.tick(now: at(13.01))
            let verdicts = deaths(engine.drainActions())
            engine.receivedPong(ping, now: at(13.01))
            _ = engine.drainActions()
            if index == 0 { plain = engine } else { aware = engine }
            #expect(verdicts == (index == 0 ? 1 : 0))
        }
        #expect(plain.counters.peerDeaths == 1 && plain.counters.latePongs == 1)
        #expect(aware.counters.peerDeaths == 0 && aware.counters.pongsMissed == 0)
        #expect(aware.counters.pongsReceived == 1 && aware.state == .idle)
        #expect(aware.counters.rttSamples == 0 && aware.counters.rttSamplesSkippedForLag == 1)
        #expect(aware.counters.localLags == 1 && aware.counters.verdictsDeferred == 1)
        #expect(aware.localHealth?.largestLag == ms(2_010))
        let events = aware.drainEvents()
        #expect(events.contains(.pongAfterLocalLag(HeartbeatPayload(sequence: 1, timestampMilliseconds: 10_000), roundTrip: ms(3_010))))
        // Nothing measured the path: φ and the estimator learned nothing from the stall.
        #expect(aware.rtt.latest == .zero)
    }

    @Test func theLagIsReportedAndTheVerdictDeferred() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(localHealth: withAllowance), dialect: .envelope, now: at(0))
        _ = try engine.expectPing(at: at(10))
        _ = engine.drainEvents()
        engine.tick(now: at(13.01))
        let events = engine.drainEvents()
        #expect(events.contains(.localLag(lateness: ms(2_010), allowance: .seconds(1))))
        #expect(events.contains(.verdictsDeferred(until: at(13.06))))
        #expect(engine.nextDeadline == at(13.06))
    }

    /// The peer died while we were stopped: once we are back, it is still declared dead — after
    /// the hold, well within one ping interval of the recovery.
    @Test func aPeerThatDiedDuringTheStallIsDeclaredDeadAfterRecovery() throws {
        for (missed, policy) in [(1, LocalHealthPolicy()), (3, LocalHealthPolicy()), (3, withAllowance)] {
            var engine = HeartbeatEngine(configuration: healthConfiguration(missed: missed, localHealth: policy),
                                         dialect: .envelope, now: at(0))
            _ = try engine.expectPing(at: at(10))
            engine.tick(now: at(13))  // resume: the deadline at 11 is held until 13.05
            let resumed = engine.drainActions()
            #expect(deaths(resumed) == 0)
            let dead = engine.tickUntilDead(limit: at(60))
            let death = try #require(dead)
            #expect(death - at(13) <= .seconds(10), "dead \(death - at(13)) after recovery")
            if missed == 1 { #expect(death == at(13.05)) }
            #expect(engine.counters.peerDeaths == 1)
        }
    }

    /// No ping was awaited when we stopped: the ping that fell due during the stop goes out on
    /// resume with an allowance for the lag, and a dead peer is still declared within one
    /// interval of the recovery (the allowance is capped at min(ackTimeout, interval / 2·missed)).
    @Test func aPingDueDuringTheStallGoesOutWithACappedAllowance() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(localHealth: withAllowance), dialect: .envelope, now: at(0))
        engine.tick(now: at(14))  // the ping due at 10 is 4 s late
        let sent = engine.drainEvents().compactMap { kind -> Timestamp? in
            if case .pingSent(_, let deadline) = kind { return deadline }
            return nil
        }
        #expect(sent == [at(16)])  // 1 s timeout + 1 s allowance (the cap: ackTimeout)
        let dead = engine.tickUntilDead(limit: at(60))
        let death = try #require(dead)
        #expect(death == at(16))
        #expect(death - at(14) <= .seconds(10))
    }

    /// CPU starvation: every wake-up comes 300 ms late. The score follows, new pong deadlines
    /// get a 300 ms allowance, pongs read 300 ms late still count; once the loop keeps time
    /// again the allowance decays to nothing (half-life 2 s, tolerance 100 ms).
    @Test func repeatedLatenessRaisesTheAllowanceAndItDecaysAfter() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(localHealth: withAllowance), dialect: .envelope, now: at(0))
        var deadlines: [Duration] = []
        func round(_ engine: inout HeartbeatEngine, lateBy late: Duration) throws {
            let due = try #require(engine.nextDeadline)
            engine.tick(now: due + late)
            let actions = engine.drainActions()
            let ping = try #require(actions.compactMap { action -> HeartbeatPayload? in
                if case .sendPing(let payload) = action { return payload }
                return nil
            }.first)
            for kind in engine.drainEvents() {
                if case .pingSent(_, let deadline) = kind { deadlines.append(deadline - (due + late)) }
            }
            engine.receivedPong(ping, now: due + late + ms(40) + late)  // the read is late too
            let after = engine.drainActions()
            #expect(deaths(after) == 0)
            _ = engine.drainEvents()
        }
        for _ in 0..<3 { try round(&engine, lateBy: ms(300)) }
        #expect(deadlines == [ms(1_300), ms(1_300), ms(1_300)])
        #expect(engine.localHealthAllowance(at: at(30.64)) > ms(250))
        #expect(engine.counters.localLags == 3 && engine.counters.pongsReceived == 3)
        // Back on time: 10 s later the score is 300 ms / 2^5, below the tolerance.
        deadlines.removeAll()
        for _ in 0..<2 { try round(&engine, lateBy: .zero) }
        #expect(deadlines == [ms(1_000), ms(1_000)])
        #expect(engine.localHealthAllowance(at: at(50)) == .zero)
        #expect(engine.counters.localLags == 3)
    }

    /// A loop that stays late forever cannot postpone a verdict forever: each deadline is held
    /// once, and judged at the next late wake-up.
    @Test func aDeadlineIsHeldOnlyOnce() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(), dialect: .envelope, now: at(0))
        _ = try engine.expectPing(at: at(10))
        engine.tick(now: at(11.5))   // held until 11.55
        let first = engine.drainActions()
        #expect(deaths(first) == 0)
        engine.tick(now: at(12.1))   // late again: not held a second time
        let second = engine.drainActions()
        #expect(deaths(second) == 1)
        #expect(engine.counters.localLags == 2 && engine.counters.verdictsDeferred == 1)
    }

    @Test func theDefaultPolicyHoldsButGivesNoAllowance() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(), dialect: .envelope, now: at(0))
        engine.tick(now: at(14))
        #expect(engine.counters.localLags == 1)
        #expect(engine.localHealthAllowance(at: at(14)) == .zero)
        let deadlines = engine.drainEvents().compactMap { kind -> Timestamp? in
            if case .pingSent(_, let deadline) = kind { return deadline }
            return nil
        }
        #expect(deadlines == [at(15)])
    }

    @Test func lateInputsWithinTheToleranceChangeNothing() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(10.09))
        engine.receivedPong(ping, now: at(10.15))
        engine.tick(now: at(20.1))
        #expect(engine.counters.localLags == 0 && engine.counters.rttSamples == 1)
        #expect(engine.localHealthAllowance(at: at(20.1)) == .zero)
    }

    /// A lag the adapter measured across its connections: the round trip under way is not
    /// sampled, though this engine's own deadlines were not late.
    @Test func anObservedLagSkipsTheRoundTripItSpans() throws {
        var engine = HeartbeatEngine(configuration: healthConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(10))
        engine.observedLocalLag(ms(80), now: at(10.3))  // within the tolerance: ignored
        engine.observedLocalLag(ms(400), now: at(10.45))
        engine.receivedPong(ping, now: at(10.45))
        #expect(engine.counters.localLags == 1 && engine.counters.verdictsDeferred == 0)
        #expect(engine.counters.rttSamples == 0 && engine.counters.rttSamplesSkippedForLag == 1)
        let next = try engine.expectPing(at: at(20))
        engine.receivedPong(next, now: at(20.05))
        #expect(engine.counters.rttSamples == 1)
        // Off: the report is ignored.
        var plain = HeartbeatEngine(configuration: healthConfiguration(localHealth: nil), dialect: .envelope, now: at(0))
        plain.observedLocalLag(.seconds(5), now: at(1))
        #expect(plain.localHealth == nil && plain.counters.localLags == 0)
    }

    /// The silence rule (unilateral model): beats that arrived while we were stopped are read
    /// before the silence verdict.
    @Test func theSilenceVerdictWaitsForWhatArrivedDuringTheStall() throws {
        var configuration = healthConfiguration(localHealth: withAllowance)
        configuration.pingInterval = .seconds(1)
        var engine = HeartbeatEngine(configuration: configuration, dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 2), now: at(0))
        engine.tick(now: at(1))
        _ = engine.drainActions()
        engine.tick(now: at(5))  // the silence deadline at 2 passed while we were stopped
        let resumed = engine.drainActions()
        #expect(deaths(resumed) == 0)
        engine.receivedPing(HeartbeatPayload(rawValue: 1), now: at(5))
        #expect(engine.state == .idle && engine.counters.peerDeaths == 0)
        // Without a beat, the verdict comes after the hold.
        var silent = HeartbeatEngine(configuration: configuration, dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 2), now: at(0))
        silent.tick(now: at(5))
        let dead = silent.tickUntilDead(limit: at(10))
        #expect(dead == at(5.05))
    }

    @Test func theScoreDecaysByHalfEveryHalfLife() {
        var health = LocalHealth(policy: LocalHealthPolicy(halfLife: .seconds(1), allowanceMultiplier: 1))
        let atTolerance = health.record(lag: ms(100), at: at(0))
        #expect(!atTolerance)  // the tolerance itself is not a lag
        let four = health.record(lag: .seconds(4), at: at(10))
        #expect(four)
        #expect(health.score(at: at(11)) == .seconds(2))
        #expect(health.score(at: at(12)) == .seconds(1))
        let smaller = health.record(lag: ms(300), at: at(12))
        #expect(smaller)  // counted, but smaller than the score: no new peak
        #expect(health.score(at: at(13)) == ms(500))
        #expect(health.isLagging(at: at(13)) && !health.isLagging(at: at(15.5)))
        #expect(health.allowance(at: at(11), cap: .seconds(1)) == .seconds(1))
        #expect(health.allowance(at: at(13), cap: .seconds(1)) == ms(500))
        #expect(health.allowance(at: at(16), cap: .seconds(1)) == .zero)
        #expect(health.lagSamples == 2 && health.largestLag == .seconds(4))
    }
}

@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct LocalHealthAllocationTests {
    /// Late ticks, holds, allowances, skipped samples and reported lags allocate nothing.
    @Test func everyLocalHealthPathAllocatesNothing() {
        var engine = HeartbeatEngine(configuration: healthConfiguration(missed: 2, localHealth: withAllowance),
                                     dialect: .envelope, now: .zero)
        var now: Int64 = 0
        var sink = 0
        func round(_ engine: inout HeartbeatEngine) {
            now += 13_000_000_000
            engine.tick(now: Timestamp(nanoseconds: now))  // late: lag, ping
            var ping: HeartbeatPayload?
            while let action = engine.pollAction() { if case .sendPing(let payload) = action { ping = payload } }
            now += 3_000_000_000
            engine.tick(now: Timestamp(nanoseconds: now))  // stalled past the deadline: held
            if let ping { engine.receivedPong(ping, now: Timestamp(nanoseconds: now)) }  // skipped sample
            engine.observedLocalLag(.milliseconds(500), now: Timestamp(nanoseconds: now + 1_000_000))
            while engine.pollAction() != nil { sink += 1 }
            while engine.pollEvent() != nil { sink += 1 }
            sink += engine.nextDeadline == nil ? 0 : 1
        }
        for _ in 0..<50 { round(&engine) }
        let count = allocations {
            for _ in 0..<5_000 { round(&engine) }
        }
        #expect(engine.counters.rttSamplesSkippedForLag >= 5_000)
        #expect(engine.counters.peerDeaths == 0)
        #expect(sink > 0)
        #expect(count == 0)
    }

    @Test func aStallingSimulationAllocatesNothing() {
        var configuration = HeartbeatConfiguration(pingInterval: .seconds(1), missedPongsBeforeDead: 1)
        configuration.localHealth = withAllowance
        var simulation = NetworkSimulation(configuration: configuration, link: LinkModel(), seed: 3,
                                           localStalls: LocalStallModel(stallsPerHour: 600))
        simulation.runAlive(for: 1_000 * 1_000_000_000)
        let count = allocations { simulation.runAlive(for: 50_000 * 1_000_000_000) }
        #expect(simulation.tally.localStalls > 500)
        #expect(count == 0)
    }
}

/// The `heartbeat-sim stalls` report at a small scale, deterministic seeds: local health
/// removes most of the false verdicts our own stalls cause, without slowing the detection of
/// a dead peer.
@Suite struct LocalStallSimulationTests {
    static let scale = ExperimentScale(heartbeats: 60_000, trials: 600, seed: 12)
    static let clean = LinkModel(lossRate: 0, stallsPerHour: 0)

    static func configuration(localHealth: Bool) -> HeartbeatConfiguration {
        var configuration = HeartbeatConfiguration(pingInterval: .seconds(1), missedPongsBeforeDead: 1)
        configuration.localHealth = localHealth ? LocalHealthPolicy() : nil
        return configuration
    }

    @Test func localHealthRemovesTheStallsFalseVerdicts() {
        let stalls = LocalStallModel()
        let plain = runExperiment(name: "phi", configuration: Self.configuration(localHealth: false), link: Self.clean,
                                  scale: Self.scale, localStalls: stalls)
        let aware = runExperiment(name: "phi + local health", configuration: Self.configuration(localHealth: true),
                                  link: Self.clean, scale: Self.scale, localStalls: stalls)
        #expect(plain.localStalls > 500 && aware.localStalls > 500)
        #expect(plain.falsePositives >= 20)
        #expect(aware.falsePositives * 5 <= plain.falsePositives)
        #expect(aware.detectionSeconds.count == 600)
    }

    @Test func withoutStallsLocalHealthChangesNothing() {
        let plain = runExperiment(name: "phi", configuration: Self.configuration(localHealth: false), link: LinkModel(),
                                  scale: ExperimentScale(heartbeats: 20_000, trials: 200, seed: 4))
        let aware = runExperiment(name: "aware", configuration: Self.configuration(localHealth: true), link: LinkModel(),
                                  scale: ExperimentScale(heartbeats: 20_000, trials: 200, seed: 4))
        #expect(plain.falsePositives == aware.falsePositives)
        #expect(plain.detectionSeconds == aware.detectionSeconds)
    }
}

/// Random inputs with local health on — late inputs, stalls of seconds, reported lags — and the
/// engine's invariants after every one: no deadline in the past, every ping accounted for,
/// counters never going down (`PropertyTests.Checker`), and in the unilateral model a silence
/// verdict never earlier than the silence limit (local health only ever postpones).
@Suite struct LocalHealthPropertyTests {
    static let policies = [LocalHealthPolicy(), LocalHealthPolicy(halfLife: .seconds(5), allowanceMultiplier: 2)]

    @Test(arguments: PropertyTests.models, 0..<2)
    func invariantsHoldWhileOurLoopLags(liveness: LivenessModel, policyIndex: Int) {
        var configuration = HeartbeatConfiguration(
            pingInterval: .milliseconds(700), ackTimeout: .seconds(2), missedPongsBeforeDead: 2, maxOutstandingPings: 4,
            pingPolicy: PingPolicy(minimumPeerPingInterval: .milliseconds(300), maxPingStrikes: 6, maxPendingPongs: 2))
        configuration.localHealth = Self.policies[policyIndex]
        var deferred = 0, skipped = 0, deaths = 0
        for seed in [UInt64(21), 22, 23] {
            let counters = Self.run(configuration: configuration, liveness: liveness, seed: seed)
            deferred += counters.verdictsDeferred
            skipped += counters.rttSamplesSkippedForLag
            deaths += counters.peerDeaths
        }
        #expect(deferred > 0 && deaths > 0)
        if case .unilateral = liveness {} else { #expect(skipped > 0) }
    }

    static func run(configuration: HeartbeatConfiguration, liveness: LivenessModel, seed: UInt64) -> HeartbeatCounters {
        var engine = HeartbeatEngine(configuration: configuration, connectionID: seed, dialect: .http2,
                                     liveness: liveness, now: at(0))
        var checker = PropertyTests.Checker(configuration: configuration, liveness: liveness)
        var unilateralSilence: Int64?
        if case .unilateral(let intervals) = liveness {
            unilateralSilence = configuration.pingInterval.nanosecondCount * Int64(intervals)
        }
        var lastHeard: Int64 = 0
        var latest: Int64 = 0
        var random = SplitMix64(seed: seed)
        var now = Timestamp.zero
        var sent: [HeartbeatPayload] = []
        var silentSteps: UInt64 = 0
        for _ in 0..<3_000 {
            switch random.next() % 20 {
            case 0: now = now + .milliseconds(1_000 + Int64(random.next() % 4_000))  // a stall of ours
            case 1, 2: now = engine.nextDeadline ?? now
            default: now = now + .milliseconds(Int64(random.next() % 400))
            }
            if silentSteps == 0 && random.next() % 300 == 0 { silentSteps = 30 + random.next() % 200 }
            var choice = random.next() % 10
            if silentSteps > 0 {
                silentSteps -= 1
                if choice >= 4 && choice < 8 { choice = 0 }
            }
            var heard = false
            switch choice {
            case 0, 1, 2: engine.tick(now: now)
            case 3: engine.observedLocalLag(.milliseconds(Int64(random.next() % 2_000)), now: now)
            case 4, 5:
                if let payload = sent.randomElement(using: &random) { engine.receivedPong(payload, now: now) } else { engine.tick(now: now) }
                heard = true
            case 6: engine.receivedPing(HeartbeatPayload(rawValue: random.next()), now: now); heard = true
            case 7: engine.receivedTraffic(now: now); heard = true
            default: engine.sentTraffic(now: now)
            }
            latest = Swift.max(latest, now.nanoseconds)
            if heard && engine.state != .closed { lastHeard = latest }
            while let action = engine.pollAction() {
                if case .sendPing(let payload) = action {
                    sent.append(payload)
                    if sent.count > 8 { sent.removeFirst() }
                }
            }
            while engine.pollEvent() != nil {}
            if let silence = unilateralSilence {
                if let deadline = engine.nextDeadline { #expect(deadline.nanoseconds > latest, "deadline in the past") }
                if engine.state == .failed { #expect(latest >= lastHeard + silence, "declared dead too early") }
                #expect(engine.outstandingPings == 0 && engine.counters.rttSamples == 0)
            } else {
                checker.check(engine, now: now)
            }
            if engine.state == .closed { break }
        }
        return engine.counters
    }
}

/// The session path an adapter uses: the pong's bytes read after a stop are one input, and
/// the engine judges its timers first within it — local health holds the verdict for the read.
@Suite struct LocalHealthSessionTests {
    func pongBytes<D>(_ session: inout HeartbeatSession<D>, now: Timestamp) throws -> [UInt8] {
        let written = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(written.count, now: now)
        var demuxer = Demuxer(EnvelopeFrameDecoder(expectPreface: false))
        var pings: [HeartbeatPayload] = []
        try demuxer.feed(written) { item, _ in if case .ping(let payload) = item { pings.append(payload) } }
        var pong: [UInt8] = []
        EnvelopeFrame.appendPong(try #require(pings.last), to: &pong)
        return pong
    }

    func deaths<D>(_ session: inout HeartbeatSession<D>) -> Int {
        var count = 0
        while let output = session.pollOutput() { if case .peerDead = output { count += 1 } }
        return count
    }

    @Test func thePongReadAfterAStopIsCreditedWithLocalHealthOnly() throws {
        for localHealth in [false, true] {
            var configuration = fixedConfiguration()
            configuration.localHealth = localHealth ? LocalHealthPolicy() : nil
            var session = HeartbeatSession(dialect: .envelope, role: .client, configuration: configuration, encoderSeed: 1, now: at(0))
            var preface: [UInt8] = []
            EnvelopeFrame.appendPreface(to: &preface)
            try session.receive(preface.span.bytes, now: at(0)) { _, _ in }
            session.controlBytesWritten(session.withPendingControlBytes { $0.byteCount }, now: at(0))  // our preface
            session.tick(now: at(10))
            let pong = try pongBytes(&session, now: at(10))
            _ = deaths(&session)
            // Stopped from 10.01 to 13: the adapter reports its loop's lag, then feeds the read.
            session.observedLocalLag(.milliseconds(2_990), now: at(13))
            try session.receive(pong.span.bytes, now: at(13)) { _, _ in }
            #expect(deaths(&session) == (localHealth ? 0 : 1))
            #expect(session.engine.counters.pongsReceived == (localHealth ? 1 : 0))
        }
    }
}
