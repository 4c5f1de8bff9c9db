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
        CommandLineDialect(dialect: .webSocket, aliases: ["websocket"], title: "WebSocket", target: webSocketTarget) { state, frame in
            // Text and binary messages go back whole, as the message type they came as.
            switch frame.header.type {
            case UInt64(WebSocketFrame.Opcode.text), UInt64(WebSocketFrame.Opcode.binary):
                state = EchoState(message: frame.payload, type: frame.header.type)
            case UInt64(WebSocketFrame.Opcode.continuation):
                state.message += frame.payload
            default:
                return nil
            }
            guard frame.header.flags & WebSocketFrame.Flags.fin != 0 else { return nil }
            defer { state = EchoState() }
            return (state.message, state.type)
        },
    ]

    /// The stream dialect to serve connections with.
    var stream: (any StreamDialect)? { DialectRegistry.streamDialect(dialect) }

    /// `HOST:PORT`, spoken in the registry's `dialect`.
    static func plainTarget(_ dialect: Dialect) -> @Sendable (String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        { target throws(UsageError) in
            guard let stream = DialectRegistry.streamDialect(dialect) else { throw UsageError("\(dialect) cannot be probed") }
            return (target, stream)
        }
    }

    /// `ws://HOST:PORT/PATH` (or `HOST:PORT`): the handshake names that host and path.
    @Sendable static func webSocketTarget(_ target: String) throws(UsageError) -> (address: String, stream: any StreamDialect) {
        var rest = Substring(target)
        if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else if rest.contains("://") {
            throw UsageError("only ws:// targets are supported (wss needs TLS): \(target)")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.isEmpty else { throw UsageError("no HOST:PORT in \(target)") }
        return (authority, WebSocketDialect(host: authority, path: path))
    }
}

/// A message being gathered from its fragments for `serve`'s echo.
struct EchoState: Sendable {
    var message: [UInt8] = []
    var type: UInt64 = 0
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
