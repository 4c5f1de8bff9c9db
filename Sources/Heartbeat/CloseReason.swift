public import Framing

/// Why the engine asks the adapter to close the connection.
public enum CloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The peer kept pinging faster than the policy allows while no business data flowed
    /// (ping flood, CVE-2019-9512): gRPC's "too_many_pings".
    case tooManyPings
    /// An inbound frame stayed incomplete for longer than the slow-frame timeout (slowloris).
    case slowFrame

    /// The error code to put on the wire when closing for this reason in `dialect`.
    ///
    /// - envelope: ENHANCE_YOUR_CALM (0x6) of the envelope's own code space, for both reasons.
    /// - HTTP/2: GOAWAY with ENHANCE_YOUR_CALM (0xb, RFC 9113 §7) for both reasons; send
    ///   ``debugData`` as the GOAWAY's additional debug data.
    /// - QUIC: RFC 9000 has no "calm down" code. We close with the transport error
    ///   PROTOCOL_VIOLATION (0xa, RFC 9000 §20.1) in a CONNECTION_CLOSE of type 0x1c with
    ///   ``debugData`` as the reason phrase: PING is a transport frame, so a transport close fits,
    ///   and every QUIC stack understands it. (An HTTP/3 stack may prefer the application code
    ///   H3_EXCESSIVE_LOAD, 0x0107.) A slow frame cannot happen in QUIC, whose packets carry whole
    ///   frames; the same code is returned so the mapping is total.
    public func wireCode(for dialect: Dialect) -> UInt64 {
        closeCode(for: dialect).value
    }

    /// The named error code to close with in `dialect` (see `wireCode(for:)`).
    public func closeCode(for dialect: Dialect) -> WireErrorCode {
        WireErrorCode.enhanceYourCalm(dialect)
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
