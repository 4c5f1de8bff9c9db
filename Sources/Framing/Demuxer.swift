/// A demuxer for a dialect chosen at run time: the TCP envelope and HTTP/2 as byte streams
/// (`StreamDemuxer`), QUIC as packets (`QUICPacketDemuxer`). For the stream dialects `feed` takes
/// chunks of any size; for QUIC each `feed` is one whole packet payload.
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
        case envelope(StreamDemuxer<EnvelopeFrameDecoder>)
        case http2(StreamDemuxer<HTTP2FrameDecoder>)
        case quic(QUICPacketDemuxer)
    }

    private var storage: Storage

    /// A demuxer for the envelope.
    public init(_ decoder: EnvelopeFrameDecoder) { storage = .envelope(StreamDemuxer(decoder)) }
    /// A demuxer for HTTP/2.
    public init(_ decoder: HTTP2FrameDecoder) { storage = .http2(StreamDemuxer(decoder)) }
    /// A demuxer for QUIC packet payloads.
    public init(_ demuxer: QUICPacketDemuxer) { storage = .quic(demuxer) }

    /// A demuxer for `dialect` with its defaults: the envelope expects its preface, HTTP/2 skips a
    /// client preface if present, both with a 16,384-octet maximum frame size unless `maxFrameSize` says otherwise.
    public init(dialect: Dialect, maxFrameSize: Int? = nil) {
        switch dialect {
        case .envelope: self.init(EnvelopeFrameDecoder(maxFrameSize: maxFrameSize ?? EnvelopeFrame.defaultMaxFrameSize))
        case .http2: self.init(HTTP2FrameDecoder(maxFrameSize: maxFrameSize ?? HTTP2Frame.defaultMaxFrameSize, preface: .optional))
        case .quic: self.init(QUICPacketDemuxer())
        }
    }

    /// The dialect being demultiplexed.
    public var dialect: Dialect {
        switch storage {
        case .envelope: return .envelope
        case .http2: return .http2
        case .quic: return .quic
        }
    }

    /// Octets held for a frame that has not ended yet (always 0 for QUIC).
    public var bufferedByteCount: Int {
        switch storage {
        case .envelope(let demuxer): return demuxer.bufferedByteCount
        case .http2(let demuxer): return demuxer.bufferedByteCount
        case .quic: return 0
        }
    }

    /// Offset of the next frame's first octet since the first octet fed.
    public var offset: Int {
        switch storage {
        case .envelope(let demuxer): return demuxer.offset
        case .http2(let demuxer): return demuxer.offset
        case .quic(let demuxer): return demuxer.offset
        }
    }

    /// The error that stopped the demuxer, if any.
    public var failure: FramingError? {
        switch storage {
        case .envelope(let demuxer): return demuxer.failure
        case .http2(let demuxer): return demuxer.failure
        case .quic(let demuxer): return demuxer.failure
        }
    }

    /// Feeds a chunk of the stream, or one QUIC packet payload; see `StreamDemuxer.feed(_:_:)`.
    public mutating func feed(_ bytes: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        // Each case moves its demuxer out of `storage` before mutating it, so that its buffer
        // stays uniquely referenced and is never copied.
        switch storage {
        case .envelope(var demuxer):
            storage = .quic(QUICPacketDemuxer())
            defer { storage = .envelope(demuxer) }
            try demuxer.feed(bytes, body)
        case .http2(var demuxer):
            storage = .quic(QUICPacketDemuxer())
            defer { storage = .http2(demuxer) }
            try demuxer.feed(bytes, body)
        case .quic(var demuxer):
            defer { storage = .quic(demuxer) }
            try demuxer.feed(packet: bytes, body)
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
        case .envelope(var demuxer):
            storage = .quic(QUICPacketDemuxer())
            defer { storage = .envelope(demuxer) }
            try demuxer.finish()
        case .http2(var demuxer):
            storage = .quic(QUICPacketDemuxer())
            defer { storage = .http2(demuxer) }
            try demuxer.finish()
        case .quic(let demuxer):
            if let failure = demuxer.failure { throw failure }
        }
    }
}
