/// A fuzz input read from the front: the harness's options, split points and frame fields.
/// Reading past the end yields zeros, so every input is a complete, valid script.
public struct FuzzInput {
    /// The whole input.
    public let bytes: [UInt8]
    /// Index of the next octet to read.
    public private(set) var cursor = 0

    /// The input libFuzzer passes to `LLVMFuzzerTestOneInput`, copied.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    }

    /// An input held in an array.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Whether every octet has been read.
    public var isAtEnd: Bool { cursor >= bytes.count }

    /// Octets not read yet.
    public var remaining: Int { max(bytes.count - cursor, 0) }

    /// The next octet, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard cursor < bytes.count else { return 0 }
        defer { cursor += 1 }
        return bytes[cursor]
    }

    /// Whether the next octet is odd.
    public mutating func flag() -> Bool { byte() & 1 == 1 }

    /// `octets` octets (0...8) read as a big-endian integer, zeros past the end.
    public mutating func integer(octets: Int) -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<octets { value = value << 8 | UInt64(byte()) }
        return value
    }

    /// A value read as a QUIC varint from the input itself (the fuzzer's natural vocabulary):
    /// the first octet's top two bits give the width. At most `Varint.max`.
    public mutating func varintValue() -> UInt64 {
        let first = byte()
        let width = 1 << Int(first >> 6)
        var value = UInt64(first & 0x3f)
        for _ in 1..<width { value = value << 8 | UInt64(byte()) }
        return value
    }

    /// Exactly `count` octets, zeros past the end.
    public mutating func take(_ count: Int) -> [UInt8] {
        var taken: [UInt8] = []
        taken.reserveCapacity(count)
        for _ in 0..<count { taken.append(byte()) }
        return taken
    }

    /// Every octet not read yet, in an array of exactly that size.
    public mutating func rest() -> [UInt8] {
        guard cursor < bytes.count else { return [] }
        defer { cursor = bytes.count }
        return Array(bytes[cursor...])
    }
}
