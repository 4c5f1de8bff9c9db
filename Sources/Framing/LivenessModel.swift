/// How a dialect's heartbeats prove that the peer is alive (issue 8 §2).
///
/// The wire decides it, not the user: an HTTP/2 PING ACK echoes the PING's 8 octets, an MQTT
/// PINGRESP carries nothing and can only answer the oldest PINGREQ, an AMQP heartbeat frame
/// answers nothing at all, and a QUIC PING is "answered" by the acknowledgement of its packet.
/// `HeartbeatEngine` is created with one of these and matches answers (or their absence)
/// accordingly.
public enum LivenessModel: Hashable, Sendable {
    /// The pong echoes the ping's opaque payload and is matched to its ping by that payload
    /// (our envelope, HTTP/2, WebSocket, TLS Heartbeat).
    case echo
    /// Pings carry no payload; the peer answers every ping, in the order it received them, so a
    /// pong answers the oldest ping it has not answered yet (MQTT PINGREQ/PINGRESP, Redis
    /// PING/+PONG).
    case inOrder
    /// Each side sends a heartbeat every interval and nothing answers it. The peer is dead when
    /// nothing at all — heartbeat, answer or business data — arrived from it for
    /// `deadAfterIntervals` intervals (AMQP 0-9-1: 2). Must be at least 1.
    case unilateral(deadAfterIntervals: Int)
    /// QUIC (RFC 9000 §19.2, RFC 9002): a PING is answered by the acknowledgement of the packet
    /// that carried it, matched by packet number.
    case acknowledgement
}

/// The heartbeat schedule a dialect's opening handshake settled: MQTT's Keep Alive (a server
/// sends no pings and allows a client 1.5 × its Keep Alive of silence, MQTT 3.1.1 §3.1.2.10),
/// AMQP 0-9-1's Connection.Tune (beats at the negotiated interval, the peer dead after two silent
/// intervals). A dialect's encoder reports it (`StreamFrameEncoder.negotiatedHeartbeat`) and
/// `HeartbeatSession` applies it to its engine, replacing the configuration's own schedule.
public struct NegotiatedHeartbeat: Hashable, Sendable {
    /// How often this side sends its ping or beat; nil: it sends none (an MQTT server, an AMQP
    /// connection tuned to heartbeat 0).
    public var pingInterval: Duration?
    /// How long the peer may stay silent — no inbound octet at all — before it is declared dead;
    /// nil: no silence rule.
    public var peerSilenceLimit: Duration?

    /// A schedule; both durations, when present, must be positive.
    public init(pingInterval: Duration?, peerSilenceLimit: Duration?) {
        self.pingInterval = pingInterval
        self.peerSilenceLimit = peerSilenceLimit
    }

    /// How long a peer may stay silent before its opening handshake settles the schedule (an MQTT
    /// server waiting for CONNECT, §3.1.4 "within a reasonable amount of time"; AMQP waiting for
    /// Connection.Tune; RabbitMQ's own handshake timeout is 10 s).
    public static let handshakeTimeout: Duration = .seconds(10)

    /// No pings, and the peer dead after `handshakeTimeout` of silence: the schedule while a
    /// handshake that settles the real one is under way.
    public static let awaitingHandshake = NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: handshakeTimeout)
}
