import Framing
public import Heartbeat

/// What `ReconnectingConnection.write` does with a business write made while no connection is up.
public enum DisconnectedWritePolicy: Hashable, Sendable {
    /// Hold up to `maxWrites` writes and `maxBytes` octets in memory and send them, in order and
    /// before any later write, once a connection is up again. A write beyond either bound throws
    /// ``ReconnectingConnectionError/queueFull(heldWrites:heldBytes:)``.
    case hold(maxWrites: Int, maxBytes: Int)
    /// Throw ``ReconnectingConnectionError/disconnected(_:)`` at once.
    case failFast
}

/// Why `ReconnectingConnection.write` refused a write. A refused write was not sent at all.
public enum ReconnectingConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No connection is up and the policy is `.failFast`; the link's health at that moment.
    case disconnected(LinkHealth)
    /// The hold queue is full (`.hold` policy): this many writes and octets wait already.
    case queueFull(heldWrites: Int, heldBytes: Int)
    /// The connection was closed by `close()`.
    case closed
    /// The write, numbered `sequence`, was handed to a connection that failed (`cause`) while
    /// taking it: some of it may have reached the peer. It is not retried (that could deliver
    /// it twice) and is part of a ``DeliveryReport/possiblyLost(_:cause:)`` report.
    case interrupted(sequence: UInt64, cause: TransportError)

    public var description: String {
        switch self {
        case .disconnected(let health): return "not connected (\(health))"
        case .queueFull(let writes, let bytes): return "hold queue full (\(writes) writes, \(bytes) octets)"
        case .closed: return "the reconnecting connection is closed"
        case .interrupted(let sequence, let cause): return "write \(sequence) interrupted: \(cause)"
        }
    }
}

/// What became of accepted writes, by their sequence numbers (the values `write` returned).
public enum DeliveryReport: Hashable, Sendable, CustomStringConvertible {
    /// These writes were handed to a connection that then ended with `cause`. TCP acknowledges
    /// octets to the peer's kernel, not to the peer's application, and our kernel does not tell
    /// which of the octets it accepted were acknowledged, so each may or may not have been read
    /// by the peer. They are not resent (that could deliver them twice); only an acknowledgement
    /// of the application's own protocol can tell.
    case possiblyLost(ClosedRange<UInt64>, cause: TransportError)
    /// These held writes were handed, in order, to a new connection.
    case heldWritesSent(ClosedRange<UInt64>)
    /// These held writes were never sent: the link was closed (`reason`) while they waited.
    case discarded(ClosedRange<UInt64>, reason: String)

    public var description: String {
        func text(_ range: ClosedRange<UInt64>) -> String {
            range.count == 1 ? "write \(range.lowerBound)" : "writes \(range.lowerBound)...\(range.upperBound)"
        }
        switch self {
        case .possiblyLost(let range, let cause): return "\(text(range)) possibly lost: \(cause)"
        case .heldWritesSent(let range): return "held \(text(range)) sent"
        case .discarded(let range, let reason): return "held \(text(range)) discarded: \(reason)"
        }
    }
}

/// How a `ReconnectingConnection` connects, retries and holds writes.
public struct ReconnectConfiguration: Sendable {
    /// Each connection's settings. `closeOnPeerDead` is always taken as true: a peer-dead verdict
    /// ends the connection and starts a reconnection.
    public var connection: ConnectionConfiguration
    /// How long to wait before the next attempt after a failure: the engine's schedule, with jitter.
    public var backoff: BackoffSchedule
    /// The breaker in front of attempts: after its threshold of consecutive failures, attempts
    /// stop for its cool-down, then one half-open attempt decides.
    public var circuitBreaker: CircuitBreaker
    /// What writes made while disconnected do.
    public var writePolicy: DisconnectedWritePolicy
    /// How long one connection attempt may take before it counts as failed (`.timedOut`).
    public var connectTimeout: Duration
    /// How long a connection must stay up, if the peer has not answered a ping before, to count as
    /// a success that resets the backoff and closes the breaker.
    public var stableAfter: Duration
    /// Seed of the backoff's jitter: fix it in tests; nil (the default) draws one from the kernel.
    public var seed: UInt64?

