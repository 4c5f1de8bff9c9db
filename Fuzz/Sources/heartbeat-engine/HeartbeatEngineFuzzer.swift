// Fuzz target: the heartbeat engine driven by an event script decoded from the input — ticks with
// arbitrary time steps (backwards too), peer pings, pongs with arbitrary or matching payloads,
// QUIC acknowledgements, traffic and partial frames — with its invariants checked after every
// step: bounded outstanding pings and pending pongs, no deadline in the past, the state agreeing
// with the counters, and counters that never go down.
//
// Every liveness model is covered: the unilateral one is checked never to await or answer, to
// beat without drift, and to declare the peer dead exactly when N intervals passed without
// hearing from it; the in-order one never to count more debts paid than pings missed or excused.
//
// Input: octet 0 chooses the liveness model (see `livenessModel(_:)`), octets 1–8 the
// configuration (see `configuration(_:)`), then the dialect, the start time, and one step per
// octet group: an operation octet and the fields it reads.
import FuzzSupport
import Framing
import Heartbeat

@_cdecl("LLVMFuzzerTestOneInput")
public func heartbeatEngineFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let livenessOctet = input.byte()
    let liveness = livenessModel(livenessOctet)
    var configuration = configuration(&input)
    let dialect: Dialect = [.envelope, .http2, .quic][Int(input.byte() % 3)]
    var now = Timestamp(nanoseconds: Int64(input.integer(octets: 4)))
    var engine = HeartbeatEngine(configuration: configuration, connectionID: 1, dialect: dialect,
                                 liveness: liveness, now: now)
    // Unilateral model, bit 4 of octet 0: a handshake settled the schedule at the start (AMQP's
    // Connection.Tune) — beats every (1 + bits 5–6) × the configured interval, the peer dead after
    // N of them; the invariants below then hold for the negotiated interval.
    if case .unilateral(let intervals) = liveness, livenessOctet & 0x10 != 0 {
        let interval = configuration.pingInterval * (1 + Int((livenessOctet >> 5) & 3))
        engine.applyNegotiated(NegotiatedHeartbeat(pingInterval: interval, peerSilenceLimit: interval * intervals), now: now)
        configuration.pingInterval = interval
    }
    var checker = Invariants(configuration: configuration, liveness: liveness, start: now)
    var sentPings: [HeartbeatPayload] = []
    var packetNumber: UInt64 = 0
    var steps = 0
    while !input.isAtEnd && steps < 2_000 {
        steps += 1
        let operation = input.byte()
        // A time step: mostly forward by up to ~65 s, sometimes backwards (the engine must clamp).
        let step = Int64(input.integer(octets: 2)) * Int64(1 + Int(operation >> 5)) * 1_000_000
        now = Timestamp(nanoseconds: operation & 0x10 != 0 ? now.nanoseconds - step / 8 : now.nanoseconds &+ step)
        // Whether this step brings something from the peer (for the unilateral silence clock).
        var fromPeer = false
        switch operation % 10 {
        case 0, 1:
            engine.tick(now: now)
        case 2:
            engine.receivedPing(HeartbeatPayload(rawValue: input.integer(octets: 8)), now: now)
            fromPeer = true
        case 3:
            // A pong for one of our pings (maybe a duplicate), or for none.
            let choice = Int(input.byte())
            let payload = sentPings.isEmpty || choice == 255 ? HeartbeatPayload(rawValue: input.integer(octets: 8))
                : sentPings[choice % sentPings.count]
            engine.receivedPong(payload, now: now)
            fromPeer = true
        case 4:
            engine.receivedTraffic(now: now)
            fromPeer = true
        case 5:
            engine.sentTraffic(now: now)
        case 6:
            // Every step gives the engine its `now` (the invariants are about the times it saw).
            if let last = sentPings.last {
                packetNumber += 1 + UInt64(input.byte())
                engine.pingWritten(last, packetNumber: dialect == .quic ? packetNumber : nil, now: now)
            } else {
                engine.tick(now: now)
            }
        case 7:
            let delay: Duration? = input.flag() ? .microseconds(Int64(input.integer(octets: 3))) : nil
            let acknowledged = input.flag() ? packetNumber : input.integer(octets: 2)
            engine.receivedAcknowledgement(packetNumber: acknowledged, ackDelay: delay, now: now)
            fromPeer = true
        case 8:
            if input.flag() {
                engine.inboundFrameProgress(hasPartialFrame: input.flag(), now: now)
            } else {
                // Part of a frame arrived: it counts against the unilateral silence clock.
                engine.receivedOctets(now: now)
                fromPeer = true
            }
        default:
            // Jump straight to the engine's own deadline, the way an event loop would.
            if let deadline = engine.nextDeadline { now = deadline }
            engine.tick(now: now)
        }
        while let action = engine.pollAction() {
            if case .sendPing(let payload) = action {
                sentPings.append(payload)
                if sentPings.count > 64 { sentPings.removeFirst() }
            }
        }
        while engine.pollEvent() != nil {}
        checker.check(engine, now: now, heard: fromPeer && engine.state != .closed)
    }
    return 0
}

