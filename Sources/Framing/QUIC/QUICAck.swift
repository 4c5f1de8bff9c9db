/// A decoded QUIC ACK frame (RFC 9000 §19.3). QUIC's answer to a PING is the acknowledgement of
/// the packet that carried it, so the engine matches `contains(_:in:)` against the PING's packet number.
///
/// The fixed fields are decoded; the additional ACK ranges stay in the frame's bytes (handed over
/// with the item) and are walked on demand by `forEachRange(in:_:)`, so decoding never allocates.
public struct QUICAck: Hashable, Sendable {
    /// The largest packet number acknowledged.
    public var largestAcknowledged: UInt64
    /// The encoded ACK Delay: microseconds divided by 2^ack_delay_exponent (see `ackDelayMicroseconds(exponent:)`).
    public var ackDelay: UInt64
    /// The number of Gap/ACK Range Length pairs after the first range.
    public var additionalRangeCount: UInt64
    /// The number of packets below `largestAcknowledged` that the first range also acknowledges.
    public var firstAckRange: UInt64
    /// The smallest packet number acknowledged, across all ranges.
    public var smallestAcknowledged: UInt64
    /// ECN counts, present in frames of type 0x03.
    public var ecnCounts: ECNCounts?
    /// Offset, within the frame's bytes, of the first Gap field.
    var rangesOffset: Int

    /// The ECN counts of an ACK frame of type 0x03 (RFC 9000 §19.3.2).
    public struct ECNCounts: Hashable, Sendable {
        /// Packets received with the ECT(0) codepoint.
        public var ect0: UInt64
        /// Packets received with the ECT(1) codepoint.
        public var ect1: UInt64
        /// Packets received with the ECN-CE codepoint.
        public var ce: UInt64

        /// ECN counts.
        public init(ect0: UInt64, ect1: UInt64, ce: UInt64) {
            self.ect0 = ect0
            self.ect1 = ect1
            self.ce = ce
        }
    }

    /// The ACK delay in microseconds: `ackDelay × 2^exponent`, saturating (RFC 9000 §19.3;
    /// the default ack_delay_exponent is 3, §18.2).
    public func ackDelayMicroseconds(exponent: Int = 3) -> UInt64 {
        let exponent = min(max(exponent, 0), 20)
        let (value, overflow) = ackDelay.multipliedReportingOverflow(by: 1 << UInt64(exponent))
        return overflow ? .max : value
    }

    /// Calls `body` with each acknowledged range, largest first. `frame` must be the bytes handed
    /// over with this item.
    public func forEachRange(in frame: RawSpan, _ body: (ClosedRange<UInt64>) -> Void) {
        var smallest = largestAcknowledged - firstAckRange
        body(smallest...largestAcknowledged)
        var cursor = rangesOffset
        for _ in 0..<additionalRangeCount {
            // Validated while decoding: every field is present and no range goes below zero.
            guard let gap = frame.readVarint(at: &cursor), let length = frame.readVarint(at: &cursor) else { return }
            let largest = smallest - gap.value - 2
            smallest = largest - length.value
            body(smallest...largest)
        }
    }

    /// Whether `packetNumber` is acknowledged by this frame, whose bytes are `frame`.
    public func contains(_ packetNumber: UInt64, in frame: RawSpan) -> Bool {
        guard packetNumber <= largestAcknowledged, packetNumber >= smallestAcknowledged else { return false }
        var found = false
        forEachRange(in: frame) { range in found = found || range.contains(packetNumber) }
        return found
    }
}
