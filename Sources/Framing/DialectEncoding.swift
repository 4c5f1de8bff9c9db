extension Dialect {
    /// Appends a heartbeat request carrying `payload`: an envelope PING, an HTTP/2 PING, or a QUIC
    /// PING frame (which has no payload; the adapter remembers the packet number that carries it).
    public func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        switch self {
        case .envelope: EnvelopeFrame.appendPing(payload, to: &buffer)
        case .http2: HTTP2Frame.appendPing(payload, ack: false, to: &buffer)
        case .quic: QUICFrame.ping.append(to: &buffer)
        }
    }

    /// Appends the answer to a peer's ping: an envelope PONG or an HTTP/2 PING with ACK. QUIC has
    /// no answer frame — the QUIC stack acknowledges the packet — so nothing is appended.
    public func appendPong(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        switch self {
        case .envelope: EnvelopeFrame.appendPong(payload, to: &buffer)
        case .http2: HTTP2Frame.appendPing(payload, ack: true, to: &buffer)
        case .quic: break
        }
    }

    /// The largest number of octets `appendPing` or `appendPong` appends: reserve this much once
    /// and heartbeat encoding never allocates.
    public var maxHeartbeatLength: Int {
        switch self {
        case .envelope: return 2 + HeartbeatPayload.byteCount
        case .http2: return HTTP2Frame.headerLength + HeartbeatPayload.byteCount
        case .quic: return 1
        }
    }
}
