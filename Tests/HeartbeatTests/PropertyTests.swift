import Framing
import Heartbeat
import Testing

/// Random event sequences against many configurations and every liveness model; the invariants
/// hold after every input.
@Suite struct PropertyTests {
    static let models: [LivenessModel] = [
        .echo, .acknowledgement, .inOrder, .unilateral(deadAfterIntervals: 1), .unilateral(deadAfterIntervals: 3),
    ]

    static let configurations: [HeartbeatConfiguration] = {
        var list: [HeartbeatConfiguration] = [HeartbeatConfiguration(), .fixedTimeout]
        var short = HeartbeatConfiguration(
            pingInterval: .milliseconds(700), ackTimeout: .seconds(2), failureDetector: .fixedTimeout,
            missedPongsBeforeDead: 2, trafficCountsAsLiveness: true, maxOutstandingPings: 4,
            circuitBreakerThreshold: 4, circuitBreakerCoolDown: .seconds(3),
            pingPolicy: PingPolicy(minimumPeerPingInterval: .milliseconds(300), maxPingStrikes: 6, maxPendingPongs: 2),
            slowFrameTimeout: .seconds(20))
        list.append(short)
        short.failureDetector = .phiAccrual(PhiAccrualConfiguration(threshold: 3, sampleWindow: 4))
        short.maxOutstandingPings = 1
        short.trafficCountsAsLiveness = false
        short.circuitBreakerThreshold = 1
        list.append(short)
        return list
    }()

    struct Checker {
        static func totals(_ c: HeartbeatCounters) -> [Int] {
            [c.pingsSent, c.pingsSkipped, c.pongsReceived, c.pongsAfterTraffic, c.pingsExcusedByTraffic,
             c.pongsMissed, c.pingsAbandoned, c.unknownPongs, c.duplicatePongs, c.latePongs, c.rttSamples,
             c.pingsReceived, c.pongsSent, c.pongsDropped, c.policingStrikes, c.peerDeaths, c.peerRecoveries,
             c.circuitOpenings, c.eventsDropped, c.actionsDropped, c.peerArrivals]
        }

        let configuration: HeartbeatConfiguration
        var liveness: LivenessModel = .echo
        var previous = HeartbeatCounters()
        var latest: Int64 = 0
        /// When the engine was created (its schedule's anchor; unilateral: its silence clock's start).
        var start: Int64 = 0
        /// Unilateral model: when the peer was last heard from, as the engine saw it.
        var lastHeard: Int64 = 0

        /// The driver gave the unilateral engine something from the peer (ping, pong, ack or
        /// traffic) at the engine's `now`, clamped as the engine clamps it.
        mutating func heard(at now: Timestamp) {
            latest = max(latest, now.nanoseconds)
            lastHeard = latest
        }

        /// `now` is the time of the input just given, `nil` when none was given this round.
        mutating func check(_ engine: HeartbeatEngine, now: Timestamp?) {
            if let now { latest = max(latest, now.nanoseconds) }
            #expect(engine.liveness == liveness)
            if case .unilateral(let intervals) = liveness {
                checkUnilateral(engine, deadAfterIntervals: intervals)
            } else {
                checkAnswered(engine)
            }
            // Counters never go down.
            #expect(zip(Self.totals(engine.counters), Self.totals(previous)).allSatisfy { $0 >= $1 })
            previous = engine.counters
        }

        /// The models where pongs answer pings: echo, acknowledgement, in order.
        mutating func checkAnswered(_ engine: HeartbeatEngine) {
            let counters = engine.counters
            #expect(counters.peerArrivals == 0)
            if liveness == .inOrder {
                // A pong cannot be a duplicate, and every pong that answered, paid a debt or gave
                // an RTT sample after traffic was owed by a distinct ping.
                #expect(counters.duplicatePongs == 0)
                #expect(counters.latePongs + counters.pongsAfterTraffic <= counters.pongsMissed + counters.pingsExcusedByTraffic)
                #expect(counters.pongsReceived + counters.latePongs + counters.pongsAfterTraffic <= counters.pingsSent)
            }
            #expect(engine.outstandingPings <= configuration.maxOutstandingPings)
            #expect(engine.pendingPongCount <= configuration.pingPolicy.maxPendingPongs)
            if let deadline = engine.nextDeadline {
                #expect(deadline.nanoseconds > latest, "deadline in the past")
                #expect(engine.state != .closed)
            } else {
                #expect(engine.state == .closed)
            }
            switch engine.state {
            case .idle:
                #expect(engine.outstandingPings == 0 && engine.consecutiveMissedPongs == 0)
            case .awaitingPong:
                #expect(engine.outstandingPings > 0 && engine.isPeerAlive)
                #expect(engine.consecutiveMissedPongs < configuration.missedPongsBeforeDead)
            case .backingOff:
                #expect(engine.outstandingPings == 0)
                #expect(engine.consecutiveMissedPongs > 0 && engine.consecutiveMissedPongs < configuration.missedPongsBeforeDead)
            case .failed:
                #expect(!engine.isPeerAlive && engine.consecutiveMissedPongs >= configuration.missedPongsBeforeDead)
                #expect(counters.peerDeaths == counters.peerRecoveries + 1)
            case .closed:
                #expect(engine.outstandingPings == 0 && engine.pendingPongCount == 0)
            }
            if engine.state != .failed && engine.state != .closed {
                #expect(counters.peerDeaths == counters.peerRecoveries)
            }
            // Every ping sent is answered, missed, excused, abandoned or still awaited.
            #expect(counters.pingsSent == counters.pongsReceived + counters.pongsMissed + counters.pingsExcusedByTraffic
                + counters.pingsAbandoned + engine.outstandingPings)
            if engine.state != .closed {
                #expect(counters.pingsReceived == counters.pongsSent + counters.pongsDropped + engine.pendingPongCount)
            }
            #expect(counters.rttSamples == engine.rtt.sampleCount)
            #expect(counters.policingStrikes >= engine.policingStrikes)
            if case .open = engine.circuitState { #expect(engine.consecutiveMissedPongs > 0) }
        }

