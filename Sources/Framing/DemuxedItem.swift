/// One thing the demuxer found in the input, in input order. Heartbeats are decoded; everything
/// else is business data, passed on whole. The frame's bytes come alongside as a borrowed span
/// (see `StreamDemuxer.feed(_:_:)`).
public enum DemuxedItem: Hashable, Sendable {
    /// A heartbeat request to answer: an envelope PING, an HTTP/2 PING without the ACK flag, a
    /// WebSocket Ping. The octets handed over with it are exactly its application payload, which
    /// the answer echoes.
    case ping(HeartbeatPayload)
    /// The answer to a heartbeat: an envelope PONG, an HTTP/2 PING with the ACK flag, a WebSocket
    /// Pong. The octets handed over with it are exactly its application payload.
    case pong(HeartbeatPayload)
    /// A QUIC PING frame (RFC 9000 §19.2). It has no payload: its answer is the peer's
    /// acknowledgement of the packet that carried it.
    case quicPing
    /// A QUIC ACK frame (RFC 9000 §19.3), decoded: QUIC's "pong" when it acknowledges the packet
    /// that carried a PING.
    case quicAck(QUICAck)
    /// A frame that is not a heartbeat: the application's, passed on whole and in order.
    case business(BusinessFrame)

    /// Whether this item is a heartbeat (ping, pong, QUIC PING) rather than business data or an ACK.
    public var isHeartbeat: Bool {
        switch self {
        case .ping, .pong, .quicPing: return true
        case .quicAck, .business: return false
        }
    }
}

/// The header of a business frame. Its bytes are handed over alongside it: the payload for the
/// envelope, HTTP/2 (whose 9-octet header is described here) and WebSocket (unmasked), the whole
/// frame for QUIC, whose frames have no common header, and the whole header block for a WebSocket
/// opening handshake.
public struct BusinessFrame: Hashable, Sendable {
    /// The frame type: envelope type (spec/envelope.md §5), HTTP/2 type (RFC 9113 §6), QUIC type
    /// (RFC 9000 §19), or WebSocket opcode (RFC 6455 §5.2; `WebSocketFrame.handshakeType`, 0x100,
    /// for the opening handshake's header block).
    public var type: UInt64
    /// HTTP/2 frame flags; for WebSocket, the first octet's high nibble (FIN 0x80 and the RSV
    /// bits, always clear without extensions); 0 in other dialects.
    public var flags: UInt8
    /// HTTP/2 stream identifier, reserved bit cleared; the AMQP channel; 0 in other dialects (QUIC stream IDs stay inside the frame).
    public var streamID: UInt32
    /// Length in octets of the bytes handed over: the payload length for the envelope, HTTP/2 and
    /// WebSocket, the whole frame's size, type included, for QUIC, the header block's size,
    /// CRLFCRLF included, for a WebSocket handshake.
    public var length: Int

    /// Describes a business frame.
    @inlinable
    public init(type: UInt64, flags: UInt8 = 0, streamID: UInt32 = 0, length: Int) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }
}

/// What a stream dialect's decoder needs to know about the frame at the front of the input.
public enum FrameBoundary: Hashable, Sendable {
    /// Not decidable yet: call again once at least this many octets (counted from the frame's
    /// first octet) are available. Never more than the frame's real length.
    case needMore(Int)
    /// The frame is this many octets long, header included.
    case frame(length: Int)
}

/// A decoded frame: the item to report (nil for frames reported as nothing, like a preface) and
/// the range of the frame's octets to hand over with it.
public struct DecodedFrame: Hashable, Sendable {
    /// What to report; nil when the frame is consumed silently (a connection preface).
    public var item: DemuxedItem?
    /// The octets, relative to the frame's first octet, that come with the item.
    public var bytes: Range<Int>

    /// A decoded frame.
    @inlinable
    public init(item: DemuxedItem?, bytes: Range<Int>) {
        self.item = item
        self.bytes = bytes
    }
}

/// A stream dialect's frame decoder, in single steps as SwiftNIO's decoders are: one call finds
/// where the frame at the front of the input ends, another decodes that whole frame; for a frame
/// that lies whole in a chunk, `decodeFront(of:_:)` does both in one step.
/// `StreamDemuxer` drives it over chunks of any size; a stream dialect (`StreamDialect`) brings one.
public protocol StreamFrameDecoder: Sendable {
    /// The dialect whose error codes this decoder's failures map to.
    static var dialect: Dialect { get }

    /// The code to close with for a failure of one of the shared reasons (a `.violation` carries
    /// its own code and is not passed here).
    static func wireCode(for reason: FramingError.Reason) -> WireErrorCode

