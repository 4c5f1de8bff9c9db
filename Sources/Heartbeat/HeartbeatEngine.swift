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
///
/// ## Liveness models
///
/// The engine is created with the dialect's `LivenessModel` (``liveness``):
/// - `LivenessModel/echo`: a pong is matched to its ping by the echoed payload.
/// - `LivenessModel/acknowledgement`: as `echo`, and ``receivedAcknowledgement(packetNumber:ackDelay:now:)``
///   matches QUIC acknowledgements by the packet number given to ``pingWritten(_:packetNumber:now:)``.
///   (The two models behave the same; either accepts pongs and acknowledgements.)
/// - `LivenessModel/inOrder`: the payload of a pong is ignored. The peer answers every ping in
///   order, so the k-th pong answers the k-th ping we sent. A ping judged missed (or excused by
///   traffic) is still owed its pong: the next pong pays that debt first and is counted late
///   (or, for an excused ping, gives an RTT sample) — it is *not* credited to a newer awaited
///   ping. Crediting it to the newer ping would take the late pong of ping k for the answer to
///   ping k+1, give an RTT sample that is too short (and teach φ-accrual a too-short timeout),
///   and shift every later pong by one ping for the rest of the connection. Only a pong with no
///   ping owed at all is unknown. The cost of this choice: a peer that silently skipped a ping
///   would have every later pong counted one ping behind; MQTT (PINGREQ "MUST" be answered) and
///   RESP (every command is answered, in order) do not skip. Missed pongs are judged oldest
///   first: the oldest awaited ping is missed at its deadline, the next one only after it.
/// - `LivenessModel/unilateral(deadAfterIntervals:)`: a beat (`.sendPing`) goes out every
///   `pingInterval` on the schedule whatever happens; nothing is awaited. Everything heard from
///   the peer — pings, pongs, acknowledgements and business data, whatever
///   `trafficCountsAsLiveness` says — restarts the silence clock; after N intervals of silence
///   the peer is declared dead (``PeerDeathReason/silence(intervals:elapsed:)``, state
///   `failed`) and anything heard brings it back (`peerRecovered`, state `idle`). Peer pings are
///   not answered. Inbound traffic does not move our beats.
///
/// Which features apply to which model:
/// - Pong matching, RTT samples, `maxOutstandingPings`, ack timeout, missed pongs: echo,
///   acknowledgement, in-order. Not unilateral (nothing answers, so there is no round trip).
/// - φ-accrual: echo, acknowledgement, in-order (learned from ping→pong times). Not unilateral:
///   the detector is not created (``phiDetector`` is `nil`) and the fixed N-intervals rule
///   decides. The inter-arrival times of the peer's beats were considered as φ's history and
///   rejected: the φ settings are tuned for round trips (first estimate, minimum deviation,
///   acceptable pause of a few hundred ms), so a steady peer would be declared dead after a
///   single beat came a second late — far earlier than the N intervals the dialect negotiated
///   and the peer relies on (AMQP 0-9-1 §4.2.7) — and business data, which also counts as
///   heard, has no inter-arrival law at all.
/// - Backoff with jitter and the circuit breaker: echo, acknowledgement, in-order (they time
///   retries after missed pongs). Not unilateral: beats keep the regular schedule.
/// - Policing of the peer's pings and the pending-pong bound: all four models (unilateral
///   polices but queues no pong).
/// - The slow-frame rule, events, counters, the no-drift schedule and zero allocations: all
///   four models.
/// - Local health (``HeartbeatConfiguration/localHealth``, off by default): all four models —
///   lateness is measured against ``nextDeadline``, and verdicts found due in a late input (a
///   missed pong, the silence rule, a slow frame) are held briefly; the allowance applies to
///   pong deadlines and to the silence deadline; round trips spanning our lag are not sampled.
///   See ``LocalHealthPolicy``.
public struct HeartbeatEngine: Sendable {
    /// The settings the engine was created with.
    public let configuration: HeartbeatConfiguration
    /// An id of the caller's choice, copied into every event.
    public let connectionID: UInt64
    /// The wire format, copied into every event.
    public let dialect: Dialect
    /// How pongs (or their absence) prove the peer alive; see the type's documentation.
    public let liveness: LivenessModel

