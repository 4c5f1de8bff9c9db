import CTransportsShims
import Glibc
public import Heartbeat
import Synchronization

/// Something the event loop calls back on its thread when a registered descriptor is ready.
public protocol EventLoopHandler: AnyObject {
    /// The descriptor is readable, or the peer hung up (EPOLLIN / EPOLLRDHUP / EPOLLHUP / EPOLLERR).
    func readable()
    /// The descriptor is writable (EPOLLOUT).
    func writable()
    /// The loop is shutting down and has deregistered the descriptor: release it and fail waiters.
    func eventLoopShutdown()
}

/// Something the event loop calls back on its thread when its deadline passes.
public protocol EventLoopTimerHandler: AnyObject {
    /// The deadline set with `EventLoop.setDeadline(_:_:)` has passed; `now` is the loop's time.
    func timerFired(now: Timestamp)
}

/// One thread, one epoll instance, one timer heap: it serves many connections and drives every
/// connection's heartbeat engine from a single `TimerHeap`. An eventfd wakes it, so work
/// submitted from other threads, task cancellation and shutdown interrupt a blocked wait at once.
///
/// Everything registered with the loop is confined to its thread: `register`, `setDeadline` and
/// the handler callbacks run there. Other threads reach it through `execute(_:)`.
public final class EventLoop: @unchecked Sendable {
    private let epoll: CInt
    private let wakeDescriptor: CInt
    /// Tasks submitted from any thread, and whether the loop has finished (then nothing runs them).
    private let submitted = Lock<(tasks: [@Sendable () -> Void], finished: Bool)>(([], false))
    private let stopping = Atomic<Bool>(false)
    private let loopThreadID = Atomic<UInt>(0)
    /// The loop is (about to be) blocked in its wait: work submitted now must wake it.
    private let sleeping = Atomic<Bool>(false)
    private var thread: pthread_t?

    // Confined to the loop thread.
    private var handlers: [CInt: any EventLoopHandler] = [:]
    private var timers: TimerHeap
    private var timerHandlers: [(any EventLoopTimerHandler)?] = []
    private var freeTimerSlots: [Int] = []
    /// The timer grain in nanoseconds (≥ 1).
    private let tickNanoseconds: Int64
    /// The timerfd of the fallback wait (kernels without epoll_pwait2), or -1.
    private var timerDescriptor: CInt = -1
    private var armedDeadline: Int64?
    /// epoll_pwait2 failed and so did timerfd_create: waits are epoll_wait's milliseconds.
    private var millisecondWaits = false
    private var iteration: UInt64 = 0
    private var lagIteration: UInt64 = 0
    private var currentLag: Int64 = 0
    /// The read buffer every socket transport on this loop reads into: bytes are demuxed in place
    /// and only a split frame is kept per connection, so an idle connection holds no read buffer.
    let readBuffer: UnsafeMutableRawBufferPointer

