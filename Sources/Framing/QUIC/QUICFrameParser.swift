/// Splits one QUIC packet payload into frames (RFC 9000 §12.4, §19; RFC 9221 §4): PING is a
/// heartbeat, ACK is decoded, PADDING is skipped, every other frame is business data handed over
/// whole. A frame never spans packets, so a frame cut short is a FRAME_ENCODING_ERROR, not a
/// reason to wait.
public enum QUICFrameParser {
    /// QUIC frame types (RFC 9000 §19, RFC 9221 §4).
    public enum FrameType {
        /// PADDING (RFC 9000 §19.1).
        public static let padding: UInt64 = 0x00
        /// PING (RFC 9000 §19.2).
        public static let ping: UInt64 = 0x01
        /// ACK (RFC 9000 §19.3).
        public static let ack: UInt64 = 0x02
        /// ACK with ECN counts (RFC 9000 §19.3).
        public static let ackECN: UInt64 = 0x03
        /// RESET_STREAM (RFC 9000 §19.4).
        public static let resetStream: UInt64 = 0x04
        /// STOP_SENDING (RFC 9000 §19.5).
        public static let stopSending: UInt64 = 0x05
        /// CRYPTO (RFC 9000 §19.6).
        public static let crypto: UInt64 = 0x06
        /// NEW_TOKEN (RFC 9000 §19.7).
        public static let newToken: UInt64 = 0x07
        /// STREAM types are 0x08...0x0f: bit 0x04 OFF, 0x02 LEN, 0x01 FIN.
        public static let stream: ClosedRange<UInt64> = 0x08...0x0f
        /// MAX_DATA (RFC 9000 §19.9).
        public static let maxData: UInt64 = 0x10
        /// MAX_STREAM_DATA (RFC 9000 §19.10).
        public static let maxStreamData: UInt64 = 0x11
        /// MAX_STREAMS, bidirectional (RFC 9000 §19.11).
        public static let maxStreamsBidirectional: UInt64 = 0x12
        /// MAX_STREAMS, unidirectional (RFC 9000 §19.11).
        public static let maxStreamsUnidirectional: UInt64 = 0x13
        /// DATA_BLOCKED (RFC 9000 §19.12).
        public static let dataBlocked: UInt64 = 0x14
        /// STREAM_DATA_BLOCKED (RFC 9000 §19.13).
        public static let streamDataBlocked: UInt64 = 0x15
        /// STREAMS_BLOCKED, bidirectional (RFC 9000 §19.14).
        public static let streamsBlockedBidirectional: UInt64 = 0x16
        /// STREAMS_BLOCKED, unidirectional (RFC 9000 §19.14).
        public static let streamsBlockedUnidirectional: UInt64 = 0x17
        /// NEW_CONNECTION_ID (RFC 9000 §19.15).
        public static let newConnectionID: UInt64 = 0x18
        /// RETIRE_CONNECTION_ID (RFC 9000 §19.16).
        public static let retireConnectionID: UInt64 = 0x19
        /// PATH_CHALLENGE (RFC 9000 §19.17).
        public static let pathChallenge: UInt64 = 0x1a
        /// PATH_RESPONSE (RFC 9000 §19.18).
        public static let pathResponse: UInt64 = 0x1b
        /// CONNECTION_CLOSE of the transport (RFC 9000 §19.19).
        public static let connectionCloseTransport: UInt64 = 0x1c
        /// CONNECTION_CLOSE of the application (RFC 9000 §19.19).
        public static let connectionCloseApplication: UInt64 = 0x1d
        /// HANDSHAKE_DONE (RFC 9000 §19.20).
        public static let handshakeDone: UInt64 = 0x1e
        /// DATAGRAM without a Length field: runs to the end of the packet (RFC 9221 §4).
        public static let datagram: UInt64 = 0x30
        /// DATAGRAM with a Length field.
        public static let datagramWithLength: UInt64 = 0x31
    }

    /// The largest stream count MAX_STREAMS and STREAMS_BLOCKED may carry: 2^60 (RFC 9000 §19.11).
    public static let maxStreamCount: UInt64 = 1 << 60

