import AllocationCounting
import Framing
import Heartbeat
import Simulation
import Testing

@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct AllocationTests {
    /// The proof: 100,000 simulated heartbeats (ping, pong, RTT sample, tick, timer
    /// updates, jitter, the occasional retry) allocate nothing once running.
    @Test func hundredThousandSimulatedHeartbeatsAllocateNothing() {
        var simulation = NetworkSimulation(configuration: HeartbeatConfiguration(), link: LinkModel(), seed: 7)
        simulation.runAlive(for: 100 * 30_000_000_000)  // warm up: metadata, first samples
        let before = simulation.tally
        let count = allocations {
            simulation.runAlive(for: 100_000 * 30_000_000_000)
        }
        let heartbeats = simulation.tally.pingsSent - before.pingsSent
        #expect(heartbeats >= 100_000)
        #expect(simulation.tally.pongsDelivered - before.pongsDelivered >= 97_000)
        #expect(count == 0)
    }

    /// Every input of the engine, in a steady loop, with events and actions drained.
    @Test func everyEngineInputAllocatesNothing() {
        var configuration = HeartbeatConfiguration(trafficCountsAsLiveness: false)
        configuration.pingPolicy.minimumPeerPingInterval = .milliseconds(10)
        var engine = HeartbeatEngine(configuration: configuration, connectionID: 9, dialect: .http2, now: .zero)
        var now: Int64 = 0
        var sink = 0
        func round(_ engine: inout HeartbeatEngine) {
            now += 30_000_000_000
            engine.tick(now: Timestamp(nanoseconds: now))
            var ping: HeartbeatPayload?
            while let action = engine.pollAction() {
                if case .sendPing(let payload) = action { ping = payload }
            }
            if let ping {
                engine.pingWritten(ping, now: Timestamp(nanoseconds: now + 1_000))
                engine.receivedPong(ping, now: Timestamp(nanoseconds: now + 80_000_000))
                engine.receivedPong(ping, now: Timestamp(nanoseconds: now + 81_000_000))  // duplicate
            }
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(now)), now: Timestamp(nanoseconds: now + 90_000_000))
            engine.receivedTraffic(now: Timestamp(nanoseconds: now + 91_000_000))
            engine.sentTraffic(now: Timestamp(nanoseconds: now + 92_000_000))
            engine.inboundFrameProgress(hasPartialFrame: true, now: Timestamp(nanoseconds: now + 93_000_000))
            engine.inboundFrameProgress(hasPartialFrame: false, now: Timestamp(nanoseconds: now + 94_000_000))
            while let action = engine.pollAction() { if case .sendPong = action { sink += 1 } }
            while engine.pollEvent() != nil { sink += 1 }
            sink += engine.nextDeadline == nil ? 0 : 1
        }
        for _ in 0..<100 { round(&engine) }
        let count = allocations {
            for _ in 0..<10_000 { round(&engine) }
        }
        #expect(engine.counters.rttSamples == 10_100)
        #expect(engine.counters.duplicatePongs == 10_100)
        #expect(engine.state == .idle)
        #expect(sink > 0)
        #expect(count == 0)
    }

    /// The in-order model, every input: pongs that answer the oldest ping, pongs with nothing
    /// owed, and every fourth round a missed ping whose late pong pays its debt before the
    /// retry's pong answers.
    @Test func everyInOrderInputAllocatesNothing() {
        var configuration = HeartbeatConfiguration(trafficCountsAsLiveness: false)
        configuration.pingPolicy.minimumPeerPingInterval = .milliseconds(10)
        var engine = HeartbeatEngine(configuration: configuration, connectionID: 9, dialect: .envelope,
                                     liveness: .inOrder, now: .zero)
        var now: Int64 = 0
        var rounds = 0
        var sink = 0
        func ping(_ engine: inout HeartbeatEngine) -> HeartbeatPayload? {
            var ping: HeartbeatPayload?
            while let action = engine.pollAction() {
                if case .sendPing(let payload) = action { ping = payload } else { sink += 1 }
            }
            return ping
        }
        func round(_ engine: inout HeartbeatEngine) {
            rounds += 1
            now += 30_000_000_000
            engine.tick(now: Timestamp(nanoseconds: now))
            if let sent = ping(&engine) {
                engine.pingWritten(sent, now: Timestamp(nanoseconds: now + 1_000))
            }
            let empty = HeartbeatPayload(rawValue: 0)
            if rounds % 4 == 0 {
                engine.tick(now: Timestamp(nanoseconds: now + 3_500_000_000))          // missed (cap 3 s)
                engine.receivedPong(empty, now: Timestamp(nanoseconds: now + 3_550_000_000))  // late: pays it
                engine.tick(now: Timestamp(nanoseconds: now + 3_700_000_000))          // the retry
                _ = ping(&engine)
                engine.receivedPong(empty, now: Timestamp(nanoseconds: now + 3_780_000_000))  // answers the retry
            } else {
                engine.receivedPong(empty, now: Timestamp(nanoseconds: now + 80_000_000))
                engine.receivedPong(empty, now: Timestamp(nanoseconds: now + 81_000_000))  // nothing owed
            }
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(now)), now: Timestamp(nanoseconds: now + 3_900_000_000))
            engine.receivedTraffic(now: Timestamp(nanoseconds: now + 3_910_000_000))
            engine.sentTraffic(now: Timestamp(nanoseconds: now + 3_920_000_000))
            engine.inboundFrameProgress(hasPartialFrame: true, now: Timestamp(nanoseconds: now + 3_930_000_000))
            engine.inboundFrameProgress(hasPartialFrame: false, now: Timestamp(nanoseconds: now + 3_940_000_000))
            while let action = engine.pollAction() { if case .sendPong = action { sink += 1 } }
            while engine.pollEvent() != nil { sink += 1 }
            sink += engine.nextDeadline == nil ? 0 : 1
        }
        for _ in 0..<100 { round(&engine) }
        let before = engine.counters
        let count = allocations {
            for _ in 0..<10_000 { round(&engine) }
        }
        let counters = engine.counters
        #expect(counters.pongsReceived - before.pongsReceived == 10_000)
        #expect(counters.latePongs - before.latePongs == 2_500)
        #expect(counters.unknownPongs - before.unknownPongs == 7_500)
        #expect(counters.pongsSent - before.pongsSent == 10_000)
        #expect(engine.state == .idle)
        #expect(sink > 0)
        #expect(count == 0)
    }

    /// The unilateral model, every input: each round a beat, the peer declared dead after a
    /// silent interval, then heard again (ping, pong, acknowledgement, traffic) and recovered.
    @Test func everyUnilateralInputAllocatesNothing() {
        var configuration = HeartbeatConfiguration(pingInterval: .seconds(10), trafficCountsAsLiveness: false)
        configuration.pingPolicy.minimumPeerPingInterval = .milliseconds(10)
        var engine = HeartbeatEngine(configuration: configuration, connectionID: 9, dialect: .envelope,
                                     liveness: .unilateral(deadAfterIntervals: 1), now: .zero)
        var now: Int64 = 0
        var sink = 0
        func round(_ engine: inout HeartbeatEngine) {
            now += 30_000_000_000
            engine.tick(now: Timestamp(nanoseconds: now))  // 30 s of silence: dead, and a beat
            while let action = engine.pollAction() {
                if case .sendPing(let payload) = action {
                    engine.pingWritten(payload, now: Timestamp(nanoseconds: now + 1_000))
                }
                sink += 1
            }
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(now)), now: Timestamp(nanoseconds: now + 90_000_000))
            engine.receivedPong(HeartbeatPayload(rawValue: 1), now: Timestamp(nanoseconds: now + 90_500_000))
            engine.receivedAcknowledgement(packetNumber: 7, ackDelay: nil, now: Timestamp(nanoseconds: now + 90_700_000))
            engine.receivedTraffic(now: Timestamp(nanoseconds: now + 91_000_000))
            engine.sentTraffic(now: Timestamp(nanoseconds: now + 92_000_000))
            engine.inboundFrameProgress(hasPartialFrame: true, now: Timestamp(nanoseconds: now + 93_000_000))
            engine.inboundFrameProgress(hasPartialFrame: false, now: Timestamp(nanoseconds: now + 94_000_000))
            while engine.pollAction() != nil { sink += 1 }
            while engine.pollEvent() != nil { sink += 1 }
            sink += engine.nextDeadline == nil ? 0 : 1
        }
        for _ in 0..<100 { round(&engine) }
        let count = allocations {
            for _ in 0..<10_000 { round(&engine) }
        }
        #expect(engine.counters.peerDeaths == 10_100)
        #expect(engine.counters.peerRecoveries == 10_100)
        #expect(engine.counters.peerArrivals == 40_400)
        #expect(engine.counters.pongsSent == 0)
        #expect(engine.state == .idle)
        #expect(sink > 0)
        #expect(count == 0)
    }

    /// A reconnect creates a fresh engine: that allocates nothing either.
    @Test func creatingAnEngineAllocatesNothing() {
        let configuration = HeartbeatConfiguration()
        var engine = HeartbeatEngine(configuration: configuration, dialect: .quic, now: .zero)
        let count = allocations {
            for index in 0..<1_000 {
                engine = HeartbeatEngine(configuration: configuration, connectionID: UInt64(index), dialect: .quic,
                                         now: Timestamp(nanoseconds: Int64(index)))
            }
        }
        #expect(engine.connectionID == 999)
        #expect(count == 0)
        let models: (LivenessModel, LivenessModel) = (.inOrder, .unilateral(deadAfterIntervals: 2))
        let modelCount = allocations {
            for index in 0..<1_000 {
                engine = HeartbeatEngine(configuration: configuration, connectionID: UInt64(index), dialect: .envelope,
                                         liveness: index % 2 == 0 ? models.0 : models.1,
                                         now: Timestamp(nanoseconds: Int64(index)))
            }
        }
        #expect(engine.liveness == .unilateral(deadAfterIntervals: 2))
        #expect(modelCount == 0)
    }

    @Test func timerHeapOperationsAllocateNothing() {
        var heap = TimerHeap(capacity: 1_024)
        var random = SplitMix64(seed: 3)
        let count = allocations {
            for step in 0..<100_000 {
                let slot = Int(random.next() % 1_024)
                if step % 3 == 0 {
                    heap.cancel(slot)
                } else {
                    heap.schedule(slot, at: Timestamp(nanoseconds: Int64(random.next() % 1_000_000)))
                }
                _ = heap.popExpired(now: Timestamp(nanoseconds: Int64(step)))
            }
        }
        #expect(heap.count <= 1_024)
        #expect(count == 0)
    }
}
