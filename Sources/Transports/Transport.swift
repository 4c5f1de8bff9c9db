/// A byte pipe that an `EventLoop` drives: the seam between a connection and what carries its bytes.
///
/// `SocketTransport` (TCP and Unix sockets) and `MemoryTransport` (an in-memory pair with
/// scriptable faults) implement it. Every call, and every call to the sink, happens on
/// `eventLoop`'s thread. Another byte carrier — a TLS wrapper, a pipe, a test double — plugs in
/// by implementing these five members.
///
/// Stacks with their own event loop plug in one level lower, at the sans-IO `HeartbeatSession`
/// (Heartbeat module). A SwiftNIO `ChannelDuplexHandler`, for instance, holds a session and:
/// ```swift
/// func channelRead(context: ChannelHandlerContext, data: NIOAny) {
///     let buffer = unwrapInboundIn(data)
///     buffer.withUnsafeReadableBytes { bytes in
///         try session.receive(bytes.bytes, now: now()) { frame, payload in
///             context.fireChannelRead(wrapInboundOut(BusinessFrame(frame, payload)))
///         }
///     }
///     flushControl(context)              // pongs go out at once, ahead of queued writes
///     rescheduleTimer(context)           // context.eventLoop.scheduleTask(deadline: session.nextDeadline)
/// }
/// ```
/// and writes `session.withPendingControlBytes` between whole business frames, reporting them
/// with `controlBytesWritten`. A QUIC stack feeds `QUICPacketDemuxer` with each decrypted packet
/// and the engine with `pingWritten(_:packetNumber:now:)` / `receivedAcknowledgement(...)`.
public protocol Transport: AnyObject {
    /// The loop whose thread every call runs on.
    var eventLoop: EventLoop { get }

    /// Starts delivering events to `sink`. Called once.
    func start(_ sink: any TransportSink)

    /// Writes what fits now of `bytes` without blocking, returning how many were taken (0 when
    /// none fit). When fewer than all were taken, `sink.transportWritable()` follows once more fit.
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> Int

    /// Pauses (false) or resumes (true) reading: back-pressure toward the peer.
    func setReading(_ enabled: Bool)

    /// Octets the peer sent that wait unread (FIONREAD), or nil when unknown.
    var bytesWaiting: Int? { get }

    /// Ends the pipe: a graceful close (FIN), or with `reset` an abort (RST). The sink hears nothing more.
    func close(reset: Bool)
}

/// What a `Transport` reports, on its loop's thread.
public protocol TransportSink: AnyObject {
    /// Bytes arrived, borrowed for the duration of the call.
    func transportReceived(_ bytes: RawSpan)
    /// Room to write again after a short write.
    func transportWritable()
    /// The pipe ended: `.endOfStream` for the peer's orderly close, else why it failed.
    func transportClosed(_ error: TransportError)
}
