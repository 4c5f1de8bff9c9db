public import Framing
public import Heartbeat

/// How a connection is framed, kept alive and buffered.
public struct ConnectionConfiguration: Sendable {
    /// The wire format: any stream dialect — `.envelope`, `.http2`, `.webSocket`, or one of the
    /// application's own (QUIC runs over its own stack, see `Transport`). It is opened once per
    /// connection; the per-frame path runs specialised for it.
    public var dialect: any StreamDialect
    /// The liveness engine's settings.
    public var heartbeat: HeartbeatConfiguration
    /// The largest inbound frame payload accepted; nil for the dialect's default (16,384 for the
    /// envelope and HTTP/2, 65,536 for WebSocket).
    public var maxFrameSize: Int?
    /// Business octets queued for writing above which `write` suspends (back-pressure).
    public var writeBufferLimit: Int
    /// Inbound business octets waiting for the application above which reading stops.
    public var inboundBufferLimit: Int
    /// Close the connection when the engine declares the peer dead (with the dialect's close frame
    /// and its `livenessTimeout` code: the envelope's LIVENESS_TIMEOUT, HTTP/2 GOAWAY NO_ERROR). When false the engine keeps probing
    /// and a recovery is reported.
    public var closeOnPeerDead: Bool
    /// How long `close()` waits for queued writes to drain before closing anyway.
    public var closeTimeout: Duration
    /// `TCP_NODELAY` (TCP only): on by default, heartbeats must not wait for Nagle.
    public var noDelay: Bool
    /// TCP keepalive (TCP only), or nil for the system default (off).
    public var keepAlive: TCPKeepAlive?
    /// `TCP_USER_TIMEOUT` (TCP only), or nil for the system default.
    public var userTimeout: Duration?
    /// Accepted connections only: how long a peer has to complete the dialect's preface or
    /// handshake (the session is open and at least one whole frame or preface has been read; for
    /// dialects without a preface, the first frame) before the connection is closed with
    /// `TransportError.closedByPolicy(reason: "handshake_timeout")`; nil: no limit. Default 10 s.
    /// Connections we open ourselves are never subject to it (a RESP server, for one, may stay
    /// silent).
    public var handshakeTimeout: Duration? = .seconds(10)
    /// Local health (on by default): the event loop measures its own lateness (a timer handled
    /// after its deadline, a wake-up whose events waited behind a long callback) and reports it to
    /// the engine, so that a stalled process holds its verdicts instead of accusing peers whose
    /// answers wait unread in the kernel (see `LocalHealthPolicy`). Used when
    /// `heartbeat.localHealth` is nil; set both to nil to turn local health off.
    public var localHealth: LocalHealthPolicy? = LocalHealthPolicy()
    /// Makes the loop-thread handler of each connection made with this configuration (the
    /// zero-hop API, see `ConnectionHandler`); nil (the default): business frames go to
    /// `HeartbeatConnection.inbound`.
    public var handler: (@Sendable () -> any ConnectionHandler)?

    /// A configuration for `dialect` with the engine's defaults.
    public init(dialect: some StreamDialect = EnvelopeDialect(), heartbeat: HeartbeatConfiguration = .init(), maxFrameSize: Int? = nil,
                writeBufferLimit: Int = 1 << 20, inboundBufferLimit: Int = 1 << 20,
                closeOnPeerDead: Bool = true, closeTimeout: Duration = .seconds(2), noDelay: Bool = true,
                keepAlive: TCPKeepAlive? = nil, userTimeout: Duration? = nil) {
        self.dialect = dialect
        self.heartbeat = heartbeat
        self.maxFrameSize = maxFrameSize
        self.writeBufferLimit = writeBufferLimit
        self.inboundBufferLimit = inboundBufferLimit
        self.closeOnPeerDead = closeOnPeerDead
        self.closeTimeout = closeTimeout
        self.noDelay = noDelay
        self.keepAlive = keepAlive
        self.userTimeout = userTimeout
    }
}

/// A business frame received from the peer.
public struct InboundFrame: Hashable, Sendable {
    /// The frame's type and header fields (HTTP/2 flags and stream; 0 for the envelope).
    public var header: BusinessFrame
    /// The payload (for the envelope, the DATA frame's bytes).
    public var payload: [UInt8]

    /// An inbound frame.
    public init(header: BusinessFrame, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }
}

/// What a connection reports about its liveness.
public enum ConnectionEvent: Hashable, Sendable {
    /// An engine event: state change, RTT sample, missed pong, policing strike, ...
    case heartbeat(HeartbeatEvent)
    /// The peer sent GOAWAY.
    case peerGoAway(code: UInt64, reason: String)
    /// The connection closed: `.closed` when we closed it, else why.
    case closed(TransportError)
}
