/// Demultiplexes QUIC packet payloads (RFC 9000 §12.4): each call to `feed` is one whole,
/// decrypted packet payload, whose frames are reported in order through the same items as the
/// stream dialects. A frame never spans packets, so nothing is buffered. After a failure the
/// demuxer stays failed and every call rethrows it.
public struct QUICPacketDemuxer: Sendable {
    /// Octets fed so far: the offset of the next packet's first octet.
    public private(set) var offset = 0
    /// The error that stopped the demuxer, if any.
    public private(set) var failure: FramingError?

    /// A demuxer for the packets of one connection.
    public init() {}

    /// Reports the frames of one packet payload. `body` gets each item with the frame's octets,
    /// type included, borrowed for the duration of the call. PADDING is skipped silently.
    /// - Throws: the first framing error, at the offending frame's offset; frames before it have been reported.
    public mutating func feed(packet: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        if let failure { throw failure }
        var cursor = 0
        while cursor < packet.byteCount {
            do {
                let (end, item) = try QUICFrameParser.decodeFrame(in: packet, at: cursor)
                if let item { body(item, packet.extracting(cursor..<end)) }
                cursor = end
            } catch {
                let failure = FramingError(error, dialect: .quic, offset: offset + cursor)
                self.failure = failure
                throw failure
            }
        }
        offset += packet.byteCount
    }

    /// Reports the frames of one packet payload held in an array; see `feed(packet:_:)`.
    public mutating func feed(packet: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(packet: packet.span.bytes, body)
    }
}