    /// Decodes the frame that starts at `start` in `packet`, returning where it ends and what to report.
    /// - Throws: the reason and the frame's start offset; the reason is `.frameTruncated` when the
    ///   frame runs past the packet.
    public static func decodeFrame(in packet: RawSpan, at start: Int) throws(FramingError.Reason) -> (end: Int, item: DemuxedItem?) {
        var cursor = start
        guard let typeVarint = packet.readVarint(at: &cursor) else { throw .frameTruncated(frameType: 0) }
        let type = typeVarint.value
        guard typeVarint.isMinimal else { throw .nonMinimalFrameType(type) }
        var fields = FieldReader(cursor: cursor, type: type)
        switch type {
        case FrameType.padding:
            while fields.cursor < packet.byteCount, packet.unsafeLoad(fromByteOffset: fields.cursor, as: UInt8.self) == 0 {
                fields.cursor += 1
            }
            return (fields.cursor, nil)
        case FrameType.ping:
            return (fields.cursor, .quicPing)
        case FrameType.ack, FrameType.ackECN:
            let ack = try fields.ack(packet, frameStart: start)
            return (fields.cursor, .quicAck(ack))
        case FrameType.resetStream:
            try fields.skipVarints(3, packet)
        case FrameType.stopSending, FrameType.maxStreamData, FrameType.streamDataBlocked:
            try fields.skipVarints(2, packet)
        case FrameType.maxData, FrameType.dataBlocked, FrameType.retireConnectionID:
            try fields.skipVarints(1, packet)
        case FrameType.crypto:
            let offset = try fields.varint(packet)
            let length = try fields.varint(packet)
            guard length <= Varint.max - offset else { throw .streamOffsetOverflow(frameType: type) }
            try fields.skip(length, packet)
        case FrameType.newToken:
            let length = try fields.varint(packet)
            guard length > 0 else { throw .emptyToken }
            try fields.skip(length, packet)
        case FrameType.stream:
            try fields.skipVarints(1, packet)
            let offset = type & 0x04 != 0 ? try fields.varint(packet) : 0
            let length = type & 0x02 != 0 ? try fields.varint(packet) : UInt64(packet.byteCount - fields.cursor)
            guard length <= Varint.max - offset else { throw .streamOffsetOverflow(frameType: type) }
            try fields.skip(length, packet)
        case FrameType.maxStreamsBidirectional, FrameType.maxStreamsUnidirectional,
             FrameType.streamsBlockedBidirectional, FrameType.streamsBlockedUnidirectional:
            let count = try fields.varint(packet)
            guard count <= maxStreamCount else { throw .streamCountTooLarge(frameType: type, count: count) }
        case FrameType.newConnectionID:
            let sequence = try fields.varint(packet)
            let retirePriorTo = try fields.varint(packet)
            guard retirePriorTo <= sequence else { throw .retirePriorToTooLarge(retirePriorTo: retirePriorTo, sequence: sequence) }
            let length = try fields.octet(packet)
            guard (1...20).contains(length) else { throw .connectionIDLength(Int(length)) }
            try fields.skip(UInt64(length) + 16, packet)
        case FrameType.pathChallenge, FrameType.pathResponse:
            try fields.skip(8, packet)
        case FrameType.connectionCloseTransport, FrameType.connectionCloseApplication:
            try fields.skipVarints(type == FrameType.connectionCloseTransport ? 2 : 1, packet)
            let reasonLength = try fields.varint(packet)
            try fields.skip(reasonLength, packet)
        case FrameType.handshakeDone:
            break
        case FrameType.datagram:
            fields.cursor = packet.byteCount
        case FrameType.datagramWithLength:
            let length = try fields.varint(packet)
            try fields.skip(length, packet)
        default:
            throw .unknownFrameType(type)
        }
        return (fields.cursor, .business(BusinessFrame(type: type, length: fields.cursor - start)))
    }
}

/// Reads one QUIC frame's fields, turning "ran out of packet" into `.frameTruncated`.
struct FieldReader {
    var cursor: Int
    let type: UInt64

    mutating func varint(_ packet: RawSpan) throws(FramingError.Reason) -> UInt64 {
        guard let value = packet.readVarint(at: &cursor) else { throw .frameTruncated(frameType: type) }
        return value.value
    }

    mutating func octet(_ packet: RawSpan) throws(FramingError.Reason) -> UInt8 {
        guard let value = packet.readUInt8(at: &cursor) else { throw .frameTruncated(frameType: type) }
        return value
    }

    mutating func skipVarints(_ count: Int, _ packet: RawSpan) throws(FramingError.Reason) {
        for _ in 0..<count { _ = try varint(packet) }
    }

    mutating func skip(_ count: UInt64, _ packet: RawSpan) throws(FramingError.Reason) {
        guard packet.skip(count, at: &cursor) else { throw .frameTruncated(frameType: type) }
    }

    /// The ACK frame's fields after its type (RFC 9000 §19.3), checking that no range goes below 0.
    mutating func ack(_ packet: RawSpan, frameStart: Int) throws(FramingError.Reason) -> QUICAck {
        let largest = try varint(packet)
        let delay = try varint(packet)
        let rangeCount = try varint(packet)
        let firstRange = try varint(packet)
        guard firstRange <= largest else { throw .ackRangeUnderflow }
        let rangesOffset = cursor - frameStart
        var smallest = largest - firstRange
        var remaining = rangeCount
        while remaining > 0 {
            let gap = try varint(packet)
            let length = try varint(packet)
            // The next range's largest is smallest - gap - 2, and its smallest that minus length.
            guard smallest >= 2, gap <= smallest - 2, length <= smallest - 2 - gap else { throw .ackRangeUnderflow }
            smallest = smallest - 2 - gap - length
            remaining -= 1
        }
        var ecn: QUICAck.ECNCounts?
        if type == QUICFrameParser.FrameType.ackECN {
            ecn = QUICAck.ECNCounts(ect0: try varint(packet), ect1: try varint(packet), ce: try varint(packet))
        }
        return QUICAck(largestAcknowledged: largest, ackDelay: delay, additionalRangeCount: rangeCount,
                       firstAckRange: firstRange, smallestAcknowledged: smallest, ecnCounts: ecn,
                       rangesOffset: rangesOffset)
    }
}
