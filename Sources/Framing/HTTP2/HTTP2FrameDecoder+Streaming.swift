extension HTTP2FrameDecoder: StreamingFrameDecoder {
    /// Every frame but PING and the client preface streams: `decode(frame:)` reads nothing of the
    /// others but their 9-octet header (RFC 9113 §4.1), whose state it keeps (an open header
    /// block, §6.10), and hands their payload over in place.
    public mutating func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) -> StreamedFrameHeader? {
        guard let header = HTTP2FrameHeader(parsing: prefix), header.type != HTTP2Frame.FrameType.ping,
              HTTP2Frame.headerLength + header.length == frameLength else { return nil }
        // boundary(of:) delimited a frame, not the preface: an optional preface was absent.
        awaitingPreface = false
        switch header.type {
        case HTTP2Frame.FrameType.headers, HTTP2Frame.FrameType.pushPromise, HTTP2Frame.FrameType.continuation:
            openHeaderBlock = header.flags & HTTP2Frame.Flags.endHeaders == 0 ? header.streamID : nil
        default:
            break
        }
        let frame = BusinessFrame(type: UInt64(header.type), flags: header.flags, streamID: header.streamID, length: header.length)
        return StreamedFrameHeader(frame: frame, payloadStart: HTTP2Frame.headerLength)
    }
}
