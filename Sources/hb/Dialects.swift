import Framing
import Transports

/// The command line's name table: for each built-in dialect, the names `--dialect` accepts, how
/// `probe` reaches a target, and how `serve` echoes business frames. Adding a dialect adds an
/// entry here (and one in `DialectRegistry`).
struct CommandLineDialect: Sendable {
    /// The identity in `DialectRegistry`.
    let dialect: Dialect
    /// Other names `--dialect` accepts.
    let aliases: [String]
    /// For people: what `probe` sends, what `serve` speaks.
    let title: String
    /// The address to connect to and the dialect to speak for a `probe` target; by default the
    /// target is `HOST:PORT` and the registry's dialect is spoken.
    var target: @Sendable (String) throws(UsageError) -> (address: String, stream: any StreamDialect) = { target throws(UsageError) in
        throw UsageError("hb probe cannot reach \(target)")
    }
    /// What `serve` writes back for a business frame it received, or nil to write nothing; the
    /// state carries a message across its fragments.
    let echo: @Sendable (inout EchoState, InboundFrame) -> (bytes: [UInt8], type: UInt64?)?
    /// The dialect spoken when heartbeats go every `interval` (`probe`'s and `serve`'s
    /// `--interval`): MQTT asks for a Keep Alive the pings keep, AMQP proposes the interval in its
    /// Tune negotiation; other dialects are spoken as they are.
    var atInterval: @Sendable (any StreamDialect, Duration) -> any StreamDialect = { stream, _ in stream }
    /// The stream dialect `serve` speaks when it is not the registry's (a RESP server that answers
    /// every command itself, in order with its PONGs).
    var served: (any StreamDialect)? = nil

