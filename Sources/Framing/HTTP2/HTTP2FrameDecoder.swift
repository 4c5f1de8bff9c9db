/// Decodes HTTP/2 frames (RFC 9113): PING (type 0x6) is a heartbeat, every other frame type —
/// unknown extension types included (§4.1, §5.5) — is business data passed on whole. Enforces the
/// rules that a heartbeat layer must: SETTINGS_MAX_FRAME_SIZE (§4.2), PING's length and stream
/// (§6.7), and that nothing interrupts a header block (§6.10).
public struct HTTP2FrameDecoder: StreamFrameDecoder {

    /// What to do with the client connection preface (RFC 9113 §3.4).
    public enum PrefacePolicy: Hashable, Sendable {
        /// Frames from the first octet (a client reading a server, or a stream after the preface).
        case none
        /// The stream must begin with the preface (a server reading a client); anything else is a PROTOCOL_ERROR.
        case required
        /// Skip the preface if the stream begins with it (a capture of either direction).
        case optional
    }

    /// The largest payload accepted, in octets: our SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2).
    public let maxFrameSize: Int
    /// The preface rule this decoder was created with.
    public let prefacePolicy: PrefacePolicy

    var awaitingPreface: Bool
    /// The stream whose header block is open (HEADERS or PUSH_PROMISE without END_HEADERS), if any.
    public internal(set) var openHeaderBlock: UInt32?

    /// A decoder for the frames one peer sends.
    /// - Parameters:
    ///   - maxFrameSize: our SETTINGS_MAX_FRAME_SIZE, clamped to 16,384...16,777,215.
    ///   - preface: how to treat the client connection preface.
    public init(maxFrameSize: Int = HTTP2Frame.defaultMaxFrameSize, preface: PrefacePolicy = .none) {
        self.maxFrameSize = min(max(maxFrameSize, HTTP2Frame.maxFrameSizeRange.lowerBound), HTTP2Frame.maxFrameSizeRange.upperBound)
        self.prefacePolicy = preface
        self.awaitingPreface = preface != .none
    }

