import Framing
import Heartbeat

/// What `HeartbeatConnection` needs of its connection's machinery, whatever the dialect.
protocol ConnectionCoreProtocol: AnyObject, Sendable {
    var eventLoop: EventLoop { get }
    var configuration: ConnectionConfiguration { get }
    /// What `HeartbeatConnection` reads from other threads; nil for a connection made without one
    /// (a listener's connections when a `ConnectionHandler` is configured).
    var asyncSide: ConnectionAsyncSide? { get }
    func start()
    func enqueue(_ bytes: [UInt8], type: UInt64?, _ writer: Handoff<Void>)
    func close(_ waiter: Handoff<Void>)
    func setApplicationPaused(_ paused: Bool)
    /// Runs `handler` on the loop thread once the connection has ended (for the listener's count).
    func setTerminationHandler(_ handler: @escaping () -> Void)
}

/// Makes the machinery for `configuration`'s dialect: the one place where the dialect, chosen at
/// run time, becomes a type, so that everything per frame below runs specialised for it.
/// `asyncSide`: build the events stream, inbound queue and status snapshot that a
/// `HeartbeatConnection` reads (not needed when only a `ConnectionHandler` consumes the connection).
func makeConnectionCore(transport: any Transport, configuration: SharedConfiguration, role: ConnectionRole,
                        connectionID: UInt64, asyncSide: Bool) -> any ConnectionCoreProtocol {
    func make<D: StreamDialect>(_ dialect: D) -> any ConnectionCoreProtocol {
        ConnectionCore(dialect: dialect, transport: transport, configuration: configuration, role: role, connectionID: connectionID,
                       asyncSide: asyncSide)
    }
    return make(configuration.value.dialect)
}

/// One connection's machinery on its loop's thread: the transport, the sans-IO `HeartbeatSession`,
/// the outbound queue, and the hand-off to the application. All of it is confined to the loop
/// thread; `HeartbeatConnection` reaches it through `eventLoop.execute`.
final class ConnectionCore<D: StreamDialect>: ConnectionCoreProtocol, LoopConnectionCore, TransportSink, EventLoopTimerHandler, @unchecked Sendable {
    let eventLoop: EventLoop
    /// The settings, shared by every connection a listener accepts (one copy, not one each).
    private let shared: SharedConfiguration
    var configuration: ConnectionConfiguration { shared.value }
    /// The hand-off to a `HeartbeatConnection`'s tasks; nil when only a handler consumes the
    /// connection (it then costs nothing: no stream, queue or lock).
    let asyncSide: ConnectionAsyncSide?

    private let transport: any Transport
    private var session: HeartbeatSession<D>
    private var timerSlot = -1
    /// `transport.start` has been called (reading can be paused from then on).
    private var transportStarted = false

    /// Business frames encoded and waiting, back to back (one write takes as many as fit), from
    /// `outboundStart`; `frameEnds[frameEndsHead...]` are where the frames not yet fully written
    /// end, so heartbeats go out only between frames. Sized lazily: an idle connection holds none.
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var frameEnds: [Int] = []
    private var frameEndsHead = 0
    private var outboundBytes = 0
    /// The loop-thread handler, if the configuration makes one.
    private var handler: (any ConnectionHandler)?
    /// Business writes a handler made while a read was being demuxed: the payloads back to back,
    /// encoded once the read is handled (the session is busy until then).
    private var stagedPayloads: [UInt8] = []
    private var stagedWrites: [StagedWrite] = []
    private var delivering = false
    /// The handler closed the connection while a read was being demuxed: closed once the read is
    /// handled and its staged writes encoded (the session is busy until then).
    private var closeAfterDelivery = false
    /// The application asked to close (rather than the peer).
    private var closeRequested = false
    /// Business writes waiting for the opening handshake, not yet encoded.
    private var heldWrites: [(bytes: [UInt8], type: UInt64?)] = []
    /// Control octets (heartbeats) being written; whole frames, copied out of the session.
    private var writingControl = false
    private var writers: [Handoff<Void>] = []
    private var closeWaiters: [Handoff<Void>] = []
    private var closeDeadline: Timestamp?
    private var readingPaused = false
    private var applicationPaused = false
    /// Reading stopped because a handler's writes queued more than `writeBufferLimit` octets.
    private var handlerWritesBlocked = false
    /// The peer sent GOAWAY: its EOF that follows is a graceful end.
    private var peerSaidGoodbye = false
    private(set) var closedError: TransportError?
    /// Accepted connections: when the preface or handshake must be complete (`handshakeTimeout`).
    private var handshakeDeadline: Timestamp?
    private var terminationHandler: (() -> Void)?
    /// The loop iteration whose lateness the engine last heard of.
    private var lagReportedIteration: UInt64 = 0

