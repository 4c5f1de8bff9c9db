/// Where a circuit breaker stands.
public enum CircuitState: Hashable, Sendable, CustomStringConvertible {
    /// Probes flow normally.
    case closed
    /// Too many consecutive failures: no probe until the cool-down ends at `until`.
    case open(until: Timestamp)
    /// The cool-down is over: exactly one probe may go out; its outcome closes or reopens.
    case halfOpen

    public var description: String {
        switch self {
        case .closed: return "closed"
        case .open(let until): return "open(until: \(until))"
        case .halfOpen: return "half-open"
        }
    }
}

/// Stops probing a peer that keeps failing, and lets one probe through after a cool-down.
///
/// After `failureThreshold` consecutive failures the circuit opens for `coolDown`; then it is
/// half-open: one probe may go out; a success closes the circuit, a failure reopens it for
/// another cool-down.
public struct CircuitBreaker: Sendable {
    /// Consecutive failures that open the circuit (default 3, ≥ 1).
    public var failureThreshold: Int
    /// How long the circuit stays open before the half-open probe (default 30 s, ≥ 0).
    public var coolDown: Duration
    /// The current state.
    public private(set) var state: CircuitState = .closed
    /// Failures since the last success.
    public private(set) var consecutiveFailures = 0
    /// Whether the single half-open probe has been taken.
    public private(set) var probeInFlight = false

    /// A closed breaker.
    public init(failureThreshold: Int = 3, coolDown: Duration = .seconds(30)) {
        precondition(failureThreshold >= 1, "failureThreshold must be >= 1")
        precondition(coolDown >= .zero, "coolDown must be >= 0")
        self.failureThreshold = failureThreshold
        self.coolDown = coolDown
    }

    /// Whether a probe may be sent at `now`; moves an open circuit whose cool-down has ended to
    /// half-open. Call ``takeProbe()`` when the probe is actually sent.
    public mutating func allowsProbe(at now: Timestamp) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen
            probeInFlight = false
            return true
        case .halfOpen:
            return !probeInFlight
        }
    }

    /// Records that a probe went out; in the half-open state it is the only one allowed.
    public mutating func takeProbe() {
        if state == .halfOpen { probeInFlight = true }
    }

    /// Records a failed probe at `now`; opens the circuit at the threshold or when half-open.
    public mutating func recordFailure(at now: Timestamp) {
        consecutiveFailures += 1
        switch state {
        case .closed where consecutiveFailures >= failureThreshold, .halfOpen:
            state = .open(until: now + coolDown)
            probeInFlight = false
        case .closed, .open:
            break
        }
    }

    /// Records a success: the circuit closes and the failure count restarts.
    public mutating func recordSuccess() {
        consecutiveFailures = 0
        state = .closed
        probeInFlight = false
    }
}
