/// Redis RESP2/RESP3 as a plug-in dialect (spec/resp.md). A client pings with the `PING`
/// command; the server answers every command in order, so:
///
/// - with `pingMessage` nil (the default) our client sends a bare `PING`, answered `+PONG`: the
///   *in-order* liveness model — the k-th `+PONG` answers our k-th PING, whatever business
///   replies come between (they come in order too);
/// - with a `pingMessage`, our client sends `PING <pingMessage><the payload's 8 octets>`,
///   answered by the bulk string echoing that message: the *echo* model, each pong matched to its
///   ping by payload. The decoder recognises the echo by its prefix, so an application's own
///   value equal to such a message would be taken for a pong: pick a prefix no value has.
///
/// A server never pings (RESP has no server-to-client PING): its encoder reports a negotiated
/// schedule without pings, with `serverIdleTimeout` as the silence limit (Redis's `timeout`,
/// none by default). It answers `PING` with `+PONG` and `PING <message>` with the message as a
/// bulk string, in order with the replies its encoder writes itself (`answersCommands`).
public struct RESPDialect: StreamDialect {
    /// The echo-mode message prefix of our PINGs; nil for bare PINGs and the in-order model.
    public var pingMessage: String?
    /// The deepest nesting of aggregates accepted.
    public var maxDepth: Int
    /// Whether a server answers every command other than PING itself, at once and in order with
    /// its PONGs, with `-ERR unknown command` (what `hb serve` does). When false the application
    /// answers commands; its replies go out when it writes them, after any PONG already sent.
    public var answersCommands: Bool
    /// How long a server lets a client stay silent before declaring it dead; nil: forever.
    public var serverIdleTimeout: Duration?

    /// RESP, in the in-order model unless `pingMessage` is given.
    public init(pingMessage: String? = nil, maxDepth: Int = RESPFrame.defaultMaxDepth, answersCommands: Bool = false,
                serverIdleTimeout: Duration? = nil) {
        self.pingMessage = pingMessage
        self.maxDepth = maxDepth
        self.answersCommands = answersCommands
        self.serverIdleTimeout = serverIdleTimeout.flatMap { $0 > .zero ? $0 : nil }  // ≤ 0: no idle rule
    }

    public var dialect: Dialect { .resp }
    /// In order for bare PINGs; echo when they carry a message.
    /// In order for a bare PING (and for a server that answers commands: its answers, PONGs among
    /// them, must never be dropped or reordered); echo for `PING <message>`.
    public var liveness: LivenessModel { pingMessage == nil || answersCommands ? .inOrder : .echo }

    /// A server reads commands (inline ones too), a client replies, a capture (nil) both; values
    /// up to `maxFrameSize` octets (nil: `RESPFrame.defaultMaxFrameSize`).
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> RESPFrameDecoder {
        RESPFrameDecoder(role: role, maxFrameSize: maxFrameSize ?? RESPFrame.defaultMaxFrameSize, maxDepth: maxDepth, pingMessage: pingMessage)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> RESPFrameEncoder {
        RESPFrameEncoder(role: role, pingMessage: pingMessage, answersCommands: answersCommands, serverIdleTimeout: serverIdleTimeout)
    }

    /// Bare PING and `+PONG` print without a payload, `PING <message>` and its echo with theirs.
    public var vocabulary: DissectorVocabulary {
        var vocabulary = DissectorVocabulary { type in
            switch type {
            case RESPFrame.inlineCommandType: return "INLINE_COMMAND"
            case UInt64(RESPFrame.TypeOctet.simpleString): return "SIMPLE_STRING"
            case UInt64(RESPFrame.TypeOctet.simpleError): return "SIMPLE_ERROR"
            case UInt64(RESPFrame.TypeOctet.integer): return "INTEGER"
            case UInt64(RESPFrame.TypeOctet.bulkString): return "BULK_STRING"
            case UInt64(RESPFrame.TypeOctet.array): return "ARRAY"
            case UInt64(RESPFrame.TypeOctet.null): return "NULL"
            case UInt64(RESPFrame.TypeOctet.boolean): return "BOOLEAN"
            case UInt64(RESPFrame.TypeOctet.double): return "DOUBLE"
            case UInt64(RESPFrame.TypeOctet.bigNumber): return "BIG_NUMBER"
            case UInt64(RESPFrame.TypeOctet.bulkError): return "BULK_ERROR"
            case UInt64(RESPFrame.TypeOctet.verbatimString): return "VERBATIM_STRING"
            case UInt64(RESPFrame.TypeOctet.map): return "MAP"
            case UInt64(RESPFrame.TypeOctet.set): return "SET"
            case UInt64(RESPFrame.TypeOctet.push): return "PUSH"
            default: return "UNKNOWN"
            }
        }
        vocabulary.omitsEmptyPayload = true
        return vocabulary
    }
}

extension StreamDialect where Self == RESPDialect {
    /// Redis RESP2/RESP3, bare PING and `+PONG` (in order).
    public static var resp: RESPDialect { RESPDialect() }
}

extension Dialect {
    /// Redis RESP2/RESP3 (spec/resp.md), named `resp`.
    public static let resp = Dialect(name: "resp")
}

extension WireErrorCode {
    /// The codes a RESP connection fails with. RESP has no close frame: a server sends
    /// `-ERR <reason>` for a failure and closes (as Redis does for a protocol error); the names
    /// are ours.
    public enum RESP {
        /// A graceful close.
        public static let noError = WireErrorCode(value: 0, name: "NO_ERROR")
        /// A value broke a RESP rule or was too large (Redis: `-ERR Protocol error: ...`).
        public static let protocolError = WireErrorCode(value: 1, name: "PROTOCOL_ERROR")
        /// The peer floods us with pings.
        public static let enhanceYourCalm = WireErrorCode(value: 2, name: "ENHANCE_YOUR_CALM")
        /// We declared the peer dead.
        public static let livenessTimeout = WireErrorCode(value: 3, name: "LIVENESS_TIMEOUT")
    }
}

/// What one RESP endpoint sends: a client's PING commands, a server's `+PONG` and echoes (and
/// `-ERR` answers when it answers commands), and the application's values as written. Nothing
/// here allocates once the buffer has room.
public struct RESPFrameEncoder: StreamFrameEncoder {
    /// Which end this is: a client pings, a server answers.
    public let role: ConnectionRole
    /// The echo-mode message prefix; nil for bare PINGs.
    public let pingMessage: [UInt8]?
    /// See `RESPDialect.answersCommands`.
    public let answersCommands: Bool
    /// See `RESPDialect.serverIdleTimeout`.
    public let serverIdleTimeout: Duration?