    init(dialect: D, transport: any Transport, configuration shared: SharedConfiguration, role: ConnectionRole, connectionID: UInt64,
         asyncSide: Bool) {
        let configuration = shared.value
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.shared = shared
        self.connectionID = connectionID
        var heartbeat = configuration.heartbeat
        if heartbeat.localHealth == nil { heartbeat.localHealth = configuration.localHealth }
        session = HeartbeatSession(dialect: dialect, role: role, configuration: heartbeat,
                                   connectionID: connectionID, maxFrameSize: configuration.maxFrameSize,
                                   encoderSeed: secureRandomSeed(), now: EventLoop.now())
        if role == .server, let timeout = configuration.handshakeTimeout { handshakeDeadline = EventLoop.now() + timeout }
        guard asyncSide else {
            self.asyncSide = nil
            return
        }
        let side = ConnectionAsyncSide(inboundBufferLimit: configuration.inboundBufferLimit)
        self.asyncSide = side
        let loop = transport.eventLoop
        side.inbound.onDrained.withLock { onDrained in
            onDrained = { [weak self] in
                guard let core = self else { return }
                loop.execute { core.resumeReadingIfPaused() }
            }
        }
    }

    /// Starts on the loop thread: registers the transport and the timer, sends the preface.
    func start() {
        timerSlot = eventLoop.makeTimer(self)
        handler = shared.value.handler?()
        handler?.connectionStarted(context: ConnectionContext(core: self))
        // A handler that closed the connection in `connectionStarted` may have ended it already:
        // then the transport is not started (it would keep this core as its sink, and register a
        // closed descriptor).
        guard closedError == nil else { return }
        transport.start(self)
        transportStarted = true
        limitHandlerWrites()
        afterInput()
    }

    // MARK: Loop-thread API (ConnectionContext)

    func writeOnLoop(_ bytes: RawSpan, type: UInt64?) -> Bool {
        guard closedError == nil, closeDeadline == nil, !closeAfterDelivery else { return false }
        if delivering {
            bytes.withUnsafeBytes { stagedPayloads.append(contentsOf: $0) }
            stagedWrites.append(StagedWrite(type: type, count: bytes.byteCount))
            return true
        }
        if sessionIsOpen && heldWrites.isEmpty {
            let before = outbound.count
            session.encodeData(bytes, type: type, to: &outbound)
            noteEncoded(from: before)
        } else {
            heldWrites.append((bytes.withUnsafeBytes { Array($0) }, type))
            outboundBytes += bytes.byteCount
        }
        session.sentBusinessData(now: EventLoop.now())
        flush()
        limitHandlerWrites()
        return closedError == nil
    }

    var queuedOutboundBytes: Int { outboundBytes }

    var counters: HeartbeatCounters {
        precondition(!delivering, "ConnectionContext.counters read inside frameReceived (the session is busy)")
        return inSession { $0.engine.counters }
    }

    /// The connection's number (the engine's `connectionID`), kept here so that it can be read at any time.
    let connectionID: UInt64

    func closeOnLoop() {
        if closedError != nil { return }
        if delivering {
            closeAfterDelivery = true
            return
        }
        closeRequested = true
        guard closeDeadline == nil else { return }
        let code = inSession { $0.closeCodes.noError }
        session.appendClose(code: code, reason: "")
        closeDeadline = EventLoop.now() + shared.value.closeTimeout
        flush()
        finishCloseIfDrained()
        scheduleTimer()
    }

