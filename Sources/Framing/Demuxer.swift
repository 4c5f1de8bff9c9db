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
public struct Demuxer: Sendable {
    private enum Storage: Sendable {
        case builtIn(BuiltInDemuxer)
        case other(any DemuxerBase)
    }
    private var storage: Storage

    /// The dialect being demultiplexed.
    public let dialect: Dialect

    /// A demuxer over a stream dialect's decoder.
    public init<Decoder: StreamFrameDecoder>(_ decoder: Decoder) {
        storage = BuiltInDemuxer(decoder).map(Storage.builtIn) ?? .other(StreamDemuxer(decoder))
        dialect = Decoder.dialect
    }

    /// A demuxer for QUIC packet payloads.
    public init(_ demuxer: QUICPacketDemuxer) {
        storage = .builtIn(.quic(demuxer))
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
    public var bufferedByteCount: Int {
        switch storage {
        case .builtIn(let demuxer): return demuxer.bufferedByteCount
        case .other(let demuxer): return demuxer.bufferedByteCount
        }
    }

    /// Offset of the next frame's first octet since the first octet fed.
    public var offset: Int {
        switch storage {
        case .builtIn(let demuxer): return demuxer.offset
        case .other(let demuxer): return demuxer.offset
        }
    }

    /// The error that stopped the demuxer, if any.
    public var failure: FramingError? {
        switch storage {
        case .builtIn(let demuxer): return demuxer.failure
        case .other(let demuxer): return demuxer.failure
        }
    }

    /// Whether the input is a stream (chunks) rather than packets.
    public var isStream: Bool {
        switch storage {
        case .builtIn(let demuxer): return demuxer.isStream
        case .other(let demuxer): return demuxer.isStream
        }
    }

    /// Feeds a chunk of the stream, or one QUIC packet payload; see `StreamDemuxer.feed(_:_:)`.
    public mutating func feed(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        // The demuxer is moved out of `storage` while it is fed, so that its buffer stays uniquely
        // referenced and is never copied.
        switch storage {
        case .builtIn(var demuxer):
            storage = .builtIn(.placeholder)
            defer { storage = .builtIn(demuxer) }
            try demuxer.feed(bytes, body)
        case .other(var demuxer):
            storage = .builtIn(.placeholder)
            defer { storage = .other(demuxer) }
            try demuxer.feedAny(bytes, body)
        }
    }

    /// Feeds bytes held in an array; see `feed(_:_:)`.
    public mutating func feed(_ bytes: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(bytes.span.bytes, body)
    }

    /// Declares the end of the input.
    /// - Throws: `.truncated` if a stream ended inside a frame, or the earlier failure.
    public mutating func finish() throws(FramingError) {
        switch storage {
        case .builtIn(var demuxer):
            storage = .builtIn(.placeholder)
            defer { storage = .builtIn(demuxer) }
            try demuxer.finish()
        case .other(var demuxer):
            storage = .builtIn(.placeholder)
            defer { storage = .other(demuxer) }
            try demuxer.finishAny()
        }
    }
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
