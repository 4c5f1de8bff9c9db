public import Framing

/// The sans-IO liveness engine of one connection.
///
/// Feed it what happened, with the time it happened — ``tick(now:)``, ``receivedPing(_:now:)``,
/// ``receivedPong(_:now:)``, ``receivedTraffic(now:)``, ``sentTraffic(now:)`` and the rest —
/// then drain ``pollAction()`` (what to do) and ``pollEvent()`` (what to log), and wake it again
/// at ``nextDeadline``. It never reads a clock, sleeps or touches a socket, and once created it
/// allocates nothing: its queues are inline and bounded.
///
/// Every input first runs the timers that fell due up to `now`, so after any call
/// `nextDeadline` is later than the latest `now` seen. Time never runs backwards for the engine:
/// a `now` earlier than one already seen is taken as that one.
///
/// States: `idle` → `awaitingPong` (ping sent) → `idle` (pong in time); a missed pong →
/// `backingOff` → retry → … → `failed` after ``HeartbeatConfiguration/missedPongsBeforeDead``;
/// a pong in `failed` → `idle`; policing or the slow-frame rule → `closed` (terminal).
public struct HeartbeatEngine: Sendable {
    /// The settings the engine was created with.
    public let configuration: HeartbeatConfiguration
    /// An id of the caller's choice, copied into every event.
    public let connectionID: UInt64
    /// The wire format, copied into every event.
    public let dialect: Dialect

    /// Where liveness stands.
    public private(set) var state: HeartbeatState = .idle
    /// Running totals.
    public private(set) var counters = HeartbeatCounters()
    /// RTT statistics of the answered pings.
    public private(set) var rtt = RTTEstimator()
    /// The φ-accrual detector, when that policy is configured.
    public private(set) var phiDetector: PhiAccrualDetector?
    /// Consecutive missed pongs (0 after any success).
    public private(set) var consecutiveMissedPongs = 0
    /// Current policing strikes against the peer.
    public private(set) var policingStrikes = 0

    private var breaker: CircuitBreaker
    private var pings = PingTable()
    private var actions = InlineQueue<HeartbeatAction>()
    private var pendingPongs = InlineQueue<HeartbeatPayload>()
    private var events = InlineQueue<HeartbeatEvent>()
    private var random: SplitMix64

    private let pingIntervalNanoseconds: Int64
    private let ackTimeoutNanoseconds: Int64
    private let slowFrameNanoseconds: Int64
    private let minimumPeerPingNanoseconds: Int64
    private let maxAckDelayNanoseconds: Int64

    private static let never = Int64.max
    /// Pings are due at `scheduleAnchor + k·pingInterval`.
    private var scheduleAnchor: Int64
    private var nextPingAt: Int64
    private var partialFrameSince: Int64 = HeartbeatEngine.never
    private var lastPeerPingAt: Int64?
    private var businessDataSinceLastPeerPing = false
    private var latestNow: Int64
    private var sequence: UInt32 = 0
    private var lastAckTimeout: Int64 = 0

    /// An engine for a connection that starts at `now`; the first ping is due one `pingInterval` later.
    public init(configuration: HeartbeatConfiguration = .init(), connectionID: UInt64 = 0,
                dialect: Dialect, now: Timestamp) {
        configuration.validate()
        self.configuration = configuration
        self.connectionID = connectionID
        self.dialect = dialect
        self.breaker = CircuitBreaker(
            failureThreshold: configuration.circuitBreakerThreshold, coolDown: configuration.circuitBreakerCoolDown)
        self.random = SplitMix64(seed: configuration.randomSeed)
        if case .phiAccrual(let phi) = configuration.failureDetector {
            self.phiDetector = PhiAccrualDetector(configuration: phi)
        }
        pingIntervalNanoseconds = configuration.pingInterval.nanosecondCount
        ackTimeoutNanoseconds = configuration.ackTimeout.nanosecondCount
        slowFrameNanoseconds = configuration.slowFrameTimeout?.nanosecondCount ?? HeartbeatEngine.never
        minimumPeerPingNanoseconds = configuration.pingPolicy.minimumPeerPingInterval.nanosecondCount
        maxAckDelayNanoseconds = configuration.maxAckDelay.nanosecondCount
        scheduleAnchor = now.nanoseconds
        latestNow = now.nanoseconds
        nextPingAt = now.nanoseconds.addingSaturating(pingIntervalNanoseconds)
    }

