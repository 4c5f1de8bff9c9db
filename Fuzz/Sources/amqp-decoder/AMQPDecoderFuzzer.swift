// Fuzz target: the AMQP 0-9-1 frame decoder (spec/amqp.md), whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–1 the role, bit 2 frames only, bits 3–5 the
// frame-max), then the byte stream, fed in one piece and then ended.
//
// Checks what every whole-buffer target checks (bounded buffering, sticky errors inside the input,
// items consistent with their octets — `checkAMQPBusiness` —, complete frames handed over in place,
// the input cut at the error giving the same items); that the frames reported, re-encoded with
// `AMQPFrame` (heartbeat frames, frames of their type and channel), decode to exactly the same
// items through a frames-only decoder of the same frame-max; and that every Connection method
// they carry that `AMQPConnectionMethod` parses re-encodes to a frame that parses back to the
// same method once normalised (tables replaced by ours, text made valid UTF-8 and cut to 255
// octets), and that a capture reads a stream a server reads the same way.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func amqpDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .amqp, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)

    var reencoded: [UInt8] = []
    var frames: [Received] = []
    for received in outcome.items {
        switch received.item {
        case .ping:
            AMQPFrame.appendHeartbeat(to: &reencoded)
        case .business(let frame) where frame.type != AMQPFrame.protocolHeaderType:
            AMQPFrame.appendFrame(type: UInt8(frame.type), channel: UInt16(frame.streamID), payload: received.bytes.span.bytes, to: &reencoded)
            if frame.type == UInt64(AMQPFrame.FrameType.method) && frame.streamID == 0 { checkConnectionMethod(received.bytes) }
        default:
            continue
        }
        frames.append(received)
    }
    // Frames only (bit 2), as a client (role 1), same frame-max (bits 3–5).
    let framesOnly = DemuxerSetup(dialect: .amqp, options: setup.options & 0x38 | 0x04 | 1)
    let again = demux(framesOnly, whole: reencoded)
    check(again.error == nil, "\(frames.count) frames re-encoded fail: \(again.error!)")
    check(again.items == frames, "\(frames.count) frames re-encoded decode as \(again.items.count) other items")

    if setup.role == .server, setup.options & 4 == 0 {
        let capture = demux(DemuxerSetup(dialect: .amqp, options: setup.options & 0x38), whole: stream)
        if outcome.error == nil {
            check(capture == outcome, "a capture reads \(capture), the server \(outcome)")
        } else {
            check(capture.items.starts(with: outcome.items), "a capture reads other items than the server before its error \(outcome.error!)")
        }
    }
    return 0
}

/// A Connection method's payload: parsed (or refused with a syntax error), re-encoded and parsed
/// again, it is stable after one normalisation.
func checkConnectionMethod(_ payload: ArraySlice<UInt8>) {
    func roundTrip(_ method: AMQPConnectionMethod) -> AMQPConnectionMethod? {
        var frame: [UInt8] = []
        method.append(to: &frame)
        guard frame.count >= 8 else { return nil }
        let body = Array(frame[7..<(frame.count - 1)])
        do {
            return try AMQPConnectionMethod(payload: body.span.bytes)
        } catch {
            fatalError("\(method) re-encoded does not parse: \(error)")
        }
    }
    guard let method = try? AMQPConnectionMethod(payload: payload.span.bytes) else { return }
    if case .other = method { return }
    guard let normalised = roundTrip(method) else { return }
    check(roundTrip(normalised) == normalised, "\(normalised) does not survive a round trip")
}
