import Framing
public import Heartbeat

/// How a `HeartbeatPool` is built and kept.
public struct PoolConfiguration: Sendable {
    /// Each connection's settings, any stream dialect. Every connection's engine pings on its
    /// own schedule, busy or idle. `closeOnPeerDead` is taken as true.
    public var connection: ConnectionConfiguration
    /// How many connections the pool keeps (≥ 1).
    public var size: Int
    /// Evict a connection at its first missed pong (true, the default) rather than only once its
    /// peer is declared dead.
    public var evictOnMissedPong: Bool
    /// How long to wait before a rebuild after failed attempts, or after evicting a connection
    /// that lived less than `stableAfter`: the engine's schedule, with jitter.
    public var rebuildBackoff: BackoffSchedule
    /// How long a connection must have lived for its eviction to rebuild at once (a server that
    /// accepts and drops every connection is backed off from like one that refuses).
    public var stableAfter: Duration
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// Seed of the rebuild jitter: fix it in tests; nil draws one from the kernel.
    public var seed: UInt64?

    /// A pool of `size` connections configured by `connection`.
    public init(connection: ConnectionConfiguration = .init(), size: Int = 4, evictOnMissedPong: Bool = true,
                rebuildBackoff: BackoffSchedule = .standard, stableAfter: Duration = .seconds(1), connectTimeout: Duration = .seconds(5),
                seed: UInt64? = nil) {
        self.connection = connection
        self.size = size
        self.evictOnMissedPong = evictOnMissedPong
        self.rebuildBackoff = rebuildBackoff
        self.stableAfter = stableAfter
        self.connectTimeout = connectTimeout
        self.seed = seed
    }
}

/// What a pool reports, ready for a metrics system (counters by case, `waited` as a histogram).
public enum PoolEvent: Hashable, Sendable, CustomStringConvertible {
    /// A connection was handed out after `waited`.
    case acquired(slot: Int, waited: Duration)
    /// A connection came back.
    case released(slot: Int)
    /// A stale connection was taken out of service: closed at once if idle, at its release if busy.
    case evicted(slot: Int, reason: String)
    /// A slot has a fresh connection, after `attempts` attempts.
    case rebuilt(slot: Int, attempts: Int)
    /// A rebuild attempt failed; the next waits `retryIn`.
    case rebuildFailed(slot: Int, error: TransportError, retryIn: Duration)

    public var description: String {
        switch self {
        case .acquired(let slot, let waited): return "slot \(slot) acquired after \(waited)"
        case .released(let slot): return "slot \(slot) released"
        case .evicted(let slot, let reason): return "slot \(slot) evicted: \(reason)"
        case .rebuilt(let slot, let attempts): return "slot \(slot) rebuilt (\(attempts) attempt(s))"
        case .rebuildFailed(let slot, let error, let retryIn): return "slot \(slot) rebuild failed: \(error); retry in \(retryIn)"
        }
    }
}

/// Why `HeartbeatPool.acquire` failed.
public enum PoolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No healthy connection became free within `timeout`.
    case timedOut(after: Duration)
    /// The pool is closed.
    case closed

    public var description: String {
        switch self {
        case .timedOut(let timeout): return "no connection free within \(timeout)"
        case .closed: return "the pool is closed"
        }
    }
}

/// A connection lent by a pool; give it back with `HeartbeatPool.release(_:)` and do not use it after.
public struct PoolLease: Sendable {
    /// The connection, for this lease only.
    public let connection: HeartbeatConnection
    /// The pool slot it came from.
    public let slot: Int
    let generation: UInt64
}