    /// Where liveness stands.
    public private(set) var state: HeartbeatState = .idle
    /// Running totals.
    public private(set) var counters = HeartbeatCounters()
    /// RTT statistics of the answered pings.
    public private(set) var rtt = RTTEstimator()
    /// The φ-accrual detector, when that policy is configured (never in the unilateral model).
    public private(set) var phiDetector: PhiAccrualDetector?
    /// Consecutive missed pongs (0 after any success; always 0 in the unilateral model).
    public private(set) var consecutiveMissedPongs = 0
    /// Current policing strikes against the peer.
    public private(set) var policingStrikes = 0
    /// Our own loop's recent lateness, when ``HeartbeatConfiguration/localHealth`` is set.
    public private(set) var localHealth: LocalHealth?

    private var breaker: CircuitBreaker
    private var pings = PingTable()
    private var actions = InlineQueue<HeartbeatAction>()
    private var pendingPongs = InlineQueue<HeartbeatPayload>()
    private var events = InlineQueue<HeartbeatEvent>()
    private var random: SplitMix64

    private var pingIntervalNanoseconds: Int64
    /// False once a negotiated schedule says this side sends no pings or beats (an MQTT server).
    private var pingsEnabled = true
    private let ackTimeoutNanoseconds: Int64
    private let slowFrameNanoseconds: Int64
    private let minimumPeerPingNanoseconds: Int64
    private let maxAckDelayNanoseconds: Int64
    /// In-order model: pongs are matched by arrival order, not by payload.
    private let isInOrder: Bool
    /// Unilateral model: beats go out regardless, nothing is awaited.
    private let isUnilateral: Bool
    /// Unilateral model: N, the intervals of silence that declare the peer dead.
    private let deadAfterIntervals: Int
    /// Whether a silence rule is in force: always in the unilateral model, and in any model once a
    /// negotiated schedule sets a `peerSilenceLimit`.
    private var silenceRuleActive: Bool
    /// How long the peer may stay silent: N × pingInterval (saturating) in the unilateral model,
    /// or the negotiated limit; `never` when no silence rule is in force.
    private var silenceNanoseconds: Int64

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
    /// Unilateral model: when the peer was last heard from (the engine's creation at first).
    private var lastHeardAt: Int64
    /// In-order model: the ordinal of the latest ping a pong has answered (or paid late).
    private var answeredThrough: UInt64 = 0

    // Local health (see `LocalHealthPolicy`).
    /// The most allowance one pong deadline gets.
    private let maxAllowanceNanoseconds: Int64
    private let verdictHoldNanoseconds: Int64
    /// A verdict deadline `d` with `heldAfter < d < holdUntil` is judged at `holdUntil` instead:
    /// the window starts where the previous hold ended, so each deadline is held at most once.
    private var heldAfter = Int64.min
    private var holdUntil = Int64.min
    /// When our loop was last found lagging: a round trip begun before it spans the lag.
    private var lagEndedAt = Int64.min
    /// The allowance the silence deadline got when the silence clock last restarted.
    private var silenceAllowance: Int64 = 0

