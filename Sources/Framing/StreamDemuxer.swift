/// Splits a byte stream into heartbeats and business frames, incrementally: feed it chunks of any
/// size, one octet at a time included, and it reports exactly the items — and the error, at the
/// same offset — that decoding the whole stream at once would.
///
/// Frames that lie whole inside a chunk are handed over in place, without a copy. A frame split
/// across chunks is gathered in one internal, cache-line-aligned buffer by a plain copy of each
/// chunk's share, its only copy; the buffer never holds more than one frame and never more than
/// the decoder's `maxFrameLength`: a longer frame fails as soon as its header is read. After a
/// failure the demuxer stays failed and every call rethrows it.
///
/// `feedStreaming(_:_:)` is the opt-in alternative for decoders that can decode a frame from its
/// header (`StreamingFrameDecoder`): a business frame that does not fit in its chunk is handed
/// over in pieces as they arrive, so nothing large is gathered. Feed one demuxer in one mode only.
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
    /// Where the one frame that has begun but not ended is gathered; allocated by the first split
    /// frame, kept between frames up to `retainedCapacity` octets.
    @usableFromInline var gather: GatherBuffer?
    /// Octets of the pending frame in `gather`.
    @usableFromInline var gatheredCount = 0
    /// How many octets must be gathered before the decoder is asked again; 0 when none pending.
    @usableFromInline var pendingTarget = 0
    /// Payload octets of the frame being streamed that are still to come; 0 when none is open.
    @usableFromInline var streamedRemaining = 0
    /// Length, header included, of the frame being streamed.
    @usableFromInline var streamedLength = 0
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

    /// Octets held for a frame that has not ended yet: at most `decoder.maxFrameLength` (none for
    /// a frame being streamed).
    public var bufferedByteCount: Int { gatheredCount }

    /// Whether the stream is between frames: nothing buffered or streaming, so it may end here.
    public var isAtFrameBoundary: Bool { gatheredCount == 0 && streamedRemaining == 0 && _failure == nil }

    /// Feeds the next chunk of the stream. `body` gets each item in order with its octets
    /// (see `DecodedFrame`), borrowed for the duration of the call.
    /// - Throws: the first framing error; items before it have been reported.
    @inlinable
    public mutating func feed(_ chunk: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        precondition(streamedRemaining == 0, "feed(_:_:) on a demuxer streaming a frame; keep to feedStreaming(_:_:)")
        try demux(chunk, streams: false, streamHeader: { _, _, _ in nil }, whole: body, pieces: { _, _ in })
    }

    /// Feeds the next chunk from an array; see `feed(_:_:)`.
    @inlinable
    public mutating func feed(_ chunk: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(chunk.span.bytes, body)
    }

    /// Declares the end of the stream.
    /// - Throws: `.truncated` at the start of the unfinished frame if the stream ended inside one
    ///   (gathered or streamed).
    @inlinable
    public mutating func finish() throws(FramingError) {
        if let failure = _failure { throw failure }
        guard gatheredCount == 0, streamedRemaining == 0 else { throw fail(.truncated) }
    }

    /// Decodes a streamed frame's header; see `StreamingFrameDecoder`.
    @usableFromInline
    typealias StreamHeaderDecoder = (inout Decoder, RawSpan, Int) throws(FramingError.Reason) -> StreamedFrameHeader?

    /// The one demultiplexing loop of both modes: `streams` false gathers every split frame. Whole
    /// items go to `whole`, the pieces of a streamed frame to `pieces`.
    @inlinable @inline(__always)
    mutating func demux(_ chunk: RawSpan, streams: Bool, streamHeader: StreamHeaderDecoder,
                        whole: (DemuxedItem, RawSpan) -> Void, pieces: (StreamedItem, RawSpan) -> Void) throws(FramingError) {
        if let failure = _failure { throw failure }
        var index = 0
        while index < chunk.byteCount {
            if streamedRemaining > 0 {
                guard continueStreamed(chunk, &index, pieces) else { return }
                continue
            }
            if pendingTarget > 0 {
                guard try completePending(chunk, &index, streams, streamHeader, whole, pieces) else { return }
                continue
            }
            // A frame that lies whole in the chunk is decoded in one step, in place.
            let rest = chunk.extracting(unchecked: index..<chunk.byteCount)
            let boundary: FrameBoundary
            do { boundary = try _decoder.decodeFront(of: rest, whole) } catch { throw fail(error) }
            switch boundary {
            case .frame(let length) where length <= rest.byteCount:
                _offset += length
                index += length
            case .frame(let length):
                if streams, try startStreamed(rest, frameLength: length, streamHeader, pieces) {
                    return
                }
                try startPending(rest, target: length)
                return
            case .needMore(let length):
                try startPending(rest, target: length)
                return
            }
        }
    }

    /// Hands over the streamed frame's next octets from `chunk`; true once its end is reported.
    @inlinable
    mutating func continueStreamed(_ chunk: RawSpan, _ index: inout Int, _ body: (StreamedItem, RawSpan) -> Void) -> Bool {
        let take = min(streamedRemaining, chunk.byteCount - index)
        if take > 0 { body(.payload, chunk.extracting(index..<(index + take))) }
        index += take
        streamedRemaining -= take
        guard streamedRemaining == 0 else { return false }
        _offset += streamedLength
        streamedLength = 0
        body(.frameEnd, chunk.extracting(index..<index))
        return true
    }

    /// Starts streaming the frame at the front of `prefix` if the decoder can; true if it did.
    @inlinable
    mutating func startStreamed(_ prefix: RawSpan, frameLength: Int, _ streamHeader: StreamHeaderDecoder,
                                _ body: (StreamedItem, RawSpan) -> Void) throws(FramingError) -> Bool {
        let decoded: StreamedFrameHeader?
        do { decoded = try streamHeader(&_decoder, prefix, frameLength) } catch { throw fail(error) }
        guard let header = decoded else { return false }
        guard header.payloadStart >= 0, header.payloadStart <= prefix.byteCount, prefix.byteCount < frameLength else {
            preconditionFailure("\(Decoder.self) streamed a frame of \(frameLength) octets from \(header.payloadStart) with \(prefix.byteCount) in hand")
        }
        body(.frameStart(header.frame), prefix.extracting(0..<0))
        if header.payloadStart < prefix.byteCount { body(.payload, prefix.extracting(header.payloadStart...)) }
        streamedLength = frameLength
        streamedRemaining = frameLength - prefix.byteCount
        return true
    }

    /// Gathers octets of the pending frame from `chunk`; true once it has been emitted whole, or
    /// has started streaming; false when `chunk` ran out first.
    @inlinable
    mutating func completePending(_ chunk: RawSpan, _ index: inout Int, _ streams: Bool, _ streamHeader: StreamHeaderDecoder,
                                  _ whole: (DemuxedItem, RawSpan) -> Void, _ pieces: (StreamedItem, RawSpan) -> Void) throws(FramingError) -> Bool {
        while true {
            let take = min(pendingTarget - gatheredCount, chunk.byteCount - index)
            appendGathered(chunk.extracting(index..<(index + take)))
            index += take
            guard gatheredCount == pendingTarget else { return false }
            // Borrowed from the buffer, which stays in place until the frame is done: a failure,
            // which releases it, comes after the decoder's last look at these octets.
            let start = UnsafeRawPointer(gather.unsafelyUnwrapped.base)
            let gathered = RawSpan(_unsafeStart: start, byteCount: gatheredCount)
            // The decoder's last answer was `.needMore(pendingTarget)` (or a longer `.frame`).
            let boundary: FrameBoundary
            do { boundary = try _decoder.resumeBoundary(of: gathered, lengthAtLeast: pendingTarget) } catch { throw fail(error) }
            let length: Int
            switch boundary {
            case .frame(let frameLength):
                if frameLength == gatheredCount {
                    pendingTarget = 0
                    gatheredCount = 0
                    try emit(gathered, whole)
                    releaseIfLarge()
                    return true
                }
                if streams, try startStreamed(gathered, frameLength: frameLength, streamHeader, pieces) {
                    pendingTarget = 0
                    gatheredCount = 0
                    releaseIfLarge()
                    return true
                }
                length = frameLength
            case .needMore(let needed):
                length = needed
            }
            guard length > gatheredCount, length <= _decoder.maxFrameLength else {
                preconditionFailure("\(Decoder.self) asked for \(length) octets with \(gatheredCount) buffered")
            }
            pendingTarget = length
            reserveGathered(length, arriving: chunk.byteCount - index)
        }
    }

    @inlinable
    mutating func startPending(_ rest: RawSpan, target: Int) throws(FramingError) {
        guard target > rest.byteCount, target <= _decoder.maxFrameLength else {
            preconditionFailure("\(Decoder.self) asked for \(target) octets with \(rest.byteCount) available")
        }
        reserveGathered(target, arriving: rest.byteCount)
        appendGathered(rest)
        pendingTarget = target
    }

    /// Copies `octets` after the gathered ones: one `memcpy`, after a capacity and uniqueness check.
    @inlinable @inline(__always)
    mutating func appendGathered(_ octets: RawSpan) {
        let needed = gatheredCount + octets.byteCount
        if _slowPath(!isKnownUniquelyReferenced(&gather) || needed > gather.unsafelyUnwrapped.capacity) {
            growGathered(to: needed)
        }
        octets.withUnsafeBytes { source in
            guard let start = source.baseAddress else { return }
            (gather.unsafelyUnwrapped.base + gatheredCount).copyMemory(from: start, byteCount: source.count)
        }
        gatheredCount = needed
    }

    /// Makes room for a pending frame of `target` octets, but reserves at most
    /// `retainedCapacity` octets beyond those in hand: a declared length is only the peer's word,
    /// so a header announcing a 16 MiB frame costs what the peer has sent, not what it promised.
    /// Past that, the buffer grows (geometrically) with the octets as they arrive.
    @inlinable
    mutating func reserveGathered(_ target: Int, arriving: Int) {
        let wanted = min(target, gatheredCount + arriving + Self.retainedCapacity)
        if let gather, wanted <= gather.capacity { return }
        growGathered(to: wanted)
    }

    /// Replaces the buffer by a uniquely referenced one of at least `needed` octets holding the
    /// gathered ones. It grows at least geometrically — never past `maxFrameLength` — so that a
    /// decoder that asks for one octet at a time (a text line) copies a frame an amortised
    /// constant number of times.
    @usableFromInline
    mutating func growGathered(to needed: Int) {
        guard let old = gather else {
            gather = GatherBuffer(capacity: needed)
            return
        }
        let capacity = needed <= old.capacity ? old.capacity : max(needed, min(2 * old.capacity, _decoder.maxFrameLength))
        gather = old.resized(to: capacity, keeping: gatheredCount)
    }

    /// Frees a buffer grown past `retainedCapacity` once its frame is done.
    @inlinable
    mutating func releaseIfLarge() {
        if let gather, gather.capacity > Self.retainedCapacity { self.gather = nil }
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
        gather = nil
        gatheredCount = 0
        pendingTarget = 0
        streamedRemaining = 0
        streamedLength = 0
        return error
    }
}

