public import Framing
public import Heartbeat
public import NIOCore

/// Runs a `HeartbeatSession` for any stream dialect inside a NIO byte pipeline: put it where
/// `ByteBuffer`s from the socket arrive (right after the channel, or after TLS).
///
/// - Inbound: every `ByteBuffer` goes through the session's demuxer in place (its readable bytes as
///   a `RawSpan`, no copy). Heartbeats are answered and timed; business frames go on down the pipeline
///   as `HeartbeatNIOBusiness`, in order, after the whole buffer is demuxed.
/// - Outbound: write `HeartbeatNIOWrite`s; they are encoded as the dialect's business frames when
///   you flush, and held while the dialect's opening handshake is under way. Heartbeat and control
///   frames go out whole, at a frame boundary, ahead of business writes this handler still holds
///   (written but not flushed); what it already passed on is ahead of them, since NIO's write queue
///   is first in, first out.
/// - Time: the engine's timer runs on the channel's event loop (`scheduleTask` at the session's
///   `nextDeadline`, rescheduled whenever it moves); NIO's clock becomes `Timestamp` through
///   `NIODeadline.uptimeNanoseconds` (`EmbeddedEventLoop`'s virtual time in tests).
/// - Events: every session output is fired as a `HeartbeatNIOEvent` user event, and counters that
///   changed without one (the peer's ping) as one with a nil `output`.
/// - Closing: a policy close (ping flood, slow frame) and, with `closeOnPeerDead`, a dead peer send
///   the dialect's close frame (GOAWAY, WebSocket Close) and then close the channel, after
///   `fireErrorCaught(HeartbeatNIOError)`. A framing error sends a close frame with the error's
///   code, fires the `FramingError` and closes. A `close` from the application sends the dialect's
///   graceful close frame first.
///
/// Confined to the channel's event loop, like every `ChannelHandler`.
public final class NIOHeartbeatHandler<D: StreamDialect>: ChannelDuplexHandler, RemovableChannelHandler {
    /// Bytes from the socket.
    public typealias InboundIn = ByteBuffer
    /// Business frames from the peer.
    public typealias InboundOut = HeartbeatNIOBusiness
    /// Business messages to send.
    public typealias OutboundIn = HeartbeatNIOWrite
    /// Bytes to the socket.
    public typealias OutboundOut = ByteBuffer

    /// The handler's settings besides the engine's.
    public typealias Options = NIOHeartbeatOptions

    private let dialect: D
    private let role: ConnectionRole
    private let configuration: HeartbeatConfiguration
    private let options: Options

    private var session: HeartbeatSession<D>?
    private var context: ChannelHandlerContext?
    private var timer = NIOEngineTimer()
    /// Business writes not yet passed on; the first `flushedCount` were flushed by the application.
    private var held = CircularBuffer<(write: HeartbeatNIOWrite, promise: EventLoopPromise<Void>?)>()
    private var flushedCount = 0
    /// Business frames found in one inbound buffer, fired once the demuxer is done with it.
    private var delivered: [HeartbeatNIOBusiness] = []
    /// Reused for encoding business frames.
    private var scratch: [UInt8] = []
    /// Set while session outputs are being drained (a user event handler may write back).
    private var draining = false
    /// The handler sent its last frame: it writes nothing more.
    private var closing = false
    /// The counters in the last `HeartbeatNIOEvent` fired.
    private var firedCounters = HeartbeatCounters()

    /// A handler for `dialect`, on the `role` side of the connection, with the engine's
    /// `configuration`. The session starts when the channel is active.
    public init(dialect: D, role: ConnectionRole, configuration: HeartbeatConfiguration = .init(),
                options: Options = Options()) {
        self.dialect = dialect
        self.role = role
        self.configuration = configuration
        self.options = options
    }

    // MARK: What the application may read (on the event loop)

