// Fuzz target: streaming mode against whole-frame mode. `StreamDemuxer.feedStreaming` must report
// what `feed` reports — once each frame handed over in pieces is put together, the same items with
// the same octets, the same error at the same offset — and keep its own promises: pieces never
// empty, nothing whole inside an open frame, a frame's pieces adding up to its length, nothing
// buffered while a frame streams, the buffer never past one frame. Every difference traps.
//
// Input: octet 0 the dialect as demux-differential reads it (mod 9: envelope, HTTP/2, QUIC —
// packets, not streamed: nothing to do —, WebSocket, TLS, MQTT, AMQP, RESP, text lines); octet 1 the decoder's options (`makeDecoder` below); octet 2 the number k (low 4
// bits) of chunk-size octets that follow, as in demux-differential (0 = an empty chunk; high bit
// set = (low 7 bits) × 128; k = 0: one octet at a time). The rest is the stream, fed to both modes
// in the same chunks.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func streamingDifferentialFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let dialect = input.byte() % 9
    let options = Int(input.byte())
    let sizes = (0..<Int(input.byte() & 0x0f)).map { _ -> Int in
        let octet = input.byte()
        return octet & 0x80 == 0 ? Int(octet) : Int(octet & 0x7f) * 128
    }
    let stream = input.rest()
    let cuts = ranges(cutting: stream.count, sizes: sizes)
    let roles: [ConnectionRole?] = [nil, .client, .server]
    let role = roles[options % 3]
    switch dialect {
    case 0:
        differential(EnvelopeFrameDecoder(maxFrameSize: [16_384, 64, 1_000, 65_536][options & 3], expectPreface: options & 4 == 0), stream, cuts)
    case 1:
        let prefaces: [HTTP2FrameDecoder.PrefacePolicy] = [.none, .required, .optional]
        differential(HTTP2FrameDecoder(maxFrameSize: [16_384, 65_536][options & 1], preface: prefaces[(options >> 1) % 3]), stream, cuts)
    case 3:
        let handshakes: [WebSocketFrameDecoder.HandshakePolicy] = [.none, .optional, .expectRequest, .expectResponse]
        differential(WebSocketFrameDecoder(role: role, maxFrameSize: [65_536, 125, 1_000][(options >> 2) % 3],
                                           handshake: handshakes[(options >> 4) & 3]), stream, cuts)
    case 4:
        differential(TLSRecordDecoder(maxFrameSize: [18_432, 64, 1_000][options % 3]), stream, cuts)
    case 5:
        differential(MQTTDialect(performsConnect: options & 4 == 0).makeDecoder(role: role, maxFrameSize: [1 << 20, 16, 127][(options >> 4) % 3]),
                     stream, cuts)
    case 6:
        differential(AMQPDialect(frameMax: [131_072, 4_096][(options >> 3) & 1], performsHandshake: options & 4 == 0)
            .makeDecoder(role: role, maxFrameSize: nil), stream, cuts)
    case 7:
        differential(RESPDialect().makeDecoder(role: role, maxFrameSize: [1 << 20, 64, 1_000][(options >> 2) % 3]), stream, cuts)
    case 8:
        differential(LinesDialect().makeDecoder(role: nil, maxFrameSize: [8_192, 4, 100][options % 3]), stream, cuts)
    default:
        break
    }
    return 0
}

/// Items, error and final offset of one run.
struct Outcome: Equatable, CustomStringConvertible {
    var items: [Received] = []
    var error: FramingError?
    var offset = 0

    var description: String { "\(items.count) items, error \(error.map { "\($0)" } ?? "none"), offset \(offset)" }
}

/// Both modes on the same chunks; traps on any difference or broken promise.
func differential<Decoder: StreamingFrameDecoder>(_ decoder: Decoder, _ stream: [UInt8], _ cuts: [Range<Int>]) {
    let bytes = stream.span.bytes
    var whole = Outcome()
    var reference = StreamDemuxer(decoder)
    do {
        for range in cuts {
            try reference.feed(bytes.extracting(range)) { item, octets in whole.items.append(Received(item, octets)) }
        }
        try reference.finish()
    } catch {
        whole.error = error
    }
    whole.offset = reference.offset

    var streamed = Outcome()
    var demuxer = StreamDemuxer(decoder)
    var open: (frame: BusinessFrame, octets: [UInt8])?
    do {
        for range in cuts {
            try demuxer.feedStreaming(bytes.extracting(range)) { item, octets in
                switch item {
                case .whole(let whole):
                    check(open == nil, "whole item \(whole) inside the streamed frame \(String(describing: open?.frame))")
                    streamed.items.append(Received(whole, octets))
                case .frameStart(let frame):
                    check(open == nil && octets.byteCount == 0, "frame start \(frame) inside another or with octets")
                    open = (frame, [])
                case .payload:
                    check(open != nil && octets.byteCount > 0, "payload piece of \(octets.byteCount) octets, frame open: \(open != nil)")
                    octets.withUnsafeBytes { open?.octets.append(contentsOf: $0) }
                case .frameEnd:
                    guard let frame = open else { check(false, "frame end with no frame open"); return }
                    check(frame.octets.count == frame.frame.length && octets.byteCount == 0,
                          "frame \(frame.frame) ended after \(frame.octets.count) octets")
                    streamed.items.append(Received(.business(frame.frame), bytes: frame.octets))
                    open = nil
                }
            }
            check(demuxer.bufferedByteCount <= decoder.maxFrameLength, "\(demuxer.bufferedByteCount) octets buffered, past \(decoder.maxFrameLength)")
            check(open == nil || demuxer.bufferedByteCount == 0, "\(demuxer.bufferedByteCount) octets buffered while a frame streams")
        }
        try demuxer.finish()
        check(open == nil, "the stream finished inside a streamed frame")
    } catch {
        streamed.error = error
        check(demuxer.failure == error, "failure \(String(describing: demuxer.failure)) is not the error thrown \(error)")
        var again: FramingError?
        do { try demuxer.feedStreaming(bytes.extracting(0..<0)) { _, _ in } } catch { again = error }
        check(again == error, "failure not sticky: \(String(describing: again)) after \(error)")
    }
    streamed.offset = demuxer.offset
    check(streamed == whole, "streaming \(streamed) != whole \(whole) (\(Decoder.self), \(cuts.count) chunks)")
}