    // MARK: - Outputs

    /// The next thing the adapter must do, or `nil` when there is nothing left. Call it until it
    /// returns `nil` after every input; at most eight actions and `maxPendingPongs` pongs wait.
    public mutating func pollAction() -> HeartbeatAction? {
        if let action = actions.popFirst() { return action }
        if let payload = pendingPongs.popFirst() {
            counters.pongsSent += 1
            return .sendPong(payload)
        }
        return nil
    }

    /// The next observable event, or `nil`. At most eight wait; older ones are dropped (and counted).
    public mutating func pollEvent() -> HeartbeatEvent? { events.popFirst() }

    /// When the engine next needs ``tick(now:)``, or `nil` when it never will (closed). Always
    /// later than every `now` the engine has seen.
    public var nextDeadline: Timestamp? {
        guard state != .closed else { return nil }
        var deadline = Swift.min(nextPingAt, slowFrameDeadline)
        if let awaited = pings.peekEarliestAwaiting() { deadline = Swift.min(deadline, awaited) }
        return deadline == HeartbeatEngine.never ? nil : Timestamp(nanoseconds: deadline)
    }

    /// Whether the peer is believed alive (not declared dead, and not closed).
    public var isPeerAlive: Bool { state != .failed && state != .closed }
    /// Pings awaiting their pong.
    public var outstandingPings: Int { pings.awaitingCount }
    /// Pongs waiting to be polled.
    public var pendingPongCount: Int { pendingPongs.count }
    /// The circuit breaker's state.
    public var circuitState: CircuitState { breaker.state }
    /// The wait the next ping would get before its pong counts as missed: `ackTimeout` for the
    /// fixed policy, the φ-accrual timeout capped by `ackTimeout` otherwise.
    public var currentAckTimeout: Duration { .nanoseconds(ackTimeoutForNextPing) }

    /// φ-accrual suspicion that the oldest awaited pong is not coming, at `now`; 0 when no pong is
    /// awaited, `nil` under the fixed policy.
    public func suspicion(at now: Timestamp) -> Double? {
        guard let phiDetector else { return nil }
        guard let oldest = pings.oldestAwaitingSentAt() else { return 0 }
        return phiDetector.phi(elapsedNanoseconds: now.nanoseconds - oldest)
    }

    // MARK: - Inputs

    /// Runs every timer due at or before `now`: pings due, pongs missed, the slow-frame rule.
    public mutating func tick(now: Timestamp) {
        advance(to: now)
    }

    /// The peer sent a ping: a pong with the same payload is queued (bounded), and the ping is
    /// policed.
    public mutating func receivedPing(_ payload: HeartbeatPayload, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        counters.pingsReceived += 1
        if minimumPeerPingNanoseconds > 0 {
            if businessDataSinceLastPeerPing {
                policingStrikes = 0
            } else if let last = lastPeerPingAt, now - last < minimumPeerPingNanoseconds {
                policingStrikes += 1
                counters.policingStrikes += 1
                record(.policingStrike(strikes: policingStrikes), at: now)
                if policingStrikes > configuration.pingPolicy.maxPingStrikes {
                    close(.tooManyPings, at: now)
                    return
                }
            } else if policingStrikes > 0 {
                // A well-spaced ping forgives one strike: a sustained rate above the limit
                // still accumulates, an occasional burst does not.
                policingStrikes -= 1
            }
            lastPeerPingAt = now
            businessDataSinceLastPeerPing = false
        }
        if pendingPongs.count >= configuration.pingPolicy.maxPendingPongs, let dropped = pendingPongs.popFirst() {
            counters.pongsDropped += 1
            record(.pongDropped(dropped), at: now)
        }
        pendingPongs.append(payload)
    }