    /// An engine for a connection that starts at `now`; the first ping is due one `pingInterval`
    /// later. `liveness` is the dialect's model (`LivenessModel/unilateral(deadAfterIntervals:)`
    /// needs N ≥ 1); in the unilateral model the silence clock also starts at `now`.
    public init(configuration: HeartbeatConfiguration = .init(), connectionID: UInt64 = 0,
                dialect: Dialect, liveness: LivenessModel = .echo, now: Timestamp) {
        configuration.validate()
        self.configuration = configuration
        self.connectionID = connectionID
        self.dialect = dialect
        self.liveness = liveness
        self.breaker = CircuitBreaker(
            failureThreshold: configuration.circuitBreakerThreshold, coolDown: configuration.circuitBreakerCoolDown)
        self.random = SplitMix64(seed: configuration.randomSeed)
        pingIntervalNanoseconds = configuration.pingInterval.nanosecondCount
        switch liveness {
        case .echo, .acknowledgement:
            isInOrder = false
            isUnilateral = false
            deadAfterIntervals = 0
            silenceNanoseconds = HeartbeatEngine.never
        case .inOrder:
            isInOrder = true
            isUnilateral = false
            deadAfterIntervals = 0
            silenceNanoseconds = HeartbeatEngine.never
        case .unilateral(let intervals):
            precondition(intervals >= 1, "unilateral deadAfterIntervals must be >= 1")
            isInOrder = false
            isUnilateral = true
            deadAfterIntervals = intervals
            let (silence, overflow) = pingIntervalNanoseconds.multipliedReportingOverflow(by: Int64(intervals))
            silenceNanoseconds = overflow ? HeartbeatEngine.never : silence
        }
        silenceRuleActive = isUnilateral
        if !isUnilateral, case .phiAccrual(let phi) = configuration.failureDetector {
            self.phiDetector = PhiAccrualDetector(configuration: phi)
        }
        ackTimeoutNanoseconds = configuration.ackTimeout.nanosecondCount
        slowFrameNanoseconds = configuration.slowFrameTimeout?.nanosecondCount ?? HeartbeatEngine.never
        minimumPeerPingNanoseconds = configuration.pingPolicy.minimumPeerPingInterval.nanosecondCount
        maxAckDelayNanoseconds = configuration.maxAckDelay.nanosecondCount
        if let policy = configuration.localHealth {
            localHealth = LocalHealth(policy: policy)
            let share = configuration.pingInterval.nanosecondCount / Int64(2 * configuration.missedPongsBeforeDead)
            maxAllowanceNanoseconds = policy.maxAllowance?.nanosecondCount
                ?? Swift.min(configuration.ackTimeout.nanosecondCount, share)
            verdictHoldNanoseconds = policy.verdictHold.nanosecondCount
        } else {
            maxAllowanceNanoseconds = 0
            verdictHoldNanoseconds = 0
        }
        scheduleAnchor = now.nanoseconds
        latestNow = now.nanoseconds
        lastHeardAt = now.nanoseconds
        nextPingAt = now.nanoseconds.addingSaturating(pingIntervalNanoseconds)
    }

    // MARK: - Outputs

    /// The next thing the adapter must do, or `nil` when there is nothing left. Call it until it
    /// returns `nil` after every input; at most eight actions and `maxPendingPongs` pongs wait
    /// (no pong ever, in the unilateral model).
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
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    public var nextDeadline: Timestamp? {
        guard let deadline = nextDeadlineNanoseconds else { return nil }
        return Timestamp(nanoseconds: deadline)
    }

    /// Whether the peer is believed alive (not declared dead, and not closed).
    public var isPeerAlive: Bool { state != .failed && state != .closed }
    /// Pings awaiting their pong (always 0 in the unilateral model).
    public var outstandingPings: Int { pings.awaitingCount }
    /// Pongs waiting to be polled.
    public var pendingPongCount: Int { pendingPongs.count }
    /// The circuit breaker's state.
    public var circuitState: CircuitState { breaker.state }
    /// The wait the next ping would get before its pong counts as missed: `ackTimeout` for the
    /// fixed policy, the φ-accrual timeout capped by `ackTimeout` otherwise. Meaningless in the
    /// unilateral model, where no pong is awaited.
    public var currentAckTimeout: Duration { .nanoseconds(ackTimeoutForNextPing) }

    /// The pong-deadline allowance local health gives at `now` (zero while our loop keeps time,
    /// and when local health is off).
    public func localHealthAllowance(at now: Timestamp) -> Duration {
        .nanoseconds(allowance(at: now.nanoseconds))
    }

    /// φ-accrual suspicion that the oldest awaited pong is not coming, at `now`; 0 when no pong is
    /// awaited, `nil` under the fixed policy and in the unilateral model.
    public func suspicion(at now: Timestamp) -> Double? {
        guard let phiDetector else { return nil }
        guard let oldest = pings.oldestAwaitingSentAt() else { return 0 }
        return phiDetector.phi(elapsedNanoseconds: now.nanoseconds - oldest)
    }

    // MARK: - Inputs

    /// Runs every timer due at or before `now`: pings (or beats) due, pongs missed, the silence
    /// rule of the unilateral model, the slow-frame rule.
    public mutating func tick(now: Timestamp) {
        advance(to: now)
    }