/// The liveness model from one octet: 0 echo, 1 in order, 2 unilateral (N = 1 + bits 2–3),
/// 3 acknowledgement.
func livenessModel(_ octet: UInt8) -> LivenessModel {
    switch octet % 4 {
    case 0: return .echo
    case 1: return .inOrder
    case 2: return .unilateral(deadAfterIntervals: 1 + Int((octet >> 2) & 3))
    default: return .acknowledgement
    }
}

/// A valid configuration from 8 octets: policy, intervals, thresholds, policing.
func configuration(_ input: inout FuzzInput) -> HeartbeatConfiguration {
    var configuration = HeartbeatConfiguration()
    configuration.pingInterval = .milliseconds(1 + Int64(input.integer(octets: 2)))
    configuration.ackTimeout = .milliseconds(1 + Int64(input.integer(octets: 2)))
    let flags = input.byte()
    if flags & 1 == 0 {
        configuration.failureDetector = .fixedTimeout
    } else {
        configuration.failureDetector = .phiAccrual(PhiAccrualConfiguration(threshold: 1 + Double(flags >> 4), sampleWindow: 2 + Int(flags >> 5)))
    }
    configuration.trafficCountsAsLiveness = flags & 2 != 0
    configuration.slowFrameTimeout = flags & 4 != 0 ? .milliseconds(1 + Int64(input.byte()) * 100) : nil
    let counts = input.byte()
    configuration.missedPongsBeforeDead = 1 + Int(counts & 3)
    configuration.maxOutstandingPings = 1 + Int((counts >> 2) & 3)
    configuration.circuitBreakerThreshold = 1 + Int((counts >> 4) & 3)
    configuration.circuitBreakerCoolDown = .milliseconds(Int64(input.byte()) * 100)
    let policing = input.byte()
    configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .milliseconds(Int64(policing & 0x0f) * 100),
                                          maxPingStrikes: Int(policing >> 4), maxPendingPongs: 1 + Int(policing & 7))
    configuration.randomSeed = UInt64(flags) << 8 | UInt64(counts)
    return configuration
}

/// The engine's invariants (the same as the property tests in Tests/HeartbeatTests), trapping
/// when one breaks.
struct Invariants {
    let configuration: HeartbeatConfiguration
    let liveness: LivenessModel
    var previous = HeartbeatCounters()
    var latest: Int64
    /// When the engine was created.
    let start: Int64
    /// Unilateral model: when the peer was last heard from, as the engine saw it.
    var lastHeard: Int64

    init(configuration: HeartbeatConfiguration, liveness: LivenessModel, start: Timestamp) {
        self.configuration = configuration
        self.liveness = liveness
        latest = start.nanoseconds
        self.start = start.nanoseconds
        lastHeard = start.nanoseconds
    }

    static func totals(_ c: HeartbeatCounters) -> [Int] {
        [c.pingsSent, c.pingsSkipped, c.pongsReceived, c.pongsAfterTraffic, c.pingsExcusedByTraffic,
         c.pongsMissed, c.pingsAbandoned, c.unknownPongs, c.duplicatePongs, c.latePongs, c.rttSamples,
         c.pingsReceived, c.pongsSent, c.pongsDropped, c.policingStrikes, c.peerDeaths, c.peerRecoveries,
         c.circuitOpenings, c.eventsDropped, c.actionsDropped, c.peerArrivals]
    }

    /// `heard`: this step brought something from the peer and the engine took it.
    mutating func check(_ engine: HeartbeatEngine, now: Timestamp, heard: Bool) {
        latest = max(latest, now.nanoseconds)
        if heard { lastHeard = latest }
        check(engine.liveness == liveness, "the engine's liveness model changed")
        if case .unilateral(let intervals) = liveness {
            checkUnilateral(engine, deadAfterIntervals: intervals)
        } else {
            checkAnswered(engine)
        }
        check(zip(Self.totals(engine.counters), Self.totals(previous)).allSatisfy { $0 >= $1 }, "a counter went down")
        previous = engine.counters
    }

