#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Framing

/// An item with its handed-over octets, for comparisons: a slice of the input when they were
/// handed over in place (no copy), copied out otherwise. Equality compares the item and the octets.
public struct Received: Equatable, CustomStringConvertible {
    public var item: DemuxedItem
    public var bytes: ArraySlice<UInt8>
    /// Where in the input the octets were handed over: nil when empty or not in place (a copy).
    public var handedAt: Int?

    /// The item with its octets copied out of `bytes`.
    public init(_ item: DemuxedItem, _ bytes: RawSpan) {
        self.item = item
        self.bytes = bytes.withUnsafeBytes { Array($0)[...] }  // Array(_:) copies with memcpy
    }

    public init(_ item: DemuxedItem, bytes: [UInt8]) {
        self.item = item
        self.bytes = bytes[...]
    }

    /// The item with octets that are a slice of the input (shared, not copied).
    public init(_ item: DemuxedItem, slice: ArraySlice<UInt8>, handedAt: Int? = nil) {
        self.item = item
        self.bytes = slice
        self.handedAt = handedAt
    }

    public static func == (left: Received, right: Received) -> Bool {
        left.item == right.item && sameOctets(left.bytes, right.bytes)
    }

    public var description: String { "\(item) \(bytes)" }
}

/// Everything a demuxer run observably produced: the items in order, the error that stopped it,
/// and where it stood before the input was declared ended.
public struct DemuxOutcome: Equatable, CustomStringConvertible {
    public var items: [Received] = []
    /// The error thrown by `feed` or by `finish`, if any.
    public var error: FramingError?
    /// `offset` after the last feed, before `finish`.
    public var offset = 0
    /// `bufferedByteCount` after the last feed, before `finish`.
    public var bufferedByteCount = 0

    public init() {}

    public var description: String {
        "\(items.count) items, error \(error.map { "\($0)" } ?? "none"), offset \(offset), buffered \(bufferedByteCount)"
    }
}

/// Feeds `stream` to a fresh demuxer of `setup` in the pieces `ranges` cuts it into (stream
/// chunks, or QUIC packets), then ends the input. Checks after every feed what must hold at any
/// time: the buffer never exceeds one maximum-size frame, a failure is sticky and repeated
/// unchanged, errors belong to the dialect and point inside the input, every item is well formed
/// (`checkItem`). The pieces are borrowed slices of one array, so feeding allocates nothing; an
/// item handed over inside `stream` is kept as a slice of it (no copy). With `inPlace`, every
/// item's octets must be handed over inside `stream`, after the previous item's (in a single feed,
/// complete frames are never copied).
public func demux(_ setup: DemuxerSetup, _ stream: [UInt8], ranges: [Range<Int>], inPlace: Bool = false) -> DemuxOutcome {
    var demuxer = setup.makeDemuxer()
    var outcome = DemuxOutcome()
    let bytes = stream.span.bytes
    let (base, end) = stream.withUnsafeBytes { (UInt(bitPattern: $0.baseAddress), UInt(bitPattern: $0.baseAddress) + UInt($0.count)) }
    var previousEnd = base
    var fed = 0
    for range in ranges {
        let offsetBefore = demuxer.offset
        do {
            try demuxer.feed(bytes.extracting(range)) { item, bytes in
                checkItem(item, bytes, setup)
                let (first, count) = bytes.withUnsafeBytes { (UInt(bitPattern: $0.baseAddress), $0.count) }
                if count > 0, first >= base, first + UInt(count) <= end {
                    if inPlace {
                        check(first >= previousEnd, "item \(outcome.items.count) handed over at \(first - base), before the previous item's end")
                        previousEnd = first + UInt(count)
                    }
                    let start = Int(first - base)
                    outcome.items.append(Received(item, slice: stream[start..<(start + count)], handedAt: start))
                } else {
                    check(!inPlace || count == 0, "item \(outcome.items.count) (\(count) octets) not handed over in place")
                    outcome.items.append(Received(item, bytes))
                }
            }
        } catch {
            checkError(error, setup, inputLength: fed + range.count)
            check(demuxer.failure == error, "failure \(String(describing: demuxer.failure)) is not the error thrown \(error)")
            if setup.dialect == .quic {
                check(error.offset >= offsetBefore && error.offset < offsetBefore + range.count,
                      "QUIC error offset \(error.offset) outside its packet \(offsetBefore)..<\(offsetBefore + range.count)")
            } else {
                check(error.offset == demuxer.offset, "error offset \(error.offset) is not the demuxer's offset \(demuxer.offset)")
            }
            checkSticky(&demuxer, error)
            outcome.error = error
            outcome.offset = demuxer.offset
            outcome.bufferedByteCount = demuxer.bufferedByteCount
            return outcome
        }
        fed += range.count
        check(demuxer.bufferedByteCount <= setup.maxFrameLength || setup.dialect == .quic && demuxer.bufferedByteCount == 0,
              "\(demuxer.bufferedByteCount) octets buffered; at most \(setup.maxFrameLength) allowed (\(setup))")
        check(demuxer.offset + demuxer.bufferedByteCount == fed,
              "offset \(demuxer.offset) + buffered \(demuxer.bufferedByteCount) != \(fed) octets fed")
    }
    outcome.offset = demuxer.offset
    outcome.bufferedByteCount = demuxer.bufferedByteCount
    do {
        try demuxer.finish()
        check(outcome.bufferedByteCount == 0, "finish() accepted a stream ending with \(outcome.bufferedByteCount) octets of a frame")
    } catch {
        check(error.reason == .truncated, "finish() threw \(error), not .truncated")
        check(outcome.bufferedByteCount > 0, "finish() threw \(error) at a frame boundary")
        check(error.offset == outcome.offset, "truncation reported at \(error.offset), the frame began at \(outcome.offset)")
        checkError(error, setup, inputLength: fed)
        check(demuxer.failure == error, "finish() failure is not sticky")
        check(demuxer.bufferedByteCount == 0, "a failed demuxer still holds \(demuxer.bufferedByteCount) octets")
        outcome.error = error
    }
    return outcome
}

