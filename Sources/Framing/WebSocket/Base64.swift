/// Base 64 with the standard alphabet and `=` padding (RFC 4648 §4), for Sec-WebSocket-Key and
/// Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2). Encoding appends to the caller's array; decoding
/// writes into the caller's array; neither allocates beyond the result.
enum Base64 {
    /// The 64-character alphabet (RFC 4648 §4, Table 1).
    private static let alphabet: InlineArray<64, UInt8> = [
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, // A-M
        0x4E, 0x4F, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, // N-Z
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, // a-m
        0x6E, 0x6F, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, // n-z
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x2B, 0x2F, // 0-9 + /
    ]
    private static let padding: UInt8 = 0x3D // "="

    /// Octets in the encoding of `count` octets: 4 per started group of 3.
    static func encodedLength(of count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Appends the encoding of `bytes`.
    static func encode(_ bytes: RawSpan, appendingTo output: inout [UInt8]) {
        var index = 0
        let count = bytes.byteCount
        while index < count {
            let remaining = count - index
            let b0 = UInt32(bytes.unsafeLoad(fromByteOffset: index, as: UInt8.self))
            let b1 = remaining > 1 ? UInt32(bytes.unsafeLoad(fromByteOffset: index + 1, as: UInt8.self)) : 0
            let b2 = remaining > 2 ? UInt32(bytes.unsafeLoad(fromByteOffset: index + 2, as: UInt8.self)) : 0
            let group = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(group >> 18 & 63)])
            output.append(alphabet[Int(group >> 12 & 63)])
            output.append(remaining > 1 ? alphabet[Int(group >> 6 & 63)] : padding)
            output.append(remaining > 2 ? alphabet[Int(group & 63)] : padding)
            index += 3
        }
    }

    /// The encoding of `bytes` as a string.
    static func encode(_ bytes: RawSpan) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(encodedLength(of: bytes.byteCount))
        encode(bytes, appendingTo: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// The 6-bit value of one alphabet character; nil for anything else.
    private static func value(of character: UInt8) -> UInt32? {
        switch character {
        case 0x41...0x5A: return UInt32(character - 0x41)
        case 0x61...0x7A: return UInt32(character - 0x61 + 26)
        case 0x30...0x39: return UInt32(character - 0x30 + 52)
        case 0x2B: return 62
        case 0x2F: return 63
        default: return nil
        }
    }

    /// Decodes canonical base 64 (RFC 4648 §3.5: length a multiple of 4, padding only at the end,
    /// unused bits zero) and appends the octets; false, `output` unchanged, for anything else.
    static func decode(_ text: RawSpan, appendingTo output: inout [UInt8]) -> Bool {
        let count = text.byteCount
        guard count % 4 == 0 else { return false }
        let start = output.count
        var index = 0
        while index < count {
            let isLast = index + 4 == count
            var group: UInt32 = 0
            var pads = 0
            for offset in 0..<4 {
                let character = text.unsafeLoad(fromByteOffset: index + offset, as: UInt8.self)
                if character == padding, isLast, offset >= 2 {
                    pads += 1
                    group <<= 6
                } else if pads == 0, let sextet = value(of: character) {
                    group = group << 6 | sextet
                } else {
                    output.removeSubrange(start...)
                    return false
                }
            }
            // Unused bits must be zero (RFC 4648 §3.5).
            let unusedMask: UInt32 = pads == 2 ? 0xFFFF : pads == 1 ? 0xFF : 0
            guard group & unusedMask == 0 else {
                output.removeSubrange(start...)
                return false
            }
            output.append(UInt8(truncatingIfNeeded: group >> 16))
            if pads < 2 { output.append(UInt8(truncatingIfNeeded: group >> 8)) }
            if pads < 1 { output.append(UInt8(truncatingIfNeeded: group)) }
            index += 4
        }
        return true
    }
}
