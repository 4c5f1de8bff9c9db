import Framing

/// Where a reconnecting link stands, as a service registry or load balancer follows it.
public enum LinkHealth: Hashable, Sendable, CustomStringConvertible {
    /// A connection attempt is under way (the first, a retry, or the circuit's half-open probe).
    case connecting
    /// Connected, and the peer answers.
    case up
    /// Connected, but a pong was missed: the peer may be dying.
    case suspect
    /// Not connected; the next attempt waits for the backoff.
    case down
    /// Not connected, and attempts stopped for the circuit breaker's cool-down.
    case circuitOpen
    /// Closed by the application; terminal.
    case closed

    public var description: String {
        switch self {
        case .connecting: return "connecting"
        case .up: return "up"
        case .suspect: return "suspect"
        case .down: return "down"
        case .circuitOpen: return "circuitOpen"
        case .closed: return "closed"
        }
    }
}

/// One change of a link's health: the new state, when, and why.
public struct LinkHealthUpdate: Hashable, Sendable, CustomStringConvertible {
    /// The state entered.
    public var health: LinkHealth
    /// When (the `now` of the input that caused it).
    public var time: Timestamp
    /// Why, in words ("connection refused (ECONNREFUSED)", "half-open probe", ...).
    public var reason: String
    /// When the next connection attempt is due, in `down` and `circuitOpen`; nil otherwise.
    public var nextAttempt: Timestamp?

    /// An update.
    public init(health: LinkHealth, time: Timestamp, reason: String, nextAttempt: Timestamp? = nil) {
        self.health = health
        self.time = time
        self.reason = reason
        self.nextAttempt = nextAttempt
    }

    public var description: String {
        "\(time) \(health)" + (reason.isEmpty ? "" : ": \(reason)") + (nextAttempt.map { " (next attempt at \($0))" } ?? "")
    }
}

/// The sans-IO decisions of a reconnecting client: when to connect, how long to wait after a
/// failure, when the circuit opens. It reads time only from its inputs and never performs I/O;
/// `Transports.ReconnectingConnection` is its I/O shell.
///
/// A failed attempt or a lost connection waits ``BackoffSchedule/delay(afterFailures:using:)``
/// (with jitter from a seeded `SplitMix64`) before the next attempt; after
/// ``CircuitBreaker/failureThreshold`` consecutive failures the circuit opens for its cool-down,
/// then one half-open attempt is made: success closes the circuit, failure reopens it. A
/// connection counts as a success once it is confirmed — the peer answered
/// (``peerAnswered(now:)``) or it stayed up for `stableAfter` — and only then are the failure
/// count and the breaker reset: a server that accepts and at once drops every connection backs
/// the client off, and opens the circuit, like one that refuses.
///
/// Drive it with the `mutating` inputs, then ask ``shouldConnect(now:)`` (or wait until
/// ``nextDeadline``) and drain ``pollUpdate()``.
public struct ReconnectMachine: Sendable {
    private enum Phase: Hashable, Sendable {
        case idle
        case connecting
        case connected(suspect: Bool)
        case waiting(until: Timestamp)
        case circuitOpen
        case closed
    }

    /// When retries wait.
    public let backoff: BackoffSchedule
    /// How long a connection must stay up, without an answer from the peer, to count as a success.
    public let stableAfter: Duration
    /// The breaker in front of attempts.
    public private(set) var breaker: CircuitBreaker
    /// Failed attempts and lost connections since the last confirmed connection.
    public private(set) var consecutiveFailures = 0
    /// Connection attempts made so far.
    public private(set) var attempts = 0
    private var random: SplitMix64
    private var phase = Phase.idle
    /// While connected and not yet confirmed: when staying up confirms the connection.
    private var confirmationDeadline: Timestamp?
    /// Updates not yet polled; bounded (each input adds at most two; the oldest go first).
    private var updates: [LinkHealthUpdate] = []
    /// The most updates kept unpolled.
    public static let maxPendingUpdates = 64

    /// A machine that has not started. `seed` seeds the jitter (give each client its own).
    public init(backoff: BackoffSchedule = .standard, breaker: CircuitBreaker = CircuitBreaker(), stableAfter: Duration = .seconds(1),
                seed: UInt64) {
        backoff.validate()
        precondition(stableAfter >= .zero, "stableAfter must be >= 0")
        self.backoff = backoff
        self.stableAfter = stableAfter
        self.breaker = breaker
        random = SplitMix64(seed: seed)
    }

    /// The health as of the last input.
    public var health: LinkHealth {
        switch phase {
        case .idle, .connecting: return .connecting
        case .connected(let suspect): return suspect ? .suspect : .up
        case .waiting: return .down
        case .circuitOpen: return .circuitOpen
        case .closed: return .closed
        }
    }

