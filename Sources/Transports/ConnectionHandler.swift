public import Framing
public import Heartbeat

/// A connection's application logic run on its loop's thread, with no task hop, lock or
/// allocation per message: the zero-hop alternative to `HeartbeatConnection.inbound` and
/// `write`, in the manner of a SwiftNIO `ChannelHandler`. Set `ConnectionConfiguration.handler`
/// and every connection made with the configuration calls a fresh handler; its business frames
/// then go to the handler (not to `inbound`), and its liveness events to `connectionEvent` as
/// well. A listener's connections with a handler need no task at all: nothing of
/// `HeartbeatConnection`'s async side (events stream, inbound queue, locks) is built for them.
///
/// ```swift
/// final class Echo: ConnectionHandler {
///     func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
///         context.write(payload, type: header.type)
///     }
/// }
/// configuration.handler = { Echo() }
/// ```
public protocol ConnectionHandler: AnyObject {
    /// The connection is running (called once, first).
    func connectionStarted(context: ConnectionContext)
    /// A business frame arrived; `payload` is borrowed for the call (it lies in the loop's read
    /// buffer). Writes made here go out after the whole read is handled, coalesced.
    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext)
    /// A liveness event: the same events, in the same order, as `HeartbeatConnection.events`
    /// yields (RTT samples, state changes, GOAWAY, and `.closed` at the end, before
    /// `connectionClosed`). The context may write or close as in `frameReceived`.
    func connectionEvent(_ event: ConnectionEvent, context: ConnectionContext)
    /// The connection ended: `.closed` when we closed it, else why. Called once, last.
    func connectionClosed(_ error: TransportError)
}

extension ConnectionHandler {
    /// Does nothing.
    public func connectionStarted(context: ConnectionContext) {}
    /// Does nothing.
    public func connectionEvent(_ event: ConnectionEvent, context: ConnectionContext) {}
    /// Does nothing.
    public func connectionClosed(_ error: TransportError) {}
}

/// What a `ConnectionHandler` may do with its connection, on the loop's thread only. A context
/// kept past `connectionClosed` is harmless: its writes return false and its close does nothing.
public struct ConnectionContext {
    /// Weak: a handler may keep the context after its connection has ended and gone. (A strong
    /// reference made a cycle — connection, its shared configuration, the handler factory's
    /// captures, a handler that keeps its context — that LeakSanitizer caught in
    /// `keptContextOutlivesItsConnection`.)
    private weak var core: (any LoopConnectionCore)?
    /// The connection's number, kept for after it has gone.
    private let number: UInt64

    /// The loop the connection runs on (the current thread's).
    public let eventLoop: EventLoop

    init(core: any LoopConnectionCore) {
        self.core = core
        eventLoop = core.eventLoop
        number = core.connectionID
    }

    /// Writes business data framed by the dialect (as `HeartbeatConnection.write` does), without
    /// waiting: it is queued whatever the queue's size. Returns false when the connection has
    /// ended (the data is dropped). While more than `writeBufferLimit` octets wait, the
    /// connection stops reading from the peer (so an echo cannot grow without bound) and reads
    /// again once half have been written; check `queuedBytes` for finer back-pressure.
    /// Loop thread only.
    @discardableResult
    public func write(_ bytes: RawSpan, type: UInt64? = nil) -> Bool {
        precondition(eventLoop.inEventLoop, "ConnectionContext.write called off its loop's thread")
        return core?.writeOnLoop(bytes, type: type) ?? false
    }

    /// Business octets queued and not yet taken by the kernel (0 once the connection has ended).
    public var queuedBytes: Int { core?.queuedOutboundBytes ?? 0 }

    /// The liveness engine's counters now (their final values once the connection has ended).
    /// Loop thread only, and not inside `frameReceived` (the engine is busy with the read then:
    /// a precondition failure).
    public var counters: HeartbeatCounters {
        precondition(eventLoop.inEventLoop, "ConnectionContext.counters read off its loop's thread")
        return core?.counters ?? HeartbeatCounters()
    }

    /// The connection's number: for a listener's connections, from 1 in order of acceptance; for
    /// one made with `connect`, the `connectionID` given. Loop thread only.
    public var connectionID: UInt64 {
        precondition(eventLoop.inEventLoop, "ConnectionContext.connectionID read off its loop's thread")
        return number
    }

    /// Closes gracefully, as `HeartbeatConnection.close()` does, without waiting. Loop thread only.
    public func close() {
        precondition(eventLoop.inEventLoop, "ConnectionContext.close called off its loop's thread")
        core?.closeOnLoop()
    }
}

/// The loop-thread side of a connection that `ConnectionContext` reaches.
protocol LoopConnectionCore: AnyObject {
    var eventLoop: EventLoop { get }
    func writeOnLoop(_ bytes: RawSpan, type: UInt64?) -> Bool
    var queuedOutboundBytes: Int { get }
    var counters: HeartbeatCounters { get }
    var connectionID: UInt64 { get }
    func closeOnLoop()
}
