// Fuzz target: the MQTT packet decoder (MQTT 3.1.1 and 5.0), whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–1 the role, bit 2 the session opened
// before the stream, bits 4–6 the maximum Remaining Length), then the byte stream, fed in one
// piece and then ended.
//
// Checks what every whole-buffer target checks (bounded buffering, sticky errors inside the
// input, items consistent with their octets, the input cut at the error giving the same items),
// that an independent reading of spec/mqtt.md (`checkMQTTModel`) finds the same packets and the
// same error at the same offset, that the packets reported, written again by
// `MQTTPacketEncoder`, read back as exactly the same items, and that a capture reads what a
// client's or server's decoder reads (and at least as far when that fails).
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func mqttDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .mqtt, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)
    checkMQTTModel(setup, stream, outcome)
    let capture = DemuxerSetup(dialect: .mqtt, options: setup.options & 0x70)
    let reencoded = demux(capture, whole: encodeMQTTItems(outcome.items))
    check(reencoded.error == nil, "\(outcome.items.count) packets written again fail: \(reencoded.error!)")
    check(reencoded.items == outcome.items, "\(outcome.items.count) packets written again read as \(reencoded.items.count) other items")
    if setup.role != nil {
        let captured = demux(capture, whole: stream)
        if outcome.error == nil {
            check(captured == outcome, "a capture reads \(captured), the \(setup) \(outcome)")
        } else {
            check(captured.items.starts(with: outcome.items), "a capture reads other items than the \(setup) before its error \(outcome.error!)")
        }
    }
    return 0
}
