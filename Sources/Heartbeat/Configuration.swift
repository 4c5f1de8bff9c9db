/// How the engine decides that an awaited pong is missed. Applies to the echo, acknowledgement
/// and in-order liveness models; the unilateral model awaits no pong and declares the peer dead
/// by its fixed N-intervals rule whatever this says.
public enum FailureDetectorPolicy: Hashable, Sendable {
    /// A pong is missed when it has not arrived ``HeartbeatConfiguration/ackTimeout`` after its ping.
    case fixedTimeout
    /// A pong is missed when the φ-accrual suspicion reaches the threshold, learned from past
    /// ping→pong times; never later than ``HeartbeatConfiguration/ackTimeout``.
    case phiAccrual(PhiAccrualConfiguration)
}

/// Limits on a peer's pings, so that a ping flood cannot cost us more than a bounded effort
/// (gRPC's server-side keepalive enforcement; CVE-2019-9512). Applies in every liveness model
/// (the unilateral model polices the peer's beats but queues no pong for them).
public struct PingPolicy: Hashable, Sendable {
    /// A peer ping that arrives sooner than this after the previous one, with no business data
    /// sent or received in between, is a strike. `.zero` disables policing.
    public var minimumPeerPingInterval: Duration
    /// Strikes tolerated; the next one closes the connection with ``CloseReason/tooManyPings``
    /// (gRPC's default is 2). Business data in either direction resets the count.
    public var maxPingStrikes: Int
    /// Pongs waiting to be polled, at most 1 to 8. When full, the oldest is dropped for the new
    /// one (it is counted), so a peer that floods pings and never reads cannot grow our memory.
    public var maxPendingPongs: Int

    /// A policy; the default allows our own engine's retry bursts (a few pings 100 ms apart after
    /// missed pongs) but not a sustained flood.
    public init(minimumPeerPingInterval: Duration = .seconds(1), maxPingStrikes: Int = 2, maxPendingPongs: Int = 4) {
        self.minimumPeerPingInterval = minimumPeerPingInterval
        self.maxPingStrikes = maxPingStrikes
        self.maxPendingPongs = maxPendingPongs
    }
}

/// Everything that tunes one connection's liveness engine.
///
/// The defaults come from the simulation in docs/heartbeat.md: ping every 30 s, decide a pong is
/// missed by φ-accrual (capped by a 3 s `ackTimeout`), declare the peer dead after 3 consecutive
/// missed pongs, retrying after 100 ms ±20 %.
///
/// The engine's `LivenessModel` decides which settings matter: in the unilateral model nothing
/// is awaited, so `ackTimeout`, `failureDetector`, `missedPongsBeforeDead`,
/// `maxOutstandingPings`, `backoff` and the circuit breaker play no part, and
/// `trafficCountsAsLiveness` is taken as `true`. Every setting applies to the other three models.
public struct HeartbeatConfiguration: Hashable, Sendable {
    /// Time between pings while the peer answers (> 0). Pings are due at whole multiples of it
    /// after the schedule's anchor, so late ticks do not drift the schedule (all models).
    /// Unilateral model: the beat interval, and N of them without hearing from the peer declare
    /// it dead.
    public var pingInterval: Duration
    /// The longest wait for a pong (> 0): the timeout of the fixed policy and the cap of φ-accrual.
    public var ackTimeout: Duration
    /// How a pong is judged missed.
    public var failureDetector: FailureDetectorPolicy
    /// Consecutive missed pongs that declare the peer dead (≥ 1).
    public var missedPongsBeforeDead: Int
    /// Whether inbound business data proves the peer alive. Then a ping is sent only after
    /// `pingInterval` without inbound data (as gRPC and SwiftNIO do), and data answers an
    /// awaited ping as a pong would. The unilateral model ignores it: there, inbound data always
    /// counts as hearing from the peer, and never moves our beats.
    public var trafficCountsAsLiveness: Bool
    /// Pings awaiting their pong at one time, 1 to 4. A ping that falls due at the limit is
    /// skipped (and counted).
    public var maxOutstandingPings: Int
    /// When to retry after missed pongs.
    public var backoff: BackoffSchedule
    /// Consecutive missed pongs after which probing stops for a cool-down (≥ 1).
    public var circuitBreakerThreshold: Int
    /// How long probing stops once the circuit opens (≥ 0).
    public var circuitBreakerCoolDown: Duration
    /// Limits on the peer's pings.
    public var pingPolicy: PingPolicy
    /// Close with ``CloseReason/slowFrame`` when an inbound frame stays incomplete this long;
    /// `nil` disables the rule. Applies in every liveness model.
    public var slowFrameTimeout: Duration?
    /// The peer's `max_ack_delay` (QUIC transport parameter, RFC 9000 §18.2; default 25 ms): the
    /// most ACK delay that is subtracted from an RTT sample (RFC 9002 §5.3).
    public var maxAckDelay: Duration
    /// Seed of the jitter's random source; give each connection its own (e.g. mix in its id).
    public var randomSeed: UInt64