/// Feeds `stream` in one piece; see `demux(_:_:ranges:)`.
public func demux(_ setup: DemuxerSetup, whole stream: [UInt8]) -> DemuxOutcome {
    demux(setup, stream, ranges: [0..<stream.count])
}

/// Feeds QUIC packets one by one, each an array of its own; see `demux(_:_:ranges:)`.
public func demux(_ setup: DemuxerSetup, packets: [[UInt8]]) -> DemuxOutcome {
    var stream: [UInt8] = []
    var ranges: [Range<Int>] = []
    for packet in packets {
        ranges.append(stream.count..<(stream.count + packet.count))
        stream += packet
    }
    return demux(setup, stream, ranges: ranges)
}

/// Octets that start a valid frame in most dialects: envelope DATA, HTTP/2 header, QUIC PADDING
/// (for WebSocket, a continuation: valid only inside a message; the demuxer has failed anyway).
private let validFrames: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]

/// A failed demuxer rethrows its failure from every call, reports nothing more and holds nothing.
func checkSticky(_ demuxer: inout Demuxer, _ error: FramingError) {
    check(demuxer.bufferedByteCount == 0, "a failed demuxer still holds \(demuxer.bufferedByteCount) octets")
    do {
        try demuxer.feed(validFrames) { item, _ in fatalError("item \(item) after failure \(error)") }
        fatalError("feed after failure \(error) did not throw")
    } catch let again {
        check(again == error, "feed after failure threw \(again), not \(error)")
    }
    do {
        try demuxer.finish()
        fatalError("finish after failure \(error) did not throw")
    } catch let again {
        check(again == error, "finish after failure threw \(again), not \(error)")
    }
}

/// An error belongs to the demuxer's dialect, points inside the input, and can be described.
func checkError(_ error: FramingError, _ setup: DemuxerSetup, inputLength: Int) {
    check(error.dialect == setup.dialect, "error \(error) from a \(setup.dialect) demuxer")
    check(error.code == error.reason.code(in: setup.dialect), "error code \(error.code) is not \(setup.dialect)'s code for \(error.reason)")
    check(error.offset >= 0 && error.offset < inputLength, "error offset \(error.offset) outside the \(inputLength) octets fed")
    check(!error.description.isEmpty && !error.reason.identifier.isEmpty, "error without a description")
}

/// Cuts `count` octets into pieces whose sizes cycle through `sizes` (an empty piece for a 0);
/// one octet at a time when `sizes` is empty or all zero.
public func ranges(cutting count: Int, sizes: [Int]) -> [Range<Int>] {
    let sizes = sizes.contains(where: { $0 > 0 }) ? sizes : [1]
    var ranges: [Range<Int>] = []
    var index = 0
    var turn = 0
    while index < count {
        let end = min(index + sizes[turn % sizes.count], count)
        ranges.append(index..<end)
        index = end
        turn += 1
    }
    return ranges
}

/// Whether two runs of octets are equal, compared with one `memcmp`: an element-wise `==` is
/// instrumented octet by octet in a fuzz build, which made comparing long frames dominate a run.
public func sameOctets(_ left: ArraySlice<UInt8>, _ right: ArraySlice<UInt8>) -> Bool {
    guard left.count == right.count else { return false }
    return left.withUnsafeBytes { a in
        right.withUnsafeBytes { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
    }
}