    static let table: [CommandLineDialect] = [
        CommandLineDialect(dialect: .envelope, aliases: ["envelope"], title: "TCP envelope", target: plainTarget(.envelope)) { _, frame in
            frame.header.type == EnvelopeFrame.FrameType.data ? (frame.payload, nil) : nil
        },
        CommandLineDialect(dialect: .http2, aliases: ["h2"], title: "HTTP/2 cleartext, prior knowledge", target: plainTarget(.http2)) { _, frame in
            guard frame.header.type == UInt64(HTTP2Frame.FrameType.data) else { return nil }
            var bytes: [UInt8] = []
            HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, flags: frame.header.flags, streamID: frame.header.streamID,
                                   payload: frame.payload.span.bytes, to: &bytes)
            return (bytes, nil)
        },
        CommandLineDialect(dialect: .quic, aliases: [], title: "QUIC") { _, _ in nil },
        CommandLineDialect(dialect: .webSocket, aliases: ["websocket"], title: "WebSocket", target: webSocketTarget, echo: webSocketEcho),
        CommandLineDialect(dialect: .tls, aliases: ["tls-heartbeat"], title: "TLS Heartbeat (RFC 6520), plaintext records",
                           target: plainTarget(.tls), echo: tlsEcho),
        CommandLineDialect(dialect: .mqtt, aliases: [], title: "MQTT", target: mqttTarget, echo: mqttEcho, atInterval: mqttProbing),
        CommandLineDialect(dialect: .amqp, aliases: ["amqp091"], title: "AMQP 0-9-1", target: plainTarget(.amqp),
                           echo: { _, _ in nil }, atInterval: amqpAsking),
        CommandLineDialect(dialect: .resp, aliases: ["redis"], title: "Redis RESP2/RESP3", target: respTarget,
                           echo: { _, _ in nil }, served: RESPDialect(answersCommands: true)),
        CommandLineDialect(dialect: .lines, aliases: [], title: "text lines", target: plainTarget(.lines)) { _, frame in
            frame.header.type == 0 ? (frame.payload, nil) : nil
        },
    ]

    /// The stream dialect to serve connections with.
    var stream: (any StreamDialect)? { served ?? DialectRegistry.streamDialect(dialect) }

    /// `HOST:PORT` for bare PINGs answered `+PONG` (in order), or `HOST:PORT/echo` for
    /// `PING hb-<8 payload octets>` answered by its echo (matched by payload).
    @Sendable static func respTarget(_ target: String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        if target.hasSuffix("/echo") { return (String(target.dropLast(5)), RESPDialect(pingMessage: RESPFrame.defaultPingMessage)) }
        guard !target.contains("/") else { throw UsageError("a RESP target is HOST:PORT or HOST:PORT/echo: \(target)") }
        return (target, RESPDialect())
    }

    /// `HOST:PORT`, spoken in the registry's `dialect`.
    static func plainTarget(_ dialect: Dialect) -> @Sendable (String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        { target throws(UsageError) in
            guard let stream = DialectRegistry.streamDialect(dialect) else { throw UsageError("\(dialect) cannot be probed") }
            return (target, stream)
        }
    }

    /// AMQP 0-9-1 asking for an `interval` heartbeat (whole seconds, at least 1: the unit of
    /// Connection.Tune).
    @Sendable static func amqpAsking(_ stream: any StreamDialect, _ interval: Duration) -> any StreamDialect {
        let (seconds, attoseconds) = interval.components
        return AMQPDialect(heartbeat: UInt16(clamping: Swift.max(1, seconds + (attoseconds > 0 ? 1 : 0))))
    }

    /// The largest WebSocket message `serve` echoes, in octets: a message that grows past it is
    /// dropped (its fragments so far and the rest, up to the final one) and nothing is echoed
    /// for it; the connection stays open.
    static let maxEchoedMessageLength = 1 << 20

    /// `serve`'s WebSocket echo: text and binary messages go back whole, as the message type they
    /// came as, once their final fragment arrives; messages over `maxEchoedMessageLength` are dropped.
    @Sendable static func webSocketEcho(_ state: inout EchoState, _ frame: InboundFrame) -> (bytes: [UInt8], type: UInt64?)? {
        switch frame.header.type {
        case UInt64(WebSocketFrame.Opcode.text), UInt64(WebSocketFrame.Opcode.binary):
            state = EchoState(message: frame.payload, type: frame.header.type)
        case UInt64(WebSocketFrame.Opcode.continuation):
            if !state.dropping { state.message += frame.payload }
        default:
            return nil
        }
        if state.message.count > maxEchoedMessageLength {
            state.message = []
            state.dropping = true
        }
        guard frame.header.flags & WebSocketFrame.Flags.fin != 0 else { return nil }
        defer { state = EchoState() }
        return state.dropping ? nil : (state.message, state.type)
    }

    /// `ws://HOST[:PORT][/PATH][?QUERY]` or `HOST[:PORT]...` (the port defaults to 80; HOST may be
    /// `[IPV6]`): the address to connect to and a dialect whose handshake names HOST[:PORT] as
    /// given and PATH?QUERY as the request target.
    /// - Throws: `UsageError` for another scheme, a missing host, a bad port, user information,
    ///   a fragment (`#`, RFC 6455 §3), or a space, control or non-ASCII character.
    @Sendable static func webSocketTarget(_ target: String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        var rest = Substring(target)
        if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else if rest.contains("://") {
            throw UsageError("only ws:// targets are supported (wss needs TLS): \(target)")
        }
        guard rest.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw UsageError("spaces, control and non-ASCII characters are not allowed in \(target) (percent-encode them)")
        }
        guard !rest.contains("#") else { throw UsageError("a WebSocket URI has no fragment (RFC 6455 §3): \(target)") }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var requestTarget = String(rest[authorityEnd...])
        if !requestTarget.hasPrefix("/") { requestTarget = "/" + requestTarget }
        guard !authority.contains("@") else { throw UsageError("user information is not supported: \(target)") }
        let host: Substring, port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw UsageError("unclosed [ in \(target)") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw UsageError("expected :PORT after ] in \(target)") }
            port = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
            port = nil
        }
        guard host.count > (host.hasPrefix("[") ? 2 : 0) else { throw UsageError("no HOST in \(target)") }
        if let port {
            guard let number = UInt16(port), number != 0 else { throw UsageError("invalid port \"\(port)\" in \(target)") }
        }
        return ("\(host):\(port ?? "80")", WebSocketDialect(host: String(authority), path: requestTarget))
    }
}

