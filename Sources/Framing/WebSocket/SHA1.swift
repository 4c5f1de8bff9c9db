/// SHA-1 (RFC 3174), for the one place WebSocket needs it: Sec-WebSocket-Accept (RFC 6455 §4.2.2).
/// SHA-1 is broken for collision resistance; the handshake uses it only to prove the server read
/// the key, not for security. Streaming, fixed-size state, no allocation.
struct SHA1 {
    /// The digest size in octets.
    static let digestLength = 20

    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    /// The partial 64-octet block, as 16 big-endian words.
    private var block: InlineArray<16, UInt32> = .init(repeating: 0)
    /// Octets fed so far.
    private var messageLength: UInt64 = 0

    init() {}

    /// Feeds message octets.
    mutating func update(_ bytes: RawSpan) {
        for index in 0..<bytes.byteCount {
            update(byte: bytes.unsafeLoad(fromByteOffset: index, as: UInt8.self))
        }
    }

    /// Feeds the UTF-8 octets of `text`.
    mutating func update(_ text: String) {
        for byte in text.utf8 { update(byte: byte) }
    }

    private mutating func update(byte: UInt8) {
        let position = Int(messageLength & 63)
        let word = position >> 2
        let shift = UInt32(24 - (position & 3) * 8)
        if position & 3 == 0 { block[word] = 0 }
        block[word] |= UInt32(byte) << shift
        messageLength &+= 1
        if position == 63 { compress() }
    }

    /// Pads the message (RFC 3174 §4) and returns the 20-octet digest.
    consuming func finalize() -> InlineArray<20, UInt8> {
        let bitLength = messageLength &* 8
        update(byte: 0x80)
        while messageLength & 63 != 56 { update(byte: 0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            update(byte: UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        var digest: InlineArray<20, UInt8> = .init(repeating: 0)
        let words = [state.0, state.1, state.2, state.3, state.4] as InlineArray<5, UInt32>
        for index in 0..<20 {
            digest[index] = UInt8(truncatingIfNeeded: words[index >> 2] >> UInt32(24 - (index & 3) * 8))
        }
        return digest
    }

    /// Processes one 64-octet block (RFC 3174 §6.1, method 1).
    private mutating func compress() {
        var schedule: InlineArray<80, UInt32> = .init(repeating: 0)
        for index in 0..<16 { schedule[index] = block[index] }
        for index in 16..<80 {
            let mixed = schedule[index - 3] ^ schedule[index - 8] ^ schedule[index - 14] ^ schedule[index - 16]
            schedule[index] = mixed.rotatedLeft(1)
        }
        var (a, b, c, d, e) = state
        for index in 0..<80 {
            let f: UInt32
            let k: UInt32
            switch index {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = a.rotatedLeft(5) &+ f &+ e &+ k &+ schedule[index]
            e = d
            d = c
            c = b.rotatedLeft(30)
            b = a
            a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }

    /// The digest of `bytes`.
    static func hash(_ bytes: RawSpan) -> InlineArray<20, UInt8> {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

extension UInt32 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt32) -> UInt32 {
        (self << count) | (self >> (32 - count))
    }
}