    /// Encodes the writes a handler made during a read, in order, now that the session is free.
    private func encodeStagedWrites() {
        guard !stagedWrites.isEmpty else { return }
        var offset = 0
        let now = EventLoop.now()
        // By index: the debug build's generic iterator would allocate for each element.
        for index in stagedWrites.indices {
            let write = stagedWrites[index]
            if sessionIsOpen && heldWrites.isEmpty {
                let before = outbound.count
                stagedPayloads.withUnsafeBytes { payloads in
                    session.encodeData(UnsafeRawBufferPointer(rebasing: payloads[offset..<offset + write.count]).bytes,
                                       type: write.type, to: &outbound)
                }
                noteEncoded(from: before)
            } else {
                heldWrites.append((Array(stagedPayloads[offset..<offset + write.count]), write.type))
                outboundBytes += write.count
            }
            offset += write.count
        }
        stagedWrites.removeAll(keepingCapacity: stagedWrites.capacity <= 64)
        stagedPayloads.removeAll(keepingCapacity: stagedPayloads.capacity <= 16 * 1024)
        session.sentBusinessData(now: now)
    }

    // MARK: Application requests (loop thread)

    func enqueue(_ bytes: [UInt8], type: UInt64?, _ writer: Handoff<Void>) {
        if let closedError { return writer.fail(closedError) }
        guard closeDeadline == nil else { return writer.fail(TransportError.closed) }
        if sessionIsOpen && heldWrites.isEmpty {
            encode(bytes, type: type)
        } else {
            // The opening handshake is under way: encoded later, in order, once it completes.
            heldWrites.append((bytes, type))
            outboundBytes += bytes.count
        }
        session.sentBusinessData(now: EventLoop.now())
        flush()
        if let closedError { return writer.fail(closedError) }
        if outboundBytes <= shared.value.writeBufferLimit {
            writer.succeed(())
        } else {
            writers.append(writer)
        }
    }

    func close(_ waiter: Handoff<Void>) {
        if closedError != nil { return waiter.succeed(()) }
        closeWaiters.append(waiter)
        closeOnLoop()
    }

    func setTerminationHandler(_ handler: @escaping () -> Void) {
        terminationHandler = handler
    }

    func resumeReadingIfPaused() {
        guard readingPaused, !applicationPaused, closedError == nil else { return }
        readingPaused = false
        transport.setReading(true)
    }

    /// The application stops (true) or resumes (false) reading from the peer.
    func setApplicationPaused(_ paused: Bool) {
        guard closedError == nil else { return }
        applicationPaused = paused
        if paused {
            readingPaused = true
            transport.setReading(false)
        } else {
            resumeReadingIfPaused()
        }
    }

    private func encode(_ bytes: [UInt8], type: UInt64?) {
        let before = outbound.count
        bytes.withUnsafeBytes { session.encodeData($0.bytes, type: type, to: &outbound) }
        noteEncoded(from: before)
    }

    /// The octets from `before` to the end of `outbound` are one write's frames.
    private func noteEncoded(from before: Int) {
        guard outbound.count > before else { return }
        frameEnds.append(outbound.count)
        outboundBytes += outbound.count - before
    }

    /// Business writes made before the opening handshake completed, encoded once it has.
    private func encodeHeldWrites() {
        guard !heldWrites.isEmpty, sessionIsOpen else { return }
        let held = heldWrites
        heldWrites.removeAll()
        for (bytes, type) in held {
            outboundBytes -= bytes.count
            encode(bytes, type: type)
        }
    }

    // MARK: TransportSink

