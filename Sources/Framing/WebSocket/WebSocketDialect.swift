/// WebSocket (RFC 6455) as a plug-in dialect: the opening handshake (§4), then frames (§5); Ping
/// and Pong (§5.5.2–5.5.3) are the heartbeats, with the echo liveness model (a Pong echoes its
/// Ping's application data); text, binary, continuation and Close frames are business frames.
/// A client masks every frame it sends (§5.3) with a fresh key per frame.
public struct WebSocketDialect: StreamDialect {
    /// Whether the session runs the opening handshake: the client sends the Upgrade request as
    /// its preface and checks the 101 answer; the server answers the request. False when the
    /// handshake happened elsewhere (an HTTP server upgraded the connection) and frames start at
    /// the first octet.
    public var performsHandshake: Bool
    /// The Host field of our client's request (RFC 6455 §4.1), with the port when not 80.
    public var host: String
    /// The request target of our client's request, e.g. `/chat?room=1`.
    public var path: String

    /// WebSocket; a client asks `host` for `path`.
    public init(performsHandshake: Bool = true, host: String = "localhost", path: String = "/") {
        self.performsHandshake = performsHandshake
        self.host = host
        self.path = path
    }

    public var dialect: Dialect { .webSocket }
    public var liveness: LivenessModel { .echo }

    /// A server reads the client's request and then masked frames; a client reads the 101 answer
    /// and then unmasked frames; a capture (nil role) takes a handshake if the stream starts with
    /// one and does not check masking.
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> WebSocketFrameDecoder {
        let handshake: WebSocketFrameDecoder.HandshakePolicy
        switch role {
        case .server?: handshake = performsHandshake ? .expectRequest : .none
        case .client?: handshake = performsHandshake ? .expectResponse : .none
        case nil: handshake = .optional
        }
        return WebSocketFrameDecoder(role: role, maxFrameSize: maxFrameSize ?? WebSocketFrame.defaultMaxFrameSize, handshake: handshake)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> WebSocketFrameEncoder {
        WebSocketFrameEncoder(role: role, randomSeed: randomSeed, performsHandshake: performsHandshake, host: host, path: path)
    }

    public var vocabulary: DissectorVocabulary {
        DissectorVocabulary { type in
            switch type {
            case WebSocketFrame.handshakeType: return "HANDSHAKE"
            default: return DissectorVocabulary.name(type, in: ["CONTINUATION", "TEXT", "BINARY", "", "", "", "", "", "CLOSE"])
            }
        }
    }
}

extension StreamDialect where Self == WebSocketDialect {
    /// WebSocket (RFC 6455) with the opening handshake, as a client asking `localhost` for `/`.
    public static var webSocket: WebSocketDialect { WebSocketDialect() }
}

extension Dialect {
    /// WebSocket (RFC 6455), named `ws`.
    public static let webSocket = Dialect(name: "ws")
}

extension WireErrorCode {
    /// A WebSocket close status code (RFC 6455 §7.4.1).
    public static func webSocket(_ code: WebSocketCloseCode) -> WireErrorCode {
        WireErrorCode(value: UInt64(code.rawValue), name: code.name)
    }

    /// The "code" of a failed opening handshake: the HTTP status a server answers it with (400,
    /// 426 for an unsupported version, 431 for an oversized header block). No Close frame is ever
    /// sent for it: the connection never became a WebSocket (spec/websocket.md §3.4).
    public static func webSocketHandshake(_ error: WebSocketHandshakeError) -> WireErrorCode {
        WireErrorCode(value: UInt64(error.httpStatus), name: "HANDSHAKE_ERROR")
    }
}

extension WebSocketHandshakeError {
    /// The HTTP status a server rejects the request with (RFC 6455 §4.2.1, §4.4).
    var httpStatus: Int {
        switch self {
        case .unsupportedVersion: return 426
        case .headerBlockTooLarge: return 431
        default: return 400
        }
    }
}

/// What one WebSocket endpoint sends: the opening handshake (a client's request, a server's
/// answer), Ping and Pong, binary frames for the application's data, and Close; and its answers
/// to the peer's handshake and Close.
///
/// Until the handshake is done (`isOpen`), pings, pongs and data append nothing: a client may
/// send no frame before it has validated the 101 (RFC 6455 §4.1), and a server's frames must not
/// precede its 101 in the stream. Once it is done, nothing here allocates: with `maxHeartbeatLength` reserved, pings
/// and pongs are encoded in place, masked (by a client) as they are appended.
public struct WebSocketFrameEncoder: StreamFrameEncoder {
    /// Which end this is: a client masks, a server does not (RFC 6455 §5.1).
    public let role: ConnectionRole
    /// See `WebSocketDialect.performsHandshake`.
    public let performsHandshake: Bool
    /// The Host field of a client's request.
    public let host: String
    /// The request target of a client's request.
    public let path: String
    /// The nonce of a client's request (RFC 6455 §4.1).
    public let key: WebSocketKey