    /// The adapter's loop was `lag` late at `now` — measured across its connections, e.g. how
    /// late its timer wait returned — which this engine's own deadlines may not have shown.
    /// Beyond ``LocalHealthPolicy/tolerance`` it counts as a lag sample: the local-health score
    /// learns it, round trips begun before `now` are not sampled, and verdicts due within
    /// ``LocalHealthPolicy/verdictHold`` wait for it. Runs the timers due first. Ignored when
    /// local health is off.
    public mutating func observedLocalLag(_ lag: Duration, now: Timestamp) {
        let now = advance(to: now)
        guard localHealth != nil else { return }
        noteLocalLag(Swift.max(0, lag.nanosecondCount), at: now)
    }

    /// The peer sent a ping: a pong with the same payload is queued (bounded), and the ping is
    /// policed. Unilateral model: the ping is policed and restarts the silence clock, and no pong
    /// is queued (nothing answers a beat).
    public mutating func receivedPing(_ payload: HeartbeatPayload, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if silenceRuleActive && !isUnilateral { restartSilenceClock(at: now) }
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
        if isUnilateral {
            heardFromPeer(at: now)
            return
        }
        if pendingPongs.count >= configuration.pingPolicy.maxPendingPongs, let dropped = pendingPongs.popFirst() {
            counters.pongsDropped += 1
            record(.pongDropped(dropped), at: now)
        }
        pendingPongs.append(payload)
    }

    /// The peer's pong arrived. Matched by payload to one of our pings; a pong for an unknown,
    /// already answered or already missed ping is ignored and counted. In-order model: the
    /// payload is ignored and the pong answers the oldest ping still owed one (see the type's
    /// documentation); with none owed it is unknown. Unilateral model: it only restarts the
    /// silence clock.
    public mutating func receivedPong(_ payload: HeartbeatPayload, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if silenceRuleActive && !isUnilateral { restartSilenceClock(at: now) }
        if isUnilateral {
            heardFromPeer(at: now)
            return
        }
        if isInOrder {
            answerInOrder(payload, now: now)
            return
        }
        // Our pings carry exactly 8 octets: a pong of another length that begins like one of
        // them is not its echo.
        guard payload.byteCount == HeartbeatPayload.byteCount, let index = pings.index(ofPayload: payload.rawValue) else {
            ignorePong(payload, .unknown, at: now)
            return
        }
        acceptPong(at: index, ackDelay: 0, now: now)
    }

    /// The ping with `payload` was actually written at `now` (it may have waited behind business
    /// data); its RTT and deadline are measured from here. For QUIC, `packetNumber` is the number
    /// of the packet that carried the PING frame, to match the acknowledgement. Optional for the
    /// stream dialects. Does nothing in the unilateral model (a beat awaits nothing).
    public mutating func pingWritten(_ payload: HeartbeatPayload, packetNumber: UInt64? = nil, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed, !isUnilateral, let index = pings.index(ofPayload: payload.rawValue),
              pings[index].status == .awaiting else { return }
        pings.rebase(at: index, sentAt: now,
                     deadline: now.addingSaturating(ackTimeoutForNextPing).addingSaturating(allowance(at: now)),
                     packetNumber: packetNumber ?? PingRecord.noPacketNumber)
    }

    /// QUIC: the packet `packetNumber`, which carried one of our PINGs, was acknowledged — the
    /// QUIC "pong". Pass the ACK frame's ACK Delay when `packetNumber` is its Largest Acknowledged:
    /// it is capped at `maxAckDelay` and subtracted from the sample as RFC 9002 §5.3 says. Pass
    /// `nil` otherwise: the acknowledgement then proves the peer alive but gives no RTT sample
    /// (RFC 9002 §5.1 samples only the largest acknowledged).
    ///
    /// In the in-order and unilateral models an acknowledgement is taken as a pong of that model
    /// (the packet number plays no part): in order, it answers the oldest ping owed a pong;
    /// unilateral, it restarts the silence clock.
    public mutating func receivedAcknowledgement(packetNumber: UInt64, ackDelay: Duration?, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if isUnilateral {
            heardFromPeer(at: now)
            return
        }
        if isInOrder {
            answerInOrder(HeartbeatPayload(rawValue: packetNumber), now: now)
            return
        }
        guard let index = pings.index(ofPacketNumber: packetNumber) else {
            ignorePong(HeartbeatPayload(rawValue: packetNumber), .unknown, at: now)
            return
        }
        let delay = ackDelay.map { Swift.min(Swift.max(0, $0.nanosecondCount), maxAckDelayNanoseconds) }
        acceptPong(at: index, ackDelay: delay, now: now)
    }

