public import Heartbeat
public import Logging

/// Writes a connection's heartbeat events to a swift-log `Logger`, one record per event, with the
/// figures as metadata (keys prefixed `heartbeat.`), so that any log backend can index them.
///
/// Levels follow what an operator wants to see: pings, pongs and RTT samples at `trace`/`debug`,
/// state changes at `info`, a missed pong, a policing strike or a dropped pong at `warning`, the
/// peer declared dead at `error`, its recovery and the peer's close frame at `notice`.
///
/// ```swift
/// let log = HeartbeatLogger(logger: Logger(label: "heartbeat"), peer: "10.0.0.7:443")
/// // in a handler after NIOHeartbeatHandler:
/// if let event = event as? HeartbeatNIOEvent { log.log(event.output) }
/// ```
public struct HeartbeatLogger: Sendable {
    /// Where records go; its own metadata is kept, the `heartbeat.peer` is added when given.
    public var logger: Logger

    /// A logger for one connection; `peer` (an address or a name) goes into every record.
    public init(logger: Logger, peer: String? = nil) {
        self.logger = logger
        if let peer { self.logger[metadataKey: "heartbeat.peer"] = .string(peer) }
    }

    /// Logs what a `HeartbeatSession` (or `NIOHeartbeatHandler`) reported. Engine events are logged
    /// by `log(_:)` for events; the outputs that repeat one (peer dead, recovered, close
    /// requested) are not logged twice; the peer's close frame is logged at `notice`; nil (a
    /// `HeartbeatNIOEvent` that only carries counters) logs nothing.
    public func log(_ output: HeartbeatSessionOutput?) {
        guard let output else { return }
        switch output {
        case .event(let event):
            log(event)
        case .peerDead, .peerRecovered, .closeRequested:
            break  // the engine's own event says it, with its figures
        case .peerGoAway(let code, let reason):
            logger.notice("peer is closing the connection", metadata: [
                "heartbeat.close_code": .stringConvertible(code), "heartbeat.close_reason": .string(reason),
            ])
        }
    }

    /// Logs one engine event.
    public func log(_ event: HeartbeatEvent) {
        var metadata: Logger.Metadata = [
            "heartbeat.connection": .stringConvertible(event.connectionID),
            "heartbeat.dialect": .string(event.dialect.name),
            "heartbeat.time": .string(event.time.description),
        ]
        let level: Logger.Level
        let message: Logger.Message
        switch event.kind {
        case .stateChanged(let from, let to):
            level = to == .failed ? .warning : .info
            message = "liveness state changed"
            metadata["heartbeat.from"] = .string(from.description)
            metadata["heartbeat.to"] = .string(to.description)
        case .pingSent(let payload, let deadline):
            level = .trace
            message = "ping sent"
            metadata["heartbeat.ping"] = .string(payload.description)
            metadata["heartbeat.deadline"] = .string(deadline.description)
        case .pingSkipped:
            level = .debug
            message = "ping skipped: too many outstanding"
        case .rttSample(let rtt):
            level = .debug
            message = "rtt sample"
            metadata["heartbeat.rtt_ms"] = .string(milliseconds(rtt.latest))
            metadata["heartbeat.srtt_ms"] = .string(milliseconds(rtt.smoothed))
            metadata["heartbeat.rttvar_ms"] = .string(milliseconds(rtt.variation))
            metadata["heartbeat.min_rtt_ms"] = .string(milliseconds(rtt.minimum))
        case .pongMissed(let payload, let consecutive):
            level = .warning
            message = "pong missed"
            metadata["heartbeat.ping"] = .string(payload.description)
            metadata["heartbeat.consecutive"] = .stringConvertible(consecutive)
        case .pongIgnored(let payload, let kind):
            level = .debug
            message = "pong ignored"
            metadata["heartbeat.ping"] = .string(payload.description)
            metadata["heartbeat.kind"] = .string("\(kind)")
        case .peerDead(let reason):
            level = .error
            message = "peer declared dead"
            metadata["heartbeat.reason"] = .string(reason.description)
        case .peerRecovered:
            level = .notice
            message = "peer answered again"
        case .policingStrike(let strikes):
            level = .warning
            message = "peer pinged too often"
            metadata["heartbeat.strikes"] = .stringConvertible(strikes)
        case .pongDropped(let payload):
            level = .warning
            message = "pong dropped: too many pending"
            metadata["heartbeat.ping"] = .string(payload.description)
        case .circuitChanged(let from, let to):
            level = .notice
            message = "circuit breaker changed"
            metadata["heartbeat.from"] = .string("\(from)")
            metadata["heartbeat.to"] = .string("\(to)")
        case .closing(let reason):
            level = .warning
            message = "closing the connection"
            metadata["heartbeat.reason"] = .string(reason.debugData)
        case .localLag(let lateness, let allowance):
            level = .notice
            message = "our own loop lagged; verdicts wait for it"
            metadata["heartbeat.lateness_ms"] = .string(milliseconds(lateness))
            metadata["heartbeat.allowance_ms"] = .string(milliseconds(allowance))
        case .verdictsDeferred(let until):
            level = .info
            message = "verdicts deferred while our loop catches up"
            metadata["heartbeat.until"] = .string(until.description)
        case .pongAfterLocalLag(let payload, let roundTrip):
            level = .debug
            message = "pong after our own lag (no RTT sample)"
            metadata["heartbeat.ping"] = .string(payload.description)
            metadata["heartbeat.round_trip_ms"] = .string(milliseconds(roundTrip))
        }
        logger.log(level: level, message, metadata: metadata)
    }
}

/// `duration` in milliseconds with three decimals.
private func milliseconds(_ duration: Duration) -> String {
    let microseconds = duration.nanosecondCount / 1000
    let fraction = String(microseconds % 1000)
    return "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
