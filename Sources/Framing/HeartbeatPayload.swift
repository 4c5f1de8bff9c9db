/// The opaque payload of a ping, which the matching pong echoes unchanged.
///
/// Our own pings carry 8 octets (RFC 9113 §6.7; spec/envelope.md §5.2): a 32-bit sequence number
/// followed by a 32-bit send timestamp in milliseconds, both big-endian; a peer may put anything
/// there and gets it back verbatim. Dialects whose pings carry nothing (MQTT, RESP) use `empty`;
/// WebSocket pings carry 0 to 125 octets. The first eight octets are kept inline, so a payload is
/// two words and never allocates; a longer payload's octets come with its item as a span.
public struct HeartbeatPayload: Hashable, Sendable, CustomStringConvertible {
    /// The first `min(byteCount, 8)` octets read as one big-endian integer: octet 0 is the most
    /// significant octet of the value. With fewer than 8 octets the low-order octets are 0.
    public var rawValue: UInt64
    /// The payload's length in octets on the wire (0 for payload-less pings).
    public var byteCount: Int

    /// The 8-octet payload whose octets, read big-endian, are `rawValue`.
    @inlinable
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
        self.byteCount = HeartbeatPayload.byteCount
    }

    /// The recommended layout: `sequence` in octets 0–3, `timestampMilliseconds` in octets 4–7.
    @inlinable
    public init(sequence: UInt32, timestampMilliseconds: UInt32) {
        self.init(rawValue: UInt64(sequence) << 32 | UInt64(timestampMilliseconds))
    }

    /// The payload of `octets`: its first 8 octets kept, its whole length recorded.
    @inlinable
    public init(prefixOf octets: RawSpan) {
        var value: UInt64 = 0
        if octets.byteCount >= HeartbeatPayload.byteCount {
            value = UInt64(bigEndian: octets.unsafeLoadUnaligned(as: UInt64.self))
        } else {
            for index in 0..<octets.byteCount {
                value |= UInt64(octets.unsafeLoad(fromByteOffset: index, as: UInt8.self)) << UInt64(56 - 8 * index)
            }
        }
        self.rawValue = value
        self.byteCount = octets.byteCount
    }

    /// The payload of a ping that carries nothing.
    public static let empty = HeartbeatPayload(rawValue: 0, byteCount: 0)

    /// A payload of `byteCount` octets whose first `min(byteCount, 8)` are the high-order octets
    /// of `rawValue`.
    @inlinable
    public init(rawValue: UInt64, byteCount: Int) {
        self.rawValue = rawValue
        self.byteCount = byteCount
    }

    /// Whether every octet is held inline (at most 8); otherwise only the first 8 are.
    @inlinable
    public var isWhole: Bool { byteCount <= HeartbeatPayload.byteCount }

    /// Octets 0–3, big-endian: the sender's sequence number in the recommended layout.
    @inlinable
    public var sequence: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// Octets 4–7, big-endian: the sender's send time in milliseconds (wrapping) in the recommended layout.
    @inlinable
    public var timestampMilliseconds: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// Size of our own pings' payload on the wire, in octets.
    public static let byteCount = 8

    /// The octets held, as lowercase hexadecimal, octet 0 first (sixteen digits for our pings).
    public var description: String {
        withOctets { $0.hexDescription }
    }

    /// Calls `body` with the octets held inline (all of them when `isWhole`), without allocating.
    @inlinable
    public func withOctets<R>(_ body: (RawSpan) throws -> R) rethrows -> R {
        var bigEndian = rawValue.bigEndian
        return try withUnsafeBytes(of: &bigEndian) { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<Swift.min(byteCount, HeartbeatPayload.byteCount)]).bytes)
        }
    }
}

extension HeartbeatPayload {
    /// The 8 octets at `offset` of a frame whose boundary check guaranteed they are there.
    init(_ frame: RawSpan, at offset: Int) {
        var cursor = offset
        guard let value = frame.readBigEndian(width: HeartbeatPayload.byteCount, at: &cursor) else {
            preconditionFailure("heartbeat payload read past the frame its boundary check delimited")
        }
        self.init(rawValue: value)
    }

    /// Appends the 8 octets of an 8-octet payload, big-endian.
    func append(to buffer: inout [UInt8]) {
        buffer.appendBigEndian(rawValue, width: HeartbeatPayload.byteCount)
    }
}
