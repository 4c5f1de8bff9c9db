extension TLSRecordDecoder: StreamingFrameDecoder {
    /// Every record but a heartbeat streams: `decode(frame:)` hands the others' fragment over in
    /// place after the 5-octet header (RFC 8446 §5.1) and keeps no state for them.
    public func decodeStreamedHeader(of prefix: RawSpan, frameLength: Int) -> StreamedFrameHeader? {
        guard prefix.byteCount >= TLSRecord.headerLength, frameLength >= TLSRecord.headerLength else { return nil }
        let type = prefix.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        guard type != TLSRecord.ContentType.heartbeat else { return nil }
        let frame = BusinessFrame(type: UInt64(type), length: frameLength - TLSRecord.headerLength)
        return StreamedFrameHeader(frame: frame, payloadStart: TLSRecord.headerLength)
    }
}
