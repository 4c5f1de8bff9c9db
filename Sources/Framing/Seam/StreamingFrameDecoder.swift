/// What `StreamDemuxer.feedStreaming(_:_:)` hands over, in stream order, each with a borrowed span
/// of octets. Items that lie whole in a chunk, and frames that cannot be streamed, come whole, as
/// `feed(_:_:)` reports them; a business frame that does not fit in the chunk where it starts
/// comes in pieces as its octets arrive: `frameStart`, then one `payload` per chunk it spans, then
/// `frameEnd`. Concatenating the `payload` octets gives the octets `feed(_:_:)` hands over with
/// that frame's `.business` item.
public enum StreamedItem: Hashable, Sendable {
    /// An item handed over whole, exactly as `feed(_:_:)` reports it, with the same octets.
    case whole(DemuxedItem)
    /// The start of a business frame that comes in pieces: its header, decoded as `feed(_:_:)`
    /// would decode the whole frame (`length` is the total of the payload octets to come). No octets.
    case frameStart(BusinessFrame)
    /// The next octets of the open frame's payload (never empty), in place in the chunk fed.
    case payload
    /// The open frame has ended: all its payload has been handed over. No octets. A frame is
    /// only complete once its end is reported: if the stream fails or ends first, the pieces
    /// handed over so far are not a frame (`feed(_:_:)` would not have reported it at all).
    case frameEnd
}

/// Where a streamed frame's handed-over octets start, and what it is.
public struct StreamedFrameHeader: Hashable, Sendable {
    /// The frame, as `decode(frame:)` would describe it from the whole frame.
    public var frame: BusinessFrame
    /// Octets from the frame's first octet to the first octet handed over; the frame's octets
    /// from here to its end are its payload, handed over as they are.
    public var payloadStart: Int

    /// Describes a streamed frame.
    @inlinable
    public init(frame: BusinessFrame, payloadStart: Int) {
        self.frame = frame
        self.payloadStart = payloadStart
    }
}

/// A stream dialect's decoder that can decode a business frame from its header alone, so that
/// `StreamDemuxer.feedStreaming(_:_:)` hands its payload over as it arrives instead of gathering
/// it. Any dialect whose frame length is known from its header (`boundary(of:)` answers
/// `.frame(length:)` before the frame is complete) can stream the frames whose payload it hands
/// over unchanged and does not inspect; every other frame is gathered and decoded whole, as in
/// `feed(_:_:)`. A decoder that conforms without implementing the requirement streams nothing.
public protocol StreamingFrameDecoder: StreamFrameDecoder {
    /// Decodes the frame at the front of `prefix` from its first octets, if it can be streamed:
    /// `boundary(of:)` has just answered `.frame(length: frameLength)` for `prefix`, which holds
    /// fewer than `frameLength` octets. Returns nil, changing nothing, unless the whole frame —
    /// whatever its remaining octets — would decode to `.business(frame)` with octets
    /// `payloadStart..<frameLength` handed over in place; then advances the state exactly as
    /// `decode(frame:)` on the whole frame would. `payloadStart` must be at most
    /// `prefix.byteCount`. Throws what `decode(frame:)` would throw on the whole frame.
    mutating func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) throws(FramingError.Reason) -> StreamedFrameHeader?
}

extension StreamingFrameDecoder {
    /// Streams nothing: every frame is gathered and decoded whole.
    @inlinable
    public mutating func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) throws(FramingError.Reason) -> StreamedFrameHeader? {
        nil
    }
}
