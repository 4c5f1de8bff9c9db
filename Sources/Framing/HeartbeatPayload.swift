/// The 8-byte opaque payload of a PING that the matching PONG (or HTTP/2 PING ACK) echoes unchanged.
///
/// The wire treats it as 8 opaque octets (RFC 9113 §6.7; spec/envelope.md §5.2). This library's
/// engine fills it with a 32-bit sequence number followed by a 32-bit send timestamp in
/// milliseconds, both big-endian; a peer may put anything there and gets it back verbatim.
public struct HeartbeatPayload: Hashable, Sendable, CustomStringConvertible {
    /// The 8 octets read as one big-endian integer: octet 0 is the most significant.
    public var rawValue: UInt64

    /// The payload whose octets, read big-endian, are `rawValue`.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The recommended layout: `sequence` in octets 0–3, `timestampMilliseconds` in octets 4–7.
    @inlinable
    public init(sequence: UInt32, timestampMilliseconds: UInt32) {
        self.rawValue = UInt64(sequence) << 32 | UInt64(timestampMilliseconds)
    }

    /// Octets 0–3, big-endian: the sender's sequence number in the recommended layout.
    @inlinable
    public var sequence: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// Octets 4–7, big-endian: the sender's send time in milliseconds (wrapping) in the recommended layout.
    @inlinable
    public var timestampMilliseconds: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// Size of the payload on the wire, in octets.
    public static let byteCount = 8

    /// Sixteen lowercase hexadecimal digits, octet 0 first.
    public var description: String {
        let digits = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
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

    /// Appends the 8 octets, big-endian.
    func append(to buffer: inout [UInt8]) {
        buffer.appendBigEndian(rawValue, width: HeartbeatPayload.byteCount)
    }
}