    /// A configuration with the simulation-chosen defaults.
    public init(
        pingInterval: Duration = .seconds(30),
        ackTimeout: Duration = .seconds(3),
        failureDetector: FailureDetectorPolicy = .phiAccrual(PhiAccrualConfiguration()),
        missedPongsBeforeDead: Int = 3,
        trafficCountsAsLiveness: Bool = false,
        maxOutstandingPings: Int = 2,
        backoff: BackoffSchedule = .standard,
        circuitBreakerThreshold: Int = 3,
        circuitBreakerCoolDown: Duration = .seconds(30),
        pingPolicy: PingPolicy = PingPolicy(),
        slowFrameTimeout: Duration? = .seconds(30),
        maxAckDelay: Duration = .milliseconds(25),
        randomSeed: UInt64 = 0x5EED
    ) {
        self.pingInterval = pingInterval
        self.ackTimeout = ackTimeout
        self.failureDetector = failureDetector
        self.missedPongsBeforeDead = missedPongsBeforeDead
        self.trafficCountsAsLiveness = trafficCountsAsLiveness
        self.maxOutstandingPings = maxOutstandingPings
        self.backoff = backoff
        self.circuitBreakerThreshold = circuitBreakerThreshold
        self.circuitBreakerCoolDown = circuitBreakerCoolDown
        self.pingPolicy = pingPolicy
        self.slowFrameTimeout = slowFrameTimeout
        self.maxAckDelay = maxAckDelay
        self.randomSeed = randomSeed
    }

    /// The seed design, as gRPC keepalive works: a ping every 30 s, a 3 s ack timeout, and the
    /// first missed pong declares the peer dead.
    public static let fixedTimeout = HeartbeatConfiguration(
        failureDetector: .fixedTimeout, missedPongsBeforeDead: 1)

    /// Checks every documented bound; the engine calls it when it is created.
    public func validate() {
        precondition(pingInterval > .zero, "pingInterval must be > 0")
        precondition(ackTimeout > .zero, "ackTimeout must be > 0")
        precondition(missedPongsBeforeDead >= 1, "missedPongsBeforeDead must be >= 1")
        precondition((1...4).contains(maxOutstandingPings), "maxOutstandingPings must be 1...4")
        precondition(circuitBreakerThreshold >= 1, "circuitBreakerThreshold must be >= 1")
        precondition(circuitBreakerCoolDown >= .zero, "circuitBreakerCoolDown must be >= 0")
        precondition(pingPolicy.minimumPeerPingInterval >= .zero, "minimumPeerPingInterval must be >= 0")
        precondition(pingPolicy.maxPingStrikes >= 0, "maxPingStrikes must be >= 0")
        precondition((1...8).contains(pingPolicy.maxPendingPongs), "maxPendingPongs must be 1...8")
        if let slowFrameTimeout { precondition(slowFrameTimeout > .zero, "slowFrameTimeout must be > 0") }
        precondition(maxAckDelay >= .zero, "maxAckDelay must be >= 0")
        backoff.validate()
        if case .phiAccrual(let phi) = failureDetector { phi.validate() }
    }
}
