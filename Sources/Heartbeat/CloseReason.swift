public import Framing

/// Why the engine asks the adapter to close the connection.
public enum CloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The peer kept pinging faster than the policy allows while no business data flowed
    /// (ping flood, CVE-2019-9512): gRPC's "too_many_pings".
    case tooManyPings
    /// An inbound frame stayed incomplete for longer than the slow-frame timeout (slowloris).
    case slowFrame

    /// The code to close with for this reason, from a dialect's close codes: its "calm down"
    /// code for both reasons (HTTP/2 ENHANCE_YOUR_CALM, 0xb, RFC 9113 §7, with ``debugData`` as the
    /// GOAWAY's debug data; the envelope's ENHANCE_YOUR_CALM, 0x6; WebSocket 1008 POLICY_VIOLATION).
    /// QUIC has no such code: PROTOCOL_VIOLATION (0xa, RFC 9000 §20.1) in a CONNECTION_CLOSE of type
    /// 0x1c, with ``debugData`` as the reason phrase (an HTTP/3 stack may prefer H3_EXCESSIVE_LOAD).
    public func closeCode(in codes: CloseCodes) -> WireErrorCode {
        codes.enhanceYourCalm
    }

    /// The numeric code to close with in a built-in `dialect` (see `closeCode(in:)`).
    public func wireCode(for dialect: Dialect) -> UInt64 {
        guard let codes = DialectRegistry.closeCodes(dialect) else { return 0x2 }
        return closeCode(in: codes).value
    }

    /// Short ASCII text for the close frame's debug data / reason phrase.
    public var debugData: String {
        switch self {
        case .tooManyPings: return "too_many_pings"
        case .slowFrame: return "slow_frame"
        }
    }

    public var description: String { debugData }
}