        /// The unilateral model: beats on the schedule, nothing awaited or answered, dead exactly
        /// when N intervals passed without hearing from the peer.
        mutating func checkUnilateral(_ engine: HeartbeatEngine, deadAfterIntervals: Int) {
            let counters = engine.counters
            let interval = configuration.pingInterval.nanosecondCount
            let silence = interval * Int64(deadAfterIntervals)
            #expect(engine.outstandingPings == 0)
            #expect(engine.pendingPongCount == 0)
            #expect(counters.pongsSent == 0 && counters.pongsDropped == 0, "a unilateral engine answered a ping")
            #expect(counters.pongsReceived == 0 && counters.pongsMissed == 0 && counters.unknownPongs == 0
                && counters.latePongs == 0 && counters.duplicatePongs == 0 && counters.pongsAfterTraffic == 0)
            #expect(counters.pingsExcusedByTraffic == 0 && counters.pingsSkipped == 0)
            #expect(counters.rttSamples == 0 && engine.rtt.sampleCount == 0)
            #expect(engine.consecutiveMissedPongs == 0)
            #expect(engine.circuitState == .closed && counters.circuitOpenings == 0)
            #expect(engine.phiDetector == nil)
            #expect(counters.policingStrikes >= engine.policingStrikes)
            // No drift, no extra beats: at most one per whole interval since the start.
            #expect(Int64(counters.pingsSent) <= (latest - start) / interval)
            if let deadline = engine.nextDeadline {
                #expect(deadline.nanoseconds > latest, "deadline in the past")
                #expect(engine.state != .closed)
            } else {
                #expect(engine.state == .closed)
            }
            switch engine.state {
            case .idle:
                #expect(latest < lastHeard + silence, "alive after N intervals of silence")
                #expect(engine.nextDeadline.map { $0.nanoseconds <= lastHeard + silence } == true)
                #expect(counters.peerDeaths == counters.peerRecoveries)
            case .failed:
                #expect(latest >= lastHeard + silence, "declared dead too early")
                #expect(!engine.isPeerAlive)
                #expect(counters.peerDeaths == counters.peerRecoveries + 1)
            case .closed:
                break
            case .awaitingPong, .backingOff:
                Issue.record("state \(engine.state) in the unilateral model")
            }
        }
    }

    @Test(arguments: 0..<4, [UInt64(1), 2, 3, 4, 5])
    func invariantsHoldUnderRandomEvents(configurationIndex: Int, seed: UInt64) {
        Self.run(configurationIndex: configurationIndex, seed: seed, liveness: .echo)
    }

    /// Every model against every configuration, three seeds each, with spells of silence from the
    /// peer so that deaths and recoveries happen; the paths the model has must all be taken.
    @Test(arguments: models, 0..<4)
    func invariantsHoldUnderRandomEventsInEveryLivenessModel(liveness: LivenessModel, configurationIndex: Int) {
        var coverage = HeartbeatCounters()
        for seed in [UInt64(11), 12, 13] {
            let counters = Self.run(configurationIndex: configurationIndex, seed: seed, liveness: liveness, silences: true)
            coverage.pingsSent += counters.pingsSent
            coverage.pongsReceived += counters.pongsReceived
            coverage.pongsMissed += counters.pongsMissed
            coverage.latePongs += counters.latePongs
            coverage.unknownPongs += counters.unknownPongs
            coverage.peerDeaths += counters.peerDeaths
            coverage.peerRecoveries += counters.peerRecoveries
            coverage.peerArrivals += counters.peerArrivals
            coverage.pingsReceived += counters.pingsReceived
        }
        #expect(coverage.pingsSent > 0 && coverage.pingsReceived > 0)
        #expect(coverage.peerDeaths > 0 && coverage.peerRecoveries > 0)
        if case .unilateral = liveness {
            #expect(coverage.peerArrivals > 0)
        } else {
            #expect(coverage.pongsReceived > 0 && coverage.pongsMissed > 0 && coverage.unknownPongs > 0)
            #expect(coverage.latePongs > 0)
        }
    }

    /// Runs 4,000 random inputs and returns the counters summed over the engines it went through
    /// (an engine that closes is replaced). With `silences`, the peer sometimes says nothing for
    /// a few hundred inputs (its pings, pongs and traffic become ticks).
    @discardableResult
    static func run(configurationIndex: Int, seed: UInt64, liveness: LivenessModel, silences: Bool = false) -> HeartbeatCounters {
        let configuration = Self.configurations[configurationIndex]
        let dialect: Dialect = seed % 2 == 0 ? .quic : .http2
        var engine = HeartbeatEngine(configuration: configuration, connectionID: seed, dialect: dialect,
                                     liveness: liveness, now: at(0))
        var checker = Checker(configuration: configuration, liveness: liveness)
        let isUnilateral = if case .unilateral = liveness { true } else { false }
        var random = SplitMix64(seed: seed &* 7919 &+ UInt64(configurationIndex))
        var now = Timestamp.zero
        var sent: [HeartbeatPayload] = []
        var packetNumber: UInt64 = 0
        var packets: [UInt64] = []
        var totals = HeartbeatCounters()
        func add(_ counters: HeartbeatCounters) {
            totals.pingsSent += counters.pingsSent
            totals.pongsReceived += counters.pongsReceived
            totals.pongsMissed += counters.pongsMissed
            totals.latePongs += counters.latePongs
            totals.unknownPongs += counters.unknownPongs
            totals.peerDeaths += counters.peerDeaths
            totals.peerRecoveries += counters.peerRecoveries
            totals.peerArrivals += counters.peerArrivals
            totals.pingsReceived += counters.pingsReceived
        }
        var silentSteps: UInt64 = 0
        for _ in 0..<4_000 {
            var choice = random.next() % 100
            if silences {
                if silentSteps == 0 && random.next() % 400 == 0 { silentSteps = 50 + random.next() % 400 }
                if silentSteps > 0 {
                    silentSteps -= 1
                    if (30..<78).contains(choice) { choice = 0 }
                }
            }
            // Time moves forward mostly, sometimes to exactly the next deadline, rarely backwards.
            switch random.next() % 10 {
            case 0: now = engine.nextDeadline ?? now
            case 1: now = now - .milliseconds(Int64(random.next() % 500))
            default: now = now + .milliseconds(Int64(random.next() % 1_500))
            }
            var fed = true
            var fromPeer = true
            var wrote = false
            switch choice {
            case 0..<30:
                engine.tick(now: now)
                fromPeer = false
            case 30..<50:
                if let payload = sent.randomElement(using: &random) {
                    if dialect == .quic, let number = packets.randomElement(using: &random) {
                        let delay: Duration? = random.next() % 3 == 0 ? nil : .milliseconds(Int64(random.next() % 50))
                        engine.receivedAcknowledgement(packetNumber: number, ackDelay: delay, now: now)
                    } else {
                        engine.receivedPong(payload, now: now)
                    }
                } else {
                    fed = false
                }
            case 50..<55:
                engine.receivedPong(HeartbeatPayload(rawValue: random.next()), now: now)
            case 55..<70:
                engine.receivedPing(HeartbeatPayload(rawValue: random.next()), now: now)
            case 70..<78:
                engine.receivedTraffic(now: now)
            case 78..<84:
                engine.sentTraffic(now: now)
                fromPeer = false
            case 84..<88:
                engine.inboundFrameProgress(hasPartialFrame: random.next() % 4 != 0, now: now)
                fromPeer = false
            default:
                fed = false  // no input, and the adapter is slow to drain: maybe nothing polled
            }
            // A ping that got the engine closed (policing) was not heard: the engine is replaced.
            if isUnilateral && fed && fromPeer && engine.state != .closed { checker.heard(at: now) }
            if choice < 88 || random.next() % 2 == 0 {
                while let action = engine.pollAction() {
                    if case .sendPing(let payload) = action {
                        sent.append(payload)
                        if sent.count > 12 { sent.removeFirst() }
                        packetNumber += 1 + random.next() % 3
                        engine.pingWritten(payload, packetNumber: packetNumber, now: now)
                        wrote = true
                        packets.append(packetNumber)
                        if packets.count > 12 { packets.removeFirst() }
                    }
                }
                while engine.pollEvent() != nil {}
            }
            // `pingWritten` is an input too: the engine saw `now`.
            checker.check(engine, now: fed || wrote ? now : nil)
            if engine.state == .closed {
                add(engine.counters)
                // The unilateral engine starts its silence clock at its creation: give it the
                // latest time seen, so that the checker and the engine agree on it.
                let restart = isUnilateral ? Timestamp(nanoseconds: max(now.nanoseconds, checker.latest)) : now
                engine = HeartbeatEngine(configuration: configuration, connectionID: seed, dialect: dialect,
                                         liveness: liveness, now: restart)
                checker = Checker(configuration: configuration, liveness: liveness, latest: checker.latest,
                                  start: restart.nanoseconds, lastHeard: restart.nanoseconds)
            }
        }
        #expect(checker.latest > 0)
        add(engine.counters)
        return totals
    }
}