    func transportReceived(_ bytes: RawSpan) {
        guard closedError == nil else { return }
        let now = EventLoop.now()
        reportLoopLag(now: now)
        var overLimit = false
        do {
            if let handler {
                delivering = true
                defer { delivering = false }
                let context = ConnectionContext(core: self)
                try session.receive(bytes, now: now) { header, payload in
                    handler.frameReceived(header, payload: payload, context: context)
                }
            } else {
                let inbound = asyncSide?.inbound
                try session.receive(bytes, now: now) { header, payload in
                    let frame = InboundFrame(header: header, payload: payload.withUnsafeBytes { Array($0) })
                    if inbound?.push(frame) == false { overLimit = true }
                }
            }
            encodeStagedWrites()
            if closeAfterDelivery {
                closeAfterDelivery = false
                flush()  // the echoes first: the close's frame goes ahead of queued business frames
                closeOnLoop()
            }
        } catch {
            // What the handler wrote for the frames before the bad one goes out before the close.
            encodeStagedWrites()
            flush()
            emit(.closed(.framing(error)))
            session.appendClose(code: error.code, reason: error.reason.identifier)
            flush()
            return terminate(.framing(error))
        }
        if overLimit && !readingPaused, let side = asyncSide, side.inbound.queuedBytes >= shared.value.inboundBufferLimit {
            readingPaused = true
            transport.setReading(false)
        }
        afterInput()
        limitHandlerWrites()
    }

    func transportWritable() {
        flush()
        finishCloseIfDrained()
        limitHandlerWrites()
    }

    /// A handler's writes are queued whatever their size (they cannot wait): while more than
    /// `writeBufferLimit` octets wait, the connection stops reading — so a peer that sends but
    /// does not read backs up in the kernel, not here — and reads again once half have gone.
    private func limitHandlerWrites() {
        // Before the transport has started (writes in `connectionStarted`) there is nothing to pause.
        guard handler != nil, closedError == nil, transportStarted else { return }
        if outboundBytes > shared.value.writeBufferLimit {
            handlerWritesBlocked = true
            if !readingPaused {
                readingPaused = true
                transport.setReading(false)
            }
        } else if handlerWritesBlocked && outboundBytes <= shared.value.writeBufferLimit / 2 {
            handlerWritesBlocked = false
            resumeReadingIfPaused()
        }
    }

    func transportClosed(_ error: TransportError) {
        terminate(error)
    }

    // MARK: EventLoopTimerHandler

    func timerFired(now: Timestamp) {
        guard closedError == nil else { return }
        if let closeDeadline, now >= closeDeadline {
            return terminate(.closed)
        }
        if let handshakeDeadline, now >= handshakeDeadline {
            return terminate(.closedByPolicy(reason: "handshake_timeout"))
        }
        reportLoopLag(now: now)
        if readingPaused, let waiting = transport.bytesWaiting, waiting > 0 {
            session.peerBytesWaiting(now: now)
        }
        session.tick(now: now)
        afterInput()
    }

    // MARK: Internals

    /// Reads the session in place. A getter called on the stored property itself copies the
    /// whole session value (some 4 KB, with retains) first, on every call; through `inout` it
    /// runs on the stored value. Not inside `session.receive` (an exclusivity conflict).
    @inline(__always)
    private func inSession<Result, Failure: Error>(_ body: (inout HeartbeatSession<D>) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(&session)
    }

    private var sessionIsOpen: Bool { inSession { $0.isOpen } }
    private var sessionHasControlBytes: Bool { inSession { $0.hasControlBytes } }
    private var sessionNextDeadline: Timestamp? { inSession { $0.nextDeadline } }
    private var sessionDemuxedOctets: Int { inSession { $0.demuxer.offset } }

    /// Hands a liveness event to the `events` stream and to the handler (on this thread).
    private func emit(_ event: ConnectionEvent) {
        asyncSide?.eventSink.yield(event)
        handler?.connectionEvent(event, context: ConnectionContext(core: self))
    }

    /// Tells the engine how late this wake-up of the loop is (local health), once per iteration,
    /// before the input that waited: a stalled process then holds its verdicts instead of
    /// accusing peers whose answers wait unread in the kernel.
    private func reportLoopLag(now: Timestamp) {
        guard let lag = eventLoop.lagThisIteration, lag.iteration != lagReportedIteration else { return }
        lagReportedIteration = lag.iteration
        session.observedLocalLag(.nanoseconds(lag.nanoseconds), now: now)
    }

