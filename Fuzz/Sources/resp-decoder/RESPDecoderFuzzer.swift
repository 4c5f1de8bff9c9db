// Fuzz target: the RESP decoder (spec/resp.md), whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–1 the role, bit 2 the echo mode, bits 3–5
// the maximum value size, bits 6–7 the maximum depth), then the byte stream, fed in one piece
// and then ended.
//
// Checks what every whole-buffer target checks, and: the values reported are, one after the
// other, exactly the values an independent recursive walk (`referenceRESPLength`) finds there,
// each business item the whole value and each heartbeat's octets inside its value; a value fed
// again on its own gives the same item (every value of an input of at most four, otherwise the
// first, the last and two the input's length picks); a capture (no role) delimits a client's or server's
// stream the same way, and reads at least as far when that fails.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func respDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .resp, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)
    var offset = 0
    let count = outcome.items.count
    for (index, received) in outcome.items.enumerated() {
        guard let length = referenceRESPLength(stream, at: offset, inline: setup.role != .client) else {
            fatalError("item \(received) at \(offset): the reference walk finds no whole value there")
        }
        let value = offset..<(offset + length)
        if case .business = received.item {
            check(stream[value] == received.bytes, "business item at \(offset) is not the \(length)-octet value there")
        } else {
            check(received.bytes.isEmpty || stream[value].firstRange(of: received.bytes) != nil, "heartbeat octets not inside the value at \(offset)")
        }
        if count <= 4 || index == 0 || index == count - 1 || index == stream.count % count || index == stream.count / 7 % count {
            let alone = demux(setup, whole: Array(stream[value]))
            check(alone.error == nil && alone.items == [received], "the value at \(offset) fed alone gives \(alone)")
        }
        offset += length
    }
    check(offset == outcome.offset, "items cover \(offset) octets, the demuxer stopped at \(outcome.offset)")
    if setup.role != nil, setup.options & 3 != 3 {
        let capture = demux(DemuxerSetup(dialect: .resp, options: setup.options & ~3), whole: stream)
        let captured = capture.items.count
        if outcome.error == nil {
            check(capture.error == nil && captured == outcome.items.count, "a capture reads \(capture), the \(setup) \(outcome)")
        } else {
            check(captured >= outcome.items.count, "a capture stops before the \(setup) at its error \(outcome.error!)")
        }
    }
    return 0
}
