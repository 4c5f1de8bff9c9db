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
