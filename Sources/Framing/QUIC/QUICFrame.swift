/// A QUIC frame to encode (RFC 9000 §19, RFC 9221 §4): PING for heartbeats, the rest for peers,
/// tests and tools. Encoding appends to a caller-provided array; PING and PADDING never allocate.
public enum QUICFrame: Hashable, Sendable {
    /// `count` PADDING octets (type 0x00).
    case padding(count: Int)
    /// PING (type 0x01): elicits an acknowledgement.
    case ping
    /// ACK (type 0x02, or 0x03 with ECN counts). `ranges` follow the first range, largest first.
    case ack(largestAcknowledged: UInt64, ackDelay: UInt64, firstAckRange: UInt64, ranges: [AckRange], ecn: QUICAck.ECNCounts?)
    /// RESET_STREAM (type 0x04).
    case resetStream(streamID: UInt64, errorCode: UInt64, finalSize: UInt64)
    /// STOP_SENDING (type 0x05).
    case stopSending(streamID: UInt64, errorCode: UInt64)
    /// CRYPTO (type 0x06).
    case crypto(offset: UInt64, data: [UInt8])
    /// NEW_TOKEN (type 0x07); the token must not be empty.
    case newToken(token: [UInt8])
    /// STREAM (types 0x08–0x0f): the offset is encoded when not nil, the length when
    /// `explicitLength` (else the data runs to the end of the packet).
    case stream(streamID: UInt64, offset: UInt64?, data: [UInt8], explicitLength: Bool, fin: Bool)
    /// MAX_DATA (type 0x10).
    case maxData(UInt64)
    /// MAX_STREAM_DATA (type 0x11).
    case maxStreamData(streamID: UInt64, maximum: UInt64)
    /// MAX_STREAMS (type 0x12 bidirectional, 0x13 unidirectional).
    case maxStreams(bidirectional: Bool, maximum: UInt64)
    /// DATA_BLOCKED (type 0x14).
    case dataBlocked(limit: UInt64)
    /// STREAM_DATA_BLOCKED (type 0x15).
    case streamDataBlocked(streamID: UInt64, limit: UInt64)
    /// STREAMS_BLOCKED (type 0x16 bidirectional, 0x17 unidirectional).
    case streamsBlocked(bidirectional: Bool, limit: UInt64)
    /// NEW_CONNECTION_ID (type 0x18): a 1–20 octet connection ID and a 16-octet reset token.
    case newConnectionID(sequence: UInt64, retirePriorTo: UInt64, connectionID: [UInt8], resetToken: [UInt8])
    /// RETIRE_CONNECTION_ID (type 0x19).
    case retireConnectionID(sequence: UInt64)
    /// PATH_CHALLENGE (type 0x1a) with 8 octets of data.
    case pathChallenge(UInt64)
    /// PATH_RESPONSE (type 0x1b) with 8 octets of data.
    case pathResponse(UInt64)
    /// CONNECTION_CLOSE: type 0x1c (transport, with the offending frame type) when `frameType`
    /// is not nil, else type 0x1d (application).
    case connectionClose(errorCode: UInt64, frameType: UInt64?, reason: [UInt8])
    /// HANDSHAKE_DONE (type 0x1e).
    case handshakeDone
    /// DATAGRAM (type 0x31 with a length, 0x30 running to the end of the packet).
    case datagram(data: [UInt8], explicitLength: Bool)

    /// One Gap / ACK Range Length pair of an ACK frame (RFC 9000 §19.3.1).
    public struct AckRange: Hashable, Sendable {
        /// Unacknowledged packets below the previous range, minus one.
        public var gap: UInt64
        /// Acknowledged packets below the range's largest.
        public var length: UInt64

        /// A gap and a range length.
        public init(gap: UInt64, length: UInt64) {
            self.gap = gap
            self.length = length
        }
    }