    /// The engine's state; `.idle` before the channel is active.
    public var state: HeartbeatState { session?.engine.state ?? .idle }
    /// The engine's running totals.
    public var counters: HeartbeatCounters { session?.engine.counters ?? HeartbeatCounters() }
    /// The latest RTT figures, or nil before the first sample.
    public var rtt: RTTEstimator? { session?.engine.rtt }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closing = true
        cancelTimer()
        failHeld(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard session == nil else { return }
        session = HeartbeatSession(dialect: dialect, role: role, configuration: configuration,
                                   connectionID: options.connectionID, maxFrameSize: options.maxFrameSize,
                                   encoderSeed: options.encoderSeed, now: now(context))
        afterInput(context: context)
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard session != nil, !closing else { return }
        let buffer = unwrapInboundIn(data)
        let now = now(context)
        let allocator = context.channel.allocator
        var failure: FramingError?
        buffer.withUnsafeReadableBytes { readable in
            let base = readable.baseAddress
            do throws(FramingError) {
                try session!.receive(readable.bytes, now: now) { frame, payload in
                    let bytes = payload.withUnsafeBytes { octets -> ByteBuffer in
                        // In place when the octets are the read buffer's own.
                        if let base, let start = octets.baseAddress, start >= base,
                           start + octets.count <= base + readable.count,
                           let slice = buffer.getSlice(at: buffer.readerIndex + (start - base), length: octets.count) {
                            return slice
                        }
                        return allocator.buffer(bytes: octets)
                    }
                    delivered.append(HeartbeatNIOBusiness(frame: frame, payload: bytes))
                }
            } catch {
                failure = error
            }
        }
        for business in delivered { context.fireChannelRead(wrapInboundOut(business)) }
        delivered.removeAll(keepingCapacity: delivered.capacity <= 64)
        if let failure, session != nil, !closing {
            session!.appendClose(code: failure.code, reason: failure.reason.identifier)
            let written = context.eventLoop.makePromise(of: Void.self)
            writeControl(context: context, promise: written)
            context.flush()
            context.fireErrorCaught(failure)
            return closeNow(context: context, after: written.futureResult)
        }
        afterInput(context: context)
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        // Before the channel is active there is no session yet: held like any other write.
        held.append((unwrapOutboundIn(data), promise))
        session?.sentBusinessData(now: now(context))
    }