extension StreamDemuxer where Decoder: StreamingFrameDecoder {
    /// Feeds the next chunk of the stream in streaming mode: items as `feed(_:_:)` reports them,
    /// wrapped in `.whole`, except that a business frame the decoder can decode from its header
    /// (`StreamingFrameDecoder`) and that does not fit in the chunk where it starts is handed over
    /// in pieces — `.frameStart`, `.payload` as its octets arrive, `.frameEnd` — with nothing
    /// gathered. The same items in the same order and the same errors at the same offsets as
    /// `feed(_:_:)`, once the pieces are put together; octets borrowed for the call only.
    /// - Throws: the first framing error; items before it have been reported.
    @inlinable
    public mutating func feedStreaming(_ chunk: RawSpan, _ body: (StreamedItem, RawSpan) -> Void) throws(FramingError) {
        try demux(chunk, streams: true, streamHeader: { (decoder: inout Decoder, prefix: RawSpan, length: Int) throws(FramingError.Reason) in
            try decoder.decodeStreamedHeader(of: prefix, frameLength: length)
        }, whole: { body(.whole($0), $1) }, pieces: body)
    }

    /// Feeds the next chunk from an array in streaming mode; see `feedStreaming(_:_:)`.
    @inlinable
    public mutating func feedStreaming(_ chunk: [UInt8], _ body: (StreamedItem, RawSpan) -> Void) throws(FramingError) {
        try feedStreaming(chunk.span.bytes, body)
    }
}
