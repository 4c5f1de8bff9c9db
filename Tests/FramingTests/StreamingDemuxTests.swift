import Framing
import Testing

/// Streaming mode (`StreamDemuxer.feedStreaming`) against whole-frame mode (`feed`): on random
/// streams of every stream dialect, valid and corrupted, cut into random chunks, the items put
/// together from the pieces and the error (with its offset) are the same.
@Suite struct StreamingDemuxTests {
    /// Whole-frame items and error of `chunks`.
    static func whole<Decoder: StreamFrameDecoder>(_ decoder: Decoder, _ chunks: [[UInt8]]) -> (items: [Received], error: FramingError?) {
        var demuxer = StreamDemuxer(decoder)
        var items: [Received] = []
        do {
            for chunk in chunks { try demuxer.feed(chunk) { item, bytes in items.append(Received(item, bytes)) } }
            try demuxer.finish()
            return (items, nil)
        } catch {
            return (items, error)
        }
    }

    /// Streaming items of `chunks`, each streamed frame put together from its pieces (an
    /// unfinished one dropped), the error, and how many frames came in pieces.
    static func streamed<Decoder: StreamingFrameDecoder>(_ decoder: Decoder, _ chunks: [[UInt8]]) -> (items: [Received], error: FramingError?, pieced: Int) {
        var demuxer = StreamDemuxer(decoder)
        var items: [Received] = []
        var open: (frame: BusinessFrame, bytes: [UInt8])?
        var pieced = 0
        do {
            for chunk in chunks {
                try demuxer.feedStreaming(chunk) { item, bytes in
                    switch item {
                    case .whole(let whole):
                        #expect(open == nil, "a whole item inside a streamed frame")
                        items.append(Received(whole, bytes))
                    case .frameStart(let frame):
                        #expect(open == nil && bytes.byteCount == 0)
                        open = (frame, [])
                    case .payload:
                        #expect(open != nil && bytes.byteCount > 0)
                        bytes.withUnsafeBytes { open?.bytes.append(contentsOf: $0) }
                    case .frameEnd:
                        guard let frame = open else { Issue.record("an end with no frame open"); return }
                        #expect(frame.bytes.count == frame.frame.length)
                        items.append(Received(.business(frame.frame), frame.bytes))
                        open = nil
                        pieced += 1
                    }
                }
            }
            try demuxer.finish()
            #expect(open == nil)
            return (items, nil, pieced)
        } catch {
            return (items, error, pieced)
        }
    }

