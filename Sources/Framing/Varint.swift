/// A QUIC variable-length integer (RFC 9000 §16): a value up to 2^62 − 1 in 1, 2, 4 or 8 octets,
/// the two most significant bits of the first octet giving the length. The TCP envelope uses the
/// same encoding for its frame types and lengths.
public struct Varint: Hashable, Sendable {
    /// The decoded value, at most `Varint.max`.
    public var value: UInt64
    /// How many octets the value took on the wire: 1, 2, 4 or 8.
    public var encodedLength: Int

    /// The value and its encoded length as read from the wire.
    @inlinable
    public init(value: UInt64, encodedLength: Int) {
        self.value = value
        self.encodedLength = encodedLength
    }

    /// The largest value a variable-length integer can carry: 2^62 − 1.
    public static let max: UInt64 = (1 << 62) - 1

    /// Whether the value used the shortest encoding that holds it (RFC 9000 §12.4 requires this of
    /// frame types).
    @inlinable
    public var isMinimal: Bool { encodedLength == Varint.minimalLength(of: value) }

    /// The encoded length, in octets, announced by a first octet.
    @inlinable @inline(__always)
    public static func encodedLength(firstByte: UInt8) -> Int { 1 << Int(firstByte >> 6) }

    /// The shortest encoding of `value` in octets; `value` must be at most `Varint.max`.
    @inlinable
    public static func minimalLength(of value: UInt64) -> Int {
        switch value {
        case ..<(1 << 6): return 1
        case ..<(1 << 14): return 2
        case ..<(1 << 30): return 4
        default: return 8
        }
    }

    /// Reads a variable-length integer at `cursor` in `bytes`, advancing the cursor past it;
    /// nil (cursor unchanged) when the bytes end inside it.
    @inlinable @inline(__always)
    public static func read(_ bytes: RawSpan, at cursor: inout Int) -> Varint? {
        bytes.readVarint(at: &cursor)
    }

    @inlinable @inline(__always)
    static func valueMask(width: Int) -> UInt64 {
        UInt64.max >> UInt64(truncatingIfNeeded: 66 &- 8 &* width)
    }

    /// Appends `value` in `length` octets (the shortest when `length` is nil).
    /// - Precondition: `value <= Varint.max` and `length`, if given, is 1, 2, 4 or 8 and holds it.
    @inlinable
    public static func append(_ value: UInt64, length: Int? = nil, to buffer: inout [UInt8]) {
        let width = length ?? minimalLength(of: value)
        precondition(value <= Varint.max && minimalLength(of: value) <= width && width.nonzeroBitCount == 1 && width <= 8,
                     "varint \(value) does not fit in \(width) octets")
        let prefix = UInt64(width.trailingZeroBitCount) << UInt64(width * 8 - 2)
        buffer.appendBigEndian(prefix | value, width: width)
    }
}