    /// Business data arrived from the peer. It resets the policing strikes, and when
    /// `trafficCountsAsLiveness` it proves the peer alive: awaited pings are excused and the next
    /// ping is due one `pingInterval` from now. Unilateral model: it always restarts the silence
    /// clock (whatever `trafficCountsAsLiveness` says) and never moves our beats.
    public mutating func receivedTraffic(now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if silenceRuleActive && !isUnilateral { restartSilenceClock(at: now) }
        noteBusinessData()
        if isUnilateral {
            heardFromPeer(at: now)
            return
        }
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

    /// Octets arrived from the peer — any, even part of a frame. While a silence rule is in force
    /// (the unilateral model, or a negotiated `peerSilenceLimit`) they restart the silence clock, as
    /// AMQP 0-9-1 §4.2.7 asks ("any octet"), and a peer declared dead by silence recovers. Nothing
    /// else changes: frames are still reported one by one.
    public mutating func receivedOctets(now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed, silenceRuleActive else { return }
        heardFromPeer(at: now, countsAsArrival: false)
    }

    /// Applies the schedule the dialect's opening handshake settled (MQTT's Keep Alive, AMQP's
    /// Connection.Tune), replacing the configuration's `pingInterval` and silence rule:
    /// - `pingInterval` nil: this side sends no further pings or beats (pings already awaiting
    ///   their pong are still judged); otherwise the next one is due `pingInterval` after `now`,
    ///   and the schedule keeps that period.
    /// - `peerSilenceLimit`: in any liveness model the silence clock restarts at `now`, and the
    ///   peer is declared dead (``PeerDeathReason/silence(intervals:elapsed:)``) after that long
    ///   without any inbound octet; nil: no silence rule (in the unilateral model too).
    /// Applying the same schedule again restarts both clocks; `HeartbeatSession` applies a schedule
    /// only when it changes.
    public mutating func applyNegotiated(_ schedule: NegotiatedHeartbeat, now: Timestamp) {
        let now = advance(to: now)
        guard state != .closed else { return }
        if let interval = schedule.pingInterval {
            precondition(interval > .zero, "a negotiated pingInterval must be positive")
            pingsEnabled = true
            pingIntervalNanoseconds = interval.nanosecondCount
            scheduleAnchor = now
            nextPingAt = now.addingSaturating(pingIntervalNanoseconds)
        } else {
            pingsEnabled = false
            nextPingAt = HeartbeatEngine.never
        }
        if let limit = schedule.peerSilenceLimit {
            precondition(limit > .zero, "a negotiated peerSilenceLimit must be positive")
            silenceRuleActive = true
            silenceNanoseconds = limit.nanosecondCount
            restartSilenceClock(at: now)
        } else {
            silenceRuleActive = false
            silenceNanoseconds = HeartbeatEngine.never
        }
    }

    // MARK: - Timers

    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private var slowFrameDeadline: Int64 {
        partialFrameSince == HeartbeatEngine.never ? HeartbeatEngine.never
            : partialFrameSince.addingSaturating(slowFrameNanoseconds)
    }

    /// Unilateral model: when the peer is declared dead unless heard from; `never` while it is
    /// dead already, and in the other models.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private var silenceDeadline: Int64 {
        guard silenceRuleActive, state != .failed else { return HeartbeatEngine.never }
        return lastHeardAt.addingSaturating(silenceNanoseconds).addingSaturating(silenceAllowance)
    }

    /// The awaited ping whose deadline comes next: the earliest deadline, or in the in-order
    /// model the oldest awaited ping (it must be answered or missed before any later one).
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private func nextAwaitedDeadline() -> (index: Int, deadline: Int64)? {
        isInOrder ? pings.oldestAwaiting() : pings.earliestAwaiting()
    }

    private var ackTimeoutForNextPing: Int64 {
        guard let phiDetector else { return ackTimeoutNanoseconds }
        return Swift.min(ackTimeoutNanoseconds, phiDetector.timeoutInNanoseconds)
    }