    /// Masking keys: a ChaCha20 keystream keyed by the seed, so that keys seen on the wire do not
    /// predict the next (RFC 6455 §10.3; spec/websocket.md §9).
    private var random: ChaCha20Generator
    /// Whether the handshake is complete (or not ours to run): frames may be sent.
    public private(set) var isOpen: Bool
    /// Whether we sent a Close: nothing is sent after it (RFC 6455 §5.5.1).
    public private(set) var sentClose = false

    /// An encoder for `role`. `randomSeed` keys the ChaCha20 keystream that draws the handshake
    /// nonce and the masking keys; give each connection its own, from a strong source (RFC 6455 §10.3).
    public init(role: ConnectionRole, randomSeed: UInt64, performsHandshake: Bool = true, host: String = "localhost", path: String = "/") {
        self.role = role
        self.performsHandshake = performsHandshake
        self.host = host
        self.path = path
        var random = ChaCha20Generator(seed: randomSeed)
        self.key = WebSocketKey(high: random.next64(), low: random.next64())
        self.random = random
        self.isOpen = !performsHandshake
    }

    /// NORMAL_CLOSURE, PROTOCOL_ERROR, POLICY_VIOLATION for abuse, INTERNAL_ERROR for a liveness
    /// timeout (spec/websocket.md §6.3).
    public var closeCodes: CloseCodes {
        CloseCodes(noError: .webSocket(.normalClosure), protocolError: .webSocket(.protocolError),
                   enhanceYourCalm: .webSocket(.policyViolation), livenessTimeout: .webSocket(.internalError))
    }

    /// A Pong echoing a 125-octet Ping, masked: 131 octets (our own pings take 14).
    public var maxHeartbeatLength: Int { WebSocketFrame.maxControlFrameLength }

    /// No limit: `appendData` writes one message of any length, itself fragmented into frames of
    /// at most `maxFragmentPayload` octets.
    public var maxDataPayload: Int { Int.max }

    /// The largest payload of one frame we write: the default receive limit (65,536), which every
    /// peer of this library accepts (RFC 6455 leaves frame limits to the receiver, §10.4).
    public static let maxFragmentPayload = WebSocketFrame.defaultMaxFrameSize

    /// A client's masking key for the next frame; nil for a server.
    private mutating func nextMaskingKey() -> UInt32? {
        role == .client ? random.next() : nil
    }

    /// A client's opening handshake request; a server sends nothing first.
    public mutating func appendPreface(to buffer: inout [UInt8]) {
        guard performsHandshake, role == .client else { return }
        WebSocketHandshake.appendRequest(host: host, path: path, key: key, to: &buffer)
    }

    /// A Ping carrying the payload's octets (our 8).
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        let key = nextMaskingKey()
        if payload.byteCount == HeartbeatPayload.byteCount {
            WebSocketFrame.appendHeartbeat(opcode: WebSocketFrame.Opcode.ping, payload, maskingKey: key, to: &buffer)
        } else {
            payload.withOctets { WebSocketFrame.appendPing(payload: $0, maskingKey: key, to: &buffer) }
        }
    }

