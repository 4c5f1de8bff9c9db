/// The TLS record layer's constants and encoders (RFC 5246 §6.2.1; RFC 8446 §5.1) and the
/// heartbeat message inside a heartbeat record (RFC 6520 §4), as spec/tls.md describes them.
/// Records here are plaintext: the record layer as a TLS stack hands it over before encryption
/// or after decryption. Every encoder appends to a caller's array: with its capacity reserved,
/// encoding never allocates.
public enum TLSRecord {
    /// Octets in a record header: content type (1), legacy version (2), length (2).
    public static let headerLength = 5

    /// Record content types (RFC 5246 §6.2.1, RFC 6520 §3). Any other type is an
    /// `UNEXPECTED_MESSAGE` (RFC 5246 §6; spec/tls.md §3.1).
    public enum ContentType {
        /// change_cipher_spec (20).
        public static let changeCipherSpec: UInt8 = 20
        /// alert (21): a level and a description (RFC 5246 §7.2).
        public static let alert: UInt8 = 21
        /// handshake (22).
        public static let handshake: UInt8 = 22
        /// application_data (23): the application's bytes, and our default business record.
        public static let applicationData: UInt8 = 23
        /// heartbeat (24, RFC 6520 §3): one HeartbeatMessage per record.
        public static let heartbeat: UInt8 = 24
        /// The types this implementation accepts: 20 through 24.
        public static let known: ClosedRange<UInt8> = 20...24
    }

    /// The record version we write: TLS 1.2 (0x0303), the last version with the heartbeat
    /// extension (RFC 8446 does not carry it).
    public static let tls12: UInt16 = 0x0303
    /// The legacy record versions accepted: SSL 3.0 (0x0300) through 0x0304 (spec/tls.md §3.2).
    public static let acceptedVersions: ClosedRange<UInt16> = 0x0300...0x0304

    /// The largest record fragment accepted, in octets: 2^14 + 2048, TLSCiphertext's bound
    /// (RFC 5246 §6.2.3), so that captures of encrypted records are delimited too. Longer records
    /// are `RECORD_OVERFLOW`.
    public static let maxRecordLength = (1 << 14) + 2048
    /// The longest plaintext fragment, and the longest heartbeat message (RFC 5246 §6.2.1; RFC 6520
    /// §4 without max_fragment_length): 2^14 octets. A longer heartbeat record is discarded.
    public static let maxPlaintextLength = 1 << 14

    /// HeartbeatMessageType (RFC 6520 §3).
    public enum HeartbeatMessageType {
        /// heartbeat_request (1): a ping; its payload is echoed.
        public static let request: UInt8 = 1
        /// heartbeat_response (2): a pong, echoing a request's payload.
        public static let response: UInt8 = 2
    }

    /// Octets before a heartbeat message's payload: type (1), payload_length (2).
    public static let heartbeatHeaderLength = 3
    /// The least padding a heartbeat message carries, and the padding we send (RFC 6520 §4).
    public static let minimumPaddingLength = 16
    /// The longest payload a heartbeat message can carry in a 2^14-octet record: 16,365 octets.
    public static let maxHeartbeatPayload = maxPlaintextLength - heartbeatHeaderLength - minimumPaddingLength

    /// Alert levels (RFC 5246 §7.2).
    public enum AlertLevel {
        /// warning (1): close_notify goes out at this level.
        public static let warning: UInt8 = 1
        /// fatal (2): every other alert we send.
        public static let fatal: UInt8 = 2
    }

    /// Appends a record header: `type`, `version` and `length` fragment octets to follow.
    public static func appendHeader(type: UInt8, version: UInt16 = tls12, length: Int, to buffer: inout [UInt8]) {
        buffer.append(type)
        buffer.appendBigEndian(UInt64(version), width: 2)
        buffer.appendBigEndian(UInt64(length), width: 2)
    }

    /// Appends one record of `type` carrying `fragment` (at most `maxRecordLength` octets).
    public static func appendRecord(type: UInt8, version: UInt16 = tls12, fragment: RawSpan, to buffer: inout [UInt8]) {
        precondition(fragment.byteCount <= maxRecordLength, "a TLS record fragment of \(fragment.byteCount) octets")
        appendHeader(type: type, version: version, length: fragment.byteCount, to: &buffer)
        buffer.append(fragment)
    }

    /// Appends a heartbeat record holding one HeartbeatMessage (RFC 6520 §4): `messageType`,
    /// payload_length, `payload` (at most `maxHeartbeatPayload` octets) and `padding` octets,
    /// 16 at least.
    public static func appendHeartbeat(messageType: UInt8, payload: RawSpan, padding: RawSpan,
                                       version: UInt16 = tls12, to buffer: inout [UInt8]) {
        precondition(payload.byteCount <= maxHeartbeatPayload && padding.byteCount >= minimumPaddingLength,
                     "a heartbeat message of \(payload.byteCount) payload and \(padding.byteCount) padding octets")
        appendHeader(type: ContentType.heartbeat, version: version,
                     length: heartbeatHeaderLength + payload.byteCount + padding.byteCount, to: &buffer)
        buffer.append(messageType)
        buffer.appendBigEndian(UInt64(payload.byteCount), width: 2)
        buffer.append(payload)
        buffer.append(padding)
    }

    /// Appends an alert record (RFC 5246 §7.2): `level` and `description`.
    public static func appendAlert(level: UInt8, description: UInt8, version: UInt16 = tls12, to buffer: inout [UInt8]) {
        appendHeader(type: ContentType.alert, version: version, length: 2, to: &buffer)
        buffer.append(level)
        buffer.append(description)
    }
}

/// The TLS alert descriptions this library closes with or reports (RFC 5246 §7.2, RFC 8446 §6):
/// the code space of the TLS dialect's `WireErrorCode`s.
public enum TLSAlertDescription: UInt8, Hashable, Sendable, CaseIterable {
    /// The sender is done: a graceful close (RFC 5246 §7.2.1).
    case closeNotify = 0
    /// A record of a content type this implementation does not know (RFC 5246 §6).
    case unexpectedMessage = 10
    /// A record longer than 2^14 + 2048 octets or the receiver's limit (RFC 5246 §6.2.3).
    case recordOverflow = 22
    /// A message could not be decoded (RFC 5246 §7.2.2).
    case decodeError = 50
    /// A record version outside 0x0300...0x0304 (spec/tls.md §3.2).
    case protocolVersion = 70
    /// A failure unrelated to the peer's octets; also what we close with when the peer stopped
    /// answering heartbeats (spec/tls.md §6).
    case internalError = 80
    /// The sender cancels for a reason that is no protocol failure; what we close with for a
    /// heartbeat flood (spec/tls.md §6).
    case userCanceled = 90

    /// The description's name, upper case as the other dialects' codes, e.g. `RECORD_OVERFLOW`.
    public var name: String {
        switch self {
        case .closeNotify: return "CLOSE_NOTIFY"
        case .unexpectedMessage: return "UNEXPECTED_MESSAGE"
        case .recordOverflow: return "RECORD_OVERFLOW"
        case .decodeError: return "DECODE_ERROR"
        case .protocolVersion: return "PROTOCOL_VERSION"
        case .internalError: return "INTERNAL_ERROR"
        case .userCanceled: return "USER_CANCELED"
        }
    }
}

extension WireErrorCode {
    /// A TLS alert description (RFC 5246 §7.2), sent in an alert record.
    public static func tls(_ alert: TLSAlertDescription) -> WireErrorCode {
        WireErrorCode(value: UInt64(alert.rawValue), name: alert.name)
    }
}
