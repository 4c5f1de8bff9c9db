public import Heartbeat

/// One end of an in-memory connection with scriptable faults, for tests: two ends run on one
/// `EventLoop`, bytes pass between them with an optional delay, and either end can be made to
/// drop what it sends (a black hole: the half-open case), stall (stop reading, so the other
/// side's writes back up), close (EOF) or reset.
public final class MemoryTransport: Transport, EventLoopTimerHandler, @unchecked Sendable {
    /// Faults applied by one end.
    public struct Faults: Hashable, Sendable {
        /// Added to every write's delivery time (one-way delay of what this end sends).
        public var delay: Duration
        /// Silently discard everything this end sends: the peer hears nothing, not even a close.
        public var dropsOutgoing: Bool
        /// Stop delivering inbound bytes to this end's connection, as an application that stops
        /// reading; they back up until the sender's writes are refused.
        public var stalled: Bool

        /// Faults; none by default.
        public init(delay: Duration = .zero, dropsOutgoing: Bool = false, stalled: Bool = false) {
            self.delay = delay
            self.dropsOutgoing = dropsOutgoing
            self.stalled = stalled
        }
    }

    public let eventLoop: EventLoop
    /// Octets that may be in flight toward this end before the peer's writes are refused.
    public let capacity: Int
    private weak var peer: MemoryTransport?
    private weak var sink: (any TransportSink)?
    private var faults = Faults()
    private var reading = true
    private var closed = false
    private var timerSlot = -1
    /// Writes in flight toward this end, with the time they arrive; `nil` bytes mark the peer's close.
    private var incoming: [(at: Timestamp, bytes: [UInt8]?, reset: Bool)] = []
    private var incomingHead = 0
    private var incomingBytes = 0
    private var peerWaitsForRoom = false

    private init(eventLoop: EventLoop, capacity: Int) {
        self.eventLoop = eventLoop
        self.capacity = capacity
    }

    /// Two connected ends on `loop`, each accepting up to `capacity` octets in flight toward it.
    public static func pair(on loop: EventLoop, capacity: Int = 256 * 1024) -> (MemoryTransport, MemoryTransport) {
        let first = MemoryTransport(eventLoop: loop, capacity: capacity)
        let second = MemoryTransport(eventLoop: loop, capacity: capacity)
        first.peer = second
        second.peer = first
        return (first, second)
    }

    /// Replaces this end's faults (from any thread; takes effect on the loop).
    public func inject(_ faults: Faults) {
        eventLoop.execute { [self] in
            self.faults = faults
            scheduleDelivery()
        }
    }

    /// Closes this end abruptly, as a crash would: the peer sees ECONNRESET.
    public func reset() {
        eventLoop.execute { [self] in close(reset: true) }
    }

    // MARK: Transport

    public func start(_ sink: any TransportSink) {
        self.sink = sink
        timerSlot = eventLoop.makeTimer(self)
        scheduleDelivery()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> Int {
        guard !closed else { throw .closed }
        guard let peer, !peer.closed else { throw .brokenPipe }
        if faults.dropsOutgoing { return bytes.count }
        let room = max(0, peer.capacity - peer.incomingBytes)
        let count = min(room, bytes.count)
        if count < bytes.count { peer.peerWaitsForRoom = true }
        guard count > 0 else { return 0 }
        peer.arrive(Array(bytes[..<count]), at: EventLoop.now() + faults.delay)
        return count
    }

    public func setReading(_ enabled: Bool) {
        reading = enabled
        scheduleDelivery()
    }

    public var bytesWaiting: Int? { incomingBytes }

    public func close(reset: Bool) {
        guard !closed else { return }
        closed = true
        if timerSlot >= 0 { eventLoop.releaseTimer(timerSlot); timerSlot = -1 }
        sink = nil
        incoming.removeAll()
        incomingBytes = 0
        if let peer, !faults.dropsOutgoing {
            peer.arrive(nil, at: EventLoop.now() + (reset ? .zero : faults.delay), reset: reset)
        }
    }

    // MARK: Delivery

    private func arrive(_ bytes: [UInt8]?, at time: Timestamp, reset: Bool = false) {
        guard !closed else { return }
        if reset {
            // A reset overtakes whatever was in flight.
            incoming.removeAll()
            incomingHead = 0
            incomingBytes = 0
        }
        incoming.append((time, bytes, reset))
        incomingBytes += bytes?.count ?? 0
        scheduleDelivery()
    }

    public func timerFired(now: Timestamp) { deliver(now: now) }

    /// Deliveries always happen from the loop's timer, never inside a `write` or another
    /// callback, so neither end is re-entered while it is in the middle of something.
    private func scheduleDelivery() {
        guard timerSlot >= 0, !closed, incomingHead < incoming.count else { return }
        let head = incoming[incomingHead]
        let deliverable = head.bytes == nil || (reading && !faults.stalled)
        eventLoop.setDeadline(timerSlot, deliverable ? head.at : nil)
    }

    private func deliver(now: Timestamp) {
        while !closed, incomingHead < incoming.count, incoming[incomingHead].at <= now {
            let entry = incoming[incomingHead]
            if entry.bytes == nil {
                incoming.removeAll()
                incomingHead = 0
                let sink = self.sink
                close(reset: false)
                sink?.transportClosed(entry.reset ? .connectionReset : .endOfStream)
                return
            }
            guard reading, !faults.stalled, let bytes = entry.bytes else { break }
            incomingHead += 1
            incomingBytes -= bytes.count
            sink?.transportReceived(bytes.span.bytes)
            if peerWaitsForRoom, let peer, incomingBytes < capacity {
                peerWaitsForRoom = false
                peer.sink?.transportWritable()
            }
        }
        if incomingHead == incoming.count && incomingHead > 0 {
            incoming.removeAll(keepingCapacity: true)
            incomingHead = 0
        }
        scheduleDelivery()
    }
}
