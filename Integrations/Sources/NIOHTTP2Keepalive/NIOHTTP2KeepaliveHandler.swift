import Framing
public import Heartbeat
import HeartbeatNIO
public import NIOCore
public import NIOHTTP2

/// HTTP/2 keepalive for a pipeline that already runs `NIOHTTP2Handler`: our `HeartbeatEngine`
/// (φ-accrual or fixed ack timeout, RTT estimation, backoff and retries, the circuit breaker,
/// policing of the peer's pings) driving NIO's own PING frames (RFC 9113 §6.7).
///
/// Put it right after `NIOHTTP2Handler` (before any inline multiplexer's consumers), where frames of
/// the root stream arrive as `HTTP2Frame`:
///
/// ```swift
/// let keepalive = NIOHTTP2KeepaliveHandler(mode: .client, configuration: configuration)
/// try channel.pipeline.syncOperations.addHandlers([
///     NIOHTTP2Handler(mode: .client, frameDelegate: keepalive.frameDelegate), keepalive])
/// ```
///
/// - It sends `PING` frames on the engine's schedule and reads their `PING ACK`s as pongs.
/// - `NIOHTTP2Handler` answers the peer's PINGs itself; the engine only sees them, to police a
///   flood (more than `pingPolicy.maxPingStrikes` pings sooner than `minimumPeerPingInterval`
///   apart with no DATA or HEADERS in between): then it sends `GOAWAY` with `ENHANCE_YOUR_CALM` and
///   the debug data `too_many_pings` and closes, as gRPC servers do.
/// - When the engine declares the peer dead it sends `GOAWAY` (`NO_ERROR`, debug data saying why)
///   and closes the channel (unless `closeOnPeerDead` is false).
/// - DATA and HEADERS frames read, and those written through this handler or reported by
///   `frameDelegate`, are business traffic: they forgive ping strikes and, with
///   `trafficCountsAsLiveness`, prove the peer alive and postpone pings.
/// - Every engine event is fired as a `HeartbeatNIOEvent` user event (and counters that changed
///   without one, with a nil `output`); all frames pass on unchanged.
public final class NIOHTTP2KeepaliveHandler: ChannelDuplexHandler {
    /// Frames from `NIOHTTP2Handler`.
    public typealias InboundIn = NIOHTTP2.HTTP2Frame
    /// The same frames, passed on.
    public typealias InboundOut = NIOHTTP2.HTTP2Frame
    /// Frames to `NIOHTTP2Handler`.
    public typealias OutboundIn = NIOHTTP2.HTTP2Frame
    /// The same frames, plus our PINGs and GOAWAY.
    public typealias OutboundOut = NIOHTTP2.HTTP2Frame

    private let mode: NIOHTTP2Handler.ParserMode
    private let configuration: HeartbeatConfiguration
    private let connectionID: UInt64
    private let closeOnPeerDead: Bool
    private var engine: HeartbeatEngine?
    private var context: ChannelHandlerContext?
    private var timer = NIOEngineTimer()
    /// The highest stream the peer opened, for our GOAWAY's last-stream-ID (RFC 9113 §6.8).
    private var lastPeerStreamID: HTTP2StreamID = .rootStream
    private var closing = false
    private var draining = false
    /// The counters in the last `HeartbeatNIOEvent` fired.
    private var firedCounters = HeartbeatCounters()

    /// A keepalive for the `mode` side of the connection.
    /// - Parameters:
    ///   - configuration: the engine's settings (ping interval, failure detector, policing).
    ///   - connectionID: copied into every event.
    ///   - closeOnPeerDead: send GOAWAY and close when the peer is declared dead; when false the
    ///     engine keeps probing and reports `peerRecovered` if the peer answers again.
    public init(mode: NIOHTTP2Handler.ParserMode, configuration: HeartbeatConfiguration = .init(),
                connectionID: UInt64 = 0, closeOnPeerDead: Bool = true) {
        self.mode = mode
        self.configuration = configuration
        self.connectionID = connectionID
        self.closeOnPeerDead = closeOnPeerDead
    }

    /// The engine's state; `.idle` before the channel is active.
    public var state: HeartbeatState { engine?.state ?? .idle }
    /// The engine's running totals.
    public var counters: HeartbeatCounters { engine?.counters ?? HeartbeatCounters() }

    /// A delegate to pass to `NIOHTTP2Handler(mode:frameDelegate:)`: it reports the DATA and HEADERS
    /// frames that stream channels write (they reach `NIOHTTP2Handler` from its multiplexer, never
    /// passing this handler), so that writing data forgives the peer's ping strikes. Call on the
    /// event loop only.
    public var frameDelegate: FrameDelegate { FrameDelegate(handler: self) }

    /// Reports frames written by `NIOHTTP2Handler` to the keepalive handler.
    public struct FrameDelegate: NIOHTTP2FrameDelegate {
        // Weak: `NIOHTTP2Handler` may outlive the keepalive handler and write after it is gone.
        fileprivate weak var handler: NIOHTTP2KeepaliveHandler?

