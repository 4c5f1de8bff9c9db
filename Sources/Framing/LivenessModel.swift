/// How a dialect's heartbeats prove the peer alive; the engine follows the model its dialect names.
public enum LivenessModel: Hashable, Sendable {
    /// A ping carries an opaque payload that the pong echoes; pongs are matched by payload
    /// (envelope, HTTP/2, WebSocket, TLS Heartbeat).
    case echo
    /// Pings carry nothing and pongs answer them in order (MQTT PINGREQ/PINGRESP, RESP PING/+PONG).
    case inOrder
    /// Each side beats every interval and nothing answers; the peer is dead when no frame at all
    /// arrived for `deadAfterIntervals` intervals (AMQP 0-9-1: 2).
    case unilateral(deadAfterIntervals: Int)
    /// QUIC: the acknowledgement of the packet that carried the PING is the pong.
    case acknowledgement
}