    public var maxFrameLength: Int { max(HTTP2Frame.headerLength + maxFrameSize, HTTP2Frame.clientPreface.count) }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        if awaitingPreface, let boundary = try prefaceBoundary(prefix) { return boundary }
        guard prefix.byteCount >= HTTP2Frame.headerLength else { return .needMore(HTTP2Frame.headerLength) }
        let header = HTTP2FrameHeader(unchecked: prefix)
        // The heartbeat: a PING of 8 octets on stream 0 outside a header block.
        if header.type == HTTP2Frame.FrameType.ping, header.length == HeartbeatPayload.byteCount, header.streamID == 0, openHeaderBlock == nil {
            return .frame(length: HTTP2Frame.headerLength + HeartbeatPayload.byteCount)
        }
        if let stream = openHeaderBlock {
            guard header.type == HTTP2Frame.FrameType.continuation, header.streamID == stream else {
                throw .headerBlockInterrupted(stream: stream, frameType: header.type, frameStream: header.streamID)
            }
        } else if header.type == HTTP2Frame.FrameType.continuation {
            throw .unexpectedContinuation(stream: header.streamID)
        }
        guard header.length <= maxFrameSize else {
            throw .frameTooLarge(length: UInt64(header.length), limit: maxFrameSize)
        }
        if header.type == HTTP2Frame.FrameType.ping {
            // Length before stream, as nghttp2 and Go's x/net/http2 check them.
            guard header.length == HeartbeatPayload.byteCount else {
                throw .heartbeatLength(frameType: UInt64(header.type), length: UInt64(header.length))
            }
            guard header.streamID == 0 else { throw .pingOnStream(header.streamID) }
        }
        return .frame(length: HTTP2Frame.headerLength + header.length)
    }

    /// The preface's boundary, or nil when an optional preface is absent and frames start here.
    private func prefaceBoundary(_ prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary? {
        let preface = HTTP2Frame.clientPreface.span
        let seen = min(prefix.byteCount, preface.count)
        for index in 0..<seen where prefix.unsafeLoad(fromByteOffset: index, as: UInt8.self) != preface[index] {
            // An optional preface is absent if the first frame header already differs from it;
            // once 9 octets have matched, the input is committed to being the preface.
            if prefacePolicy == .optional && index < HTTP2Frame.headerLength { return nil }
            throw .prefaceMismatch(at: index)
        }
        if seen == preface.count { return .frame(length: preface.count) }
        // Ask one octet at a time, so that the first octet that differs fails the stream however
        // it is cut into chunks, and an optional preface that turns out to be a frame header is
        // seen to be one as soon as it differs.
        return .needMore(seen + 1)
    }

    /// A PING (the heartbeat) in one step: its 9-octet header read once, with two loads; every
    /// other frame, and a PING before the preface or inside a header block, in steps.
    public mutating func decodeFront(of input: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError.Reason) -> FrameBoundary {
        let pingLength = HTTP2Frame.headerLength + HeartbeatPayload.byteCount
        if input.byteCount >= pingLength, !awaitingPreface, openHeaderBlock == nil {
            // Length 8, type PING and stream 0 (the reserved bit ignored, §4.1), any flags.
            let header = UInt64(bigEndian: input.unsafeLoadUnaligned(as: UInt64.self))
            if header & 0xFFFF_FFFF_007F_FFFF == UInt64(HeartbeatPayload.byteCount) << 40 | UInt64(HTTP2Frame.FrameType.ping) << 32,
               input.unsafeLoad(fromByteOffset: 8, as: UInt8.self) == 0 {
                let payload = HeartbeatPayload(rawValue: UInt64(bigEndian: input.unsafeLoadUnaligned(fromByteOffset: HTTP2Frame.headerLength, as: UInt64.self)))
                let acknowledges = UInt8(truncatingIfNeeded: header >> 24) & HTTP2Frame.Flags.ack != 0
                body(acknowledges ? .pong(payload) : .ping(payload), input.extracting(unchecked: HTTP2Frame.headerLength..<pingLength))
                return .frame(length: pingLength)
            }
        }
        return try decodeFrontInSteps(of: input, body)
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        if awaitingPreface {
            awaitingPreface = false
            if frame.byteCount == HTTP2Frame.clientPreface.count && frame.agrees(withPrefix: HTTP2Frame.clientPreface.span) {
                return DecodedFrame(item: nil, bytes: 0..<0)
            }
        }
        // `boundary(of:)` checked the header: only the type and flags are read again (one load);
        // the length is the frame's.
        guard frame.byteCount >= HTTP2Frame.headerLength else {
            preconditionFailure("decode(frame:) called on octets that boundary(of:) did not delimit")
        }
        let type = frame.unsafeLoad(fromByteOffset: 3, as: UInt8.self)
        let flags = frame.unsafeLoad(fromByteOffset: 4, as: UInt8.self)
        let payload = HTTP2Frame.headerLength..<frame.byteCount
        if type == HTTP2Frame.FrameType.ping {
            let payloadValue = HeartbeatPayload(rawValue: UInt64(bigEndian: frame.unsafeLoadUnaligned(fromByteOffset: HTTP2Frame.headerLength, as: UInt64.self)))
            let item: DemuxedItem = flags & HTTP2Frame.Flags.ack != 0 ? .pong(payloadValue) : .ping(payloadValue)
            return DecodedFrame(item: item, bytes: payload)
        }
        let header = HTTP2FrameHeader(unchecked: frame)
        switch type {
        case HTTP2Frame.FrameType.headers, HTTP2Frame.FrameType.pushPromise, HTTP2Frame.FrameType.continuation:
            openHeaderBlock = header.flags & HTTP2Frame.Flags.endHeaders == 0 ? header.streamID : nil
        default:
            break
        }
        let business = BusinessFrame(type: UInt64(header.type), flags: header.flags, streamID: header.streamID, length: header.length)
        return DecodedFrame(item: .business(business), bytes: payload)
    }
}