    /// A Pong echoing the Ping's application data (at most 125 octets), octet for octet.
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        WebSocketFrame.appendPong(payload: payload.extracting(0..<min(payload.byteCount, WebSocketFrame.maxControlPayload)),
                                  maskingKey: nextMaskingKey(), to: &buffer)
    }

    /// A Close with `code` and `reason` (truncated to 123 octets at a character boundary). Before
    /// the handshake is done a server answers with an HTTP rejection instead (status `code.value`
    /// when it is one, else 400) and a client sends nothing (RFC 6455 §4.1, §4.2.1).
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        guard !sentClose else { return }
        sentClose = true
        guard isOpen else {
            if role == .server {
                WebSocketHandshake.appendRejection(status: (400..<600).contains(code.value) ? Int(code.value) : 400, to: &buffer)
            }
            return
        }
        let status = code.value <= UInt64(UInt16.max) ? UInt16(code.value) : WebSocketCloseCode.internalError.rawValue
        WebSocketFrame.appendClose(code: status, reason: reason, maskingKey: nextMaskingKey(), to: &buffer)
    }

    /// One message (RFC 6455 §5.4, §5.6) of `type` — text (0x1) or binary (0x2, the default; any
    /// other type, which no data frame has, is sent as binary too) — as one frame, or fragmented into frames of at most `maxFragmentPayload` octets (the first of
    /// `type`, the rest continuations, FIN on the last); each masked with its own key by a client.
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        let opcode = type == UInt64(WebSocketFrame.Opcode.text) ? WebSocketFrame.Opcode.text : WebSocketFrame.Opcode.binary
        var start = 0
        repeat {
            let end = start + min(Self.maxFragmentPayload, payload.byteCount - start)
            WebSocketFrame.appendFrame(opcode: start == 0 ? opcode : WebSocketFrame.Opcode.continuation, fin: end == payload.byteCount,
                                       payload: payload.extracting(start..<end), maskingKey: nextMaskingKey(), to: &buffer)
            start = end
        } while start < payload.byteCount
    }

    /// The handshake block is answered (server: the 101) or checked (client: Sec-WebSocket-Accept
    /// against our key) and consumed; a Close is echoed (RFC 6455 §5.5.1: the peer's code, empty
    /// reason; 1000 when it had none) and reported; data frames are delivered. Payloads arrive
    /// unmasked (`WebSocketFrameDecoder.withItemBytes`).
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        switch frame.type {
        case WebSocketFrame.handshakeType:
            do {
                if role == .server {
                    let request = try WebSocketHandshake.parseRequest(payload)
                    WebSocketHandshake.appendAcceptance(of: request, to: &reply)
                } else {
                    _ = try WebSocketHandshake.validateResponse(payload, key: key)
                }
            } catch {
                throw WebSocketFailure.handshake(error).reason
            }
            isOpen = true
            return .consumed
        case UInt64(WebSocketFrame.Opcode.close):
            let close = WebSocketClose(payload: payload)
            if !sentClose {
                sentClose = true
                let echoed = close.code ?? WebSocketCloseCode.normalClosure.rawValue
                WebSocketFrame.appendClose(code: echoed, maskingKey: nextMaskingKey(), to: &reply)
            }
            return .peerClosing(code: UInt64(close.code ?? WebSocketCloseCode.noStatusReceived.rawValue), reason: close.reason, deliver: false)
        default:
            return .deliver
        }
    }
}

/// The content of a Close frame (RFC 6455 §5.5.1): a status code and a reason, either may be absent.
public struct WebSocketClose: Hashable, Sendable {
    /// The status code; nil for an empty Close (reported locally as 1005, RFC 6455 §7.1.5).
    public var code: UInt16?
    /// The reason, decoded as UTF-8 (invalid sequences replaced; the decoder rejects them first).
    public var reason: String

    /// Reads a Close payload as it came off the wire, unmasking it with `maskingKey` (0: unmasked).
    public init(payload: RawSpan, maskingKey: UInt32 = 0) {
        guard payload.byteCount >= 2 else {
            code = nil
            reason = ""
            return
        }
        code = UInt16(truncatingIfNeeded: WebSocketFrame.unmaskedPrefix(payload, maskingKey: maskingKey) >> 48)
        var octets: [UInt8] = []
        octets.reserveCapacity(payload.byteCount - 2)
        WebSocketFrame.appendMasked(payload.extracting(2...), maskingKey: maskingKey.rotatedLeftOctets(2), to: &octets)
        reason = String(decoding: octets, as: UTF8.self)
    }
}

extension WebSocketFrameDecoder: StreamFrameDecoder {
    public static var dialect: Dialect { .webSocket }

    /// MESSAGE_TOO_BIG (1009) for a payload over the limit; PROTOCOL_ERROR (1002) otherwise.
    /// The decoder's own rules carry their codes in `.violation`.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .frameTooLarge: return .webSocket(.messageTooBig)
        default: return .webSocket(.protocolError)
        }
    }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        do { return try frameBoundary(of: prefix) } catch { throw error.reason }
    }

    /// A handshake block's CRLFCRLF is looked for only where it could end: at or past
    /// `minimumLength`, so that a block gathered a few octets at a time is scanned once.
    public func boundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        do { return try frameBoundary(of: prefix, lengthAtLeast: minimumLength) } catch { throw error.reason }
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        do { return try decodeFrame(frame) } catch { throw error.reason }
    }
}

extension WebSocketFailure {
    /// As the seam spells it: a rule violation with its identifier and close code, or the shared
    /// `frameTooLarge`.
    var reason: FramingError.Reason {
        switch self {
        case .rule(let rule, let detail):
            return .violation(RuleViolation(rule.identifier, detail, code: .webSocket(rule.closeCode)))
        case .frameTooLarge(let length, let limit):
            return .frameTooLarge(length: length, limit: limit)
        case .handshake(let error):
            return .violation(RuleViolation(error.identifier, error.description, code: .webSocketHandshake(error)))
        }
    }
}
