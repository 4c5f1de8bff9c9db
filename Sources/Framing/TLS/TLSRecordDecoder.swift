/// Why a heartbeat record was discarded without an answer (RFC 6520 §4; spec/tls.md §4.2). None
/// of these is an error: the record is dropped silently, counted, and decoding goes on.
public enum TLSHeartbeatDiscard: Hashable, Sendable, CaseIterable {
    /// The record is longer than 2^14 octets (RFC 6520 §4: a HeartbeatMessage's total length
    /// must not exceed 2^14; max_fragment_length is not negotiated here).
    case recordTooLong
    /// Fewer than 3 octets: no room for the type and payload_length.
    case headerTruncated
    /// A HeartbeatMessageType other than request (1) or response (2) (RFC 6520 §4).
    case unknownType
    /// payload_length runs past the end of the record: the Heartbleed shape (CVE-2014-0160).
    case payloadOverflow
    /// The payload fits but fewer than 16 padding octets follow it (RFC 6520 §4).
    case paddingTooShort
}

/// A heartbeat record's content, read from its fragment (RFC 6520 §4): a request or response and
/// where its payload lies, or why it is discarded. Only `3 + payload_length + 16 ≤ record length`
/// admits a message, so a payload_length that claims more than the record holds is never read,
/// let alone echoed.
public enum TLSHeartbeatMessage: Hashable, Sendable {
    /// heartbeat_request: a ping; its payload lies at `payload`, relative to the fragment.
    case request(payload: Range<Int>)
    /// heartbeat_response: a pong.
    case response(payload: Range<Int>)
    /// Dropped silently, for this reason.
    case discarded(TLSHeartbeatDiscard)

    /// Reads the HeartbeatMessage that fills `fragment`, a heartbeat record's fragment. The
    /// padding's content is ignored (RFC 6520 §4).
    public init(parsing fragment: RawSpan) {
        guard fragment.byteCount <= TLSRecord.maxPlaintextLength else {
            self = .discarded(.recordTooLong)
            return
        }
        var cursor = 0
        guard let type = fragment.readUInt8(at: &cursor), let length = fragment.readBigEndian(width: 2, at: &cursor) else {
            self = .discarded(.headerTruncated)
            return
        }
        guard type == TLSRecord.HeartbeatMessageType.request || type == TLSRecord.HeartbeatMessageType.response else {
            self = .discarded(.unknownType)
            return
        }
        let available = fragment.byteCount - TLSRecord.heartbeatHeaderLength
        guard Int(length) <= available else {
            self = .discarded(.payloadOverflow)
            return
        }
        guard available - Int(length) >= TLSRecord.minimumPaddingLength else {
            self = .discarded(.paddingTooShort)
            return
        }
        let payload = cursor..<(cursor + Int(length))
        self = type == TLSRecord.HeartbeatMessageType.request ? .request(payload: payload) : .response(payload: payload)
    }
}

/// Decodes plaintext TLS records (RFC 5246 §6.2.1) one peer sends: every record is delimited by
/// its 5-octet header; heartbeat records (content type 24) carry one HeartbeatMessage each
/// (RFC 6520 §4) — a request is a ping, a response a pong, each with its payload — and every other
/// record is a business frame of its content type, its fragment handed over whole.
///
/// Checked as soon as the octets are in (spec/tls.md §3): the content type (20–24, else
/// `UNEXPECTED_MESSAGE`), the legacy version (0x0300–0x0304, else `PROTOCOL_VERSION`), the length
/// (at most `maxFrameSize`, itself at most 2^14 + 2048, else `RECORD_OVERFLOW`, before any of the
/// fragment is buffered). A heartbeat message that breaks RFC 6520 §4 — the Heartbleed shape among
/// them — is no error: it is discarded silently (no item), and counted.
public struct TLSRecordDecoder: StreamFrameDecoder {
    /// The largest record fragment accepted, in octets: 64...`TLSRecord.maxRecordLength`.
    public let maxFrameSize: Int
    /// Heartbeat records discarded so far (spec/tls.md §4.2).
    public private(set) var discardedHeartbeats = 0
    /// Why the last discarded heartbeat record was dropped.
    public private(set) var lastDiscard: TLSHeartbeatDiscard?

    /// A decoder accepting fragments of up to `maxFrameSize` octets, clamped to 64...18,432.
    public init(maxFrameSize: Int = TLSRecord.maxRecordLength) {
        self.maxFrameSize = min(max(maxFrameSize, 64), TLSRecord.maxRecordLength)
    }

    public static var dialect: Dialect { .tls }

    /// RECORD_OVERFLOW for a record over the limit; DECODE_ERROR otherwise (`truncated`, which
    /// `hb decode` and the vectors name `TRUNCATED`). The decoder's own rules carry their codes.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .frameTooLarge: return .tls(.recordOverflow)
        default: return .tls(.decodeError)
        }
    }

    /// The header and the longest fragment.
    public var maxFrameLength: Int { TLSRecord.headerLength + maxFrameSize }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        guard prefix.byteCount >= 1 else { return .needMore(1) }
        let type = prefix.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        guard TLSRecord.ContentType.known.contains(type) else {
            throw .violation(RuleViolation("tls-content-type", "record of unknown content type \(type)", code: .tls(.unexpectedMessage)))
        }
        // The version, octet by octet as it arrives (asking for one more each time), so that a
        // stream that is no TLS fails as early however it is cut.
        guard prefix.byteCount >= 2 else { return .needMore(2) }
        let major = prefix.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        guard major == 3 else { throw Self.versionViolation("major version \(major)") }
        guard prefix.byteCount >= 3 else { return .needMore(3) }
        let minor = prefix.unsafeLoad(fromByteOffset: 2, as: UInt8.self)
        guard TLSRecord.acceptedVersions.contains(0x0300 | UInt16(minor)) else { throw Self.versionViolation("version 3.\(minor)") }
        var cursor = 3
        guard let length = prefix.readBigEndian(width: 2, at: &cursor) else { return .needMore(TLSRecord.headerLength) }
        guard length <= UInt64(maxFrameSize) else { throw .frameTooLarge(length: length, limit: maxFrameSize) }
        return .frame(length: TLSRecord.headerLength + Int(length))
    }

    /// The same detail however the stream was cut: the octet that decided it.
    private static func versionViolation(_ version: String) -> FramingError.Reason {
        .violation(RuleViolation("tls-record-version", "record \(version): not 0x0300 through 0x0304", code: .tls(.protocolVersion)))
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        let type = frame.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        let fragment = TLSRecord.headerLength..<frame.byteCount
        guard type == TLSRecord.ContentType.heartbeat else {
            return DecodedFrame(item: .business(BusinessFrame(type: UInt64(type), length: fragment.count)), bytes: fragment)
        }
        switch TLSHeartbeatMessage(parsing: frame.extracting(fragment)) {
        case .request(let payload):
            let bytes = (payload.lowerBound + fragment.lowerBound)..<(payload.upperBound + fragment.lowerBound)
            return DecodedFrame(item: .ping(HeartbeatPayload(prefixOf: frame.extracting(bytes))), bytes: bytes)
        case .response(let payload):
            let bytes = (payload.lowerBound + fragment.lowerBound)..<(payload.upperBound + fragment.lowerBound)
            return DecodedFrame(item: .pong(HeartbeatPayload(prefixOf: frame.extracting(bytes))), bytes: bytes)
        case .discarded(let reason):
            discardedHeartbeats += 1
            lastDiscard = reason
            return DecodedFrame(item: nil, bytes: 0..<0)
        }
    }
}
