import AllocationCounting
import Framing
import Heartbeat
import Synchronization
import Testing
import Transports

/// Echoes every business frame back, on the loop thread.
final class LoopEcho: ConnectionHandler {
    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        context.write(payload, type: header.type)
    }
}

/// Echoes the first business frame, then closes the connection from inside `frameReceived`.
final class EchoOnceThenClose: ConnectionHandler {
    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        context.write(payload, type: header.type)
        context.close()
    }
}

/// Keeps its context past the end of its connection, and says when that end came.
final class ContextKeeper: ConnectionHandler, @unchecked Sendable {
    var context: ConnectionContext?
    let ended = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func connectionStarted(context: ConnectionContext) { self.context = context }

    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {}

    func connectionClosed(_ error: TransportError) {
        ended.withLock { state in
            state.done = true
            return state.waiter.take()
        }?.resume()
    }

    /// Waits for `connectionClosed`.
    func waitForEnd() async {
        await withCheckedContinuation { continuation in
            let done = ended.withLock { state -> Bool in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}

/// Records the liveness events its connection hands it on the loop, and the order of its calls;
/// says when the connection has ended.
final class EventRecorder: ConnectionHandler, @unchecked Sendable {
    struct Log {
        var calls: [String] = []
        var rttSamples = 0
        var pingsReceivedAtClose: Int?
        var connectionID: UInt64?
        var waiter: CheckedContinuation<Void, Never>?
        var ended = false
    }
    let log = Mutex(Log())

    func connectionStarted(context: ConnectionContext) {
        let id = context.connectionID
        log.withLock { $0.calls.append("started"); $0.connectionID = id }
    }

    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {}

    func connectionEvent(_ event: ConnectionEvent, context: ConnectionContext) {
        let counters = context.counters
        log.withLock { log in
            switch event {
            case .heartbeat(let heartbeat):
                if case .rttSample = heartbeat.kind { log.rttSamples += 1 }
            case .peerGoAway:
                log.calls.append("goaway")
            case .closed:
                log.calls.append("closed event")
                log.pingsReceivedAtClose = counters.pingsReceived
            }
        }
    }

    func connectionClosed(_ error: TransportError) {
        log.withLock { log in
            log.calls.append("connectionClosed")
            log.ended = true
            return log.waiter.take()
        }?.resume()
    }

    /// Waits for `connectionClosed`.
    func waitForEnd() async {
        await withCheckedContinuation { continuation in
            let ended = log.withLock { log -> Bool in
                if !log.ended { log.waiter = continuation }
                return log.ended
            }
            if ended { continuation.resume() }
        }
    }
}

/// Plays ping-pong with an echo server: writes 8 octets, and again on each echo, `total` times;
/// reads the loop thread's allocation count after `warmUp` round trips and at the end.
final class LoopPingPong: ConnectionHandler, @unchecked Sendable {
    let warmUp: Int
    let total: Int
    private var roundTrips = 0
    private var countAtWarmUp: UInt64 = 0
    private let message: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    /// Allocations in the measured round trips, once they are done.
    let result = Mutex<(allocations: UInt64?, waiter: CheckedContinuation<UInt64, Never>?)>((nil, nil))

    init(warmUp: Int, total: Int) {
        self.warmUp = warmUp
        self.total = total
    }

    func connectionStarted(context: ConnectionContext) {
        message.withUnsafeBytes { _ = context.write($0.bytes) }
    }

    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        roundTrips += 1
        if roundTrips == warmUp { countAtWarmUp = threadAllocationCount() }
        if roundTrips == total {
            let allocations = threadAllocationCount() - countAtWarmUp
            let waiter = result.withLock { state -> CheckedContinuation<UInt64, Never>? in
                state.allocations = allocations
                return state.waiter.take()
            }
            waiter?.resume(returning: allocations)
            return
        }
        message.withUnsafeBytes { _ = context.write($0.bytes) }
    }

    /// Waits for the measured allocations.
    func allocations() async -> UInt64 {
        await withCheckedContinuation { continuation in
            let ready = result.withLock { state -> UInt64? in
                if let allocations = state.allocations { return allocations }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

extension TransportSuites {
    @Suite(.timeLimit(.minutes(1))) struct LoopHandlerTests {
        /// The loop-thread API over loopback: an 8-octet business round trip (client write, server
        /// read and echo, client read) costs no allocation in steady state — reads land in the
        /// loop's buffer and are demuxed in place, writes are encoded into a kept buffer.
        @Test(.enabled(if: allocationCountingIsAvailable)) func businessRoundTripAllocatesNothing() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            var heartbeat = HeartbeatConfiguration()
            heartbeat.pingInterval = .seconds(3600)  // business traffic only in the measured window
            var serverConfiguration = ConnectionConfiguration(heartbeat: heartbeat)
            // Local health would report a loop delayed by a busy machine as an event (one
            // allocation to hand it to `events`): not the business path measured here.
            serverConfiguration.localHealth = nil
            serverConfiguration.handler = { LoopEcho() }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: serverConfiguration, on: loop)
            let pingPong = LoopPingPong(warmUp: 1_000, total: 11_000)
            var clientConfiguration = ConnectionConfiguration(heartbeat: heartbeat)
            clientConfiguration.localHealth = nil
            clientConfiguration.handler = { pingPong }
            let client = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: clientConfiguration, on: loop)
            let allocations = await pingPong.allocations()
            print("loop-thread API: \(allocations) allocations in 10,000 business round trips")
            #expect(allocations == 0)
            await client.close()
            await listener.close()
        }

        /// Frames go to the handler in order, and writes made from it are framed like `write`'s;
        /// a handler's connection is closed from the loop with `context.close()`.
        @Test func handlerEchoesInOrder() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            var heartbeat = fastHeartbeats(ackTimeout: .seconds(2))  // 200 ms is too tight under a sanitizer
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)  // 50 ms pings are no abuse here
            var serverConfiguration = ConnectionConfiguration(heartbeat: heartbeat)
            serverConfiguration.handler = { LoopEcho() }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: serverConfiguration, on: loop)
            let client = try await HeartbeatConnection.connect(to: listener.localAddress,
                                                               configuration: ConnectionConfiguration(heartbeat: heartbeat), on: loop)
            for index in 0..<100 { try await client.write([UInt8(index), 0xAB]) }
            var frames = client.inbound.makeAsyncIterator()
            for index in 0..<100 { #expect(try await frames.next()?.payload == [UInt8(index), 0xAB]) }
            #expect(await awaitRTTSamples(client.events, 2))
            await client.close()
            await listener.close()
        }

        /// Regression: `context.close()` from `frameReceived` ran the close while the session was
        /// still demuxing the read (an exclusivity trap, or the close lost). The close now waits for
        /// the read: the peer gets the echo, then the end of the stream.
        @Test func handlerClosesFromFrameReceived() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let heartbeat = fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10))
            var serverConfiguration = ConnectionConfiguration(heartbeat: heartbeat)
            serverConfiguration.handler = { EchoOnceThenClose() }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: serverConfiguration, on: loop)
            let client = try await HeartbeatConnection.connect(to: listener.localAddress,
                                                               configuration: ConnectionConfiguration(heartbeat: heartbeat), on: loop)
            try await client.write([7, 8, 9])
            var frames = client.inbound.makeAsyncIterator()
            #expect(try await frames.next()?.payload == [7, 8, 9])
            let after = try? await frames.next()
            #expect(after == nil, "the server's close should end the stream after the echo")
            await client.close()
            await listener.close()
        }

        /// Regression: a handler's writes for the good frames of a read were dropped when a later
        /// frame of the same read failed to decode. They now go out before the close.
        @Test func handlerWritesSurviveALaterMalformedFrame() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let peer = try RawPeer()
            var configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10)))
            configuration.handler = { LoopEcho() }
            async let accepted: Void = Task.detached { try peer.accept() }.value
            let connection = try await HeartbeatConnection.connect(to: peer.address, configuration: configuration, on: loop)
            try await accepted
            var bytes = envelopePreface
            let payload: [UInt8] = [0xC0, 0xFF, 0xEE]
            payload.withUnsafeBytes { EnvelopeFrame.appendFrame(payload: $0.bytes, to: &bytes) }
            EnvelopeFrame.appendHeader(type: EnvelopeFrame.FrameType.ping, length: 3, to: &bytes)  // a PING is 8 octets
            bytes += [0, 0, 0]
            try peer.send(bytes)
            let received = try await Task.detached { try peer.receive(timeout: .seconds(5)) }.value
            var demuxer = Demuxer(dialect: .envelope)
            var order: [String] = []
            try demuxer.feed(received) { item, frame in
                guard case .business(let header) = item else { return }
                if header.type == EnvelopeFrame.FrameType.data { order.append(frame.withUnsafeBytes { Array($0) } == payload ? "echo" : "data") }
                if header.type == EnvelopeFrame.FrameType.goAway { order.append("goAway") }
            }
            #expect(order == ["echo", "goAway"])
            await #expect(throws: TransportError.self) { for try await _ in connection.inbound {} }
        }

        /// A listener's handler gets its connection's liveness events on the loop (the server's own
        /// RTT samples, the client's GOAWAY, `.closed` before `connectionClosed`), with counters and
        /// the connection's number readable from the context — the server needs no task.
        @Test func handlerReceivesLivenessEvents() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let recorder = EventRecorder()
            var heartbeat = fastHeartbeats(ackTimeout: .seconds(2))
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
            var serverConfiguration = ConnectionConfiguration(heartbeat: heartbeat)
            serverConfiguration.handler = { recorder }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: serverConfiguration, on: loop)
            let client = try await HeartbeatConnection.connect(to: listener.localAddress,
                                                               configuration: ConnectionConfiguration(heartbeat: heartbeat), on: loop)
            // The client's own RTT samples mean the server answered its pings; the server's pings
            // (every 50 ms) are answered too, and their samples reach the handler.
            #expect(await awaitRTTSamples(client.events, 3))
            // Bounded by the suite's time limit; no timing is asserted.
            while recorder.log.withLock({ $0.rttSamples }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            await client.close()
            await recorder.waitForEnd()
            let log = recorder.log.withLock { $0 }
            #expect(log.calls == ["started", "goaway", "closed event", "connectionClosed"])
            #expect(log.connectionID == 1, "the listener's first connection")
            #expect((log.pingsReceivedAtClose ?? 0) >= 3, "the context's counters at the close")
            await listener.close()
        }

        /// A context kept after its connection ended (and its machinery was freed) is harmless:
        /// writes return false, close does nothing.
        @Test func keptContextOutlivesItsConnection() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let keeper = ContextKeeper()
            var serverConfiguration = ConnectionConfiguration(heartbeat: fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10)))
            serverConfiguration.handler = { keeper }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: serverConfiguration, on: loop)
            let client = try await HeartbeatConnection.connect(to: listener.localAddress,
                                                               configuration: ConnectionConfiguration(heartbeat: fastHeartbeats()), on: loop)
            try await client.write([1])
            await client.close()
            await keeper.waitForEnd()
            let written = Mutex<Bool?>(nil)
            await onLoop(loop) {
                let result = [UInt8(2)].withUnsafeBytes { keeper.context?.write($0.bytes) }
                keeper.context?.close()
                written.withLock { $0 = result }
            }
            #expect(written.withLock { $0 } == false)
            await listener.close()
        }
    }
}
