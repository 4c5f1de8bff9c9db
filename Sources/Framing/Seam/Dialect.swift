/// The identity of a wire dialect: its short name, as the command line spells it (`tcp`, `http2`,
/// `quic`, `ws`, ...). It names a dialect in errors and events; it holds no behaviour. The
/// behaviour lives in a type conforming to `StreamDialect` (or, for QUIC, `QUICPacketDemuxer`),
/// and `DialectRegistry` maps the built-in names to them for run-time choice.
///
/// A dialect defined outside this package names itself the same way: `Dialect(name: "mine")`.
public struct Dialect: Hashable, Sendable, CustomStringConvertible {
    /// The short name, e.g. `tcp` or `ws`.
    public let name: String

    /// A dialect identity; `name` should be short, lowercase and unique among the dialects in use.
    @inlinable
    public init(name: String) { self.name = name }

    public var description: String { name }
}

/// Which end of a connection this side is. Dialects whose two directions differ use it: HTTP/2's
/// client sends the connection preface, WebSocket's client sends the opening handshake request and
/// masks its frames (RFC 6455 §5.3).
public enum ConnectionRole: Hashable, Sendable {
    /// The side that opened the connection.
    case client
    /// The side that accepted it.
    case server
}
