public import CoreMetrics
public import Framing
public import Heartbeat
import Synchronization

/// One connection's heartbeat figures as swift-metrics metrics, named and labelled the way
/// Prometheus operators expect. Every metric carries the labels `service`, `dialect`, `peer` and
/// `zone`; the RTT histogram also `status`:
///
/// | Metric | Kind | What |
/// |---|---|---|
/// | `heartbeat_rtt_seconds{…,status}` | timer (a histogram in Prometheus) | each RTT sample; `status` is the peer's liveness when it came: `up` (idle or awaiting a pong), `degraded` (backing off after a missed pong), `down` (declared dead) |
/// | `heartbeat_state` | gauge | the engine's state: 0 idle, 1 awaiting pong, 2 backing off, 3 failed, 4 closed |
/// | `heartbeat_peer_up` | gauge | 1 while the peer is believed alive, 0 once declared dead or closed |
/// | `heartbeat_pings_sent_total` | counter | pings (or beats) we sent |
/// | `heartbeat_pings_received_total` | counter | the peer's pings |
/// | `heartbeat_pongs_received_total` | counter | pongs that answered a ping in time |
/// | `heartbeat_pongs_missed_total` | counter | pings judged missed |
/// | `heartbeat_policing_strikes_total` | counter | the peer's pings that came too soon |
/// | `heartbeat_peer_deaths_total` | counter | times the peer was declared dead |
/// | `heartbeat_reconnects_total` | counter | reconnections, as reported with `recordReconnect()` |
///
/// Counters follow the engine's `HeartbeatCounters` (the increments since the last call), so
/// nothing is counted twice however often `record` is called; `HeartbeatNIOEvent`s with a nil
/// output carry the counters that changed without an engine event (the peer's pings). Thread-safe.
public final class HeartbeatMetrics: Sendable {
    /// The labels every metric of this connection carries.
    public let dimensions: [(String, String)]
    private let factory: any MetricsFactory
    private let stateGauge: Gauge
    private let peerUp: Gauge
    private let counters: [(any KeyPath<HeartbeatCounters, Int> & Sendable, Counter)]
    private let reconnects: Counter
    private let mutable = Mutex(Mutable())

    private struct Mutable {
        var last = HeartbeatCounters()
        var state: HeartbeatState = .idle
        var timers: [String: Timer] = [:]
    }

    /// Metrics for one connection of `service` to `peer` in `zone` (availability zone, region,
    /// rack: whatever groups peers; empty when unused), created in `factory` (default: the
    /// bootstrapped `MetricsSystem`).
    public init(service: String, dialect: Dialect, peer: String, zone: String = "",
                factory: any MetricsFactory = MetricsSystem.factory) {
        let dimensions = [("service", service), ("dialect", dialect.name), ("peer", peer), ("zone", zone)]
        self.dimensions = dimensions
        self.factory = factory
        stateGauge = Gauge(label: "heartbeat_state", dimensions: dimensions, factory: factory)
        peerUp = Gauge(label: "heartbeat_peer_up", dimensions: dimensions, factory: factory)
        func counter(_ name: String) -> Counter { Counter(label: name, dimensions: dimensions, factory: factory) }
        counters = [
            (\.pingsSent, counter("heartbeat_pings_sent_total")),
            (\.pingsReceived, counter("heartbeat_pings_received_total")),
            (\.pongsReceived, counter("heartbeat_pongs_received_total")),
            (\.pongsMissed, counter("heartbeat_pongs_missed_total")),
            (\.policingStrikes, counter("heartbeat_policing_strikes_total")),
            (\.peerDeaths, counter("heartbeat_peer_deaths_total")),
        ]
        reconnects = counter("heartbeat_reconnects_total")
        stateGauge.record(0)
        peerUp.record(1)
    }

    /// Records what a session reported (nil: nothing, the counters changed), with the engine's
    /// counters right after it (as `HeartbeatNIOEvent` carries them, or `HeartbeatConnection.counters`).
    public func record(_ output: HeartbeatSessionOutput?, counters current: HeartbeatCounters) {
        let (increments, timer) = mutable.withLock { state -> ([(Counter, Int)], Timer?) in
            var timer: Timer?
            if case .event(let event) = output {
                switch event.kind {
                case .stateChanged(_, let to):
                    state.state = to
                case .rttSample:
                    let status = Self.status(state.state)
                    if state.timers[status] == nil {
                        state.timers[status] = Timer(label: "heartbeat_rtt_seconds", dimensions: dimensions + [("status", status)],
                                                     preferredDisplayUnit: .seconds, factory: factory)
                    }
                    timer = state.timers[status]
                default:
                    break
                }
            }
            let increments = counters.compactMap { path, counter -> (Counter, Int)? in
                let delta = current[keyPath: path] - state.last[keyPath: path]
                return delta > 0 ? (counter, delta) : nil
            }
            state.last = current
            return (increments, timer)
        }
        for (counter, delta) in increments { counter.increment(by: delta) }
        guard case .event(let event) = output else { return }
        switch event.kind {
        case .stateChanged(_, let to):
            stateGauge.record(Self.code(to))
            peerUp.record(to == .failed || to == .closed ? 0 : 1)
        case .rttSample(let rtt):
            timer?.recordNanoseconds(rtt.latest.nanosecondCount)
        default:
            break
        }
    }

    /// Counts one reconnection of this connection (the engine knows nothing of reconnecting).
    public func recordReconnect() {
        reconnects.increment()
    }

    /// Removes this connection's metrics from the factory (when its peer is gone for good, so that
    /// the `peer` label does not keep series alive).
    public func destroy() {
        let timers = mutable.withLock { Array($0.timers.values) }
        for timer in timers { timer.destroy() }
        stateGauge.destroy()
        peerUp.destroy()
        for (_, counter) in counters { counter.destroy() }
        reconnects.destroy()
    }

    /// The `heartbeat_state` value of `state`.
    public static func code(_ state: HeartbeatState) -> Int {
        switch state {
        case .idle: return 0
        case .awaitingPong: return 1
        case .backingOff: return 2
        case .failed: return 3
        case .closed: return 4
        }
    }

    /// The RTT histogram's `status` label while the engine is in `state`.
    public static func status(_ state: HeartbeatState) -> String {
        switch state {
        case .idle, .awaitingPong: return "up"
        case .backingOff: return "degraded"
        case .failed, .closed: return "down"
        }
    }
}
