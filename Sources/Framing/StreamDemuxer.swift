/// Splits a byte stream into heartbeats and business frames, incrementally: feed it chunks of any
/// size, one octet at a time included, and it reports exactly the items — and the error, at the
/// same offset — that decoding the whole stream at once would.
///
/// Frames that lie whole inside a chunk are handed over in place, without a copy. A frame split
/// across chunks is gathered in one internal buffer, its only copy, which never holds more than
/// one frame and never more than the decoder's `maxFrameLength`: a longer frame fails as soon as
/// its header is read. After a failure the demuxer stays failed and every call rethrows it.
///
/// ```swift
/// var demuxer = StreamDemuxer(HTTP2FrameDecoder(preface: .required))
/// try demuxer.feed(chunk) { item, bytes in
///     switch item {
///     case .ping(let payload): engine.receivedPing(payload, now: now)
///     case .pong(let payload): engine.receivedPong(payload, now: now)
///     case .business(let frame): application.receive(frame, bytes)
///     case .quicPing, .quicAck: break
///     }
/// }
/// ```
public struct StreamDemuxer<Decoder: StreamFrameDecoder>: Sendable {
    /// The dialect's decoder, with its state (open header block, preface seen).
    public var decoder: Decoder { _decoder }
    @usableFromInline var _decoder: Decoder
    /// The octets of the one frame that has begun but not ended; capacity kept between frames.
    @usableFromInline var pending: [UInt8] = []
    /// How many octets `pending` must hold before the decoder is asked again; 0 when empty.
    @usableFromInline var pendingTarget = 0
    /// Offset of the next frame's first octet since the first octet fed.
    public var offset: Int { _offset }
    @usableFromInline var _offset = 0
    /// The error that stopped the demuxer, if any.
    public var failure: FramingError? { _failure }
    @usableFromInline var _failure: FramingError?

    /// Buffers bigger than this are released once their frame is done, so that one large frame
    /// does not pin memory on an idle connection.
    @usableFromInline static var retainedCapacity: Int { 64 * 1024 }

    /// A demuxer that starts at the beginning of a stream.
    public init(_ decoder: Decoder) {
        self._decoder = decoder
    }

    /// Octets held for a frame that has not ended yet: at most `decoder.maxFrameLength`.
    public var bufferedByteCount: Int { pending.count }

    /// Whether the stream is between frames: nothing buffered, so it may end here.
    public var isAtFrameBoundary: Bool { pending.isEmpty && _failure == nil }

    /// Feeds the next chunk of the stream. `body` gets each item in order with its octets
    /// (see `DecodedFrame`), borrowed for the duration of the call.
    /// - Throws: the first framing error; items before it have been reported.
    @inlinable
    public mutating func feed(_ chunk: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        if let failure = _failure { throw failure }
        var index = 0
        if pendingTarget > 0 {
            guard try completePending(chunk, &index, body) else { return }
        }
        while index < chunk.byteCount {
            let rest = chunk.extracting(index...)
            let boundary: FrameBoundary
            do { boundary = try _decoder.boundary(of: rest) } catch { throw fail(error) }
            switch boundary {
            case .frame(let length) where length <= rest.byteCount:
                try emit(rest.extracting(0..<length), body)
                index += length
            case .frame(let length), .needMore(let length):
                try startPending(rest, target: length)
                return
            }
        }
    }

    /// Feeds the next chunk from an array; see `feed(_:_:)`.
    @inlinable
    public mutating func feed(_ chunk: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(chunk.span.bytes, body)
    }

    /// Declares the end of the stream.
    /// - Throws: `.truncated` at the start of the unfinished frame if the stream ended inside one.
    @inlinable
    public mutating func finish() throws(FramingError) {
        if let failure = _failure { throw failure }
        guard pending.isEmpty else { throw fail(.truncated) }
    }

    /// Gathers octets of the pending frame from `chunk`; true once it has been emitted.
    @inlinable
    mutating func completePending(_ chunk: RawSpan, _ index: inout Int, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) -> Bool {
        while true {
            let take = min(pendingTarget - pending.count, chunk.byteCount - index)
            pending.append(chunk.extracting(index..<(index + take)))
            index += take
            guard pending.count == pendingTarget else { return false }
            let boundary: FrameBoundary
            // The decoder's last answer was `.needMore(pendingTarget)` (or a longer `.frame`).
            // The buffer is moved out while the decoder (which may keep where its scan stopped) reads it.
            var gathered: [UInt8] = []
            swap(&gathered, &pending)
            let answer: Result<FrameBoundary, FramingError.Reason>
            do { answer = .success(try _decoder.resumeBoundary(of: gathered.span.bytes, lengthAtLeast: pendingTarget)) } catch { answer = .failure(error) }
            swap(&gathered, &pending)
            switch answer {
            case .success(let found): boundary = found
            case .failure(let error): throw fail(error)
            }
            switch boundary {
            case .frame(let length) where length == pending.count:
                // Move the buffer out so that it can be borrowed while `self` changes.
                var frame: [UInt8] = []
                swap(&frame, &pending)
                pendingTarget = 0
                try emit(frame.span.bytes, body)
                frame.removeAll(keepingCapacity: frame.capacity <= Self.retainedCapacity)
                swap(&frame, &pending)
                return true
            case .frame(let length), .needMore(let length):
                guard length > pending.count, length <= _decoder.maxFrameLength else {
                    preconditionFailure("\(Decoder.self) asked for \(length) octets with \(pending.count) buffered")
                }
                pendingTarget = length
                reservePending(length)
            }
        }
    }

    @inlinable
    mutating func startPending(_ rest: RawSpan, target: Int) throws(FramingError) {
        guard target > rest.byteCount, target <= _decoder.maxFrameLength else {
            preconditionFailure("\(Decoder.self) asked for \(target) octets with \(rest.byteCount) available")
        }
        reservePending(target, arriving: rest.byteCount)
        pending.append(rest)
        pendingTarget = target
    }

    /// Makes room for a pending frame of `target` octets, but reserves at most
    /// `retainedCapacity` octets beyond those in hand: a declared length is only the peer's word,
    /// so a header announcing a 16 MiB frame costs what the peer has sent, not what it promised.
    /// Past that, the buffer grows (geometrically) with the octets as they arrive. A decoder that
    /// asks for one octet at a time (a text line) grows it geometrically too — at most doubling,
    /// never past `maxFrameLength` — so that gathering a frame copies it an amortised constant
    /// number of times (`reserveCapacity` alone grows to exactly what is asked).
    @inlinable
    mutating func reservePending(_ target: Int, arriving: Int = 0) {
        let wanted = min(target, pending.count + arriving + Self.retainedCapacity)
        guard wanted > pending.capacity else { return }
        pending.reserveCapacity(max(wanted, min(2 * pending.capacity, _decoder.maxFrameLength)))
    }

    @inlinable
    mutating func emit(_ frame: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        let decoded: DecodedFrame
        do {
            decoded = try _decoder.decode(frame: frame)
        } catch {
            throw fail(error)
        }
        _offset += frame.byteCount
        if let item = decoded.item { _decoder.withItemBytes(of: frame, decoded) { body(item, $0) } }
    }

    @inlinable
    mutating func fail(_ reason: FramingError.Reason) -> FramingError {
        let error = FramingError(reason, dialect: Decoder.dialect,
                                 code: reason.ruleCode ?? Decoder.wireCode(for: reason), offset: _offset)
        _failure = error
        pending = []
        pendingTarget = 0
        return error
    }
}
