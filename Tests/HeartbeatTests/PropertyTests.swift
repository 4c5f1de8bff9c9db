import Framing
import Heartbeat
import Testing

/// Random event sequences against many configurations; the invariants hold after every input.
@Suite struct PropertyTests {
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
             c.circuitOpenings, c.eventsDropped, c.actionsDropped]
        }

        let configuration: HeartbeatConfiguration
        var previous = HeartbeatCounters()
        var latest: Int64 = 0

        /// `now` is the time of the input just given, `nil` when none was given this round.
        mutating func check(_ engine: HeartbeatEngine, now: Timestamp?) {
            if let now { latest = max(latest, now.nanoseconds) }
            let counters = engine.counters
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
            // Counters never go down.
            #expect(zip(Self.totals(counters), Self.totals(previous)).allSatisfy { $0 >= $1 })
            previous = counters
        }
    }

    @Test(arguments: 0..<4, [UInt64(1), 2, 3, 4, 5])
    func invariantsHoldUnderRandomEvents(configurationIndex: Int, seed: UInt64) {
        let configuration = Self.configurations[configurationIndex]
        let dialect: Dialect = seed % 2 == 0 ? .quic : .http2
        var engine = HeartbeatEngine(configuration: configuration, connectionID: seed, dialect: dialect, now: at(0))
        var checker = Checker(configuration: configuration)
        var random = SplitMix64(seed: seed &* 7919 &+ UInt64(configurationIndex))
        var now = Timestamp.zero
        var sent: [HeartbeatPayload] = []
        var packetNumber: UInt64 = 0
        var packets: [UInt64] = []
        for _ in 0..<4_000 {
            let choice = random.next() % 100
            // Time moves forward mostly, sometimes to exactly the next deadline, rarely backwards.
            switch random.next() % 10 {
            case 0: now = engine.nextDeadline ?? now
            case 1: now = now - .milliseconds(Int64(random.next() % 500))
            default: now = now + .milliseconds(Int64(random.next() % 1_500))
            }
            var fed = true
            switch choice {
            case 0..<30:
                engine.tick(now: now)
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
            case 84..<88:
                engine.inboundFrameProgress(hasPartialFrame: random.next() % 4 != 0, now: now)
            default:
                fed = false  // no input, and the adapter is slow to drain: maybe nothing polled
            }
            if choice < 88 || random.next() % 2 == 0 {
                while let action = engine.pollAction() {
                    if case .sendPing(let payload) = action {
                        sent.append(payload)
                        if sent.count > 12 { sent.removeFirst() }
                        packetNumber += 1 + random.next() % 3
                        engine.pingWritten(payload, packetNumber: packetNumber, now: now)
                        packets.append(packetNumber)
                        if packets.count > 12 { packets.removeFirst() }
                    }
                }
                while engine.pollEvent() != nil {}
            }
            checker.check(engine, now: fed ? now : nil)
            if engine.state == .closed {
                engine = HeartbeatEngine(configuration: configuration, connectionID: seed, dialect: dialect, now: now)
                checker = Checker(configuration: configuration, latest: checker.latest)
            }
        }
        #expect(checker.latest > 0)
    }
}