    /// A configuration: the engine's standard backoff, a breaker opening after 5 failures for
    /// 5 s, 1,024 writes or 1 MiB held, 5 s per attempt, confirmed after 1 s up.
    public init(connection: ConnectionConfiguration = .init(), backoff: BackoffSchedule = .standard,
                circuitBreaker: CircuitBreaker = CircuitBreaker(failureThreshold: 5, coolDown: .seconds(5)),
                writePolicy: DisconnectedWritePolicy = .hold(maxWrites: 1024, maxBytes: 1 << 20),
                connectTimeout: Duration = .seconds(5), stableAfter: Duration = .seconds(1), seed: UInt64? = nil) {
        self.connection = connection
        self.backoff = backoff
        self.circuitBreaker = circuitBreaker
        self.writePolicy = writePolicy
        self.connectTimeout = connectTimeout
        self.stableAfter = stableAfter
        self.seed = seed
    }
}

/// A client connection that owns its reconnection: on a peer-dead verdict, EOF, reset or a
/// refused connect it reconnects on the backoff schedule with jitter, behind a circuit breaker
/// (open → cool-down → half-open probe → closed). The decisions are the sans-IO
/// `ReconnectMachine`; this actor performs them.
///
/// ```swift
/// let link = ReconnectingConnection(to: address, configuration: .init(connection: .init(dialect: .envelope)), on: loop)
/// Task { for await update in link.health { print(update) } }          // connecting, up, suspect, down, circuitOpen
/// Task { for await report in link.deliveryReports { print(report) } } // what may have been lost
/// await link.start()
/// let sequence = try await link.write(Array("hello".utf8))            // held while down (policy .hold)
/// ```
///
/// Writes are numbered from 1 in the order they are accepted and go out in that order, each at
/// most once: a write made while disconnected is held (and later sent before any newer write) or
/// refused at once, as ``DisconnectedWritePolicy`` says; writes handed to a connection that then
/// dies are reported as ``DeliveryReport/possiblyLost(_:cause:)``, never resent and never
/// silently dropped. `inbound` carries the business frames of every connection in turn.
public actor ReconnectingConnection {
    /// The peer's address.
    public nonisolated let address: SocketAddress
    /// The settings.
    public nonisolated let configuration: ReconnectConfiguration
    /// The loop every connection runs on.
    public nonisolated let eventLoop: EventLoop
    /// Health changes with timestamps and reasons (the newest 1,024 are kept if nobody reads
    /// them); ends after `.closed`.
    public nonisolated let health: AsyncStream<LinkHealthUpdate>
    /// What became of accepted writes (the newest 1,024 are kept if nobody reads them).
    public nonisolated let deliveryReports: AsyncStream<DeliveryReport>
    /// Every connection's liveness events in turn (RTT samples, missed pongs, closes); the newest
    /// 1,024 are kept if nobody reads them.
    public nonisolated let connectionEvents: AsyncStream<ConnectionEvent>
    /// Business frames from the peer, from each connection in turn, in order; ends after `close()`.
    public nonisolated var inbound: InboundFrames { InboundFrames(queue: inboundQueue) }

    private nonisolated let inboundQueue: InboundQueue
    private let healthSink: AsyncStream<LinkHealthUpdate>.Continuation
    private let reportSink: AsyncStream<DeliveryReport>.Continuation
    private let eventSink: AsyncStream<ConnectionEvent>.Continuation
    private let connectionConfiguration: ConnectionConfiguration

    private var machine: ReconnectMachine
    private var current: HeartbeatConnection?
    /// Increases with every attempt: results and events of older ones are ignored.
    private var generation: UInt64 = 0
    /// Writes accepted by `current`, oldest first.
    private var acceptedOnCurrent: ClosedRange<UInt64>?
    private var held: [(sequence: UInt64, bytes: [UInt8], type: UInt64?)] = []
    private var heldHead = 0
    private var heldBytes = 0
    private var draining = false
    private var nextSequence: UInt64 = 1
    private var timer: Task<Void, Never>?
    private var attempt: Task<Void, Never>?
    private var watchers: [Task<Void, Never>] = []

    /// A link to `address` that does nothing until `start()`.
    public init(to address: SocketAddress, configuration: ReconnectConfiguration = .init(), on loop: EventLoop) {
        self.address = address
        self.configuration = configuration
        eventLoop = loop
        connectionConfiguration = configuration.connection.closingOnPeerDead
        machine = ReconnectMachine(backoff: configuration.backoff, breaker: configuration.circuitBreaker, stableAfter: configuration.stableAfter,
                                   seed: configuration.seed ?? secureRandomSeed())
        (health, healthSink) = AsyncStream.makeStream(of: LinkHealthUpdate.self, bufferingPolicy: .bufferingNewest(1024))
        (deliveryReports, reportSink) = AsyncStream.makeStream(of: DeliveryReport.self, bufferingPolicy: .bufferingNewest(1024))
        (connectionEvents, eventSink) = AsyncStream.makeStream(of: ConnectionEvent.self, bufferingPolicy: .bufferingNewest(1024))
        inboundQueue = InboundQueue(limit: configuration.connection.inboundBufferLimit)
    }

    /// The health as of now.
    public var currentHealth: LinkHealth { machine.health }
    /// Writes held for the next connection.
    public var heldWriteCount: Int { held.count - heldHead }
    /// Connection attempts made so far.
    public var attempts: Int { machine.attempts }

    /// Makes the first attempt (at once); later ones follow on their own. Calling it again does nothing.
    public func start() {
        if machine.start(now: EventLoop.now()) { launchAttempt() }
        publish()
    }

    /// Sends business data (as `HeartbeatConnection.write` frames it) and returns its sequence
    /// number. While connected it returns once the current connection has queued it; while
    /// disconnected, per the policy, once it is held, or it throws.
    /// - Throws: ``ReconnectingConnectionError``.
    @discardableResult
    public func write(_ bytes: [UInt8], type: UInt64? = nil) async throws(ReconnectingConnectionError) -> UInt64 {
        guard machine.health != .closed else { throw .closed }
        if let connection = current, connection.closeReason == nil, !draining, heldHead == held.count {
            let sequence = nextSequence
            nextSequence += 1
            acceptedOnCurrent = (acceptedOnCurrent?.lowerBound ?? sequence)...sequence
            do {
                try await connection.write(bytes, type: type)
            } catch {
                throw .interrupted(sequence: sequence, cause: error as? TransportError ?? .closed)
            }
            return sequence
        }
        switch configuration.writePolicy {
        case .failFast:
            throw .disconnected(machine.health == .up || machine.health == .suspect ? .down : machine.health)
        case .hold(let maxWrites, let maxBytes):
            guard heldWriteCount < maxWrites, heldBytes + bytes.count <= maxBytes else {
                throw .queueFull(heldWrites: heldWriteCount, heldBytes: heldBytes)
            }
            let sequence = nextSequence
            nextSequence += 1
            held.append((sequence, bytes, type))
            heldBytes += bytes.count
            return sequence
        }
    }

    /// Stops for good: no more attempts; held writes are reported discarded; the current
    /// connection closes gracefully (its queued writes drain for up to `closeTimeout`) and its
    /// writes are reported possibly lost like any connection's end, since TCP cannot say the
    /// peer read them; the streams end.
    public func close() async {
        guard machine.health != .closed else { return }
        machine.close(now: EventLoop.now())
        publish()
        timer?.cancel()
        attempt?.cancel()
        if heldHead < held.count {
            reportSink.yield(.discarded(held[heldHead].sequence...held[held.count - 1].sequence, reason: "closed by the application"))
        }
        held.removeAll()
        heldHead = 0
        heldBytes = 0
        let connection = current
        current = nil
        await connection?.close()
        for watcher in watchers { watcher.cancel() }
        watchers.removeAll()
        inboundQueue.finish(nil)
        healthSink.finish()
        reportSink.finish()
        eventSink.finish()
    }

    // MARK: Internals

    private func publish() {
        while let update = machine.pollUpdate() { healthSink.yield(update) }
        if machine.health == .closed { healthSink.finish() }
    }

    private func launchAttempt() {
        generation += 1
        let (generation, address, configuration, loop, timeout) = (generation, address, connectionConfiguration, eventLoop, self.configuration.connectTimeout)
        attempt = Task {
            let result = await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop, timeout: timeout, connectionID: generation)
            await self.attemptFinished(generation, result)
        }
    }

    private func attemptFinished(_ attempt: UInt64, _ result: Result<HeartbeatConnection, TransportError>) async {
        let now = EventLoop.now()
        guard attempt == generation, machine.health == .connecting else {
            if case .success(let connection) = result { await connection.close() }
            return
        }
        switch result {
        case .success(let connection):
            current = connection
            acceptedOnCurrent = nil
            machine.connected(now: now)
            publish()
            scheduleTimer()  // confirms the connection once it has stayed up
            watch(connection, generation: attempt)
            await drainHeld()
        case .failure(let error):
            machine.connectFailed(reason: "\(error)", now: now)
            publish()
            scheduleTimer()
        }
    }

    private func watch(_ connection: HeartbeatConnection, generation: UInt64) {
        // The previous connection's tasks end on their own once it has ended; only the current
        // ones are kept, for `close()` to cancel.
        let events = Task {
            for await event in connection.events { self.connectionEvent(event, generation: generation) }
        }
        let queue = inboundQueue
        let limit = connectionConfiguration.inboundBufferLimit
        let previous = watchers.last
        let frames = Task {
            // Frames of the previous connection first: `inbound` keeps each connection's order.
            await previous?.value
            do {
                for try await frame in connection.inbound {
                    guard self.machine.health != .closed else { return }
                    // Back-pressure: while the application has not read, stop taking frames from
                    // the connection (whose own queue then stops reading the socket).
                    if !queue.push(frame) {
                        while queue.queuedBytes >= limit / 2 && self.machine.health != .closed {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
            } catch {}
        }
        watchers = [events, frames]
    }

    private func connectionEvent(_ event: ConnectionEvent, generation: UInt64) {
        eventSink.yield(event)
        guard generation == self.generation else { return }
        let now = EventLoop.now()
        switch event {
        case .heartbeat(let heartbeat):
            switch heartbeat.kind {
            case .pongMissed(_, let consecutive):
                machine.suspected(reason: "\(consecutive) pong(s) missed", now: now)
            case .rttSample, .peerRecovered:
                machine.peerAnswered(now: now)
            case .stateChanged(_, .idle):
                machine.recovered(now: now)
            default:
                break
            }
        case .peerGoAway:
            break
        case .closed(let error):
            current = nil
            if let lost = acceptedOnCurrent { reportSink.yield(.possiblyLost(lost, cause: error)) }
            acceptedOnCurrent = nil
            machine.connectionLost(reason: "\(error)", now: now)
            scheduleTimer()
        }
        publish()
    }

    private func scheduleTimer() {
        timer?.cancel()
        guard let deadline = machine.nextDeadline else { return }
        let delay = deadline - EventLoop.now()
        timer = Task {
            if delay > .zero {
                do { try await Task.sleep(for: delay) } catch { return }
            }
            self.timerFired()
        }
    }

    private func timerFired() {
        if machine.shouldConnect(now: EventLoop.now()) {
            launchAttempt()
        } else {
            scheduleTimer()  // woke early
        }
        publish()
    }

    /// Hands the held writes, oldest first, to the current connection; stops when it fails (the
    /// rest stay held for the next one).
    private func drainHeld() async {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        var sent: ClosedRange<UInt64>?
        while heldHead < held.count, let connection = current, connection.closeReason == nil {
            let (sequence, bytes, type) = held[heldHead]
            held[heldHead].bytes = []
            heldHead += 1
            heldBytes -= bytes.count
            // Held writes took their numbers when they were held.
            acceptedOnCurrent = (acceptedOnCurrent?.lowerBound ?? sequence)...sequence
            do {
                try await connection.write(bytes, type: type)
                sent = (sent?.lowerBound ?? sequence)...sequence
            } catch {
                break  // reported with the connection's possiblyLost range
            }
        }
        if heldHead == held.count {
            held.removeAll(keepingCapacity: held.capacity <= 64)
            heldHead = 0
        }
        if let sent { reportSink.yield(.heldWritesSent(sent)) }
    }
}

extension HeartbeatConnection {
    /// One attempt, bounded by `timeout`; a connection made after the timeout is closed.
    static func connect(to address: SocketAddress, configuration: ConnectionConfiguration, on loop: EventLoop,
                        timeout: Duration, connectionID id: UInt64) async -> Result<HeartbeatConnection, TransportError> {
        await withTaskGroup(of: Result<HeartbeatConnection, TransportError>?.self) { group in
            group.addTask {
                do {
                    return .success(try await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop, connectionID: id))
                } catch {
                    return .failure(error as? TransportError ?? .closed)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var outcome: Result<HeartbeatConnection, TransportError>?
            for await result in group {
                guard outcome == nil else {
                    if case .success(let late)? = result { await late.close() }
                    continue
                }
                outcome = result ?? .failure(.timedOut)
                group.cancelAll()
            }
            return outcome ?? .failure(.closed)
        }
    }

}

extension ConnectionConfiguration {
    /// This configuration with `closeOnPeerDead` set: what reconnecting clients and pools run,
    /// since a verdict must end the connection for them to replace it.
    var closingOnPeerDead: ConnectionConfiguration {
        var configuration = self
        configuration.closeOnPeerDead = true
        return configuration
    }
}
