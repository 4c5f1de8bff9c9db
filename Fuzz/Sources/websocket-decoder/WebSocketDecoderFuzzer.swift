// Fuzz target: the WebSocket frame decoder (RFC 6455), whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–1 the role, bits 2–3 the handshake policy,
// bits 4–6 the maximum frame size; bit 7 which re-encoding, below), then the byte stream, fed in
// one piece and then ended.
//
// Checks what every whole-buffer target checks (bounded buffering, sticky errors inside the
// input, items consistent with their octets, the input cut at the error giving the same items),
// the frames walked independently (`checkWebSocketWire`: each payload handed over unmasked, in
// place when not masked; roles, fragments, minimal lengths), and that the frames reported,
// re-encoded with `WebSocketFrame`'s encoders, masked for a server (option bit 7 clear) or unmasked
// for a client (set), decode to exactly the same items; a client's or server's decoder and a
// capture's agree.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func webSocketDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .webSocket, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)
    let frames = outcome.items.filter {
        if case .business(let frame) = $0.item { return frame.type != WebSocketFrame.handshakeType }
        return true
    }
    // Same maximum frame size (bits 4–6), no handshake (bits 2–3 = 1); role 2 server, 1 client.
    let seed = UInt32(truncatingIfNeeded: stream.count &* 2_654_435_761) | 1
    do {
        let masked = setup.options & 0x80 == 0
        let again = DemuxerSetup(dialect: .webSocket, options: setup.options & 0x70 | 0x04 | (masked ? 2 : 1))
        let reencoded = demux(again, whole: encodeWebSocketItems(frames, masked: masked, seed: masked && stream.count % 7 == 0 ? 0 : seed))
        check(reencoded.error == nil, "\(frames.count) frames re-encoded (masked: \(masked)) fail: \(reencoded.error!)")
        check(reencoded.items == frames, "\(frames.count) frames re-encoded (masked: \(masked)) decode as \(reencoded.items.count) other items")
    }
    // A capture (no role, optional handshake, same maximum frame size) is laxer only about
    // masking and which handshake block comes: it reads a stream a client or server reads the same
    // way, and at least as far as either when that fails.
    if setup.role != nil {
        let capture = demux(DemuxerSetup(dialect: .webSocket, options: setup.options & 0x70), whole: stream)
        if outcome.error == nil {
            check(capture == outcome, "a capture reads \(capture), the \(setup) \(outcome)")
        } else {
            check(capture.items.starts(with: outcome.items), "a capture reads other items than the \(setup) before its error \(outcome.error!)")
        }
    }
    return 0
}