    /// Echo, acknowledgement and in-order: pongs answer pings.
    private func checkAnswered(_ engine: HeartbeatEngine) {
        let counters = engine.counters
        check(counters.peerArrivals == 0, "peer arrivals counted outside the unilateral model")
        if liveness == .inOrder {
            check(counters.duplicatePongs == 0, "a duplicate pong in the in-order model")
            check(counters.latePongs + counters.pongsAfterTraffic <= counters.pongsMissed + counters.pingsExcusedByTraffic,
                  "more debts paid than pings missed or excused")
            check(counters.pongsReceived + counters.latePongs + counters.pongsAfterTraffic <= counters.pingsSent,
                  "more pongs credited than pings sent")
        }
        check(engine.outstandingPings <= configuration.maxOutstandingPings, "outstanding pings \(engine.outstandingPings)")
        check(engine.pendingPongCount <= configuration.pingPolicy.maxPendingPongs, "pending pongs \(engine.pendingPongCount)")
        if let deadline = engine.nextDeadline {
            check(deadline.nanoseconds > latest, "deadline \(deadline) not after \(latest)")
            check(engine.state != .closed, "a closed engine has a deadline")
        } else {
            check(engine.state == .closed, "no deadline in state \(engine.state)")
        }
        switch engine.state {
        case .idle:
            check(engine.outstandingPings == 0 && engine.consecutiveMissedPongs == 0, "idle with pings out or misses")
        case .awaitingPong:
            check(engine.outstandingPings > 0 && engine.isPeerAlive, "awaiting without a ping out")
        case .backingOff:
            check(engine.outstandingPings == 0 && engine.consecutiveMissedPongs > 0, "backing off without a miss")
        case .failed:
            check(!engine.isPeerAlive && engine.consecutiveMissedPongs >= configuration.missedPongsBeforeDead, "failed too early")
            check(counters.peerDeaths == counters.peerRecoveries + 1, "deaths and recoveries disagree")
        case .closed:
            check(engine.outstandingPings == 0 && engine.pendingPongCount == 0, "closed with work left")
        }
        check(counters.pingsSent == counters.pongsReceived + counters.pongsMissed + counters.pingsExcusedByTraffic
              + counters.pingsAbandoned + engine.outstandingPings, "a ping is unaccounted for")
        if engine.state != .closed {
            check(counters.pingsReceived == counters.pongsSent + counters.pongsDropped + engine.pendingPongCount,
                  "a peer ping is unaccounted for")
        }
        check(counters.rttSamples == engine.rtt.sampleCount, "RTT samples disagree")
    }

    /// Unilateral: beats on the schedule, nothing awaited or answered, dead exactly when N
    /// intervals passed without hearing from the peer.
    private func checkUnilateral(_ engine: HeartbeatEngine, deadAfterIntervals: Int) {
        let counters = engine.counters
        let interval = configuration.pingInterval.nanosecondCount
        let silence = interval * Int64(deadAfterIntervals)
        check(engine.outstandingPings == 0 && engine.pendingPongCount == 0, "a unilateral engine awaits or answers")
        check(counters.pongsSent == 0 && counters.pongsDropped == 0, "a unilateral engine answered a ping")
        check(counters.pongsReceived == 0 && counters.pongsMissed == 0 && counters.unknownPongs == 0
              && counters.latePongs == 0 && counters.duplicatePongs == 0 && counters.pongsAfterTraffic == 0
              && counters.pingsExcusedByTraffic == 0 && counters.pingsSkipped == 0 && counters.rttSamples == 0,
              "pong bookkeeping in the unilateral model")
        check(engine.consecutiveMissedPongs == 0 && engine.circuitState == .closed && engine.phiDetector == nil,
              "backoff, breaker or phi in the unilateral model")
        check(Int64(counters.pingsSent) <= (latest - start) / interval, "more beats than whole intervals")
        if let deadline = engine.nextDeadline {
            check(deadline.nanoseconds > latest, "deadline \(deadline) not after \(latest)")
            check(engine.state != .closed, "a closed engine has a deadline")
        } else {
            check(engine.state == .closed, "no deadline in state \(engine.state)")
        }
        switch engine.state {
        case .idle:
            check(latest < lastHeard + silence, "alive after N intervals of silence")
            check(engine.nextDeadline.map { $0.nanoseconds <= lastHeard + silence } == true, "silence deadline missing")
            check(counters.peerDeaths == counters.peerRecoveries, "deaths and recoveries disagree")
        case .failed:
            check(latest >= lastHeard + silence, "declared dead too early")
            check(counters.peerDeaths == counters.peerRecoveries + 1, "deaths and recoveries disagree")
        case .closed:
            break
        case .awaitingPong, .backingOff:
            check(false, "state \(engine.state) in the unilateral model")
        }
    }

    private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        FuzzSupport.check(condition, message())
    }
}
