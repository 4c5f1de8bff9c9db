public import Framing
public import Heartbeat
public import NIOCore

/// A business frame from the peer, as `NIOHeartbeatHandler` passes it on down the pipeline (its
/// `InboundOut`): the frame's header as the dialect's decoder described it, and its octets.
///
/// `payload` holds what `StreamDemuxer` hands over with a business frame: the payload for the
/// envelope and WebSocket (unmasked), the payload after the 9-octet header for HTTP/2 (the header's
/// fields are in `frame`), the header block of a WebSocket opening handshake. When those octets lie
/// inside the `ByteBuffer` that was read, `payload` is a slice of it (no copy); otherwise (a frame
/// split across reads, a masked WebSocket payload) it is a new buffer from the channel's allocator.
public struct HeartbeatNIOBusiness: Sendable {
    /// The frame's type, flags, stream and length (`BusinessFrame`).
    public var frame: BusinessFrame
    /// The frame's octets as the application sees them.
    public var payload: ByteBuffer

    /// A business frame and its octets.
    public init(frame: BusinessFrame, payload: ByteBuffer) {
        self.frame = frame
        self.payload = payload
    }
}

/// A business message to send through `NIOHeartbeatHandler` (its `OutboundIn`): the handler encodes
/// it as the dialect's business frames (`HeartbeatSession.encodeData`), split at the dialect's
/// largest data payload.
public struct HeartbeatNIOWrite: Sendable {
    /// The octets to send.
    public var payload: ByteBuffer
    /// The dialect's frame type (a `BusinessFrame.type`: envelope type, WebSocket opcode); nil for
    /// its default (envelope DATA, WebSocket binary). For HTTP/2, whose application writes whole
    /// frames, `payload` goes out as it is.
    public var type: UInt64?

    /// A message of `type` (nil: the dialect's default).
    public init(_ payload: ByteBuffer, type: UInt64? = nil) {
        self.payload = payload
        self.type = type
    }
}

/// What `NIOHeartbeatHandler` fires with `fireUserInboundEventTriggered` after every input that
/// produced it: one session output (an engine event, the peer declared dead or recovered, a policy
/// close, the peer's close frame) with the engine's state and counters right after it; or, with a
/// nil `output`, counters that changed with no output (the peer's ping, answered or policed, makes
/// no engine event), so that metrics never lag behind the wire.
///
/// Firing a user event boxes it (NIO user events are `Any`): one allocation per event, which the
/// sans-IO layers below do not make. Events come at heartbeat rate, not per frame.
public struct HeartbeatNIOEvent: Sendable {
    /// What the session reported; nil when only the counters changed.
    public var output: HeartbeatSessionOutput?
    /// The engine's state after it.
    public var state: HeartbeatState
    /// The engine's running totals after it.
    public var counters: HeartbeatCounters

    /// An output (nil: none, the counters changed) with the engine's state and counters.
    public init(output: HeartbeatSessionOutput?, state: HeartbeatState, counters: HeartbeatCounters) {
        self.output = output
        self.state = state
        self.counters = counters
    }
}

/// What closed a connection that `NIOHeartbeatHandler` closed itself, passed to `fireErrorCaught`
/// before the close (a framing error is passed as the `FramingError` itself).
public enum HeartbeatNIOError: Error, Hashable, Sendable {
    /// The engine declared the peer dead and `closeOnPeerDead` is set: the dialect's close frame
    /// with its liveness-timeout code was sent first.
    case peerDead(PeerDeathReason)
    /// The engine asked to close (ping flood, slow frame): the dialect's close frame was sent first.
    case closedByPolicy(CloseReason)
}

extension Timestamp {
    /// The instant of NIO's `deadline` (monotonic uptime nanoseconds; `EmbeddedEventLoop`'s
    /// virtual time in tests).
    public init(_ deadline: NIODeadline) {
        self.init(nanoseconds: Int64(clamping: deadline.uptimeNanoseconds))
    }
}

extension NIODeadline {
    /// The NIO deadline at `timestamp`, taken as uptime nanoseconds; instants before the clock's
    /// origin are the origin.
    public init(_ timestamp: Timestamp) {
        self = .uptimeNanoseconds(UInt64(max(0, timestamp.nanoseconds)))
    }
}