        /// A frame was written on the connection.
        public func wroteFrame(_ frame: NIOHTTP2.HTTP2Frame) {
            handler?.wrote(frame)
        }
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer.cancel()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closing = true
        timer.cancel()
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard engine == nil else { return }
        engine = HeartbeatEngine(configuration: configuration, connectionID: connectionID, dialect: .http2,
                                 liveness: .echo, now: now(context))
        afterInput(context: context)
    }

    // MARK: Frames

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if engine != nil, !closing {
            let now = now(context)
            switch frame.payload {
            case .ping(let data, ack: false):
                // NIOHTTP2Handler has already answered it; the engine polices it.
                engine!.receivedPing(HeartbeatPayload(rawValue: data.integer), now: now)
            case .ping(let data, ack: true):
                engine!.receivedPong(HeartbeatPayload(rawValue: data.integer), now: now)
            case .data, .headers:
                notePeerStream(frame.streamID)
                engine!.receivedTraffic(now: now)
            default:
                break
            }
        }
        context.fireChannelRead(data)
        afterInput(context: context)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let created = event as? NIOHTTP2StreamCreatedEvent { notePeerStream(created.streamID) }
        context.fireUserInboundEventTriggered(event)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        wrote(unwrapOutboundIn(data))
        context.write(data, promise: promise)
    }

    fileprivate func wrote(_ frame: NIOHTTP2.HTTP2Frame) {
        guard let context, engine != nil, !closing else { return }
        switch frame.payload {
        case .data, .headers: engine!.sentTraffic(now: now(context))
        default: break
        }
    }

    private func notePeerStream(_ id: HTTP2StreamID) {
        // Clients open odd streams, servers even ones (RFC 9113 §5.1.1).
        let peerOpensOdd = mode == .server
        guard id != .rootStream, (Int32(id) % 2 == 1) == peerOpensOdd, id > lastPeerStreamID else { return }
        lastPeerStreamID = id
    }

    // MARK: Timer

    private func timerFired() {
        timer.fired()
        guard let context, engine != nil, !closing else { return }
        engine!.tick(now: now(context))
        afterInput(context: context)
    }

    // MARK: Internals

    private func now(_ context: ChannelHandlerContext) -> Timestamp {
        Timestamp(context.eventLoop.now)
    }

    /// After every input: perform the engine's actions, fire its events, reschedule the timer.
    private func afterInput(context: ChannelHandlerContext) {
        guard !draining, engine != nil, !closing else { return }
        draining = true
        defer { draining = false }
        var wrote = false
        var goAway: (code: NIOHTTP2.HTTP2ErrorCode, reason: String, error: HeartbeatNIOError)?
        while true {
            if let action = engine!.pollAction() {
                switch action {
                case .sendPing(let payload):
                    let ping = NIOHTTP2.HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: payload.rawValue), ack: false))
                    context.write(wrapOutboundOut(ping), promise: nil)
                    wrote = true
                    engine!.pingWritten(payload, now: now(context))
                case .sendPong:
                    break  // NIOHTTP2Handler sent the PING ACK when the PING arrived.
                case .peerDead(let reason):
                    fire(.peerDead(reason), context: context)
                    if closeOnPeerDead, goAway == nil {
                        goAway = (Self.code(\.livenessTimeout), "\(reason)", .peerDead(reason))
                    }
                case .peerRecovered:
                    fire(.peerRecovered, context: context)
                case .close(let reason):
                    fire(.closeRequested(reason), context: context)
                    if goAway == nil { goAway = (Self.code(\.enhanceYourCalm), reason.debugData, .closedByPolicy(reason)) }
                }
            } else if let event = engine!.pollEvent() {
                fire(.event(event), context: context)
            } else {
                break
            }
        }
        if engine!.counters != firedCounters { fire(nil, context: context) }
        if let goAway {
            closing = true
            timer.cancel()
            let frame = NIOHTTP2.HTTP2Frame(streamID: .rootStream,
                                            payload: .goAway(lastStreamID: lastPeerStreamID, errorCode: goAway.code,
                                                             opaqueData: context.channel.allocator.buffer(string: goAway.reason)))
            let written = context.writeAndFlush(wrapOutboundOut(frame))
            context.fireErrorCaught(goAway.error)
            context.close(after: written)
            return
        }
        if wrote { context.flush() }
        timer.schedule(at: engine!.nextDeadline, on: context.eventLoop) { [self] in timerFired() }
    }

    private func fire(_ output: HeartbeatSessionOutput?, context: ChannelHandlerContext) {
        firedCounters = engine!.counters
        context.fireUserInboundEventTriggered(HeartbeatNIOEvent(output: output, state: engine!.state, counters: firedCounters))
    }

    /// An HTTP/2 close code from our HTTP/2 dialect's (RFC 9113 §7).
    private static func code(_ path: KeyPath<CloseCodes, WireErrorCode>) -> NIOHTTP2.HTTP2ErrorCode {
        let codes = DialectRegistry.closeCodes(.http2)!
        return NIOHTTP2.HTTP2ErrorCode(networkCode: Int(codes[keyPath: path].value))
    }
}