    /// After every input: write heartbeats, act on the session's outputs, reschedule the timer.
    private func afterInput() {
        guard closedError == nil else { return }
        if handshakeDeadline != nil && sessionIsOpen && sessionDemuxedOctets > 0 { handshakeDeadline = nil }
        flush()
        var ending: TransportError?
        while let output = session.pollOutput() {
            switch output {
            case .event(let event):
                if let asyncSide { inSession { session in asyncSide.status.withLock { $0.update(from: session.engine, event: event) } } }
                emit(.heartbeat(event))
            case .peerDead(let reason):
                guard shared.value.closeOnPeerDead, ending == nil else { break }
                let code = inSession { $0.closeCodes.livenessTimeout }
                session.appendClose(code: code, reason: "\(reason)")
                ending = .peerDead(reason: "\(reason)")
            case .peerRecovered:
                break
            case .closeRequested(let reason):
                if ending == nil { ending = .closedByPolicy(reason: reason.debugData) }
            case .peerGoAway(let code, let reason):
                peerSaidGoodbye = true
                emit(.peerGoAway(code: code, reason: reason))
                // The peer is closing: end gracefully once what we queued (a WebSocket Close
                // echo among it) is written, or after `closeTimeout`.
                if closeDeadline == nil { closeDeadline = EventLoop.now() + shared.value.closeTimeout }
            }
        }
        if let ending {
            flush()  // the GOAWAY, if the transport takes it
            return terminate(ending)
        }
        flush()
        finishCloseIfDrained()
        guard closedError == nil else { return }
        scheduleTimer()
    }

    private func scheduleTimer() {
        guard timerSlot >= 0 else { return }
        var deadline = sessionNextDeadline
        if let closeDeadline { deadline = min(deadline ?? closeDeadline, closeDeadline) }
        if let handshakeDeadline { deadline = min(deadline ?? handshakeDeadline, handshakeDeadline) }
        eventLoop.setDeadline(timerSlot, deadline)
    }

    /// Writes heartbeats at frame boundaries ahead of business frames, then business frames —
    /// as many as fit in one write — until the transport takes no more.
    private func flush() {
        guard closedError == nil else { return }
        encodeHeldWrites()
        do {
            while true {
                let atBoundary = outboundStart == 0 || (frameEndsHead > 0 && frameEnds[frameEndsHead - 1] == outboundStart)
                if atBoundary && (writingControl || sessionHasControlBytes) {
                    writingControl = true
                    let transport = self.transport
                    let written = try inSession { session in
                        try session.withPendingControlBytes { control in
                            try control.withUnsafeBytes { try transport.write($0) }
                        }
                    }
                    session.controlBytesWritten(written, now: EventLoop.now())
                    if sessionHasControlBytes { return }  // the transport is full
                    writingControl = false
                    continue
                }
                guard outboundStart < outbound.count, sessionIsOpen else { break }
                // Up to the end of the current frame only while a heartbeat waits for a boundary.
                let end = sessionHasControlBytes ? frameEnds[frameEndsHead] : outbound.count
                let requested = end - outboundStart
                let written = try outbound.withUnsafeBytes { queued in
                    try transport.write(UnsafeRawBufferPointer(rebasing: queued[outboundStart..<end]))
                }
                outboundStart += written
                outboundBytes -= written
                while frameEndsHead < frameEnds.count && frameEnds[frameEndsHead] <= outboundStart { frameEndsHead += 1 }
                if outboundStart == outbound.count {
                    outbound.removeAll(keepingCapacity: outbound.capacity <= 16 * 1024)
                    frameEnds.removeAll(keepingCapacity: frameEnds.capacity <= 64)
                    outboundStart = 0
                    frameEndsHead = 0
                } else {
                    compactOutbound()
                }
                if written < requested { return }
            }
        } catch let error as TransportError {
            return terminate(error)
        } catch {
            return terminate(.closed)
        }
        if outboundBytes <= shared.value.writeBufferLimit && !writers.isEmpty {
            let ready = writers
            writers.removeAll()
            for writer in ready { writer.succeed(()) }
        }
    }