extension CommandLineDialect {
    /// `serve`'s TLS echo: application_data records go back as application_data; handshake,
    /// change_cipher_spec and alert records are not echoed.
    @Sendable static func tlsEcho(_ state: inout EchoState, _ frame: InboundFrame) -> (bytes: [UInt8], type: UInt64?)? {
        frame.header.type == UInt64(TLSRecord.ContentType.applicationData) ? (frame.payload, frame.header.type) : nil
    }

    /// `HOST:PORT` or `mqtt://HOST[:PORT]` (MQTT 3.1.1), `mqtt5://HOST[:PORT]` (MQTT 5.0); the
    /// port defaults to 1883.
    /// - Throws: `UsageError` for another scheme or a bad port.
    @Sendable static func mqttTarget(_ target: String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        var rest = Substring(target), version = MQTTVersion.v3_1_1
        if rest.hasPrefix("mqtt://") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("mqtt5://") {
            rest = rest.dropFirst(8)
            version = .v5
        } else if rest.contains("://") {
            throw UsageError("only mqtt:// and mqtt5:// targets are supported (mqtts needs TLS): \(target)")
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/") else { throw UsageError("expected HOST[:PORT] in \(target)") }
        let hasPort = rest.hasPrefix("[") ? rest.contains("]:") : rest.contains(":")
        if hasPort, let colon = rest.lastIndex(of: ":") {
            guard let port = UInt16(rest[rest.index(after: colon)...]), port != 0 else { throw UsageError("invalid port in \(target)") }
            return (String(rest), MQTTDialect(version: version))
        }
        return ("\(rest):1883", MQTTDialect(version: version))
    }

    /// `serve`'s MQTT echo: a QoS 0 PUBLISH goes back as it came (as a broker delivers a message to
    /// a subscriber); other packets are not answered.
    @Sendable static func mqttEcho(_ state: inout EchoState, _ frame: InboundFrame) -> (bytes: [UInt8], type: UInt64?)? {
        guard frame.header.type == UInt64(MQTTPacket.PacketType.publish), frame.header.flags & 0b0110 == 0 else { return nil }
        return (frame.payload, UInt64(MQTTPacket.PacketType.publish) << 4 | UInt64(frame.header.flags))
    }

    /// A probe pinging every `interval` asks for a Keep Alive of `interval` rounded up to seconds.
    @Sendable static func mqttProbing(_ stream: any StreamDialect, _ interval: Duration) -> any StreamDialect {
        (stream as? MQTTDialect)?.keepingAlive(every: interval) ?? stream
    }
}

/// A message being gathered from its fragments for `serve`'s echo.
struct EchoState: Sendable {
    var message: [UInt8] = []
    var type: UInt64 = 0
    /// The message outgrew `CommandLineDialect.maxEchoedMessageLength`: its fragments are dropped.
    var dropping = false
}

/// Parses the `--dialect` value; QUIC (packets, decode only) is allowed where `allowQUIC` says.
func parseDialect(_ text: String?, allowQUIC: Bool) throws(UsageError) -> CommandLineDialect {
    guard let text else { throw UsageError("--dialect is required") }
    let allowed = CommandLineDialect.table.filter { allowQUIC || DialectRegistry.streamDialect($0.dialect) != nil }
    guard let entry = allowed.first(where: { $0.dialect.name == text || $0.aliases.contains(text) }) else {
        let names = allowed.map(\.dialect.name)
        throw UsageError("unknown dialect \"\(text)\" (expected \(names.dropLast().joined(separator: ", ")) or \(names.last!))")
    }
    return entry
}
