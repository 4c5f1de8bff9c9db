extension RawSpan {
    /// The octets as lowercase hexadecimal, two digits each, octet 0 first: one string, written
    /// in place at its final size (no allocation at all up to 7 octets, which fit a small string).
    public var hexDescription: String {
        let count = 2 * byteCount
        guard count > 0 else { return "" }
        return String(unsafeUninitializedCapacity: count) { text in
            for index in 0..<byteCount {
                let octet = unsafeLoad(fromByteOffset: index, as: UInt8.self)
                text[2 * index] = Self.hexDigit(octet >> 4)
                text[2 * index + 1] = Self.hexDigit(octet & 0x0F)
            }
            return count
        }
    }

    /// The ASCII lowercase hexadecimal digit for `value` (0–15).
    @inline(__always)
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x57 + value
    }
}