    public func flush(context: ChannelHandlerContext) {
        flushedCount = held.count
        afterInput(context: context)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, !closing, context.channel.isActive, session != nil {
            // What the application wrote and flushed goes first, then the graceful close frame.
            // (`writeHeld` changes the session, so the close is appended to it in place, never to
            // a copy taken before.)
            writeHeld(context: context)
            if let codes = session?.closeCodes { session?.appendClose(code: codes.noError, reason: "") }
            writeControl(context: context)
            context.flush()
            closing = true
            cancelTimer()
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: Timer

    private func timerFired() {
        timer.fired()
        guard let context, session != nil, !closing else { return }
        session!.tick(now: now(context))
        afterInput(context: context)
    }

    private func rescheduleTimer(context: ChannelHandlerContext) {
        timer.schedule(at: closing ? nil : session?.nextDeadline, on: context.eventLoop) { [self] in timerFired() }
    }

    private func cancelTimer() {
        timer.cancel()
    }

    // MARK: Internals

    private func now(_ context: ChannelHandlerContext) -> Timestamp {
        Timestamp(context.eventLoop.now)
    }

    /// After every input: fire the session's outputs, write heartbeats and flushed business
    /// writes, close if the engine said so, reschedule the timer.
    private func afterInput(context: ChannelHandlerContext) {
        guard !draining, session != nil, !closing else { return }
        draining = true
        var ending: HeartbeatNIOError?
        while let output = session!.pollOutput() {
            switch output {
            case .peerDead(let reason) where options.closeOnPeerDead && ending == nil:
                session!.appendClose(code: session!.closeCodes.livenessTimeout, reason: "\(reason)")
                ending = .peerDead(reason)
            case .closeRequested(let reason) where ending == nil:
                ending = .closedByPolicy(reason)
            default:
                break
            }
            fire(output, context: context)
        }
        if session != nil, session!.engine.counters != firedCounters { fire(nil, context: context) }
        draining = false
        guard session != nil, !closing else { return }
        var wrote = writeHeld(context: context)
        let closeFrameWritten = ending == nil ? nil : context.eventLoop.makePromise(of: Void.self)
        wrote = writeControl(context: context, promise: closeFrameWritten) || wrote
        if wrote { context.flush() }
        if let ending {
            context.fireErrorCaught(ending)
            return closeNow(context: context, after: closeFrameWritten?.futureResult)
        }
        rescheduleTimer(context: context)
    }

    private func fire(_ output: HeartbeatSessionOutput?, context: ChannelHandlerContext) {
        firedCounters = session!.engine.counters
        context.fireUserInboundEventTriggered(HeartbeatNIOEvent(output: output, state: session!.engine.state, counters: firedCounters))
    }

    /// Writes the pending control frames (whole frames: at a frame boundary of the outbound
    /// stream, since every business write below is whole frames too).
    @discardableResult
    private func writeControl(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) -> Bool {
        guard let pending = session, pending.hasControlBytes else {
            promise?.succeed()
            return false
        }
        let buffer = pending.withPendingControlBytes { control in
            control.withUnsafeBytes { context.channel.allocator.buffer(bytes: $0) }
        }
        session!.controlBytesWritten(buffer.readableBytes, now: now(context))
        context.write(wrapOutboundOut(buffer), promise: promise)
        return true
    }

    /// Writes the business messages the application flushed, control frames first, once the
    /// dialect's handshake is done.
    @discardableResult
    private func writeHeld(context: ChannelHandlerContext) -> Bool {
        guard flushedCount > 0, session?.isOpen == true else { return false }
        writeControl(context: context)
        while flushedCount > 0, let (write, promise) = held.popFirst() {
            flushedCount -= 1
            scratch.removeAll(keepingCapacity: true)
            write.payload.withUnsafeReadableBytes { session!.encodeData($0.bytes, type: write.type, to: &scratch) }
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: scratch)), promise: promise)
        }
        return true
    }

    private func failHeld(_ error: any Error) {
        while let (_, promise) = held.popFirst() { promise?.fail(error) }
        flushedCount = 0
    }

    /// Closes once the close frame (`written`) is written, or at once without one.
    private func closeNow(context: ChannelHandlerContext, after written: EventLoopFuture<Void>?) {
        closing = true
        cancelTimer()
        failHeld(ChannelError.ioOnClosedChannel)
        if let written { context.close(after: written) } else { context.close(promise: nil) }
    }
}

/// A `NIOHeartbeatHandler` for a dialect chosen at run time (e.g. from
/// `DialectRegistry.streamDialect(_:)`): the one place where the existential becomes a type, so the
/// handler's per-frame path is specialised for it.
public func makeHeartbeatHandler(dialect: any StreamDialect, role: ConnectionRole,
                                 configuration: HeartbeatConfiguration = .init(),
                                 options: NIOHeartbeatOptions = NIOHeartbeatOptions()) -> any ChannelHandler {
    func make<D: StreamDialect>(_ dialect: D) -> any ChannelHandler {
        NIOHeartbeatHandler(dialect: dialect, role: role, configuration: configuration, options: options)
    }
    return make(dialect)
}

/// The settings of a `NIOHeartbeatHandler` besides the engine's.
public struct NIOHeartbeatOptions: Sendable {
    /// Close the channel (after the dialect's close frame with its liveness-timeout code) when
    /// the engine declares the peer dead. When false the engine keeps probing and reports
    /// `peerRecovered` if the peer answers again.
    public var closeOnPeerDead: Bool
    /// The largest inbound payload accepted; nil for the dialect's default.
    public var maxFrameSize: Int?
    /// Copied into every event.
    public var connectionID: UInt64
    /// Seeds what the dialect's encoder must make unpredictable (WebSocket masking keys). The
    /// default draws from `SystemRandomNumberGenerator`; tests pass a constant.
    public var encoderSeed: UInt64

    /// Options; see each property.
    public init(closeOnPeerDead: Bool = true, maxFrameSize: Int? = nil, connectionID: UInt64 = 0,
                encoderSeed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.closeOnPeerDead = closeOnPeerDead
        self.maxFrameSize = maxFrameSize
        self.connectionID = connectionID
        self.encoderSeed = encoderSeed
    }
}