    /// The most octets one frame may take, header included: the demuxer never buffers more.
    var maxFrameLength: Int { get }

    /// Where the frame that starts at the first octet of `prefix` ends, from as few octets as
    /// possible. It must not change state and must be consistent: the same answer, or
    /// `.needMore`, for every prefix of the same input; never `.needMore(n)` with n past the
    /// frame's end. Throws as soon as the octets seen break a rule.
    func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary

    /// `boundary(of:)` for a caller that already knows, from an earlier answer for a shorter
    /// prefix of the same input (`.needMore(n)`, or `.frame(length: n)` past its end), that the
    /// frame is at least `minimumLength` octets long. A decoder that finds the end by scanning for
    /// a delimiter (the WebSocket handshake's CRLFCRLF) resumes there rather than rescanning, so
    /// a frame that arrives a few octets at a time costs linear time. Same answers and rules as
    /// `boundary(of:)`, which the default calls.
    func boundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary

    /// `boundary(of:lengthAtLeast:)` for the frame `StreamDemuxer` is gathering in its buffer: it
    /// calls this with longer and longer prefixes of that one frame until it is delimited, then
    /// `decode(frame:)`. A decoder whose boundary scan is costly to repeat (a nested RESP value)
    /// may keep where it stopped and resume there, forgetting it in `decode(frame:)`. Same
    /// answers and rules as `boundary(of:)`; the default calls `boundary(of:lengthAtLeast:)`.
    mutating func resumeBoundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary

    /// Decodes one whole frame, as delimited by `boundary(of:)`, and advances the decoder's state.
    mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame

    /// Calls `body` with the octets to hand over with the item `decode(frame:)` just returned for
    /// `frame`. By default `frame.extracting(decoded.bytes)`, in place; a dialect whose payloads are
    /// transformed on the wire (WebSocket masking, RFC 6455 §5.3) hands over the octets as the
    /// application sees them.
    mutating func withItemBytes<R, E: Error>(of frame: RawSpan, _ decoded: DecodedFrame,
                                             _ body: (RawSpan) throws(E) -> R) throws(E) -> R

    /// Decodes the frame at the front of `input` in one step if all of it is there: hands its item
    /// (if it has one) and octets to `body`, advances the state, and returns `.frame(length:)` with
    /// its length, at most `input.byteCount`. Otherwise hands nothing over, changes nothing, and
    /// returns `boundary(of: input)`'s answer (`.needMore`, or `.frame(length:)` past the end).
    /// `StreamDemuxer` calls it for every frame that starts in a chunk. Same items, octets and
    /// errors as `boundary(of:)`, `decode(frame:)` and `withItemBytes(of:_:_:)` in turn, which the
    /// default (`decodeFrontInSteps(of:_:)`) calls; a decoder implements it to read a frame's
    /// header once (HTTP/2 and envelope heartbeats). Throws before anything is handed over.
    mutating func decodeFront(of input: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError.Reason) -> FrameBoundary
}

extension StreamFrameDecoder {
    /// `boundary(of:)`: the hint is not needed.
    @inlinable
    public func boundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        try boundary(of: prefix)
    }

    /// `boundary(of:lengthAtLeast:)`: nothing is kept between calls.
    @inlinable
    public mutating func resumeBoundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        try boundary(of: prefix, lengthAtLeast: minimumLength)
    }

    /// The frame's own octets, in place.
    @inlinable
    public mutating func withItemBytes<R, E: Error>(of frame: RawSpan, _ decoded: DecodedFrame,
                                                    _ body: (RawSpan) throws(E) -> R) throws(E) -> R {
        try body(frame.extracting(decoded.bytes))
    }

    /// `decodeFrontInSteps(of:_:)`.
    @inlinable
    public mutating func decodeFront(of input: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError.Reason) -> FrameBoundary {
        try decodeFrontInSteps(of: input, body)
    }

    /// `decodeFront(of:_:)` as `boundary(of:)`, then `decode(frame:)` and `withItemBytes(of:_:_:)`
    /// on the frame if it is whole: the default, and the general path of a decoder whose own
    /// `decodeFront` takes a shortcut for some frames only.
    @inlinable
    public mutating func decodeFrontInSteps(of input: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError.Reason) -> FrameBoundary {
        let boundary = try self.boundary(of: input)
        guard case .frame(let length) = boundary, length <= input.byteCount else { return boundary }
        let frame = input.extracting(0..<length)
        let decoded = try decode(frame: frame)
        if let item = decoded.item { withItemBytes(of: frame, decoded) { body(item, $0) } }
        return boundary
    }
}