    /// The frame type as encoded.
    public var type: UInt64 {
        typealias T = QUICFrameParser.FrameType
        switch self {
        case .padding: return T.padding
        case .ping: return T.ping
        case .ack(_, _, _, _, let ecn): return ecn == nil ? T.ack : T.ackECN
        case .resetStream: return T.resetStream
        case .stopSending: return T.stopSending
        case .crypto: return T.crypto
        case .newToken: return T.newToken
        case .stream(_, let offset, _, let explicitLength, let fin):
            return 0x08 | (offset == nil ? 0 : 0x04) | (explicitLength ? 0x02 : 0) | (fin ? 0x01 : 0)
        case .maxData: return T.maxData
        case .maxStreamData: return T.maxStreamData
        case .maxStreams(let bidirectional, _): return bidirectional ? T.maxStreamsBidirectional : T.maxStreamsUnidirectional
        case .dataBlocked: return T.dataBlocked
        case .streamDataBlocked: return T.streamDataBlocked
        case .streamsBlocked(let bidirectional, _): return bidirectional ? T.streamsBlockedBidirectional : T.streamsBlockedUnidirectional
        case .newConnectionID: return T.newConnectionID
        case .retireConnectionID: return T.retireConnectionID
        case .pathChallenge: return T.pathChallenge
        case .pathResponse: return T.pathResponse
        case .connectionClose(_, let frameType, _): return frameType == nil ? T.connectionCloseApplication : T.connectionCloseTransport
        case .handshakeDone: return T.handshakeDone
        case .datagram(_, let explicitLength): return explicitLength ? T.datagramWithLength : T.datagram
        }
    }

    /// Appends the frame's encoding: the type in its shortest form, then its fields.
    public func append(to buffer: inout [UInt8]) {
        if case .padding(let count) = self {
            for _ in 0..<count { buffer.append(0) }
            return
        }
        Varint.append(type, to: &buffer)
        switch self {
        case .padding, .ping, .handshakeDone:
            break
        case .ack(let largest, let delay, let first, let ranges, let ecn):
            for value in [largest, delay, UInt64(ranges.count), first] { Varint.append(value, to: &buffer) }
            for range in ranges {
                Varint.append(range.gap, to: &buffer)
                Varint.append(range.length, to: &buffer)
            }
            if let ecn { for value in [ecn.ect0, ecn.ect1, ecn.ce] { Varint.append(value, to: &buffer) } }
        case .resetStream(let stream, let code, let finalSize):
            for value in [stream, code, finalSize] { Varint.append(value, to: &buffer) }
        case .stopSending(let stream, let code):
            for value in [stream, code] { Varint.append(value, to: &buffer) }
        case .crypto(let offset, let data):
            Varint.append(offset, to: &buffer)
            Self.appendLengthPrefixed(data, to: &buffer)
        case .newToken(let token):
            Self.appendLengthPrefixed(token, to: &buffer)
        case .stream(let stream, let offset, let data, let explicitLength, _):
            Varint.append(stream, to: &buffer)
            if let offset { Varint.append(offset, to: &buffer) }
            if explicitLength { Varint.append(UInt64(data.count), to: &buffer) }
            buffer.append(contentsOf: data)
        case .maxData(let value), .dataBlocked(let value), .retireConnectionID(let value),
             .maxStreams(_, let value), .streamsBlocked(_, let value):
            Varint.append(value, to: &buffer)
        case .maxStreamData(let stream, let value), .streamDataBlocked(let stream, let value):
            Varint.append(stream, to: &buffer)
            Varint.append(value, to: &buffer)
        case .newConnectionID(let sequence, let retire, let connectionID, let token):
            Varint.append(sequence, to: &buffer)
            Varint.append(retire, to: &buffer)
            buffer.append(UInt8(truncatingIfNeeded: connectionID.count))
            buffer.append(contentsOf: connectionID)
            buffer.append(contentsOf: token)
        case .pathChallenge(let data), .pathResponse(let data):
            buffer.appendBigEndian(data, width: 8)
        case .connectionClose(let code, let frameType, let reason):
            Varint.append(code, to: &buffer)
            if let frameType { Varint.append(frameType, to: &buffer) }
            Self.appendLengthPrefixed(reason, to: &buffer)
        case .datagram(let data, let explicitLength):
            if explicitLength { Varint.append(UInt64(data.count), to: &buffer) }
            buffer.append(contentsOf: data)
        }
    }

    private static func appendLengthPrefixed(_ bytes: [UInt8], to buffer: inout [UInt8]) {
        Varint.append(UInt64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
    }
}
