/// A wire format that carries heartbeats: how frames are delimited, which ones are heartbeats,
/// and how pings and pongs are encoded.
public enum Dialect: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// This library's raw-TCP envelope (spec/envelope.md): a preface, then type–length–payload frames.
    case envelope
    /// HTTP/2 (RFC 9113): 9-octet frame headers; PING is type 0x6 on stream 0 with an ACK flag.
    case http2
    /// QUIC (RFC 9000): frames inside one packet payload; PING is type 0x01 and its "pong" is the
    /// acknowledgement of the packet that carried it.
    case quic

    /// The dialect's short name as used on the command line (`tcp`, `http2`, `quic`).
    public var description: String {
        switch self {
        case .envelope: return "tcp"
        case .http2: return "http2"
        case .quic: return "quic"
        }
    }

    /// Whether the dialect runs over a byte stream (frames may span reads) rather than datagrams.
    public var isStream: Bool { self != .quic }
}
