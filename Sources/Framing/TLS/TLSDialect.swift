/// TLS Heartbeat (RFC 6520) over the plaintext TLS record layer (RFC 5246 §6.2.1) as a plug-in
/// dialect, specified as we implement it in spec/tls.md: records are delimited by their headers;
/// heartbeat records carry the heartbeats — a request is a ping, a response a pong echoing its
/// payload (the echo liveness model) — and every other record is a business frame of its content
/// type. The heartbeat extension is assumed negotiated, with peer_allowed_to_send.
///
/// The records are plaintext: the record layer as a TLS stack hands it over, before encryption or
/// after decryption, or a capture of a stack's plaintext output. This dialect does no handshake and
/// no cryptography; it is for testing TLS stacks' heartbeat handling and for stacks that let a
/// library answer their heartbeats.
public struct TLSDialect: StreamDialect {
    /// The legacy version our records carry (default TLS 1.2, 0x0303).
    public var recordVersion: UInt16

    /// TLS Heartbeat; our records carry `recordVersion`.
    public init(recordVersion: UInt16 = TLSRecord.tls12) {
        self.recordVersion = recordVersion
    }

    public var dialect: Dialect { .tls }
    public var liveness: LivenessModel { .echo }

    /// Both directions read the same; `role` is not needed.
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> TLSRecordDecoder {
        TLSRecordDecoder(maxFrameSize: maxFrameSize ?? TLSRecord.maxRecordLength)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> TLSRecordEncoder {
        TLSRecordEncoder(recordVersion: recordVersion, randomSeed: randomSeed)
    }

    public var vocabulary: DissectorVocabulary {
        DissectorVocabulary(ping: "HEARTBEAT_REQUEST", pong: "HEARTBEAT_RESPONSE") { type in
            switch type {
            case UInt64(TLSRecord.ContentType.changeCipherSpec): return "CHANGE_CIPHER_SPEC"
            case UInt64(TLSRecord.ContentType.alert): return "ALERT"
            case UInt64(TLSRecord.ContentType.handshake): return "HANDSHAKE"
            case UInt64(TLSRecord.ContentType.applicationData): return "APPLICATION_DATA"
            default: return "UNKNOWN"
            }
        }
    }
}

extension StreamDialect where Self == TLSDialect {
    /// TLS Heartbeat (RFC 6520) on plaintext records (spec/tls.md).
    public static var tls: TLSDialect { TLSDialect() }
}

extension Dialect {
    /// TLS Heartbeat (RFC 6520) on plaintext records, named `tls`.
    public static let tls = Dialect(name: "tls")
}

/// What one endpoint's plaintext record layer sends: heartbeat requests and responses with 16
/// octets of random padding, application data records, and alerts; and its answer to the peer's
/// close_notify. Nothing here allocates: with `maxHeartbeatLength` reserved, heartbeats are encoded
/// in place.
public struct TLSRecordEncoder: StreamFrameEncoder {
    /// The legacy version our records carry.
    public let recordVersion: UInt16
    /// Padding: a ChaCha20 keystream keyed by the seed, so that the padding on the wire does not
    /// predict the next (RFC 6520 §4: the padding is random).
    private var random: ChaCha20Generator
    /// Whether we sent an alert that ends the connection: nothing is sent after it.
    public private(set) var sentClose = false

    /// An encoder whose padding is drawn from a keystream keyed by `randomSeed`.
    public init(recordVersion: UInt16 = TLSRecord.tls12, randomSeed: UInt64) {
        self.recordVersion = recordVersion
        self.random = ChaCha20Generator(seed: randomSeed)
    }

    /// close_notify; unexpected_message for a framing failure; user_canceled for abuse (a
    /// heartbeat flood); internal_error for a liveness timeout (spec/tls.md §6).
    public var closeCodes: CloseCodes {
        CloseCodes(noError: .tls(.closeNotify), protocolError: .tls(.unexpectedMessage),
                   enhanceYourCalm: .tls(.userCanceled), livenessTimeout: .tls(.internalError))
    }

    /// A response echoing the longest payload a 2^14-octet record holds: 16,389 octets (our own
    /// requests take 32).
    public var maxHeartbeatLength: Int { TLSRecord.headerLength + TLSRecord.maxPlaintextLength }

    /// A plaintext record's fragment: 2^14 octets (RFC 5246 §6.2.1).
    public var maxDataPayload: Int { TLSRecord.maxPlaintextLength }

    /// A heartbeat_request carrying the payload's octets (our 8) and 16 octets of random padding.
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard !sentClose else { return }
        payload.withOctets { appendHeartbeat(TLSRecord.HeartbeatMessageType.request, payload: $0, to: &buffer) }
    }

    /// A heartbeat_response echoing the request's payload octet for octet, never more, with 16
    /// octets of random padding. A payload longer than a record can echo (16,365 octets) cannot
    /// have come in a valid request: nothing is appended.
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        guard !sentClose, payload.byteCount <= TLSRecord.maxHeartbeatPayload else { return }
        appendHeartbeat(TLSRecord.HeartbeatMessageType.response, payload: payload, to: &buffer)
    }

    private mutating func appendHeartbeat(_ type: UInt8, payload: RawSpan, to buffer: inout [UInt8]) {
        var padding: InlineArray<4, UInt32> = .init(repeating: 0)
        for index in padding.indices { padding[index] = random.next() }
        TLSRecord.appendHeartbeat(messageType: type, payload: payload, padding: padding.span.bytes, version: recordVersion, to: &buffer)
    }

    /// An alert record with `code` as its description (close_notify at the warning level, every
    /// other code fatal; a code above 255 becomes internal_error). TLS alerts carry no text: the
    /// reason is not sent.
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        guard !sentClose else { return }
        sentClose = true
        let description = code.value <= UInt64(UInt8.max) ? UInt8(code.value) : TLSAlertDescription.internalError.rawValue
        let level = description == TLSAlertDescription.closeNotify.rawValue ? TLSRecord.AlertLevel.warning : TLSRecord.AlertLevel.fatal
        TLSRecord.appendAlert(level: level, description: description, version: recordVersion, to: &buffer)
    }

    /// One record of content `type` (20–24) carrying `payload` (at most 2^14 octets); any other
    /// type, nil included, is application_data (23).
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        guard !sentClose else { return }
        let contentType = type.flatMap { $0 <= UInt64(UInt8.max) ? UInt8($0) : nil }
            .flatMap { TLSRecord.ContentType.known.contains($0) ? $0 : nil } ?? TLSRecord.ContentType.applicationData
        var start = 0
        repeat {
            let end = start + min(maxDataPayload, payload.byteCount - start)
            TLSRecord.appendRecord(type: contentType, version: recordVersion, fragment: payload.extracting(start..<end), to: &buffer)
            start = end
        } while start < payload.byteCount
    }

    /// An alert of two octets that is close_notify or fatal reports the peer closing, and
    /// close_notify is answered with our own (RFC 5246 §7.2.1); every other record is delivered.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        guard frame.type == UInt64(TLSRecord.ContentType.alert), payload.byteCount == 2 else { return .deliver }
        let level = payload.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        let description = payload.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        let name = TLSAlertDescription(rawValue: description)?.name ?? "ALERT_\(description)"
        if description == TLSAlertDescription.closeNotify.rawValue {
            appendClose(code: .tls(.closeNotify), reason: "", to: &reply)
            return .peerClosing(code: UInt64(description), reason: name, deliver: false)
        }
        guard level == TLSRecord.AlertLevel.fatal else { return .deliver }
        sentClose = true
        return .peerClosing(code: UInt64(description), reason: name, deliver: false)
    }
}