    /// The peer's pong arrived. Matched by payload to one of our pings; a pong for an unknown,
    /// already answered or already missed ping is ignored and counted.
    public mutating func receivedPong(_ payload: HeartbeatPayload, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        guard let index = pings.index(ofPayload: payload.rawValue) else {
            ignorePong(payload, .unknown, at: now)
            return
        }
        acceptPong(at: index, ackDelay: 0, now: now)
    }

    /// The ping with `payload` was actually written at `now` (it may have waited behind business
    /// data); its RTT and deadline are measured from here. For QUIC, `packetNumber` is the number
    /// of the packet that carried the PING frame, to match the acknowledgement. Optional for the
    /// stream dialects.
    public mutating func pingWritten(_ payload: HeartbeatPayload, packetNumber: UInt64? = nil, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed, let index = pings.index(ofPayload: payload.rawValue),
              pings[index].status == .awaiting else { return }
        pings.rebase(at: index, sentAt: now, deadline: now.addingSaturating(ackTimeoutForNextPing),
                     packetNumber: packetNumber ?? PingRecord.noPacketNumber)
    }

    /// QUIC: the packet `packetNumber`, which carried one of our PINGs, was acknowledged — the
    /// QUIC "pong". Pass the ACK frame's ACK Delay when `packetNumber` is its Largest Acknowledged:
    /// it is capped at `maxAckDelay` and subtracted from the sample as RFC 9002 §5.3 says. Pass
    /// `nil` otherwise: the acknowledgement then proves the peer alive but gives no RTT sample
    /// (RFC 9002 §5.1 samples only the largest acknowledged).
    public mutating func receivedAcknowledgement(packetNumber: UInt64, ackDelay: Duration?, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        guard let index = pings.index(ofPacketNumber: packetNumber) else {
            ignorePong(HeartbeatPayload(rawValue: packetNumber), .unknown, at: now)
            return
        }
        let delay = ackDelay.map { Swift.min(Swift.max(0, $0.nanosecondCount), maxAckDelayNanoseconds) }
        acceptPong(at: index, ackDelay: delay, now: now)
    }

    /// Business data arrived from the peer. It resets the policing strikes, and when
    /// `trafficCountsAsLiveness` it proves the peer alive: awaited pings are excused and the next
    /// ping is due one `pingInterval` from now.
    public mutating func receivedTraffic(now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        noteBusinessData()
        guard configuration.trafficCountsAsLiveness else { return }
        counters.pingsExcusedByTraffic += pings.settleAllAwaiting(as: .excused)
        scheduleAnchor = now
        succeed(at: now)
    }

    /// We sent business data to the peer: resets the policing strikes (as gRPC does on sending
    /// DATA or HEADERS).
    public mutating func sentTraffic(now: Timestamp) {
        advance(to: now)
        guard state != .closed else { return }
        noteBusinessData()
    }

    /// The demuxer does (`true`) or does not (`false`) hold an incomplete inbound frame. The
    /// slow-frame clock starts when one first appears and stops when none remains; if it runs
    /// for `slowFrameTimeout`, the engine closes with ``CloseReason/slowFrame``.
    public mutating func inboundFrameProgress(hasPartialFrame: Bool, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if !hasPartialFrame {
            partialFrameSince = HeartbeatEngine.never
        } else if partialFrameSince == HeartbeatEngine.never {
            partialFrameSince = now
        }
    }

    // MARK: - Timers

    private var slowFrameDeadline: Int64 {
        partialFrameSince == HeartbeatEngine.never ? HeartbeatEngine.never
            : partialFrameSince.addingSaturating(slowFrameNanoseconds)
    }

    private var ackTimeoutForNextPing: Int64 {
        guard let phiDetector else { return ackTimeoutNanoseconds }
        return Swift.min(ackTimeoutNanoseconds, phiDetector.timeoutInNanoseconds)
    }

