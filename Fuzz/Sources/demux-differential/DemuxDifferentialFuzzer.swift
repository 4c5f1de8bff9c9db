// Fuzz target: the demuxer differentially. Chunked feeding must report exactly what whole
// feeding reports — the same items with the same octets, the same error at the same offset,
// the same octets buffered at the end — and every difference traps.
//
// Input: octet 0 the dialect (mod `Dialect.allCases.count`: envelope, HTTP/2, QUIC, WebSocket, TLS, MQTT, AMQP, RESP, text lines); octet 1 the options (see
// `DemuxerSetup`); octet 2 the number k (low 4 bits) of chunk-size octets that follow. Each size
// octet is a chunk of that many octets (0 = an empty chunk; high bit set = (low 7 bits) × 128);
// the sizes repeat until the stream is used up, and k = 0 means one octet at a time. The rest is
// the stream.
//
// QUIC is fed packet by packet, the chunk sizes cutting the packets (k = 0: one packet). There the
// reference is the same packets fed to a bare `QUICPacketDemuxer`, and each reported frame fed
// again on its own as a packet must be reported as itself.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func demuxDifferentialFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let dialect = Dialect.allCases[Int(input.byte()) % Dialect.allCases.count]
    let setup = DemuxerSetup(dialect: dialect, options: input.byte())
    let sizes = (0..<Int(input.byte() & 0x0f)).map { _ -> Int in
        let octet = input.byte()
        return octet & 0x80 == 0 ? Int(octet) : Int(octet & 0x7f) * 128
    }
    let stream = input.rest()
    if dialect != .quic {
        let whole = demux(setup, whole: stream)
        let chunked = demux(setup, stream, ranges: ranges(cutting: stream.count, sizes: sizes))
        check(chunked == whole, "chunked \(chunked) != whole \(whole) (\(setup), sizes \(sizes)); \(firstDifference(chunked, whole))")
    } else {
        let packets = sizes.isEmpty ? [stream] : ranges(cutting: stream.count, sizes: sizes).map { Array(stream[$0]) }
        let outcome = demux(setup, packets: packets)
        let bare = bareQUIC(packets)
        check(bare == outcome, "bare QUICPacketDemuxer \(bare) != Demuxer \(outcome)")
        for received in outcome.items {
            let again = demux(setup, packets: [Array(received.bytes)])
            check(again.error == nil && again.items == [received],
                  "frame \(received) fed on its own gives \(again.items), error \(String(describing: again.error))")
        }
    }
    return 0
}

/// The first item in which two outcomes differ, for the crash report.
func firstDifference(_ chunked: DemuxOutcome, _ whole: DemuxOutcome) -> String {
    for (index, pair) in zip(chunked.items, whole.items).enumerated() where pair.0 != pair.1 {
        return "item \(index): chunked \(pair.0), whole \(pair.1)"
    }
    return "items agree as far as both go"
}

/// The packets through a `QUICPacketDemuxer` used directly rather than through `Demuxer`.
func bareQUIC(_ packets: [[UInt8]]) -> DemuxOutcome {
    var demuxer = QUICPacketDemuxer()
    var outcome = DemuxOutcome()
    for packet in packets {
        do {
            try demuxer.feed(packet: packet) { item, bytes in outcome.items.append(Received(item, bytes)) }
        } catch {
            outcome.error = error
            break
        }
    }
    outcome.offset = demuxer.offset
    return outcome
}
