import AllocationCounting
import Framing
import Testing

/// A heartbeat costs no heap allocation to encode or to decode. (Skipped under the sanitizers,
/// whose allocators cannot be counted.)
@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct AllocationTests {
    static let roundTrips = 10_000

    @Test(arguments: Dialect.allCases)
    func heartbeatRoundTripsAllocateNothing(_ dialect: Dialect) throws {
        if let stream = DialectRegistry.framesOnlyDialect(dialect) {
            try streamRoundTripsAllocateNothing(stream)
        } else {
            try quicRoundTripsAllocateNothing()
        }
    }

    /// Each round trip: our encoder's PING and the PONG it would send, demuxed by the peer's view.
    func streamRoundTripsAllocateNothing<D: StreamDialect>(_ stream: D) throws {
        var encoder = stream.makeEncoder(role: .client, randomSeed: 7)
        // Payload-less pings (in order: MQTT) go one way and their pongs the other: read a capture.
        let inOrder = stream.liveness == .inOrder
        var demuxer = StreamDemuxer(stream.makeDecoder(role: inOrder ? nil : .server, maxFrameSize: nil))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2 * encoder.maxHeartbeatLength + 16)
        encoder.appendPreface(to: &buffer)
        try demuxer.feed(buffer) { _, _ in }
        var pings = 0, pongs = 0, mismatches = 0
        // A heartbeat that carries nothing (AMQP) reads back empty; a unilateral beat has no answer.
        let carriesPayload = stream.vocabulary.heartbeatsCarryPayload
        let answers: Bool
        if case .unilateral = stream.liveness { answers = false } else { answers = true }
        func roundTrip(_ index: Int) throws {
            let sequence = UInt32(truncatingIfNeeded: index)
            let sent = HeartbeatPayload(sequence: sequence, timestampMilliseconds: sequence &* 7)
            let payload = inOrder ? HeartbeatPayload.empty : sent
            buffer.removeAll(keepingCapacity: true)
            encoder.appendPing(sent, to: &buffer)
            payload.withOctets { encoder.appendPong(echoing: $0, to: &buffer) }
            try demuxer.feed(buffer) { item, _ in
                switch item {
                case .ping(let received): pings += 1; mismatches += received == (carriesPayload ? payload : .empty) ? 0 : 1
                case .pong(let received): pongs += 1; mismatches += received == (carriesPayload ? payload : .empty) ? 0 : 1
                default: mismatches += 1
                }
            }
        }
        // One round trip first: the Swift runtime instantiates type metadata lazily, once per
        // process, on first use. What is counted is the steady state.
        try roundTrip(0)
        let count = try allocations {
            for index in 1...Self.roundTrips { try roundTrip(index) }
        }
        #expect(count == 0, "\(count) allocations in \(Self.roundTrips) \(stream.dialect) round trips")
        #expect(pings == Self.roundTrips + 1 && pongs == (answers ? Self.roundTrips + 1 : 0))
        #expect(mismatches == 0)
    }

    func quicRoundTripsAllocateNothing() throws {
        let dialect = Dialect.quic
        var demuxer = Demuxer(dialect: dialect)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        if dialect == .envelope {
            EnvelopeFrame.appendPreface(to: &buffer)
            try demuxer.feed(buffer) { _, _ in }
        }
        var pings = 0
        var pongs = 0
        var mismatches = 0
        // One round trip first: the Swift runtime instantiates type metadata lazily, once per
        // process, on first use (6 allocations). What is counted is the steady state.
        buffer.removeAll(keepingCapacity: true)
        dialect.appendPing(HeartbeatPayload(rawValue: 0), to: &buffer)
        dialect.appendPong(HeartbeatPayload(rawValue: 0), to: &buffer)
        try demuxer.feed(buffer) { _, _ in }
        let count = try allocations {
            // An Int range: a debug build iterates other ranges through unspecialized generics, which allocate.
            for index in 0..<Self.roundTrips {
                let sequence = UInt32(truncatingIfNeeded: index)
                let payload = HeartbeatPayload(sequence: sequence, timestampMilliseconds: sequence &* 7)
                buffer.removeAll(keepingCapacity: true)
                dialect.appendPing(payload, to: &buffer)
                dialect.appendPong(payload, to: &buffer)
                try demuxer.feed(buffer) { item, _ in
                    switch item {
                    case .ping(let received): pings += 1; mismatches += received == payload ? 0 : 1
                    case .pong(let received): pongs += 1; mismatches += received == payload ? 0 : 1
                    case .quicPing: pings += 1
                    default: mismatches += 1
                    }
                }
            }
        }
        #expect(count == 0, "\(count) allocations in \(Self.roundTrips) \(dialect) round trips")
        #expect(pings == Self.roundTrips)
        #expect(pongs == (dialect == .quic ? 0 : Self.roundTrips))
        #expect(mismatches == 0)
    }

    @Test(arguments: [Dialect.envelope, .http2])
    func framesSplitAcrossChunksAllocateNothingOnceWarm(_ dialect: Dialect) throws {
        var demuxer = Demuxer(dialect: dialect)
        var stream: [UInt8] = []
        if dialect == .envelope { EnvelopeFrame.appendPreface(to: &stream) }
        let data = [UInt8](repeating: 0xab, count: 1000)
        for sequence in 0..<200 as Range<UInt32> {
            dialect.appendPing(HeartbeatPayload(sequence: sequence, timestampMilliseconds: 0), to: &stream)
            if dialect == .envelope {
                EnvelopeFrame.appendFrame(payload: data.span.bytes, to: &stream)
            } else {
                HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 1, payload: data.span.bytes, to: &stream)
            }
        }
        // Warm up: the first split frame reserves the buffer.
        let warmUp = 2000
        try demuxer.feed(Array(stream[..<warmUp])) { _, _ in }
        var items = 0
        let count = try allocations {
            var index = warmUp
            while index < stream.count {
                let end = min(index + 333, stream.count)
                try demuxer.feed(stream.span.bytes.extracting(index..<end)) { _, _ in items += 1 }
                index = end
            }
        }
        #expect(count == 0)
        #expect(items > 300)
    }

    /// Streaming mode: 16 KiB HTTP/2 DATA frames with a PING per 10, in 1,500-octet chunks, handed
    /// over in pieces; once the first split header has sized the buffer, nothing is allocated.
    @Test func streamedFramesAllocateNothingOnceWarm() throws {
        var stream: [UInt8] = []
        let data = [UInt8](repeating: 0x5a, count: 16_384)
        for index in 0..<100 as Range<UInt32> {
            HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 1, payload: data.span.bytes, to: &stream)
            if index % 10 == 9 { HTTP2Frame.appendPing(HeartbeatPayload(sequence: index, timestampMilliseconds: 0), ack: false, to: &stream) }
        }
        var demuxer = StreamDemuxer(HTTP2FrameDecoder())
        var payload = 0, pings = 0
        func feed(_ range: Range<Int>) throws {
            var index = range.lowerBound
            while index < range.upperBound {
                let end = min(index + 1_500, range.upperBound)
                try demuxer.feedStreaming(stream.span.bytes.extracting(index..<end)) { item, bytes in
                    switch item {
                    case .payload: payload += bytes.byteCount
                    case .whole(.ping): pings += 1
                    default: break
                    }
                }
                index = end
            }
        }
        let warmUp = 20 * 1_500
        try feed(0..<warmUp)
        let count = try allocations { try feed(warmUp..<stream.count) }
        try demuxer.finish()
        #expect(count == 0, "\(count) allocations streaming \(stream.count - warmUp) octets")
        #expect(payload == 100 * 16_384 && pings == 10)
    }

    /// Masked WebSocket frames of the largest default size are unmasked into the decoder's one
    /// reusable buffer: once warm, frame after frame, it is neither freed nor grown.
    @Test func maximumSizeMaskedWebSocketFramesAllocateNothingOnceWarm() throws {
        var encoder = WebSocketFrameEncoder(role: .client, randomSeed: 3, performsHandshake: false)
        var demuxer = StreamDemuxer(WebSocketFrameDecoder(role: .server))
        let payload = (0..<WebSocketFrame.defaultMaxFrameSize).map { UInt8(truncatingIfNeeded: $0) }
        let frames: [[UInt8]] = (0..<21).map { _ in
            var frame: [UInt8] = []
            encoder.appendData(payload.span.bytes, type: nil, to: &frame)
            return frame
        }
        var delivered = 0, mismatches = 0
        func feed(_ frame: [UInt8]) throws {
            try demuxer.feed(frame.span.bytes) { item, bytes in
                delivered += 1
                if item != .business(BusinessFrame(type: 2, flags: 0x80, length: payload.count)) || bytes.byteCount != payload.count
                    || bytes.unsafeLoad(fromByteOffset: 65_535, as: UInt8.self) != 0xFF { mismatches += 1 }
            }
        }
        try feed(frames[0])
        let count = try allocations {
            for index in 1..<frames.count { try feed(frames[index]) }
        }
        #expect(count == 0, "\(count) allocations in \(frames.count - 1) masked 64 KiB frames")
        #expect(delivered == frames.count && mismatches == 0)
    }
}