    /// Runs everything due up to `now` in deadline order; returns the engine's `now`.
    @discardableResult
    private mutating func advance(to now: Timestamp) -> Int64 {
        let now = Swift.max(now.nanoseconds, latestNow)
        latestNow = now
        while state != .closed {
            let slowFrame = slowFrameDeadline
            let awaited = pings.earliestAwaiting()
            let ackDeadline = awaited?.deadline ?? HeartbeatEngine.never
            let due = Swift.min(slowFrame, ackDeadline, nextPingAt)
            guard due <= now else { break }
            if due == slowFrame {
                close(.slowFrame, at: now)
            } else if due == ackDeadline, let awaited {
                missPong(at: awaited.index, now: now)
            } else {
                pingDue(now: now)
            }
        }
        return now
    }

    /// The first regular ping time after `now`: `scheduleAnchor + k·pingInterval`.
    private func nextScheduledPing(after now: Int64) -> Int64 {
        guard now >= scheduleAnchor else { return scheduleAnchor }
        let periods = (now - scheduleAnchor) / pingIntervalNanoseconds + 1
        let (offset, overflow) = periods.multipliedReportingOverflow(by: pingIntervalNanoseconds)
        return overflow ? HeartbeatEngine.never : scheduleAnchor.addingSaturating(offset)
    }

    private mutating func pingDue(now: Int64) {
        let retrying = consecutiveMissedPongs > 0
        let circuitBefore = breaker.state
        let allowed = breaker.allowsProbe(at: Timestamp(nanoseconds: now))
        noteCircuitChange(from: circuitBefore, at: now)
        guard allowed else {
            if case .open(let until) = breaker.state { nextPingAt = until.nanoseconds } else { nextPingAt = HeartbeatEngine.never }
            return
        }
        if pings.awaitingCount >= configuration.maxOutstandingPings {
            counters.pingsSkipped += 1
            record(.pingSkipped, at: now)
        } else {
            sendPing(now: now)
            breaker.takeProbe()
        }
        // A retry waits for its own outcome; a regular ping keeps the schedule.
        nextPingAt = retrying || breaker.state != .closed ? HeartbeatEngine.never : nextScheduledPing(after: now)
    }

    private mutating func sendPing(now: Int64) {
        sequence &+= 1
        let payload = HeartbeatPayload(
            sequence: sequence, timestampMilliseconds: UInt32(truncatingIfNeeded: now / 1_000_000))
        let timeout = ackTimeoutForNextPing
        lastAckTimeout = timeout
        let deadline = now.addingSaturating(timeout)
        pings.insert(payload: payload.rawValue, sentAt: now, deadline: deadline)
        counters.pingsSent += 1
        enqueue(.sendPing(payload))
        record(.pingSent(payload, deadline: Timestamp(nanoseconds: deadline)), at: now)
        if state == .idle || state == .backingOff { setState(.awaitingPong, at: now) }
    }

    private mutating func missPong(at index: Int, now: Int64) {
        let payload = HeartbeatPayload(rawValue: pings[index].payload)
        pings.setStatus(.expired, at: index)
        counters.pongsMissed += 1
        consecutiveMissedPongs += 1
        record(.pongMissed(payload, consecutive: consecutiveMissedPongs), at: now)
        let circuitBefore = breaker.state
        breaker.recordFailure(at: Timestamp(nanoseconds: now))
        noteCircuitChange(from: circuitBefore, at: now)

        if state != .failed && consecutiveMissedPongs >= configuration.missedPongsBeforeDead {
            let reason: PeerDeathReason = phiDetector == nil
                ? .ackTimeout(missedPongs: consecutiveMissedPongs)
                : .suspicion(missedPongs: consecutiveMissedPongs, timeout: .nanoseconds(lastAckTimeout))
            counters.peerDeaths += 1
            enqueue(.peerDead(reason))
            record(.peerDead(reason), at: now)
            setState(.failed, at: now)
        } else if state != .failed && pings.awaitingCount == 0 {
            setState(.backingOff, at: now)
        }
        switch breaker.state {
        case .open(let until):
            nextPingAt = until.nanoseconds
        case .closed, .halfOpen:
            let delay = configuration.backoff.delayNanoseconds(afterFailures: consecutiveMissedPongs, using: &random)
            nextPingAt = now.addingSaturating(Swift.max(1, delay))
        }
    }