    /// The earliest deadline, verdict holds applied; `nil` when closed or when none is set.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private var nextDeadlineNanoseconds: Int64? {
        guard state != .closed else { return nil }
        var deadline = Swift.min(Swift.min(nextPingAt, held(slowFrameDeadline)), held(silenceDeadline))
        if let awaited = nextAwaitedDeadline() { deadline = Swift.min(deadline, held(awaited.deadline)) }
        return deadline == HeartbeatEngine.never ? nil : deadline
    }

    /// A verdict deadline after the hold of a lag episode: one inside the hold window waits for
    /// its end. Non-decreasing in `deadline`, so the earliest deadline stays the earliest.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private func held(_ deadline: Int64) -> Int64 {
        deadline > heldAfter && deadline < holdUntil ? holdUntil : deadline
    }

    /// The allowance a pong deadline set at `now` gets.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private func allowance(at now: Int64) -> Int64 {
        localHealth?.allowanceNanoseconds(at: now, cap: maxAllowanceNanoseconds) ?? 0
    }

    private mutating func restartSilenceClock(at now: Int64) {
        lastHeardAt = now
        silenceAllowance = allowance(at: now)
    }

    /// Every input starts here: measures how late the input is against the deadline the engine
    /// had asked for (a late input is our loop's lag), then runs everything due up to `now`.
    /// Returns the engine's `now`.
    @discardableResult
    private mutating func advance(to now: Timestamp) -> Int64 {
        let now = Swift.max(now.nanoseconds, latestNow)
        if localHealth != nil, let asked = nextDeadlineNanoseconds, now > asked {
            noteLocalLag(now - asked, at: now)
        }
        runDue(upTo: now)
        return now
    }

    /// Our loop was `lag` late at `now`. Beyond the tolerance: the score learns it, round trips
    /// begun before now are not sampled, and verdicts due now (or within the hold) wait for the
    /// hold, each deadline at most once.
    private mutating func noteLocalLag(_ lag: Int64, at now: Int64) {
        guard state != .closed, localHealth?.record(lagNanoseconds: lag, at: now) == true else { return }
        counters.localLags += 1
        let firstThisInstant = lagEndedAt != now
        lagEndedAt = now
        record(.localLag(lateness: .nanoseconds(lag), allowance: .nanoseconds(allowance(at: now))), at: now)
        // While a hold is in force, every overdue deadline is either held by it or has had its
        // hold already: the window stays as it is (extending it could postpone a verdict for
        // as long as lags keep being reported).
        guard firstThisInstant, holdUntil <= now else { return }
        // The new hold window starts where the previous one ended: a deadline held then is
        // judged now.
        heldAfter = Swift.max(heldAfter, holdUntil)
        holdUntil = now.addingSaturating(Swift.max(1, verdictHoldNanoseconds))
        let deferred = isDeferred(slowFrameDeadline, now: now) || isDeferred(silenceDeadline, now: now)
            || isDeferred(nextAwaitedDeadline()?.deadline ?? HeartbeatEngine.never, now: now)
        if deferred {
            counters.verdictsDeferred += 1
            record(.verdictsDeferred(until: Timestamp(nanoseconds: holdUntil)), at: now)
        }
    }

    /// Whether a verdict `deadline` was due at `now` and is held instead.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
    private func isDeferred(_ deadline: Int64, now: Int64) -> Bool {
        deadline <= now && held(deadline) > now
    }

    /// Runs everything due up to `now` in deadline order.
    private mutating func runDue(upTo now: Int64) {
        latestNow = Swift.max(latestNow, now)
        let now = latestNow
        while state != .closed {
            let slowFrame = held(slowFrameDeadline)
            let awaited = nextAwaitedDeadline()
            let ackDeadline = awaited.map { held($0.deadline) } ?? HeartbeatEngine.never
            let silence = held(silenceDeadline)
            // Two-argument mins: the variadic `min(_:_:_:_:)` would allocate its array.
            let due = Swift.min(Swift.min(slowFrame, ackDeadline), Swift.min(silence, nextPingAt))
            guard due <= now else { break }
            if due == slowFrame {
                close(.slowFrame, at: now)
            } else if due == ackDeadline, let awaited {
                missPong(at: awaited.index, now: now)
            } else if due == silence {
                declareSilent(now: now)
            } else if !pingsEnabled {
                nextPingAt = HeartbeatEngine.never
            } else if isUnilateral {
                beatDue(now: now)
            } else {
                pingDue(now: now)
            }
        }
    }

    /// The first regular ping time after `now`: `scheduleAnchor + k·pingInterval`.
    @inline(__always)  // on `self` in place: a call would copy the engine (3.5 KB) per input
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
        let deadline = now.addingSaturating(timeout).addingSaturating(allowance(at: now))
        pings.insert(payload: payload.rawValue, sentAt: now, deadline: deadline)
        counters.pingsSent += 1
        enqueue(.sendPing(payload))
        record(.pingSent(payload, deadline: Timestamp(nanoseconds: deadline)), at: now)
        if state == .idle || state == .backingOff { setState(.awaitingPong, at: now) }
    }

    /// Unilateral model: a beat is due. It goes out whatever the peer does; the next one keeps
    /// the no-drift schedule.
    private mutating func beatDue(now: Int64) {
        sequence &+= 1
        let payload = HeartbeatPayload(
            sequence: sequence, timestampMilliseconds: UInt32(truncatingIfNeeded: now / 1_000_000))
        counters.pingsSent += 1
        enqueue(.sendPing(payload))
        let deadline = lastHeardAt.addingSaturating(silenceNanoseconds)
        record(.pingSent(payload, deadline: Timestamp(nanoseconds: deadline)), at: now)
        nextPingAt = nextScheduledPing(after: now)
    }

    /// Nothing was heard for the silence limit (unilateral model: N intervals).
    private mutating func declareSilent(now: Int64) {
        let intervals = pingsEnabled && pingIntervalNanoseconds > 0
            ? Int(silenceNanoseconds / pingIntervalNanoseconds) : 0
        let reason = PeerDeathReason.silence(intervals: intervals, elapsed: .nanoseconds(now - lastHeardAt))
        counters.peerDeaths += 1
        enqueue(.peerDead(reason))
        record(.peerDead(reason), at: now)
        setState(.failed, at: now)
    }

    /// Unilateral model: something arrived from the peer. The silence clock restarts, and a
    /// peer declared dead recovers.
    private mutating func heardFromPeer(at now: Int64, countsAsArrival: Bool = true) {
        if countsAsArrival { counters.peerArrivals += 1 }
        restartSilenceClock(at: now)
        guard state == .failed else { return }
        counters.peerRecoveries += 1
        enqueue(.peerRecovered)
        record(.peerRecovered, at: now)
        setState(.idle, at: now)
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

    /// In-order model: a pong answers the next ping in sending order that no pong has answered
    /// yet — the oldest owed one, even if it was judged missed or excused (then the pong is late,
    /// or an RTT sample only) — never a newer ping ahead of it. With no ping owed it is unknown.
    private mutating func answerInOrder(_ payload: HeartbeatPayload, now: Int64) {
        guard answeredThrough < pings.lastOrdinal else {
            ignorePong(payload, .unknown, at: now)
            return
        }
        answeredThrough += 1
        guard let index = pings.index(ofOrdinal: answeredThrough) else {
            // Too old to be remembered: only settled (missed or excused) records are forgotten.
            ignorePong(payload, .late, at: now)
            return
        }
        acceptPong(at: index, ackDelay: 0, now: now)
        // Misses are judged oldest first, so a younger ping whose deadline (a shorter adaptive
        // timeout) has already passed is judged now that the older one is answered: no deadline
        // is ever left in the past.
        runDue(upTo: now)
    }

    private mutating func acceptPong(at index: Int, ackDelay: Int64?, now: Int64) {
        let record = pings[index]
        let payload = HeartbeatPayload(rawValue: record.payload)
        switch record.status {
        case .awaiting:
            pings.setStatus(.answered, at: index)
            counters.pongsReceived += 1
            if let ackDelay { sample(record, ackDelay: ackDelay, now: now) }
            succeed(at: now)
        case .excused:
            pings.setStatus(.answered, at: index)
            counters.pongsAfterTraffic += 1
            if let ackDelay { sample(record, ackDelay: ackDelay, now: now) }
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

    private mutating func sample(_ ping: PingRecord, ackDelay: Int64, now: Int64) {
        let roundTrip = now - ping.sentAt
        if ping.sentAt < lagEndedAt {
            // Our own lag ended while this round trip was under way: it measured us.
            counters.rttSamplesSkippedForLag += 1
            record(.pongAfterLocalLag(HeartbeatPayload(rawValue: ping.payload), roundTrip: .nanoseconds(roundTrip)), at: now)
            return
        }
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
