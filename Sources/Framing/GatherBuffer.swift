/// The raw, cache-line-aligned octets in which `StreamDemuxer` gathers a frame split across chunks.
/// A class so that its memory is freed exactly once; the demuxer writes to it only while it holds
/// the only reference (`isKnownUniquelyReferenced`), and copies it first otherwise, so a copied
/// demuxer never sees the other's octets change.
@usableFromInline
final class GatherBuffer: @unchecked Sendable {
    /// The first octet; `capacity` octets are allocated, aligned to `alignment`.
    @usableFromInline let base: UnsafeMutableRawPointer
    /// Octets allocated.
    @usableFromInline let capacity: Int

    /// A cache line: copies into the buffer start aligned.
    @usableFromInline static var alignment: Int { 64 }

    /// An uninitialised buffer of `capacity` octets (at least one).
    @usableFromInline
    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: Self.alignment)
    }

    deinit { base.deallocate() }

    /// A buffer of `capacity` octets holding a copy of this one's first `count` octets.
    @usableFromInline
    func resized(to capacity: Int, keeping count: Int) -> GatherBuffer {
        let copy = GatherBuffer(capacity: capacity)
        copy.base.copyMemory(from: base, byteCount: count)
        return copy
    }
}
