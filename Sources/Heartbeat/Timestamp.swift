/// A point on a monotonic clock, in nanoseconds since an arbitrary origin chosen by the caller.
///
/// The engine never reads a clock: a transport converts its `CLOCK_MONOTONIC` reading (or any
/// other monotonic source) with ``init(nanoseconds:)`` and passes it in. Only differences between
/// timestamps of the same clock are meaningful. The range is about ±292 years.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` after the clock's origin.
    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The clock's origin.
    public static let zero = Timestamp(nanoseconds: 0)

    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The instant `duration` later, saturating at the ends of the range.
    @inlinable
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(nanoseconds: lhs.nanoseconds.addingSaturating(rhs.nanosecondCount))
    }

    /// The instant `duration` earlier, saturating at the ends of the range.
    @inlinable
    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(nanoseconds: lhs.nanoseconds.addingSaturating(0 &- rhs.nanosecondCount))
    }

    /// The time from `rhs` to `lhs` (negative when `lhs` is earlier).
    @inlinable
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .nanoseconds(lhs.nanoseconds.addingSaturating(0 &- rhs.nanoseconds))
    }

    /// Seconds with millisecond precision, e.g. `12.345s`.
    public var description: String { formatSeconds(nanoseconds) }
}

extension Duration {
    /// The duration in whole nanoseconds, truncated toward zero and clamped to `Int64`'s range.
    @inlinable
    public var nanosecondCount: Int64 {
        let (seconds, attoseconds) = components
        let limit = Int64.max / 1_000_000_000
        if seconds > limit { return .max }
        if seconds < -limit { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    @inlinable
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

extension Int64 {
    /// `self + other`, clamped to the type's range instead of trapping.
    @usableFromInline
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }
}

/// `nanoseconds` as seconds with three decimals, e.g. `-0.250s`.
func formatSeconds(_ nanoseconds: Int64) -> String {
    let milliseconds = nanoseconds / 1_000_000
    let sign = milliseconds < 0 ? "-" : ""
    let magnitude = milliseconds.magnitude
    let fraction = String(magnitude % 1000)
    return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "s"
}