    /// A random stream: the encoder's preface, then pings, pongs and business frames of up to
    /// `largest` octets, in random order.
    static func stream<D: StreamDialect>(_ dialect: D, role: ConnectionRole, largest: Int, _ random: inout SeededRandom) -> [UInt8] {
        var encoder = dialect.makeEncoder(role: role, randomSeed: random.next())
        var bytes: [UInt8] = []
        encoder.appendPreface(to: &bytes)
        for index in 0..<Int.random(in: 1...40, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: encoder.appendPing(HeartbeatPayload(sequence: UInt32(index), timestampMilliseconds: 9), to: &bytes)
            case 1: HeartbeatPayload(sequence: UInt32(index), timestampMilliseconds: 3).withOctets { encoder.appendPong(echoing: $0, to: &bytes) }
            default:
                let payload = random.bytes(Int.random(in: 0...min(largest, encoder.maxDataPayload), using: &random))
                if D.self == HTTP2Dialect.self {
                    HTTP2Frame.appendFrame(type: [0, 0, 0, 0x42].randomElement(using: &random)!, streamID: 1, payload: payload.span.bytes, to: &bytes)
                } else {
                    encoder.appendData(payload.span.bytes, type: nil, to: &bytes)
                }
            }
        }
        return bytes
    }

    /// Both modes on `rounds` random streams of `dialect`, a third of them corrupted.
    static func differential<D: StreamDialect>(_ dialect: D, seed: UInt64, rounds: Int = 60, roles: [ConnectionRole] = [.server, .client],
                                               decoder: (D) -> D.Decoder) -> Int where D.Decoder: StreamingFrameDecoder {
        var random = SeededRandom(seed: seed)
        var pieced = 0
        for round in 0..<rounds {
            var bytes = stream(dialect, role: roles[round % roles.count], largest: [100, 3_000, 20_000][round % 3], &random)
            if round % 3 == 2, !bytes.isEmpty {
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                if Bool.random(using: &random) { bytes.removeLast(Int.random(in: 0...min(5, bytes.count), using: &random)) }
            }
            let chunks = random.chunks(of: bytes)
            let reference = whole(decoder(dialect), chunks)
            let (items, error, streamedFrames) = streamed(decoder(dialect), chunks)
            pieced += streamedFrames
            #expect(items == reference.items, "\(D.self) round \(round): items differ")
            #expect(error == reference.error, "\(D.self) round \(round): \(String(describing: error)) != \(String(describing: reference.error))")
            // The same stream whole in one chunk streams nothing.
            #expect(streamed(decoder(dialect), [bytes]).pieced == 0)
        }
        return pieced
    }

    @Test func http2() {
        let pieced = Self.differential(HTTP2Dialect(), seed: 1) { _ in HTTP2FrameDecoder(preface: .optional) }
        #expect(pieced > 100, "only \(pieced) frames came in pieces")
    }

    @Test func envelope() {
        #expect(Self.differential(EnvelopeDialect(), seed: 2) { $0.makeDecoder(role: nil, maxFrameSize: nil) } > 100)
    }

    @Test func webSocket() {
        // A capture reads both directions: masked client frames come whole, unmasked server frames in pieces.
        #expect(Self.differential(WebSocketDialect(performsHandshake: false), seed: 3) { _ in
            WebSocketFrameDecoder(role: nil, handshake: .none)
        } > 50)
    }

    @Test func tls() {
        #expect(Self.differential(TLSDialect(), seed: 4) { $0.makeDecoder(role: nil, maxFrameSize: nil) } > 100)
    }

    @Test func mqtt() {
        #expect(Self.differential(MQTTDialect(performsConnect: false), seed: 5) { $0.makeDecoder(role: nil, maxFrameSize: nil) } > 100)
    }

    @Test func dialectsThatGatherEverything() {
        #expect(Self.differential(AMQPDialect(performsHandshake: false), seed: 6) { $0.makeDecoder(role: nil, maxFrameSize: nil) } == 0)
        #expect(Self.differential(RESPDialect(), seed: 7) { $0.makeDecoder(role: nil, maxFrameSize: nil) } == 0)
        #expect(Self.differential(LinesDialect(), seed: 8) { $0.makeDecoder(role: nil, maxFrameSize: nil) } == 0)
    }

    /// A frame longer than the buffer's retained capacity streams with nothing buffered, and a
    /// stream that ends inside it is truncated at its first octet, as in whole-frame mode.
    @Test func largeFrameStreamsWithNothingBufferedAndTruncatesAtItsStart() throws {
        var bytes: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(sequence: 1, timestampMilliseconds: 2), ack: false, to: &bytes)
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 3, payload: payload.span.bytes, to: &bytes)
        var demuxer = StreamDemuxer(HTTP2FrameDecoder(maxFrameSize: 1 << 20))
        var received = 0, largestBuffer = 0
        var index = 0
        while index < bytes.count - 1 {
            let end = min(index + 1_500, bytes.count - 1)
            try demuxer.feedStreaming(bytes.span.bytes.extracting(index..<end)) { item, piece in
                if case .payload = item { received += piece.byteCount }
            }
            largestBuffer = max(largestBuffer, demuxer.bufferedByteCount)
            index = end
        }
        #expect(received == payload.count - 1 && largestBuffer < HTTP2Frame.headerLength)
        #expect(throws: FramingError.self) { try demuxer.finish() }
        #expect(demuxer.failure?.reason == .truncated && demuxer.failure?.offset == 17)
    }
}
