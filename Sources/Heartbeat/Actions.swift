public import Framing

/// Where one connection's liveness stands.
public enum HeartbeatState: Hashable, Sendable, CustomStringConvertible {
    /// The peer is believed alive and no pong is awaited; the next ping waits for its time.
    case idle
    /// At least one ping awaits its pong and the peer is believed alive. Never in the
    /// unilateral model.
    case awaitingPong
    /// A pong was missed (fewer than `missedPongsBeforeDead` in a row): waiting to retry.
    /// Never in the unilateral model, where nothing is awaited.
    case backingOff
    /// The peer was declared dead. Probing goes on under the backoff and the circuit breaker; a
    /// pong (or counted traffic) brings the state back to idle. In the unilateral model: nothing
    /// was heard from the peer for N intervals; beats go on, and anything heard brings it back
    /// to idle.
    case failed
    /// The engine asked the adapter to close (policing, slow frame). Terminal: every input is ignored.
    case closed

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .awaitingPong: return "awaitingPong"
        case .backingOff: return "backingOff"
        case .failed: return "failed"
        case .closed: return "closed"
        }
    }
}

/// Why the peer was declared dead.
public enum PeerDeathReason: Hashable, Sendable, CustomStringConvertible {
    /// `missedPongs` consecutive pongs did not arrive within the fixed ack timeout.
    case ackTimeout(missedPongs: Int)
    /// `missedPongs` consecutive pongs were judged missed by φ-accrual; `timeout` was the last
    /// wait the detector allowed (its φ threshold, or the ack-timeout cap).
    case suspicion(missedPongs: Int, timeout: Duration)
    /// Unilateral model: nothing at all (heartbeat, answer or business data) was heard from the
    /// peer for `intervals` ping intervals; `elapsed` is the silence measured when it was noticed
    /// (at least `intervals` × `pingInterval`, more when the tick came late).
    case silence(intervals: Int, elapsed: Duration)

    public var description: String {
        switch self {
        case .ackTimeout(let missed): return "\(missed) pong(s) missed (fixed ack timeout)"
        case .suspicion(let missed, let timeout): return "\(missed) pong(s) missed (phi-accrual, timeout \(timeout))"
        case .silence(let intervals, let elapsed): return "nothing heard for \(elapsed) (\(intervals) interval(s) allowed)"
        }
    }
}

/// Something the adapter must do for the engine. Drain them with ``HeartbeatEngine/pollAction()``
/// after every input.
public enum HeartbeatAction: Hashable, Sendable {
    /// Send a ping with this payload at the next frame boundary. For QUIC, send a PING frame and
    /// report the packet number with ``HeartbeatEngine/pingWritten(_:packetNumber:now:)``. In the
    /// in-order and unilateral models the wire's ping carries no payload (MQTT PINGREQ, AMQP
    /// heartbeat frame): the adapter encodes a payload-less ping, and the payload only names the
    /// ping in the engine's events and in `pingWritten`.
    case sendPing(HeartbeatPayload)
    /// Answer the peer's ping: send a pong (HTTP/2: PING with ACK) echoing this payload. Never
    /// asked for in the unilateral model.
    case sendPong(HeartbeatPayload)
    /// The peer is considered dead. Most adapters close the connection; one that keeps it may
    /// go on driving the engine, which keeps probing and reports ``peerRecovered``.
    case peerDead(PeerDeathReason)
    /// A peer declared dead answered again.
    case peerRecovered
    /// Close the connection with ``CloseReason/wireCode(for:)`` and ``CloseReason/debugData``.
    case close(CloseReason)
}

/// How an ignored pong was classified.
public enum IgnoredPongKind: Hashable, Sendable {
    /// Matches no ping we remember: never trusted.
    case unknown
    /// Its ping was already answered.
    case duplicate
    /// Its ping had already been judged missed.
    case late
}

/// RTT figures after a sample.
public struct RTTSnapshot: Hashable, Sendable {
    /// The sample, after the ACK-delay adjustment.
    public var latest: Duration
    /// SRTT (RFC 6298).
    public var smoothed: Duration
    /// RTTVAR (RFC 6298).
    public var variation: Duration
    /// Minimum RTT.
    public var minimum: Duration
    /// 75th percentile of the last 16 samples after 3σ outlier rejection.
    public var percentile75: Duration
}

/// An observable change in the engine: a value to forward to a logger or a metrics system.
public struct HeartbeatEvent: Hashable, Sendable {
    /// The id the engine was created with.
    public var connectionID: UInt64
    /// The connection's dialect.
    public var dialect: Dialect
    /// When it happened (the `now` of the input that caused it).
    public var time: Timestamp
    /// What happened.
    public var kind: Kind