    /// An encoder for `role`.
    public init(role: ConnectionRole, pingMessage: String? = nil, answersCommands: Bool = false, serverIdleTimeout: Duration? = nil) {
        self.role = role
        self.pingMessage = pingMessage.map { Array($0.utf8) }
        self.answersCommands = answersCommands
        self.serverIdleTimeout = serverIdleTimeout.flatMap { $0 > .zero ? $0 : nil }  // ≤ 0: no idle rule
    }

    /// Local names (see `WireErrorCode.RESP`).
    public var closeCodes: CloseCodes {
        CloseCodes(noError: WireErrorCode.RESP.noError, protocolError: WireErrorCode.RESP.protocolError,
                   enhanceYourCalm: WireErrorCode.RESP.enhanceYourCalm, livenessTimeout: WireErrorCode.RESP.livenessTimeout)
    }

    /// A server sends no pings and watches only for `serverIdleTimeout` of silence; a client
    /// keeps its configured schedule (nil).
    public var negotiatedHeartbeat: NegotiatedHeartbeat? {
        role == .server ? NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: serverIdleTimeout) : nil
    }

    /// Our longest ping (a bare PING: 14 octets; an echo-mode PING: 32 with the default prefix)
    /// or a pong echoing an 8-octet message (14); echoes of a peer's longer messages take more.
    public var maxHeartbeatLength: Int {
        guard let pingMessage else { return RESPFrame.bareFullPing.count }
        let message = pingMessage.count + HeartbeatPayload.byteCount
        return RESPFrame.echoPingHead.count + String(message).utf8.count + 2 + message + 2
    }

    /// No limit: the application writes whole RESP values itself, passed on as they are.
    public var maxDataPayload: Int { Int.max }

    /// A client's `PING` (bare, or with the echo message); a server appends nothing.
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard role == .client else { return }
        if let pingMessage {
            RESPFrame.appendEchoPing(prefix: pingMessage, payload, to: &buffer)
        } else {
            buffer.append(contentsOf: RESPFrame.bareFullPing)
        }
    }

    /// `+PONG` for a bare PING, the message as a bulk string for `PING <message>` (an empty
    /// message too is answered `+PONG`: the session cannot tell it from a bare PING).
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        if payload.byteCount == 0 {
            buffer.append(contentsOf: RESPFrame.simplePong)
        } else {
            RESPFrame.appendBulkString(payload, to: &buffer)
        }
    }

    /// A server's `-ERR <reason>` for a failure; nothing for a graceful close or from a client.
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        guard role == .server, code != WireErrorCode.RESP.noError else { return }
        RESPFrame.appendError(reason.isEmpty ? code.name : reason, to: &buffer)
    }

    /// `payload` as it is: the application writes whole RESP values (commands, replies).
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        buffer.append(payload)
    }

    /// Delivered; a server that answers commands also appends `-ERR unknown command`.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        if role == .server, answersCommands { reply.append(contentsOf: RESPFrame.unknownCommand) }
        return .deliver
    }
}
