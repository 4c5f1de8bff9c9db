/// A small, fast, seedable pseudo-random generator (Steele, Lea & Flood, 2014: SplitMix64).
///
/// Used for backoff jitter so that a test or a simulation that fixes the seed sees the same
/// sequence every run, and to expand a seed into ChaCha20's key (`ChaCha20Generator`). Not
/// cryptographic — one output gives its state away — so it never draws masking keys itself. Every seed, including 0, gives a full-period sequence
/// of 2^64 values.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    /// The generator's whole state; the next output is derived from `state &+ 0x9E37_79B9_7F4A_7C15`.
    public var state: UInt64

    /// A generator whose sequence is determined by `seed`.
    @inlinable
    public init(seed: UInt64) { self.state = seed }

    /// The next 64 pseudo-random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly distributed value in `[0, 1)` with 53 bits of precision.
    @inlinable
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