    /// What happened, with its figures.
    public enum Kind: Hashable, Sendable {
        /// The state changed.
        case stateChanged(from: HeartbeatState, to: HeartbeatState)
        /// A ping was sent; its pong is missed if not in by `deadline`. Unilateral model: a beat
        /// was sent, and `deadline` is when the peer is declared dead unless it is heard from
        /// before (already past while it is dead).
        case pingSent(HeartbeatPayload, deadline: Timestamp)
        /// A ping fell due while `maxOutstandingPings` were awaited, and was skipped.
        case pingSkipped
        /// A pong (or acknowledgement) gave an RTT sample.
        case rttSample(RTTSnapshot)
        /// A pong was missed; `consecutive` counts missed pongs in a row.
        case pongMissed(HeartbeatPayload, consecutive: Int)
        /// A pong was ignored.
        case pongIgnored(HeartbeatPayload, IgnoredPongKind)
        /// The peer was declared dead.
        case peerDead(PeerDeathReason)
        /// The peer answered after having been declared dead.
        case peerRecovered
        /// The peer pinged too soon; `strikes` is the count after this one.
        case policingStrike(strikes: Int)
        /// A pending pong was dropped because `maxPendingPongs` were already waiting.
        case pongDropped(HeartbeatPayload)
        /// The circuit breaker changed state.
        case circuitChanged(from: CircuitState, to: CircuitState)
        /// The engine asked the adapter to close.
        case closing(CloseReason)
        /// Our own loop lagged: an input came `lateness` after the deadline the engine had asked
        /// for, or the adapter reported that lag (``HeartbeatEngine/observedLocalLag(_:now:)``).
        /// `allowance` is what a pong deadline set now gets (``LocalHealthPolicy``).
        case localLag(lateness: Duration, allowance: Duration)
        /// Verdicts that fell due while our loop lagged wait until `until`, so that what arrived
        /// meanwhile is read first.
        case verdictsDeferred(until: Timestamp)
        /// A pong (or acknowledgement) whose round trip spans our own lag: it proved the peer
        /// alive, but `roundTrip` measured us, so it gave no RTT sample.
        case pongAfterLocalLag(HeartbeatPayload, roundTrip: Duration)
    }
}

/// Running totals of one engine, all since it was created.
public struct HeartbeatCounters: Hashable, Sendable {
    /// Pings the engine asked to send (regular and retries; unilateral model: every beat).
    public var pingsSent = 0
    /// Pings not sent because `maxOutstandingPings` were awaited.
    public var pingsSkipped = 0
    /// Pongs that answered an awaited ping in time.
    public var pongsReceived = 0
    /// Pongs that answered a ping already excused by inbound traffic (RTT sample only).
    public var pongsAfterTraffic = 0
    /// Awaited pings excused because inbound traffic proved the peer alive.
    public var pingsExcusedByTraffic = 0
    /// Awaited pings judged missed.
    public var pongsMissed = 0
    /// Awaited pings dropped when the engine closed.
    public var pingsAbandoned = 0
    /// Pongs matching no remembered ping (in-order model: pongs with no ping left to answer).
    public var unknownPongs = 0
    /// Pongs for an already answered ping.
    public var duplicatePongs = 0
    /// Pongs for a ping already judged missed (in-order model: pongs that paid the debt of a
    /// ping judged missed, or of one too old to be remembered).
    public var latePongs = 0
    /// RTT samples taken.
    public var rttSamples = 0
    /// Pings received from the peer.
    public var pingsReceived = 0
    /// Pongs handed to the adapter.
    public var pongsSent = 0
    /// Pending pongs dropped at the `maxPendingPongs` bound.
    public var pongsDropped = 0
    /// Policing strikes, in total.
    public var policingStrikes = 0
    /// Times the peer was declared dead.
    public var peerDeaths = 0
    /// Times a dead peer answered again.
    public var peerRecoveries = 0
    /// Times the circuit opened.
    public var circuitOpenings = 0
    /// Events dropped because eight were waiting unpolled.
    public var eventsDropped = 0
    /// Actions dropped because eight were waiting unpolled (the adapter must drain after each input).
    public var actionsDropped = 0
    /// Unilateral model only: arrivals from the peer (its pings, pongs, acknowledgements and
    /// business data), each of which restarts the silence clock. 0 in the other models.
    public var peerArrivals = 0
    /// Times our own loop was found lagging (late inputs and reported lags beyond the tolerance).
    public var localLags = 0
    /// Late inputs in which a verdict was due and was deferred.
    public var verdictsDeferred = 0
    /// Round trips not sampled because they spanned our own lag.
    public var rttSamplesSkippedForLag = 0

    /// All zero.
    public init() {}
}
