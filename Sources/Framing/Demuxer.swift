/// A demuxer for a dialect chosen at run time: any stream dialect (`StreamDemuxer` over its
/// decoder) or QUIC packets (`QUICPacketDemuxer`). For stream dialects `feed` takes chunks of any
/// size; for QUIC each `feed` is one whole packet payload. A built-in dialect's demuxer is held by
/// its concrete type (`DialectRegistry`), so each `feed` costs one branch and the per-frame work
/// is that dialect's specialised code; any other dialect's costs one dynamic call per `feed`.
///
/// ```swift
/// var demuxer = Demuxer(dialect: .envelope)
/// for chunk in chunks {
///     try demuxer.feed(chunk) { item, bytes in
///         if case .business(let frame) = item, frame.type == EnvelopeFrame.FrameType.data {
///             deliver(bytes)          // borrowed: copy it if you keep it
///         }
///     }
/// }
/// try demuxer.finish()                // throws .truncated if the stream stopped inside a frame
/// ```
public struct Demuxer: @unchecked Sendable {
    // The demuxer lives in a box of its own, copied on write (so `Demuxer` keeps value
    // semantics and is Sendable: a box is only mutated while uniquely referenced). `feed`
    // mutates it in place: nothing is moved out and back. A built-in dialect's box is read by its
    // concrete type (`kind`), so each `feed` costs one branch and runs that dialect's
    // specialised per-frame code; any other dialect's costs one dynamic call per `feed`.
    private var kind: DemuxerKind
    private var box: DemuxerBox

    /// The dialect being demultiplexed.
    public let dialect: Dialect

    /// A demuxer over a stream dialect's decoder.
    public init<Decoder: StreamFrameDecoder>(_ decoder: Decoder) {
        kind = DemuxerKind(Decoder.self)
        box = TypedDemuxerBox(StreamDemuxer(decoder))
        dialect = Decoder.dialect
    }

    /// A demuxer for QUIC packet payloads.
    public init(_ demuxer: QUICPacketDemuxer) {
        kind = .quic
        box = TypedDemuxerBox(demuxer)
        dialect = .quic
    }

    /// A demuxer for a stream dialect, decoding what the peer sends to `role` (nil: a capture, see
    /// `StreamDialect.makeDecoder(role:maxFrameSize:)`).
    public init<D: StreamDialect>(_ streamDialect: D, role: ConnectionRole? = nil, maxFrameSize: Int? = nil) {
        self.init(streamDialect.makeDecoder(role: role, maxFrameSize: maxFrameSize))
    }

    /// A demuxer for a built-in dialect with its capture defaults: the envelope expects its
    /// preface, HTTP/2 skips a client preface if present, WebSocket takes an opening handshake if
    /// the capture starts with one and then reads frames as a client does (unmasked) unless `role`
    /// says otherwise, all with their default maximum frame size unless `maxFrameSize` says otherwise. A dialect the registry does not know is a
    /// programming error.
    public init(dialect: Dialect, maxFrameSize: Int? = nil, role: ConnectionRole? = nil) {
        self = DialectRegistry.demuxer(for: dialect, role: role, maxFrameSize: maxFrameSize)
    }

    /// Octets held for a frame that has not ended yet (always 0 for QUIC).
    public var bufferedByteCount: Int { box.bufferedByteCount }

    /// Offset of the next frame's first octet since the first octet fed.
    public var offset: Int { box.offset }

    /// The error that stopped the demuxer, if any.
    public var failure: FramingError? { box.failure }

    /// Whether the input is a stream (chunks) rather than packets.
    public var isStream: Bool { kind != .quic }

    /// `box`, by its concrete type, for a built-in `kind`.
    @inline(__always)
    private static func stream<Decoder: StreamFrameDecoder>(_ box: DemuxerBox, _: Decoder.Type) -> TypedDemuxerBox<StreamDemuxer<Decoder>> {
        unsafeDowncast(box, to: TypedDemuxerBox<StreamDemuxer<Decoder>>.self)
    }