    /// The monotonic clock the loop (and the engines it drives) runs on: CLOCK_MONOTONIC.
    public static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Timestamp(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    /// Starts a loop on a new thread; `readBufferSize` is the size of the one read buffer all its
    /// connections share (the most one `recv` takes; > 0). `timerTick` is the loop's timer grain: a
    /// wait for a future deadline ends at the next multiple of it on the monotonic clock, so that
    /// the heartbeats of many connections due within one tick share one wake-up; no timer fires
    /// more than one tick late, none early. `.zero`: every deadline to the nanosecond.
    public init(readBufferSize: Int = 64 * 1024, timerTick: Duration = .microseconds(500)) throws(TransportError) {
        precondition(readBufferSize > 0, "readBufferSize must be > 0")
        precondition(timerTick >= .zero, "timerTick must be >= 0")
        tickNanoseconds = max(1, timerTick.nanosecondCount)
        do {
            epoll = try systemCall { epoll_create1(CInt(EPOLL_CLOEXEC)) }
        } catch {
            throw TransportError(error, operation: "epoll_create1")
        }
        let eventDescriptor = eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC))
        guard eventDescriptor >= 0 else {
            let error = Errno.current
            Glibc.close(epoll)
            throw TransportError(error, operation: "eventfd")
        }
        wakeDescriptor = eventDescriptor
        timers = TimerHeap(capacity: 64)
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, &event)
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        precondition(created == 0, "pthread_create failed: \(created)")
        self.thread = thread
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(wakeDescriptor)
        if timerDescriptor >= 0 { Glibc.close(timerDescriptor) }
        readBuffer.deallocate()
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool { loopThreadID.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Runs `task` on the loop thread, waking the loop at once if it is waiting. After the loop
    /// has shut down, runs it at once on the calling thread (every handler has been told by then).
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let accepted = submitted.withLock { submitted -> Bool in
            guard !submitted.finished else { return false }
            submitted.tasks.append(task)
            return true
        }
        // The loop looks for submitted tasks after it has said it sleeps (under the same lock):
        // a loop that is awake runs the task in this iteration, no wake-up needed.
        if accepted { if sleeping.load(ordering: .sequentiallyConsistent) { wake() } } else { task() }
    }

    /// Stops the loop: the wait is interrupted at once, every registered handler hears
    /// `eventLoopShutdown()` after its deregistration, and the thread exits.
    /// Blocks until it has; must not be called on the loop thread.
    public func shutdown() {
        precondition(!inEventLoop, "EventLoop.shutdown() called on the loop's own thread")
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeDescriptor, &one, MemoryLayout<UInt64>.size)
    }

    // MARK: Registration (loop thread only)

    /// Watches `descriptor` for readability, and for writability when `writable` is true.
    public func register(_ descriptor: CInt, handler: any EventLoopHandler, writable: Bool = false) throws(TransportError) {
        assertInEventLoop()
        handlers[descriptor] = handler
        do {
            try control(EPOLL_CTL_ADD, descriptor, reading: true, writable: writable)
        } catch {
            // Not watched: keep no entry (it would hold the handler, and a reused descriptor number).
            handlers.removeValue(forKey: descriptor)
            throw error
        }
    }

    /// Changes what `descriptor` is watched for; `reading: false` stops reading (back-pressure).
    public func modify(_ descriptor: CInt, reading: Bool, writable: Bool) throws(TransportError) {
        assertInEventLoop()
        try control(EPOLL_CTL_MOD, descriptor, reading: reading, writable: writable)
    }

    /// Stops watching `descriptor`. Call it before closing the descriptor.
    public func deregister(_ descriptor: CInt) {
        assertInEventLoop()
        guard handlers.removeValue(forKey: descriptor) != nil else { return }
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil)
    }

    private func control(_ operation: CInt, _ descriptor: CInt, reading: Bool, writable: Bool) throws(TransportError) {
        var event = epoll_event()
        event.events = (reading ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = descriptor
        if epoll_ctl(epoll, operation, descriptor, &event) == -1 {
            throw TransportError(.current, operation: "epoll_ctl")
        }
    }

    // MARK: Timers (loop thread only)

    /// A timer slot for `handler`, reused with `setDeadline` for as long as it lives. Give it back
    /// with `releaseTimer(_:)`.
    public func makeTimer(_ handler: any EventLoopTimerHandler) -> Int {
        assertInEventLoop()
        if let slot = freeTimerSlots.popLast() {
            timerHandlers[slot] = handler
            return slot
        }
        let slot = timerHandlers.count
        timerHandlers.append(handler)
        if slot >= timers.capacity { growTimers(to: timers.capacity * 2) }
        return slot
    }

    /// Sets (or with nil, clears) the deadline of `slot`: its handler's `timerFired` runs once it passes.
    /// O(log n), no allocation.
    public func setDeadline(_ slot: Int, _ deadline: Timestamp?) {
        assertInEventLoop()
        timers.update(slot, to: deadline)
    }

    /// Clears and frees `slot`.
    public func releaseTimer(_ slot: Int) {
        assertInEventLoop()
        timers.cancel(slot)
        timerHandlers[slot] = nil
        freeTimerSlots.append(slot)
    }

    /// Number of timers with a deadline (for tests and diagnostics).
    public var scheduledTimerCount: Int { timers.count }

    private func growTimers(to capacity: Int) {
        var grown = TimerHeap(capacity: capacity)
        for slot in 0..<timers.capacity {
            if let deadline = timers.deadline(of: slot) { grown.schedule(slot, at: deadline) }
        }
        timers = grown
    }

    private func assertInEventLoop() {
        assert(inEventLoop, "EventLoop API used off the loop thread")
    }

    // MARK: The loop

    private func run() {
        loopThreadID.store(UInt(pthread_self()), ordering: .releasing)
        // Timers fire within a microsecond of their deadline, not the default 50 µs slack.
        _ = heartbeat_set_timer_slack(1_000)
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var tasks: [@Sendable () -> Void] = []
        var iterationStart = Self.now().nanoseconds
        while !stopping.load(ordering: .acquiring) {
            let waitDeadline = timers.nextDeadline.map { roundedUpToTick($0.nanoseconds) }
            let waitStart = Self.now().nanoseconds
            sleeping.store(true, ordering: .sequentiallyConsistent)
            let hasTasks = submitted.withLock { !$0.tasks.isEmpty }
            let count = wait(events, capacity: capacity, until: hasTasks ? 0 : waitDeadline)
            sleeping.store(false, ordering: .sequentiallyConsistent)
            let woke = Self.now().nanoseconds
            iteration &+= 1
            // How late this wake-up is: past the deadline it waited for, or — when it returned at
            // once with events — by as long as the previous iteration kept them waiting.
            var lag: Int64 = 0
            if let waitDeadline, woke > waitDeadline { lag = woke - waitDeadline }
            if count > 0 && woke - waitStart < 1_000_000 { lag = max(lag, waitStart - iterationStart) }
            iterationStart = woke
            noteLag(lag)
            for index in 0..<max(0, Int(count)) {
                let event = events[index]
                let descriptor = event.data.fd
                if descriptor == wakeDescriptor || descriptor == timerDescriptor {
                    var value: UInt64 = 0
                    _ = Glibc.read(descriptor, &value, MemoryLayout<UInt64>.size)
                    // Expired and read: disarmed, so the same deadline set again must re-arm it.
                    if descriptor == timerDescriptor { armedDeadline = nil }
                    continue
                }
                let flags = event.events
                if flags & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0, let handler = handlers[descriptor] {
                    handler.writable()
                }
                if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0,
                   let handler = handlers[descriptor] {
                    handler.readable()
                }
            }
            submitted.withLock { swap(&$0.tasks, &tasks) }
            for task in tasks { task() }
            tasks.removeAll(keepingCapacity: true)
            fireTimers()
        }
        // Shutdown: run what was submitted, then tell every handler once, so connections fail
        // their waiters and close.
        while true {
            submitted.withLock { swap(&$0.tasks, &tasks) }
            if tasks.isEmpty { break }
            for task in tasks { task() }
            tasks.removeAll()
        }
        let remaining = handlers
        handlers.removeAll()
        for (descriptor, handler) in remaining {
            _ = epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil)
            handler.eventLoopShutdown()
        }
        timerHandlers.removeAll()
        // From now on `execute` runs tasks on their caller's thread.
        while true {
            let late = submitted.withLock { submitted -> [@Sendable () -> Void] in
                if submitted.tasks.isEmpty { submitted.finished = true }
                defer { submitted.tasks.removeAll() }
                return submitted.tasks
            }
            if late.isEmpty { break }
            for task in late { task() }
        }
    }

    /// Runs the timers due, then those that fell due while they ran (an in-memory transport's
    /// delivery, a deadline set to "now" by a handler), for a few passes before the next wait.
    private func fireTimers() {
        var now = Self.now()
        // Handlers and tasks of this iteration that ran long delay every timer behind them. Counted
        // from the deadline rounded up to the tick: the grain's own delay is by design, not lag.
        if let first = timers.nextDeadline {
            let due = tickCeiling(first.nanoseconds)
            if now.nanoseconds > due { noteLag(now.nanoseconds - due) }
        }
        for _ in 0..<4 {
            while let slot = timers.popExpired(now: now) {
                timerHandlers[slot]?.timerFired(now: now)
            }
            now = Self.now()
            guard let next = timers.nextDeadline, next <= now else { return }
        }
    }

    /// `deadline` rounded up to the next multiple of the timer tick (the deadline itself when it
    /// has passed: due timers run at once).
    private func roundedUpToTick(_ deadline: Int64) -> Int64 {
        guard deadline > Self.now().nanoseconds else { return deadline }
        return tickCeiling(deadline)
    }

    /// `deadline` rounded up to a multiple of the timer tick; a deadline within a tick of
    /// `Int64.max` (a timeout of "forever") stays as it is rather than overflow.
    private func tickCeiling(_ deadline: Int64) -> Int64 {
        let remainder = deadline % tickNanoseconds
        guard remainder > 0 else { return deadline }
        let (rounded, overflow) = (deadline - remainder).addingReportingOverflow(tickNanoseconds)
        return overflow ? deadline : rounded
    }

    /// Records the loop's lateness in this iteration when it exceeds a millisecond.
    private func noteLag(_ lag: Int64) {
        guard lag > 1_000_000, lag > (lagIteration == iteration ? currentLag : 0) else { return }
        currentLag = lag
        lagIteration = iteration
    }

    /// The lateness measured in the current iteration (which iteration, and nanoseconds), or nil
    /// when it is on time. Handlers report it to their engines (local health). Loop thread only.
    var lagThisIteration: (iteration: UInt64, nanoseconds: Int64)? {
        lagIteration == iteration && iteration != 0 ? (iteration, currentLag) : nil
    }

    /// Waits for events until the absolute `deadline` (nanoseconds on the loop's clock; nil: no
    /// timer), counted from the deadline to the nanosecond: epoll_pwait2 where the kernel has it,
    /// else a timerfd armed at the deadline.
    private func wait(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int, until deadline: Int64?) -> CInt {
        if timerDescriptor < 0 && !millisecondWaits {
            let timeout = deadline.map { max(0, $0 - Self.now().nanoseconds) } ?? -1
            let count = heartbeat_epoll_wait_nanoseconds(epoll, events, CInt(capacity), timeout)
            if count >= 0 || errno == EINTR { return count }
            // Missing (ENOSYS), or refused by a seccomp filter (EPERM, ...): retrying would spin.
            timerDescriptor = heartbeat_timerfd_create()
            if timerDescriptor >= 0 {
                var event = epoll_event()
                event.events = EPOLLIN.rawValue
                event.data.fd = timerDescriptor
                _ = epoll_ctl(epoll, EPOLL_CTL_ADD, timerDescriptor, &event)
            } else {
                millisecondWaits = true
            }
        }
        if deadline == 0 { return epoll_wait(epoll, events, CInt(capacity), 0) }
        if !millisecondWaits {
            if deadline != armedDeadline {
                if heartbeat_timerfd_arm(timerDescriptor, deadline ?? -1) == 0 {
                    armedDeadline = deadline
                } else {
                    armedDeadline = nil
                    return waitMilliseconds(events, capacity: capacity, until: deadline)
                }
            }
            return epoll_wait(epoll, events, CInt(capacity), -1)
        }
        return waitMilliseconds(events, capacity: capacity, until: deadline)
    }

    /// The last resort: epoll_wait with the time to `deadline` rounded up to whole milliseconds
    /// (never early; nil: no timer, wait forever).
    private func waitMilliseconds(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int, until deadline: Int64?) -> CInt {
        guard let deadline else { return epoll_wait(epoll, events, CInt(capacity), -1) }
        let remaining = max(0, deadline - Self.now().nanoseconds)
        let milliseconds = remaining / 1_000_000 + (remaining % 1_000_000 == 0 ? 0 : 1)
        return epoll_wait(epoll, events, CInt(capacity), CInt(min(milliseconds, Int64(CInt.max))))
    }
}