    /// Drops the written frames from the front of `outbound` once they are most of it (and more
    /// than 16 KiB), so that a queue that never drains fully does not grow without end. Cut at
    /// the last frame written whole: `outboundStart == 0` keeps meaning "at a frame boundary".
    private func compactOutbound() {
        guard frameEndsHead > 0 else { return }
        let cut = frameEnds[frameEndsHead - 1]
        guard cut > 16 * 1024, cut > outbound.count / 2 else { return }
        outbound.removeSubrange(0..<cut)
        frameEnds.removeSubrange(0..<frameEndsHead)
        for index in frameEnds.indices { frameEnds[index] -= cut }
        outboundStart -= cut
        frameEndsHead = 0
    }

    private func finishCloseIfDrained() {
        guard closeDeadline != nil, closedError == nil else { return }
        if outboundStart == outbound.count && heldWrites.isEmpty && !sessionHasControlBytes {
            terminate(closeRequested || !peerSaidGoodbye ? .closed : .endOfStream)
        }
    }

    /// Ends the connection once: closes the transport, fails waiters, finishes the streams.
    private func terminate(_ error: TransportError) {
        guard closedError == nil else { return }
        closedError = error
        transport.close(reset: false)
        if timerSlot >= 0 {
            eventLoop.releaseTimer(timerSlot)
            timerSlot = -1
        }
        outbound = []
        frameEnds = []
        outboundStart = 0
        frameEndsHead = 0
        outboundBytes = 0
        stagedPayloads = []
        stagedWrites = []
        let graceful = error == .closed || error == .endOfStream && peerSaidGoodbye
        if let asyncSide {
            let (state, counters) = inSession { ($0.engine.state, $0.engine.counters) }
            asyncSide.status.withLock {
                $0.closed = error
                $0.state = state
                $0.counters = counters
            }
            asyncSide.inbound.finish(graceful ? nil : error)
        }
        emit(.closed(error))
        asyncSide?.eventSink.finish()
        for writer in writers { writer.fail(error) }
        writers.removeAll()
        for waiter in closeWaiters { waiter.succeed(()) }
        closeWaiters.removeAll()
        handler.take()?.connectionClosed(error)
        terminationHandler.take()?()
    }

}

/// A connection configuration held once and shared by reference: a listener's connections all
/// point at the listener's.
final class SharedConfiguration: Sendable {
    let value: ConnectionConfiguration
    init(_ value: ConnectionConfiguration) { self.value = value }
}

/// What a `HeartbeatConnection` reads from other threads: business frames, liveness events and
/// a snapshot of the engine. Built only for connections that a `HeartbeatConnection` wraps.
final class ConnectionAsyncSide: Sendable {
    let inbound: InboundQueue
    let events: AsyncStream<ConnectionEvent>
    let eventSink: AsyncStream<ConnectionEvent>.Continuation
    /// Snapshot of the engine for other threads.
    let status = Lock(ConnectionStatus())

    init(inboundBufferLimit: Int) {
        (events, eventSink) = AsyncStream.makeStream(of: ConnectionEvent.self, bufferingPolicy: .bufferingNewest(1024))
        inbound = InboundQueue(limit: inboundBufferLimit)
    }
}

/// A business write a handler made during a read: its type and payload length.
struct StagedWrite {
    var type: UInt64?
    var count: Int
}

/// What other threads may read about a connection.
struct ConnectionStatus: Sendable {
    var state: HeartbeatState = .idle
    var lastRTT: RTTSnapshot?
    var counters = HeartbeatCounters()
    var closed: TransportError?

    mutating func update(from engine: HeartbeatEngine, event: HeartbeatEvent) {
        state = engine.state
        counters = engine.counters
        if case .rttSample(let snapshot) = event.kind { lastRTT = snapshot }
    }
}
