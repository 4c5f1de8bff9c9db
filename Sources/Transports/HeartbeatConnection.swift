public import Framing
public import Heartbeat

/// A connection kept alive by heartbeats: a transport, a dialect's demuxer and a liveness engine.
///
/// ```swift
/// let loop = try EventLoop()
/// let connection = try await HeartbeatConnection.connect(
///     to: SocketAddress(parsing: "127.0.0.1:7000"), configuration: .init(dialect: .envelope), on: loop)
/// Task {
///     for await event in connection.events { print(event) }       // RTT samples, state changes, close
/// }
/// try await connection.write(Array("hello".utf8))
/// for try await frame in connection.inbound {                       // business data, in order
///     print(frame.payload)
/// }
/// ```
///
/// Business data arrives in order on `inbound`; liveness events on `events`. `write` suspends while
/// more than `writeBufferLimit` octets wait (back-pressure); heartbeats never wait behind them for
/// more than the frame being written. Everything runs on one `EventLoop` thread, shared by every
/// connection on it.
public final class HeartbeatConnection: Sendable {
    let core: any ConnectionCoreProtocol
    /// The core's hand-off to tasks (always built for a connection this type wraps).
    private let side: ConnectionAsyncSide

    /// The loop that runs this connection.
    public var eventLoop: EventLoop { core.eventLoop }
    /// The settings the connection was made with.
    public var configuration: ConnectionConfiguration { core.configuration }
    /// Business frames from the peer, in order. Iterate it from one task at a time.
    public var inbound: InboundFrames { InboundFrames(queue: side.inbound) }
    /// Liveness events (the newest 1,024 are kept if nobody reads them), ending after `.closed`.
    public var events: AsyncStream<ConnectionEvent> { side.events }

    init(core: any ConnectionCoreProtocol) {
        guard let side = core.asyncSide else { preconditionFailure("a HeartbeatConnection needs its core's async side") }
        self.core = core
        self.side = side
    }

    /// Runs a connection over `transport` (which must be open). Use it for transports other than
    /// sockets, e.g. `MemoryTransport`.
    public static func start(over transport: sending any Transport, configuration: ConnectionConfiguration,
                             role: ConnectionRole, connectionID: UInt64 = 0) async -> HeartbeatConnection {
        let box = UncheckedBox(transport)
        // Cannot fail: the hand-off completes on the loop before anything else can happen.
        return try! await Handoff<HeartbeatConnection>.run(on: transport.eventLoop) { handoff in
            let core = makeConnectionCore(transport: box.value, configuration: SharedConfiguration(configuration), role: role, connectionID: connectionID,
                                          asyncSide: true)
            core.start()
            handoff.succeed(HeartbeatConnection(core: core))
        }
    }

    /// Connects to `address` over TCP or a Unix socket and starts heartbeats. Cancelling the
    /// calling task abandons the attempt at once.
    public static func connect(to address: SocketAddress, configuration: ConnectionConfiguration = .init(),
                               on loop: EventLoop, connectionID: UInt64 = 0) async throws -> HeartbeatConnection {
        let transport = try await Connector.connect(to: address, configuration: configuration, on: loop)
        return await start(over: transport, configuration: configuration, role: .client, connectionID: connectionID)
    }

    /// Writes business data, framed by the dialect's encoder: for the envelope, any bytes (sent as
    /// DATA frames of at most 16,384 octets); for WebSocket, one message; for HTTP/2, whole encoded
    /// frames. `type` is the dialect's business frame type to write (envelope type, WebSocket
    /// opcode: text 0x1, binary 0x2), nil for its default. Returns once the bytes are queued and
    /// the queue is within `writeBufferLimit`.
    /// - Throws: `TransportError` if the connection is closed or fails (EPIPE, ECONNRESET, ...).
    public func write(_ bytes: [UInt8], type: UInt64? = nil) async throws {
        try await Handoff<Void>.run(on: core.eventLoop) { [core] handoff in core.enqueue(bytes, type: type, handoff) }
    }

    /// Closes gracefully: sends the dialect's GOAWAY (NO_ERROR), lets queued writes drain for up
    /// to `closeTimeout`, then closes. `inbound` ends without error.
    public func close() async {
        _ = try? await Handoff<Void>.run(on: core.eventLoop) { [core] handoff in core.close(handoff) }
    }

    /// Stops reading from the peer until `resumeReading()`: nothing more is read, so neither
    /// business data nor heartbeats are answered, and the peer's writes back up in the kernel.
    /// Use it for application-level flow control (or, as `hb demo` does, to play a stalled peer).
    public func pauseReading() {
        core.eventLoop.execute { [core] in core.setApplicationPaused(true) }
    }

    /// Resumes reading after `pauseReading()`.
    public func resumeReading() {
        core.eventLoop.execute { [core] in core.setApplicationPaused(false) }
    }

    /// The engine's state as of its last event.
    public var state: HeartbeatState { side.status.withLock { $0.state } }
    /// The RTT figures after the last sample, if any.
    public var rtt: RTTSnapshot? { side.status.withLock { $0.lastRTT } }
    /// The engine's counters as of its last event.
    public var counters: HeartbeatCounters { side.status.withLock { $0.counters } }
    /// Why the connection ended, once it has.
    public var closeReason: TransportError? { side.status.withLock { $0.closed } }
}
