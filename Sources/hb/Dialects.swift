import Framing
import Transports

/// The command line's name table: for each built-in dialect, the names `--dialect` accepts, how
/// `probe` and `serve` call it, and how `serve` echoes a business frame. Adding a dialect adds an
/// entry here (and one in `DialectRegistry`).
struct CommandLineDialect: Sendable {
    /// The identity in `DialectRegistry`.
    let dialect: Dialect
    /// Other names `--dialect` accepts.
    let aliases: [String]
    /// For people: what `probe` sends, what `serve` speaks.
    let title: String
    /// The frames `serve` writes back for a business frame it received, or nil to write none.
    let echo: @Sendable (InboundFrame) -> [UInt8]?

    static let table: [CommandLineDialect] = [
        CommandLineDialect(dialect: .envelope, aliases: ["envelope"], title: "TCP envelope") { $0.payload },
        CommandLineDialect(dialect: .http2, aliases: ["h2"], title: "HTTP/2 cleartext, prior knowledge") { frame in
            guard frame.header.type == UInt64(HTTP2Frame.FrameType.data) else { return nil }
            var bytes: [UInt8] = []
            HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, flags: frame.header.flags, streamID: frame.header.streamID,
                                   payload: frame.payload.span.bytes, to: &bytes)
            return bytes
        },
        CommandLineDialect(dialect: .quic, aliases: [], title: "QUIC") { _ in nil },
    ]

    /// The stream dialect to run connections with.
    var stream: (any StreamDialect)? { DialectRegistry.streamDialect(dialect) }
}

/// Parses the `--dialect` value; `packets` says whether QUIC (packets, decode only) is allowed.
func parseDialect(_ text: String?, allowQUIC: Bool) throws(UsageError) -> CommandLineDialect {
    guard let text else { throw UsageError("--dialect is required") }
    let allowed = CommandLineDialect.table.filter { allowQUIC || DialectRegistry.streamDialect($0.dialect) != nil }
    guard let entry = allowed.first(where: { $0.dialect.name == text || $0.aliases.contains(text) }) else {
        let names = allowed.map(\.dialect.name)
        throw UsageError("unknown dialect \"\(text)\" (expected \(names.dropLast().joined(separator: ", ")) or \(names.last!))")
    }
    return entry
}
