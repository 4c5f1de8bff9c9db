extension MQTTPacketDecoder: StreamingFrameDecoder {
    /// Every packet but PINGREQ and PINGRESP streams once the opening packet has been seen:
    /// `decode(frame:)` reads nothing of the others but their fixed header (MQTT 5 §2.1) and hands
    /// the rest over in place. Before the opening packet (which changes the state), nothing streams.
    public func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) throws(FramingError.Reason) -> StreamedFrameHeader? {
        guard sawOpeningPacket, let header = try fixedHeader(prefix).0,
              header.headerLength + header.remainingLength == frameLength else { return nil }
        switch header.type {
        case MQTTPacket.PacketType.pingreq, MQTTPacket.PacketType.pingresp: return nil
        default:
            let frame = BusinessFrame(type: UInt64(header.type), flags: header.flags, length: header.remainingLength)
            return StreamedFrameHeader(frame: frame, payloadStart: header.headerLength)
        }
    }
}
