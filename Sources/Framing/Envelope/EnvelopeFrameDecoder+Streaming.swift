extension EnvelopeFrameDecoder: StreamingFrameDecoder {
    /// Every business frame but GOAWAY (whose payload is checked) streams: `decode(frame:)` reads
    /// nothing of the others but their type and length (spec/envelope.md §4) and keeps no state.
    public func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) -> StreamedFrameHeader? {
        guard !awaitingPreface else { return nil }
        var cursor = 0
        guard let type = prefix.readVarint(at: &cursor), let length = prefix.readVarint(at: &cursor),
              cursor + Int(length.value) == frameLength else { return nil }
        switch type.value {
        case EnvelopeFrame.FrameType.ping, EnvelopeFrame.FrameType.pong, EnvelopeFrame.FrameType.goAway: return nil
        default: return StreamedFrameHeader(frame: BusinessFrame(type: type.value, length: Int(length.value)), payloadStart: cursor)
        }
    }
}
