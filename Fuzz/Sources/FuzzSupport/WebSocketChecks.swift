import Framing

/// The WebSocket whole-buffer check, the decoder's output against the input walked here
/// independently: a handshake block only first and as the octets it covers; then each item is the
/// frame at that point — its opcode and FIN, masked as the role demands, messages and control
/// frames in an order RFC 6455 §5.4 allows — and hands over exactly the frame's payload unmasked
/// here octet by octet (in place, no copy, when the frame is not masked). The walk ends where the
/// demuxer stopped.
func checkWebSocketWire(_ setup: DemuxerSetup, _ stream: [UInt8], _ outcome: DemuxOutcome) {
    var cursor = 0
    var messageOpen = false
    for (index, received) in outcome.items.enumerated() {
        if case .business(let frame) = received.item, frame.type == WebSocketFrame.handshakeType {
            check(index == 0, "handshake block as item \(index)")
            check(received.bytes.elementsEqual(stream.prefix(frame.length)), "handshake block is not the first \(frame.length) octets")
            check(received.handedAt == 0, "handshake block not handed over in place")
            cursor = frame.length
            continue
        }
        check(index > 0 || setup.webSocketHandshake == .none || setup.webSocketHandshake == .optional || stream.isEmpty,
              "a frame first from a decoder expecting the handshake \(setup.webSocketHandshake)")
        let header = stream.withUnsafeBytes { WebSocketFrameHeader(parsing: RawSpan(_unsafeBytes: UnsafeRawBufferPointer(rebasing: $0[cursor...]))) }
        guard let header else { fatalError("item \(index) \(received.item) at \(cursor): no whole frame header there") }
        let payloadStart = cursor + header.headerLength
        check(header.payloadLength <= UInt64(stream.count - payloadStart), "item \(index) at \(cursor): payload of \(header.payloadLength) octets past the input")
        let payloadEnd = payloadStart + Int(header.payloadLength)
        var expected = stream[payloadStart..<payloadEnd]
        if let key = header.maskingKey {
            expected = Array(expected)[...]  // a copy, unmasked here
            for (position, octet) in expected.indices.enumerated() { expected[octet] ^= UInt8(truncatingIfNeeded: key >> UInt32(24 - 8 * (position % 4))) }
        }
        check(received.bytes.elementsEqual(expected), "item \(index) at \(cursor) handed over \(received.bytes.count) octets, not its \(expected.count) payload octets unmasked (masked: \(header.isMasked))")
        if !header.isMasked && !expected.isEmpty {
            check(received.handedAt == payloadStart, "unmasked item \(index) handed over at \(String(describing: received.handedAt)), not in place at \(payloadStart)")
        }
        switch setup.role {
        case .server?: check(header.isMasked, "a server's decoder passed an unmasked frame at \(cursor)")
        case .client?: check(!header.isMasked, "a client's decoder passed a masked frame at \(cursor)")
        case nil: break
        }
        check(header.flags & WebSocketFrame.Flags.reserved == 0, "frame at \(cursor) with RSV bits passed")
        check(header.payloadLength <= UInt64(setup.maxFrameSize), "frame at \(cursor) of \(header.payloadLength) octets over \(setup.maxFrameSize)")
        let minimal = WebSocketFrame.headerLength(payloadLength: Int(header.payloadLength), masked: header.isMasked)
        check(header.headerLength == minimal, "frame at \(cursor) with a \(header.headerLength)-octet header, \(minimal) minimal")
        switch received.item {
        case .ping, .pong:
            var opcode = WebSocketFrame.Opcode.pong
            if case .ping = received.item { opcode = WebSocketFrame.Opcode.ping }
            check(header.opcode == opcode && header.fin, "\(received.item) from opcode \(header.opcode), FIN \(header.fin)")
        case .business(let frame):
            check(frame.type == UInt64(header.opcode) && frame.flags == header.flags, "\(frame) from opcode \(header.opcode), flags \(header.flags)")
            switch header.opcode {
            case WebSocketFrame.Opcode.continuation:
                check(messageOpen, "continuation at \(cursor) with no message open")
                messageOpen = !header.fin
            case WebSocketFrame.Opcode.text, WebSocketFrame.Opcode.binary:
                check(!messageOpen, "data frame at \(cursor) inside a message")
                messageOpen = !header.fin
            default:
                check(header.fin, "control frame at \(cursor) without FIN")
            }
        default:
            fatalError("\(received.item) from a WebSocket demuxer")
        }
        cursor = payloadEnd
    }
    check(cursor == outcome.offset, "the items end at \(cursor), the demuxer stopped at \(outcome.offset)")
}

/// Frames re-encoded from `items` (no handshake block) with `WebSocketFrame`'s encoders, masked
/// with keys drawn from `seed` when `masked` (key 0 included), in order.
public func encodeWebSocketItems(_ items: [Received], masked: Bool, seed: UInt32) -> [UInt8] {
    var stream: [UInt8] = []
    var key = seed
    for received in items {
        key = key &* 0x9E37_79B1 &+ 0x7F4A_7C15
        let maskingKey: UInt32? = masked ? (seed == 0 ? 0 : key) : nil
        let payload = received.bytes.span.bytes
        switch received.item {
        case .ping: WebSocketFrame.appendPing(payload: payload, maskingKey: maskingKey, to: &stream)
        case .pong: WebSocketFrame.appendPong(payload: payload, maskingKey: maskingKey, to: &stream)
        case .business(let frame):
            WebSocketFrame.appendFrame(opcode: UInt8(frame.type), fin: frame.flags & WebSocketFrame.Flags.fin != 0,
                                       payload: payload, maskingKey: maskingKey, to: &stream)
        default: fatalError("\(received.item) is not a WebSocket item")
        }
    }
    return stream
}
