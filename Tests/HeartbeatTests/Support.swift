import Framing
import Heartbeat
import Testing

/// `seconds` after the clock's origin.
func at(_ seconds: Double) -> Timestamp { Timestamp(nanoseconds: Int64((seconds * 1e9).rounded())) }

/// `milliseconds` as a Duration.
func ms(_ milliseconds: Int64) -> Duration { .milliseconds(milliseconds) }

extension HeartbeatEngine {
    /// Every action waiting, in order.
    mutating func drainActions() -> [HeartbeatAction] {
        var actions: [HeartbeatAction] = []
        while let action = pollAction() { actions.append(action) }
        return actions
    }

    /// Every event kind waiting, in order.
    mutating func drainEvents() -> [HeartbeatEvent.Kind] {
        var kinds: [HeartbeatEvent.Kind] = []
        while let event = pollEvent() { kinds.append(event.kind) }
        return kinds
    }

    /// Ticks at `now` and returns the payload of the single ping that must go out.
    mutating func expectPing(at now: Timestamp, sourceLocation: SourceLocation = #_sourceLocation) throws -> HeartbeatPayload {
        tick(now: now)
        let pings = drainActions().compactMap { action -> HeartbeatPayload? in
            if case .sendPing(let payload) = action { return payload }
            return nil
        }
        return try #require(pings.count == 1 ? pings[0] : nil, "expected exactly one ping", sourceLocation: sourceLocation)
    }
}

/// A configuration with the fixed policy and easy round numbers: ping every 10 s, 1 s timeout.
func fixedConfiguration(missed: Int = 1) -> HeartbeatConfiguration {
    HeartbeatConfiguration(
        pingInterval: .seconds(10), ackTimeout: .seconds(1), failureDetector: .fixedTimeout,
        missedPongsBeforeDead: missed)
}

extension HeartbeatEvent.Kind {
    var stateChange: (HeartbeatState, HeartbeatState)? {
        if case .stateChanged(let from, let to) = self { return (from, to) }
        return nil
    }
}

/// The state changes among `kinds`.
func transitions(_ kinds: [HeartbeatEvent.Kind]) -> [String] {
    kinds.compactMap { $0.stateChange.map { "\($0.0)->\($0.1)" } }
}
