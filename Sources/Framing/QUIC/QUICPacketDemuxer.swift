/// Demultiplexes QUIC packet payloads (RFC 9000 §12.4): each call to `feed` is one whole,
/// decrypted packet payload, whose frames are reported in order through the same items as the
/// stream dialects. A frame never spans packets, so nothing is buffered. After a failure the
/// demuxer stays failed and every call rethrows it.
public struct QUICPacketDemuxer: Sendable {
    /// Octets fed so far: the offset of the next packet's first octet.
    public private(set) var offset = 0
    /// The error that stopped the demuxer, if any.
    public private(set) var failure: FramingError?

    /// A demuxer for the packets of one connection.
    public init() {}

    /// Reports the frames of one packet payload. `body` gets each item with the frame's octets,
    /// type included, borrowed for the duration of the call. PADDING is skipped silently.
    /// - Throws: the first framing error, at the offending frame's offset; frames before it have been reported.
    public mutating func feed(packet: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        if let failure { throw failure }
        var cursor = 0
        while cursor < packet.byteCount {
            // PADDING runs (skipped eight octets at a time) and PING, the heartbeat path, without
            // the general frame parser; what they report is exactly what it would.
            switch UInt64(packet.unsafeLoad(fromByteOffset: cursor, as: UInt8.self)) {
            case QUICFrameParser.FrameType.padding:
                cursor = Self.endOfPadding(packet, from: cursor &+ 1)
            case QUICFrameParser.FrameType.ping:
                body(.quicPing, packet.extracting(unchecked: cursor..<(cursor &+ 1)))
                cursor &+= 1
            default:
                cursor = try feedFrame(packet, at: cursor, body)
            }
        }
        offset += packet.byteCount
    }

    /// Reports the frame at `cursor` through the general parser and returns where it ends. Out of
    /// line, so that the PING and PADDING path keeps a small stack frame.
    @inline(never)
    mutating func feedFrame(_ packet: RawSpan, at cursor: Int, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) -> Int {
        do {
            let (end, item) = try QUICFrameParser.decodeFrame(in: packet, at: cursor)
            if let item { body(item, packet.extracting(cursor..<end)) }
            return end
        } catch {
            let failure = FramingError(error, dialect: .quic, code: error.ruleCode ?? Self.wireCode(for: error),
                                       offset: offset + cursor)
            self.failure = failure
            throw failure
        }
    }

    /// The offset of the first nonzero octet of `packet` at or after `start`, or its end: where a
    /// run of PADDING frames (0x00 octets) ends, read 8 octets at a time, the last ones with one
    /// load that overlaps octets already seen (shifted out).
    @inline(__always)
    static func endOfPadding(_ packet: RawSpan, from start: Int) -> Int {
        var cursor = start
        let end = packet.byteCount
        while cursor &+ 8 <= end {
            let word = UInt64(littleEndian: packet.unsafeLoadUnaligned(fromByteOffset: cursor, as: UInt64.self))
            if word != 0 { return cursor &+ word.trailingZeroBitCount >> 3 }
            cursor &+= 8
        }
        if cursor < end, end >= 8 {
            // The last 8 octets, less the 1 to 7 before `cursor` (seen, or before `start`).
            let word = UInt64(littleEndian: packet.unsafeLoadUnaligned(fromByteOffset: end &- 8, as: UInt64.self)) >> UInt64(8 &* (cursor &- (end &- 8)))
            return word == 0 ? end : cursor &+ word.trailingZeroBitCount >> 3
        }
        while cursor < end, packet.unsafeLoad(fromByteOffset: cursor, as: UInt8.self) == 0 {
            cursor &+= 1
        }
        return cursor
    }

    /// Reports the frames of one packet payload held in an array; see `feed(packet:_:)`.
    public mutating func feed(packet: [UInt8], _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
        try feed(packet: packet.span.bytes, body)
    }
}

extension QUICPacketDemuxer {
    /// The transport error code a failure maps to (RFC 9000 §12.4): PROTOCOL_VIOLATION for a
    /// non-minimal frame type, FRAME_ENCODING_ERROR otherwise.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .nonMinimalFrameType: return .quic(.protocolViolation)
        default: return .quic(.frameEncodingError)
        }
    }
}

extension QUICPacketDemuxer {
    /// The transport codes QUIC closes with (CONNECTION_CLOSE 0x1c): there is no "calm down" code,
    /// so abuse closes with PROTOCOL_VIOLATION; a dead peer is closed silently (idle timeout) or NO_ERROR.
    public static var closeCodes: CloseCodes {
        CloseCodes(noError: .quic(.noError), protocolError: .quic(.protocolViolation),
                   enhanceYourCalm: .quic(.protocolViolation), livenessTimeout: .quic(.noError))
    }

    /// How the dissector names QUIC frames (RFC 9000 §19, RFC 9221 §4).
    public static var vocabulary: DissectorVocabulary {
        DissectorVocabulary { type in
            switch type {
            case 0x04: return "RESET_STREAM"
            case 0x05: return "STOP_SENDING"
            case 0x06: return "CRYPTO"
            case 0x07: return "NEW_TOKEN"
            case 0x08...0x0f: return "STREAM"
            case 0x10: return "MAX_DATA"
            case 0x11: return "MAX_STREAM_DATA"
            case 0x12, 0x13: return "MAX_STREAMS"
            case 0x14: return "DATA_BLOCKED"
            case 0x15: return "STREAM_DATA_BLOCKED"
            case 0x16, 0x17: return "STREAMS_BLOCKED"
            case 0x18: return "NEW_CONNECTION_ID"
            case 0x19: return "RETIRE_CONNECTION_ID"
            case 0x1a: return "PATH_CHALLENGE"
            case 0x1b: return "PATH_RESPONSE"
            case 0x1c, 0x1d: return "CONNECTION_CLOSE"
            case 0x1e: return "HANDSHAKE_DONE"
            case 0x30, 0x31: return "DATAGRAM"
            default: return "UNKNOWN"
            }
        }
    }
}

extension Dialect {
    /// QUIC (RFC 9000), named `quic`: fed one packet payload at a time.
    public static let quic = Dialect(name: "quic")
}
