/// A ChaCha20 keystream (RFC 8439 §2.3) as a random source for masking keys and the handshake
/// nonce: RFC 6455 §5.3 and §10.3 ask masking keys to be unpredictable from the ones already on the
/// wire, which a linear generator such as SplitMix64 is not (one output gives its whole state
/// away, spec/websocket.md §9); ChaCha20's outputs do not reveal its key. Framing makes no system
/// calls, so the key comes from the caller's seed (expanded with SplitMix64): give each connection
/// a seed from a strong source. Fixed-size state, no allocation; one 64-octet block per 16 outputs.
struct ChaCha20Generator: Sendable {
    private var key: InlineArray<8, UInt32>
    private var nonce: InlineArray<3, UInt32> = .init(repeating: 0)
    private var counter: UInt32 = 0
    private var block: InlineArray<16, UInt32> = .init(repeating: 0)
    /// The next unused word of `block`; 16 when it is used up.
    private var index = 16

    /// A generator keyed by `seed` expanded to 256 bits.
    init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        var key: InlineArray<8, UInt32> = .init(repeating: 0)
        for index in stride(from: 0, to: 8, by: 2) {
            let word = expander.next()
            key[index] = UInt32(truncatingIfNeeded: word)
            key[index + 1] = UInt32(truncatingIfNeeded: word >> 32)
        }
        self.key = key
    }

    /// A generator with an explicit key, nonce and block counter (RFC 8439 §2.3's inputs).
    init(key: InlineArray<8, UInt32>, nonce: InlineArray<3, UInt32>, counter: UInt32) {
        self.key = key
        self.nonce = nonce
        self.counter = counter
    }

    /// The next 32 bits of keystream (the words of each block in order, RFC 8439 §2.3).
    mutating func next() -> UInt32 {
        if index == 16 { refill() }
        defer { index += 1 }
        return block[index]
    }

    /// The next 64 bits of keystream.
    mutating func next64() -> UInt64 {
        UInt64(next()) << 32 | UInt64(next())
    }

    /// Computes the block for the current counter and advances it (the nonce on wrap-around).
    private mutating func refill() {
        block = Self.block(key: key, counter: counter, nonce: nonce)
        counter &+= 1
        if counter == 0 { nonce[0] &+= 1 }
        index = 0
    }

    /// The ChaCha20 block function (RFC 8439 §2.3): 20 rounds over the constants, key, counter and
    /// nonce, added to the input state.
    static func block(key: InlineArray<8, UInt32>, counter: UInt32, nonce: InlineArray<3, UInt32>) -> InlineArray<16, UInt32> {
        var input: InlineArray<16, UInt32> = [0x6170_7865, 0x3320_646E, 0x7962_2D32, 0x6B20_6574,
                                              key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
                                              counter, nonce[0], nonce[1], nonce[2]]
        var state = input
        for _ in 0..<10 {
            quarterRound(&state, 0, 4, 8, 12)
            quarterRound(&state, 1, 5, 9, 13)
            quarterRound(&state, 2, 6, 10, 14)
            quarterRound(&state, 3, 7, 11, 15)
            quarterRound(&state, 0, 5, 10, 15)
            quarterRound(&state, 1, 6, 11, 12)
            quarterRound(&state, 2, 7, 8, 13)
            quarterRound(&state, 3, 4, 9, 14)
        }
        for index in 0..<16 { input[index] &+= state[index] }
        return input
    }

    /// The quarter round (RFC 8439 §2.1) on four words of `state`.
    @inline(__always)
    private static func quarterRound(_ state: inout InlineArray<16, UInt32>, _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        state[a] &+= state[b]; state[d] ^= state[a]; state[d] = rotate(state[d], 16)
        state[c] &+= state[d]; state[b] ^= state[c]; state[b] = rotate(state[b], 12)
        state[a] &+= state[b]; state[d] ^= state[a]; state[d] = rotate(state[d], 8)
        state[c] &+= state[d]; state[b] ^= state[c]; state[b] = rotate(state[b], 7)
    }

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        value << count | value >> (32 - count)
    }
}