/// N heartbeat connections to one endpoint, kept alive and healthy: each connection's engine
/// pings on its schedule, and a stale connection — its peer declared dead, its connection ended,
/// or (by default) a pong missed — is never handed out: idle, it is closed and rebuilt in the
/// background at once; lent, when it comes back. `acquire` waits, up to a timeout, for a healthy
/// connection when all are busy or being rebuilt.
///
/// ```swift
/// let pool = HeartbeatPool(to: address, configuration: .init(connection: .init(dialect: .envelope), size: 8), on: loop)
/// await pool.start()
/// Task { for await event in pool.events { metrics.count(event) } }
/// let lease = try await pool.acquire(timeout: .seconds(1))
/// try await lease.connection.write(request)
/// await pool.release(lease)
/// ```
public actor HeartbeatPool {
    private struct Slot {
        var connection: HeartbeatConnection?
        var busy = false
        var stale = false
        /// Increases with every rebuild: events of older connections are ignored.
        var generation: UInt64 = 0
        /// When the current connection was installed.
        var installedAt = Timestamp.zero
        /// Evictions of short-lived connections and failed attempts in a row: what the next
        /// rebuild waits for on the backoff schedule.
        var failures = 0
    }

    /// The endpoint.
    public nonisolated let address: SocketAddress
    /// The settings.
    public nonisolated let configuration: PoolConfiguration
    /// The loop the connections run on.
    public nonisolated let eventLoop: EventLoop
    /// Acquired, released, evicted, rebuilt (the newest 4,096 are kept if nobody reads them).
    public nonisolated let events: AsyncStream<PoolEvent>

    private let eventSink: AsyncStream<PoolEvent>.Continuation
    private let connectionConfiguration: ConnectionConfiguration
    private var slots: [Slot]
    private var waiters: [(id: UInt64, since: Timestamp, continuation: CheckedContinuation<PoolLease, any Error>)] = []
    private var nextWaiterID: UInt64 = 0
    private var random: SplitMix64
    private var closed = false
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    private var nextTaskID: UInt64 = 0

    /// A pool that connects nothing until `start()`.
    public init(to address: SocketAddress, configuration: PoolConfiguration = .init(), on loop: EventLoop) {
        precondition(configuration.size >= 1, "pool size must be >= 1")
        self.address = address
        self.configuration = configuration
        eventLoop = loop
        connectionConfiguration = configuration.connection.closingOnPeerDead
        slots = Array(repeating: Slot(), count: configuration.size)
        random = SplitMix64(seed: configuration.seed ?? secureRandomSeed())
        (events, eventSink) = AsyncStream.makeStream(of: PoolEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Connections open and healthy, free or lent.
    public var healthyCount: Int { slots.count { $0.connection != nil && !$0.stale } }
    /// Connections lent out.
    public var busyCount: Int { slots.count { $0.busy } }

    /// Connects every slot in the background.
    public func start() {
        guard !closed else { return }
        for slot in slots.indices where slots[slot].connection == nil { rebuild(slot) }
    }

    /// A healthy connection, at once if one is free, else the first to become free (first come,
    /// first served).
    /// - Throws: `PoolError.timedOut` after `timeout`, `PoolError.closed`, or `CancellationError`.
    public func acquire(timeout: Duration) async throws -> PoolLease {
        guard !closed else { throw PoolError.closed }
        let since = EventLoop.now()
        if waiters.isEmpty, let lease = lend(since: since) { return lease }
        nextWaiterID += 1
        let id = nextWaiterID
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PoolLease, any Error>) in
                waiters.append((id, since, continuation))
                spawn {
                    try? await Task.sleep(for: timeout)
                    await self.failWaiter(id, PoolError.timedOut(after: timeout))
                }
                serveWaiters()
            }
        } onCancel: {
            Task { await self.failWaiter(id, CancellationError()) }
        }
    }

    /// Gives a lent connection back: it serves the next waiter, or, if it went stale meanwhile,
    /// is closed and rebuilt.
    public func release(_ lease: PoolLease) {
        guard lease.slot < slots.count, slots[lease.slot].generation == lease.generation, slots[lease.slot].busy else { return }
        slots[lease.slot].busy = false
        eventSink.yield(.released(slot: lease.slot))
        if slots[lease.slot].stale || lease.connection.closeReason != nil {
            retire(lease.slot)
        } else {
            serveWaiters()
        }
    }

    /// Runs `body` with a connection and releases it afterwards, even when `body` throws.
    public func withConnection<T: Sendable>(timeout: Duration, _ body: @Sendable (HeartbeatConnection) async throws -> T) async throws -> T {
        let lease = try await acquire(timeout: timeout)
        do {
            let result = try await body(lease.connection)
            release(lease)
            return result
        } catch {
            release(lease)
            throw error
        }
    }

    /// Closes every connection (lent ones too), fails the waiters, stops rebuilding.
    public func close() async {
        guard !closed else { return }
        closed = true
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.continuation.resume(throwing: PoolError.closed) }
        let connections = slots.compactMap(\.connection)
        for index in slots.indices { slots[index].connection = nil }
        for connection in connections { await connection.close() }
        eventSink.finish()
    }

    // MARK: Internals

    private func lend(since: Timestamp) -> PoolLease? {
        guard let slot = slots.indices.first(where: { index in
            let slot = slots[index]
            return !slot.busy && !slot.stale && slot.connection?.closeReason == nil && slot.connection != nil
        }), let connection = slots[slot].connection else { return nil }
        slots[slot].busy = true
        eventSink.yield(.acquired(slot: slot, waited: EventLoop.now() - since))
        return PoolLease(connection: connection, slot: slot, generation: slots[slot].generation)
    }

    private func serveWaiters() {
        while !waiters.isEmpty, let lease = lend(since: waiters[0].since) {
            waiters.removeFirst().continuation.resume(returning: lease)
        }
    }

    private func failWaiter(_ id: UInt64, _ error: any Error) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: error)
    }

    /// Runs `work` as a task the pool cancels when it closes.
    private func spawn(_ work: @escaping @Sendable () async -> Void) {
        nextTaskID += 1
        let id = nextTaskID
        tasks[id] = Task {
            await work()
            self.taskFinished(id)
        }
    }

    private func taskFinished(_ id: UInt64) { tasks[id] = nil }

    /// Connects `slot` anew, retrying on the backoff schedule until it succeeds or the pool closes.
    private func rebuild(_ slot: Int) {
        guard !closed else { return }
        slots[slot].generation += 1
        slots[slot].connection = nil
        slots[slot].busy = false
        slots[slot].stale = false
        let generation = slots[slot].generation
        let (address, configuration, loop, timeout) = (address, connectionConfiguration, eventLoop, self.configuration.connectTimeout)
        let failures = slots[slot].failures
        let wait = failures > 0 ? self.configuration.rebuildBackoff.delay(afterFailures: failures, using: &random) : .zero
        spawn {
            if wait > .zero {
                do { try await Task.sleep(for: wait) } catch { return }
            }
            var attempts = 0
            while !Task.isCancelled {
                attempts += 1
                let id = UInt64(slot) << 32 | generation & 0xFFFF_FFFF
                switch await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop, timeout: timeout, connectionID: id) {
                case .success(let connection):
                    await self.installed(connection, slot: slot, generation: generation, attempts: attempts)
                    return
                case .failure(let error):
                    let delay = await self.rebuildFailed(slot: slot, error: error, attempts: attempts)
                    do { try await Task.sleep(for: delay) } catch { return }
                }
            }
        }
    }

    private func rebuildFailed(slot: Int, error: TransportError, attempts: Int) -> Duration {
        slots[slot].failures += 1
        let delay = configuration.rebuildBackoff.delay(afterFailures: slots[slot].failures, using: &random)
        eventSink.yield(.rebuildFailed(slot: slot, error: error, retryIn: delay))
        return delay
    }

    private func installed(_ connection: HeartbeatConnection, slot: Int, generation: UInt64, attempts: Int) async {
        guard !closed, slots[slot].generation == generation else {
            await connection.close()
            return
        }
        slots[slot].connection = connection
        slots[slot].installedAt = EventLoop.now()
        eventSink.yield(.rebuilt(slot: slot, attempts: attempts))
        spawn {
            // Business data nobody asked for is drained, so that reading (and liveness) goes on.
            Task { do { for try await _ in connection.inbound {} } catch {} }
            for await event in connection.events {
                guard let reason = Self.staleness(event, evictOnMissedPong: self.configuration.evictOnMissedPong) else { continue }
                await self.evict(slot: slot, generation: generation, reason: reason)
            }
        }
        serveWaiters()
    }

    /// Why `event` makes a connection stale, or nil.
    private static func staleness(_ event: ConnectionEvent, evictOnMissedPong: Bool) -> String? {
        switch event {
        case .heartbeat(let heartbeat):
            switch heartbeat.kind {
            case .pongMissed(_, let consecutive) where evictOnMissedPong: return "\(consecutive) pong(s) missed"
            case .peerDead(let reason): return "peer dead: \(reason)"
            default: return nil
            }
        case .peerGoAway(let code, let reason): return "peer going away (code \(code)\(reason.isEmpty ? "" : ", \(reason)"))"
        case .closed(let error): return "closed: \(error)"
        }
    }

    private func evict(slot: Int, generation: UInt64, reason: String) {
        guard !closed, slots[slot].generation == generation, slots[slot].connection != nil, !slots[slot].stale else { return }
        slots[slot].stale = true
        let lived = EventLoop.now() - slots[slot].installedAt
        slots[slot].failures = lived >= configuration.stableAfter ? 0 : slots[slot].failures + 1
        eventSink.yield(.evicted(slot: slot, reason: reason))
        if !slots[slot].busy { retire(slot) }
    }

    /// Closes `slot`'s connection in the background and rebuilds it.
    private func retire(_ slot: Int) {
        if let connection = slots[slot].connection { Task { await connection.close() } }
        rebuild(slot)
    }
}
