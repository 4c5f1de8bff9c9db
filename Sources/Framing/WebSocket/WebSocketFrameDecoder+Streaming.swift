extension WebSocketFrameDecoder: StreamingFrameDecoder {
    /// Unmasked data frames (text, binary, continuation; RFC 6455 §5.6) stream: `decode(frame:)`
    /// reads nothing of them but their header and hands their payload over in place. Masked frames
    /// (unmasked while copied), control frames (checked) and the opening handshake come whole.
    public mutating func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) -> StreamedFrameHeader? {
        guard !awaitingHandshake, let header = WebSocketFrameHeader(parsing: prefix), !header.isMasked,
              header.headerLength + Int(header.payloadLength) == frameLength else { return nil }
        switch header.opcode {
        case WebSocketFrame.Opcode.continuation, WebSocketFrame.Opcode.text, WebSocketFrame.Opcode.binary:
            lastMaskingKey = 0
            isInsideMessage = !header.fin
            let frame = BusinessFrame(type: UInt64(header.opcode), flags: header.flags, length: Int(header.payloadLength))
            return StreamedFrameHeader(frame: frame, payloadStart: header.headerLength)
        default:
            return nil
        }
    }
}