    /// Whether a connection is established.
    public var isConnected: Bool {
        if case .connected = phase { return true }
        return false
    }

    /// Whether the established connection is not yet confirmed (see ``peerAnswered(now:)``).
    public var awaitingConfirmation: Bool { confirmationDeadline != nil }

    /// When the machine next wants `shouldConnect(now:)` asked: the end of a backoff wait, of the
    /// circuit's cool-down, or of an unconfirmed connection's `stableAfter`; nil when nothing is
    /// scheduled.
    public var nextDeadline: Timestamp? {
        switch phase {
        case .connected: return confirmationDeadline
        case .waiting(let until): return until
        case .circuitOpen:
            if case .open(let until) = breaker.state { return until }
            return nil
        default: return nil
        }
    }

    /// The oldest unpolled health update.
    public mutating func pollUpdate() -> LinkHealthUpdate? {
        updates.isEmpty ? nil : updates.removeFirst()
    }

    /// Starts: the first attempt is due at once. Returns true (connect now). Only from the idle state.
    public mutating func start(now: Timestamp) -> Bool {
        guard phase == .idle else { return false }
        beginAttempt(now: now, reason: "start")
        return true
    }

    /// Whether an attempt should start now; if so the machine counts it as started (connecting).
    /// A backoff wait that has ended, or a cool-down that has ended (the half-open probe), starts
    /// one. While connected, confirms a connection that has stayed up for `stableAfter`.
    public mutating func shouldConnect(now: Timestamp) -> Bool {
        switch phase {
        case .connected:
            if let deadline = confirmationDeadline, now >= deadline { confirm() }
            return false
        case .waiting(let until):
            guard now >= until else { return false }
            beginAttempt(now: now, reason: "retry after \(consecutiveFailures) failure(s)")
            return true
        case .circuitOpen:
            guard breaker.allowsProbe(at: now) else { return false }
            breaker.takeProbe()
            beginAttempt(now: now, reason: "half-open probe")
            return true
        default:
            return false
        }
    }

    /// The attempt connected. It counts as a success once confirmed.
    public mutating func connected(now: Timestamp) {
        guard phase == .connecting else { return }
        phase = .connected(suspect: false)
        confirmationDeadline = now + stableAfter
        emit(.up, now, "connected")
    }

    /// The peer answered (a pong, an acknowledgement): the connection is confirmed, and a
    /// suspected peer is up again.
    public mutating func peerAnswered(now: Timestamp) {
        guard isConnected else { return }
        confirm()
        recovered(now: now)
    }

    /// The attempt failed (refused, unreachable, timed out, handshake failed).
    public mutating func connectFailed(reason: String, now: Timestamp) {
        guard phase == .connecting else { return }
        fail(reason: reason, now: now)
    }

    /// The established connection ended (peer declared dead, EOF, reset, ...).
    public mutating func connectionLost(reason: String, now: Timestamp) {
        guard isConnected else { return }
        fail(reason: reason, now: now)
    }

    /// The engine suspects the peer (a pong missed) while connected.
    public mutating func suspected(reason: String, now: Timestamp) {
        guard phase == .connected(suspect: false) else { return }
        phase = .connected(suspect: true)
        emit(.suspect, now, reason)
    }

    /// The peer answered again while suspected.
    public mutating func recovered(now: Timestamp) {
        guard phase == .connected(suspect: true) else { return }
        phase = .connected(suspect: false)
        emit(.up, now, "the peer answered")
    }

    /// The application closed the link: terminal.
    public mutating func close(now: Timestamp) {
        guard phase != .closed else { return }
        phase = .closed
        confirmationDeadline = nil
        emit(.closed, now, "closed by the application")
    }

    private mutating func confirm() {
        guard confirmationDeadline != nil else { return }
        confirmationDeadline = nil
        breaker.recordSuccess()
        consecutiveFailures = 0
    }

    private mutating func beginAttempt(now: Timestamp, reason: String) {
        attempts += 1
        phase = .connecting
        emit(.connecting, now, reason)
    }

    private mutating func fail(reason: String, now: Timestamp) {
        confirmationDeadline = nil
        consecutiveFailures += 1
        breaker.recordFailure(at: now)
        if case .open(let until) = breaker.state {
            phase = .circuitOpen
            emit(.circuitOpen, now, reason, next: until)
        } else {
            let until = now + backoff.delay(afterFailures: consecutiveFailures, using: &random)
            phase = .waiting(until: until)
            emit(.down, now, reason, next: until)
        }
    }

    private mutating func emit(_ health: LinkHealth, _ now: Timestamp, _ reason: String, next: Timestamp? = nil) {
        if updates.count >= Self.maxPendingUpdates { updates.removeFirst() }
        updates.append(LinkHealthUpdate(health: health, time: now, reason: reason, nextAttempt: next))
    }
}