    /// Feeds a chunk of the stream, or one QUIC packet payload; see `StreamDemuxer.feed(_:_:)`.
    public mutating func feed(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        let kind = self.kind
        // `self` holds the box for the whole call: it is fed without a retain and release (which
        // cost a QUIC packet a third of its instructions).
        let failure = Unmanaged.passUnretained(box)._withUnsafeGuaranteedRef { box -> FramingError? in
            do throws(FramingError) {
                switch kind {
                case .envelope: try Self.stream(box, EnvelopeFrameDecoder.self).demuxer.feed(bytes, body)
                case .http2: try Self.stream(box, HTTP2FrameDecoder.self).demuxer.feed(bytes, body)
                case .webSocket: try Self.stream(box, WebSocketFrameDecoder.self).demuxer.feed(bytes, body)
                case .tls: try Self.stream(box, TLSRecordDecoder.self).demuxer.feed(bytes, body)
                case .mqtt: try Self.stream(box, MQTTPacketDecoder.self).demuxer.feed(bytes, body)
                case .amqp: try Self.stream(box, AMQPFrameDecoder.self).demuxer.feed(bytes, body)
                case .resp: try Self.stream(box, RESPFrameDecoder.self).demuxer.feed(bytes, body)
                case .lines: try Self.stream(box, LinesFrameDecoder.self).demuxer.feed(bytes, body)
                case .quic: try unsafeDowncast(box, to: TypedDemuxerBox<QUICPacketDemuxer>.self).demuxer.feed(packet: bytes, body)
                case .other: try box.feedAny(bytes, body)
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Feeds bytes held in an array; see `feed(_:_:)`.
    public mutating func feed(_ bytes: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(bytes.span.bytes, body)
    }

    /// Declares the end of the input.
    /// - Throws: `.truncated` if a stream ended inside a frame, or the earlier failure.
    public mutating func finish() throws(FramingError) {
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        try box.finishAny()
    }
}

/// Which concrete demuxer a `Demuxer`'s box holds.
enum DemuxerKind: UInt8, Sendable {
    case envelope, http2, webSocket, tls, mqtt, amqp, resp, lines, quic, other

    /// The kind of `StreamDemuxer<Decoder>`: a built-in decoder's, or `.other`.
    init<Decoder: StreamFrameDecoder>(_: Decoder.Type) {
        switch Decoder.self {
        case is EnvelopeFrameDecoder.Type: self = .envelope
        case is HTTP2FrameDecoder.Type: self = .http2
        case is WebSocketFrameDecoder.Type: self = .webSocket
        case is TLSRecordDecoder.Type: self = .tls
        case is MQTTPacketDecoder.Type: self = .mqtt
        case is AMQPFrameDecoder.Type: self = .amqp
        case is RESPFrameDecoder.Type: self = .resp
        case is LinesFrameDecoder.Type: self = .lines
        default: self = .other
        }
    }
}

/// A `Demuxer`'s demuxer, boxed so that it is fed in place. The base class answers through the
/// typed subclass's overrides (dynamic calls, for anything but the hot path).
class DemuxerBox {
    var bufferedByteCount: Int { preconditionFailure("abstract") }
    var offset: Int { preconditionFailure("abstract") }
    var failure: FramingError? { preconditionFailure("abstract") }
    func copy() -> DemuxerBox { preconditionFailure("abstract") }
    func feedAny(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) { preconditionFailure("abstract") }
    func finishAny() throws(FramingError) { preconditionFailure("abstract") }
}

final class TypedDemuxerBox<Wrapped: DemuxerBase>: DemuxerBox {
    // Only mutated through a uniquely referenced box, by one caller at a time (`Demuxer` is a value).
    @exclusivity(unchecked) var demuxer: Wrapped

    init(_ demuxer: Wrapped) { self.demuxer = demuxer }

    override var bufferedByteCount: Int { demuxer.bufferedByteCount }
    override var offset: Int { demuxer.offset }
    override var failure: FramingError? { demuxer.failure }
    override func copy() -> DemuxerBox { TypedDemuxerBox(demuxer) }
    override func feedAny(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try demuxer.feedAny(bytes, body)
    }
    override func finishAny() throws(FramingError) { try demuxer.finishAny() }
}

/// What `Demuxer` needs of the demuxer it wraps.
protocol DemuxerBase: Sendable {
    var bufferedByteCount: Int { get }
    var offset: Int { get }
    var failure: FramingError? { get }
    var isStream: Bool { get }
    mutating func feedAny(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError)
    mutating func finishAny() throws(FramingError)
}

extension StreamDemuxer: DemuxerBase {
    var isStream: Bool { true }
    mutating func feedAny(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(bytes, body)
    }
    mutating func finishAny() throws(FramingError) { try finish() }
}

extension QUICPacketDemuxer: DemuxerBase {
    var bufferedByteCount: Int { 0 }
    var isStream: Bool { false }
    mutating func feedAny(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(packet: bytes, body)
    }
    mutating func finishAny() throws(FramingError) {
        if let failure { throw failure }
    }
}
