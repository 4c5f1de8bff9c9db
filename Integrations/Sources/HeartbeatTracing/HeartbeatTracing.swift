import Framing
public import Heartbeat
import Synchronization
public import Tracing

/// Turns one connection's heartbeat events into swift-distributed-tracing spans (exported by
/// swift-otel or any other tracer backend).
///
/// - A **failure episode** span (`heartbeat.failure_episode`) opens at the first missed pong (or
///   the first state change away from idle/awaiting a pong) and ends when the peer answers again
///   (`heartbeat.outcome` = `recovered`, status ok) or the engine closes (`closed`, status error), or
///   at `finish()` (`connection_ended`). Missed pongs, the death verdict and circuit-breaker changes
///   are events on it.
/// - With `.probes`, a **probe** span (`heartbeat.probe`) covers each ping: it ends with the RTT
///   sample that answers it (the oldest open probe, as pongs come back in order) or, with status
///   error, when its pong is judged missed. At most 8 are open; older ones end as `abandoned`.
///
/// Every span carries `heartbeat.service`, `heartbeat.dialect`, `heartbeat.peer` and
/// `heartbeat.connection`. Thread-safe.
public final class HeartbeatTracing<T: Tracer>: Sendable {
    /// Which spans to make.
    public struct Spans: OptionSet, Sendable {
        public let rawValue: Int
        /// Creates a set from its raw value.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// A span per failure episode.
        public static var failureEpisodes: Spans { Spans(rawValue: 1) }
        /// A span per ping.
        public static var probes: Spans { Spans(rawValue: 2) }
    }

    private let tracer: T
    private let spans: Spans
    private let service: String
    private let peer: String
    private let mutable = Mutex(Mutable())

    private struct Mutable: ~Copyable {
        var episode: T.Span?
        var probes: [(payload: HeartbeatPayload, span: T.Span)] = []
    }

    /// Spans of `spans` kinds for a connection of `service` to `peer`, started with `tracer`.
    public init(tracer: T, spans: Spans = .failureEpisodes, service: String, peer: String) {
        self.tracer = tracer
        self.spans = spans
        self.service = service
        self.peer = peer
    }

    /// Records what a session reported (engine events; other outputs repeat them; nil is nothing).
    public func record(_ output: HeartbeatSessionOutput?) {
        guard case .event(let event)? = output else { return }
        record(event)
    }

    /// Records one engine event.
    public func record(_ event: HeartbeatEvent) {
        let ended: [(T.Span, SpanStatus?)] = mutable.withLock { state in
            var ended: [(T.Span, SpanStatus?)] = []
            if spans.contains(.probes) { probe(event, &state, &ended) }
            if spans.contains(.failureEpisodes) { episode(event, &state, &ended) }
            return ended
        }
        for (span, status) in ended {
            if let status { span.setStatus(status) }
            span.end()
        }
    }

    /// Ends every open span (the connection is gone).
    public func finish() {
        let open: [T.Span] = mutable.withLock { state in
            var open = state.probes.map(\.span)
            state.probes.removeAll()
            if let episode = state.episode { open.append(episode) }
            state.episode = nil
            return open
        }
        for span in open {
            span.attributes["heartbeat.outcome"] = "connection_ended"
            span.end()
        }
    }

    private func start(_ name: String, _ event: HeartbeatEvent) -> T.Span {
        let span = tracer.startSpan(name, context: .topLevel, ofKind: .client)
        span.attributes["heartbeat.service"] = service
        span.attributes["heartbeat.peer"] = peer
        span.attributes["heartbeat.dialect"] = event.dialect.name
        span.attributes["heartbeat.connection"] = "\(event.connectionID)"
        return span
    }

    private func probe(_ event: HeartbeatEvent, _ state: inout Mutable, _ ended: inout [(T.Span, SpanStatus?)]) {
        switch event.kind {
        case .pingSent(let payload, _):
            if state.probes.count == 8 {
                let oldest = state.probes.removeFirst().span
                oldest.attributes["heartbeat.outcome"] = "abandoned"
                ended.append((oldest, nil))
            }
            let span = start("heartbeat.probe", event)
            span.attributes["heartbeat.ping"] = payload.description
            state.probes.append((payload, span))
        case .rttSample(let rtt):
            guard !state.probes.isEmpty else { return }
            let span = state.probes.removeFirst().span
            span.attributes["heartbeat.rtt_seconds"] = rtt.latest.secondsValue
            span.attributes["heartbeat.srtt_seconds"] = rtt.smoothed.secondsValue
            span.attributes["heartbeat.outcome"] = "answered"
            ended.append((span, SpanStatus(code: .ok)))
        case .pongAfterLocalLag(let payload, let roundTrip):
            // Answered, but the round trip spans our own lag: no RTT sample, matched by payload.
            guard let index = state.probes.firstIndex(where: { $0.payload == payload }) else { return }
            let span = state.probes.remove(at: index).span
            span.attributes["heartbeat.round_trip_seconds"] = roundTrip.secondsValue
            span.attributes["heartbeat.outcome"] = "answered_after_local_lag"
            ended.append((span, SpanStatus(code: .ok)))
        case .pongMissed(let payload, let consecutive):
            guard let index = state.probes.firstIndex(where: { $0.payload == payload }) else { return }
            let span = state.probes.remove(at: index).span
            span.attributes["heartbeat.outcome"] = "missed"
            span.attributes["heartbeat.consecutive_missed"] = consecutive
            ended.append((span, SpanStatus(code: .error, message: "pong missed")))
        default:
            return
        }
    }

    private func episode(_ event: HeartbeatEvent, _ state: inout Mutable, _ ended: inout [(T.Span, SpanStatus?)]) {
        switch event.kind {
        case .pongMissed(let payload, let consecutive):
            let span = state.episode ?? start("heartbeat.failure_episode", event)
            state.episode = span
            span.addEvent(SpanEvent(name: "pong_missed", attributes: [
                "heartbeat.ping": .string(payload.description), "heartbeat.consecutive_missed": .int64(Int64(consecutive)),
            ]))
        case .stateChanged(_, let to):
            switch to {
            case .backingOff, .failed:
                if state.episode == nil { state.episode = start("heartbeat.failure_episode", event) }
                state.episode?.addEvent(SpanEvent(name: "state_\(to)"))
            case .idle, .awaitingPong:
                guard let span = state.episode else { return }
                state.episode = nil
                span.attributes["heartbeat.outcome"] = "recovered"
                ended.append((span, SpanStatus(code: .ok)))
            case .closed:
                guard let span = state.episode else { return }
                state.episode = nil
                span.attributes["heartbeat.outcome"] = "closed"
                ended.append((span, SpanStatus(code: .error, message: "connection closed")))
            }
        case .peerDead(let reason):
            state.episode?.addEvent(SpanEvent(name: "peer_dead", attributes: ["heartbeat.reason": .string(reason.description)]))
            state.episode?.setStatus(SpanStatus(code: .error, message: reason.description))
        case .circuitChanged(let from, let to):
            state.episode?.addEvent(SpanEvent(name: "circuit_\(from)_to_\(to)"))
        case .closing(let reason):
            state.episode?.attributes["heartbeat.close_reason"] = reason.debugData
        default:
            return
        }
    }
}