    // MARK: - Pongs and liveness

    private mutating func acceptPong(at index: Int, ackDelay: Int64?, now: Int64) {
        let record = pings[index]
        let payload = HeartbeatPayload(rawValue: record.payload)
        switch record.status {
        case .awaiting:
            pings.setStatus(.answered, at: index)
            counters.pongsReceived += 1
            if let ackDelay { sample(roundTrip: now - record.sentAt, ackDelay: ackDelay, now: now) }
            succeed(at: now)
        case .excused:
            pings.setStatus(.answered, at: index)
            counters.pongsAfterTraffic += 1
            if let ackDelay { sample(roundTrip: now - record.sentAt, ackDelay: ackDelay, now: now) }
        case .answered:
            ignorePong(payload, .duplicate, at: now)
        case .expired:
            ignorePong(payload, .late, at: now)
        case .free:
            ignorePong(payload, .unknown, at: now)
        }
    }

    private mutating func ignorePong(_ payload: HeartbeatPayload, _ kind: IgnoredPongKind, at now: Int64) {
        switch kind {
        case .unknown: counters.unknownPongs += 1
        case .duplicate: counters.duplicatePongs += 1
        case .late: counters.latePongs += 1
        }
        record(.pongIgnored(payload, kind), at: now)
    }

    private mutating func sample(roundTrip: Int64, ackDelay: Int64, now: Int64) {
        let adjusted = rtt.addSample(roundTrip, ackDelay: ackDelay)
        phiDetector?.addSample(adjusted)
        counters.rttSamples += 1
        record(.rttSample(RTTSnapshot(
            latest: rtt.latest, smoothed: rtt.smoothed, variation: rtt.variation,
            minimum: rtt.minimum, percentile75: rtt.percentile75)), at: now)
    }

    /// The peer proved alive: failures reset, the circuit closes, the regular schedule resumes.
    private mutating func succeed(at now: Int64) {
        consecutiveMissedPongs = 0
        let circuitBefore = breaker.state
        breaker.recordSuccess()
        noteCircuitChange(from: circuitBefore, at: now)
        if state == .failed {
            counters.peerRecoveries += 1
            enqueue(.peerRecovered)
            record(.peerRecovered, at: now)
        }
        setState(pings.awaitingCount == 0 ? .idle : .awaitingPong, at: now)
        nextPingAt = nextScheduledPing(after: now)
    }

    private mutating func noteBusinessData() {
        policingStrikes = 0
        businessDataSinceLastPeerPing = true
    }

    private mutating func close(_ reason: CloseReason, at now: Int64) {
        counters.pingsAbandoned += pings.settleAllAwaiting(as: .expired)
        pendingPongs.removeAll()
        nextPingAt = HeartbeatEngine.never
        partialFrameSince = HeartbeatEngine.never
        enqueue(.close(reason))
        record(.closing(reason), at: now)
        setState(.closed, at: now)
    }

    // MARK: - Output plumbing

    private mutating func setState(_ newState: HeartbeatState, at now: Int64) {
        guard newState != state else { return }
        record(.stateChanged(from: state, to: newState), at: now)
        state = newState
    }

    private mutating func noteCircuitChange(from before: CircuitState, at now: Int64) {
        let after = breaker.state
        guard after != before else { return }
        if case .open = after { counters.circuitOpenings += 1 }
        record(.circuitChanged(from: before, to: after), at: now)
    }

    private mutating func enqueue(_ action: HeartbeatAction) {
        if actions.isFull {
            _ = actions.popFirst()
            counters.actionsDropped += 1
        }
        actions.append(action)
    }

    private mutating func record(_ kind: HeartbeatEvent.Kind, at now: Int64) {
        if events.isFull {
            _ = events.popFirst()
            counters.eventsDropped += 1
        }
        events.append(HeartbeatEvent(
            connectionID: connectionID, dialect: dialect, time: Timestamp(nanoseconds: now), kind: kind))
    }
}
