#if canImport(Glibc)
import Glibc  // math only: exp2
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of local-health awareness, after HashiCorp's Lifeguard: while our own event loop is
/// lagging (CPU starvation, a stopped process, a long synchronous callback) the engine does not
/// accuse the peer. docs/heartbeat.md ("Local health") explains the rules and the simulation that
/// chose the defaults.
///
/// The engine measures its own lateness: an input that arrives more than ``tolerance`` after
/// the earliest deadline the engine had asked for (its ``HeartbeatEngine/nextDeadline``) means
/// the adapter did not call in time — our loop was late. Adapters that know their loop's
/// lateness across connections report it with ``HeartbeatEngine/observedLocalLag(_:now:)``.
/// Then:
/// - verdicts found due in that late input (a missed pong, the silence rule, a slow frame) wait
///   ``verdictHold``, so that the input already waiting in the kernel is processed first; each
///   deadline is held at most once;
/// - while the decaying lag score exceeds ``tolerance``, each new pong deadline (and the
///   silence deadline when it restarts) gets an allowance of ``allowanceMultiplier`` × score, at
///   most ``maxAllowance`` (the threshold is raised in proportion to the recent lag). Off by
///   default (multiplier 0): in the simulation the hold alone removes the stalls' false verdicts
///   and the allowance only costs detection time after each stall; turn it on for a loop that
///   reads late while its timers keep time (one loop, many connections, timers run first);
/// - a round trip that spans our own lag is not fed to the RTT estimator or φ-accrual: it
///   measured us, not the network.
public struct LocalHealthPolicy: Hashable, Sendable {
    /// Lateness up to this is normal scheduling noise, not a lag (> 0).
    public var tolerance: Duration
    /// The lag score halves every `halfLife` after its peak (> 0).
    public var halfLife: Duration
    /// Allowance per unit of lag score (≥ 0); 0, the default, gives none.
    public var allowanceMultiplier: Double
    /// The most allowance one pong deadline gets; `nil`: min(`ackTimeout`,
    /// `pingInterval` / (2 × `missedPongsBeforeDead`)), so that one hold plus the allowances of a
    /// whole declaration delay it by less than one `pingInterval`. Must be ≥ 0.
    public var maxAllowance: Duration?
    /// How long verdicts found due in a late input wait for the input that waited with them (≥ 0).
    public var verdictHold: Duration

    /// A policy; the defaults are those chosen by the `heartbeat-sim stalls` report.
    public init(tolerance: Duration = .milliseconds(100), halfLife: Duration = .seconds(2),
                allowanceMultiplier: Double = 0, maxAllowance: Duration? = nil,
                verdictHold: Duration = .milliseconds(50)) {
        self.tolerance = tolerance
        self.halfLife = halfLife
        self.allowanceMultiplier = allowanceMultiplier
        self.maxAllowance = maxAllowance
        self.verdictHold = verdictHold
    }

    /// Checks the documented bounds; the engine calls it when it is created.
    public func validate() {
        precondition(tolerance > .zero, "localHealth.tolerance must be > 0")
        precondition(halfLife > .zero, "localHealth.halfLife must be > 0")
        precondition(allowanceMultiplier >= 0 && allowanceMultiplier.isFinite, "localHealth.allowanceMultiplier must be finite and >= 0")
        if let maxAllowance { precondition(maxAllowance >= .zero, "localHealth.maxAllowance must be >= 0") }
        precondition(verdictHold >= .zero, "localHealth.verdictHold must be >= 0")
    }
}

/// Our own loop's recent lateness: an exponentially decaying maximum of the lag samples. A
/// sample at least as large as the decayed score becomes the new peak; the score halves every
/// ``LocalHealthPolicy/halfLife`` after it. Pure arithmetic on integers and one `exp2`: it
/// allocates nothing.
public struct LocalHealth: Hashable, Sendable {
    /// The settings it follows.
    public let policy: LocalHealthPolicy
    /// Lag samples above the tolerance (late inputs and reported lags), in total.
    public private(set) var lagSamples = 0
    /// The largest lag sample seen.
    public private(set) var largestLag: Duration = .zero
    private let toleranceNanoseconds: Int64
    private let halfLifeNanoseconds: Double
    private var peakNanoseconds: Int64 = 0
    private var peakAt: Int64 = 0

    /// A healthy loop (score 0).
    public init(policy: LocalHealthPolicy = .init()) {
        policy.validate()
        self.policy = policy
        toleranceNanoseconds = policy.tolerance.nanosecondCount
        halfLifeNanoseconds = Double(policy.halfLife.nanosecondCount)
    }

    /// The lag score at `now`: the decayed peak (0 for a healthy loop).
    public func score(at now: Timestamp) -> Duration { .nanoseconds(scoreNanoseconds(at: now.nanoseconds)) }

    /// Whether the score at `now` exceeds the tolerance: the loop is lagging.
    public func isLagging(at now: Timestamp) -> Bool { scoreNanoseconds(at: now.nanoseconds) > toleranceNanoseconds }

    /// Learns that the loop was `lag` late at `now`; lags within the tolerance are ignored.
    /// Returns whether it counted.
    @discardableResult
    public mutating func record(lag: Duration, at now: Timestamp) -> Bool {
        record(lagNanoseconds: lag.nanosecondCount, at: now.nanoseconds)
    }

    @discardableResult
    mutating func record(lagNanoseconds lag: Int64, at now: Int64) -> Bool {
        guard lag > toleranceNanoseconds else { return false }
        lagSamples += 1
        if lag > largestLag.nanosecondCount { largestLag = .nanoseconds(lag) }
        if lag >= scoreNanoseconds(at: now) {
            peakNanoseconds = lag
            peakAt = now
        }
        return true
    }

    /// The allowance a deadline set at `now` gets: `allowanceMultiplier` × score while the score
    /// exceeds the tolerance, at most `cap`; 0 otherwise.
    public func allowance(at now: Timestamp, cap: Duration) -> Duration {
        .nanoseconds(allowanceNanoseconds(at: now.nanoseconds, cap: cap.nanosecondCount))
    }

    func allowanceNanoseconds(at now: Int64, cap: Int64) -> Int64 {
        let score = scoreNanoseconds(at: now)
        guard score > toleranceNanoseconds, cap > 0 else { return 0 }
        let scaled = Double(score) * policy.allowanceMultiplier
        return scaled >= Double(cap) ? cap : Int64(scaled)
    }

    func scoreNanoseconds(at now: Int64) -> Int64 {
        guard peakNanoseconds > 0 else { return 0 }
        let elapsed = now - peakAt
        guard elapsed > 0 else { return peakNanoseconds }
        let halvings = Double(elapsed) / halfLifeNanoseconds
        guard halvings < 62 else { return 0 }
        return Int64(Double(peakNanoseconds) * exp2(-halvings))
    }
}
