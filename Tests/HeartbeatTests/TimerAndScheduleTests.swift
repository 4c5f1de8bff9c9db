import Framing
import Heartbeat
import Testing

@Suite struct TimerHeapTests {
    /// Random schedules, moves, cancels and expiries against a dictionary that is searched
    /// linearly: same next deadline, same deadlines, same expiry order.
    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func matchesAReferenceModelUnderRandomOperations(seed: UInt64) {
        let capacity = 200
        var heap = TimerHeap(capacity: capacity)
        var model: [Int: Int64] = [:]
        var random = SplitMix64(seed: seed)
        var now: Int64 = 0
        func referenceFirst() -> (slot: Int, deadline: Int64)? {
            model.min { ($0.value, $0.key) < ($1.value, $1.key) }.map { ($0.key, $0.value) }
        }
        for _ in 0..<20_000 {
            let slot = Int(random.next() % UInt64(capacity))
            switch random.next() % 10 {
            case 0...4:
                let deadline = now + Int64(random.next() % 1_000)
                heap.schedule(slot, at: Timestamp(nanoseconds: deadline))
                model[slot] = deadline
            case 5, 6:
                heap.cancel(slot)
                model[slot] = nil
            case 7:
                heap.update(slot, to: nil)
                model[slot] = nil
            default:
                now += Int64(random.next() % 300)
                while let expired = heap.popExpired(now: Timestamp(nanoseconds: now)) {
                    let expected = referenceFirst()
                    #expect(expected?.slot == expired && expected!.deadline <= now)
                    model[expired] = nil
                }
                if let first = referenceFirst() { #expect(first.deadline > now) }
            }
            #expect(heap.count == model.count)
            #expect(heap.nextDeadline?.nanoseconds == referenceFirst()?.deadline)
            #expect(heap.first?.slot == referenceFirst()?.slot)
            #expect(heap.deadline(of: slot)?.nanoseconds == model[slot])
        }
    }

    @Test func equalDeadlinesExpireInSlotOrder() {
        var heap = TimerHeap(capacity: 8)
        for slot in [5, 2, 7, 0] { heap.schedule(slot, at: at(1)) }
        var order: [Int] = []
        while let slot = heap.popExpired(now: at(1)) { order.append(slot) }
        #expect(order == [0, 2, 5, 7])
        #expect(heap.isEmpty && heap.nextDeadline == nil)
    }

    /// The event-loop pattern: one heap drives many engines through their `nextDeadline`.
    @Test func drivesManyEnginesFromOneHeap() {
        let count = 100
        var heap = TimerHeap(capacity: count)
        var engines = (0..<count).map {
            HeartbeatEngine(configuration: fixedConfiguration(), connectionID: UInt64($0), dialect: .http2,
                            now: Timestamp(nanoseconds: Int64($0) * 1_000_000))
        }
        for slot in 0..<count { heap.update(slot, to: engines[slot].nextDeadline) }
        var pings = 0
        while let first = heap.first, first.deadline < at(100) {
            let slot = heap.popExpired(now: first.deadline)!
            engines[slot].tick(now: first.deadline)
            while let action = engines[slot].pollAction() {
                if case .sendPing(let payload) = action {
                    pings += 1
                    engines[slot].receivedPong(payload, now: first.deadline + ms(10))
                }
            }
            heap.update(slot, to: engines[slot].nextDeadline)
        }
        #expect(pings == count * 9)  // pings at 10 s … 90 s for each engine
        #expect(engines.allSatisfy { $0.state == .idle && $0.counters.pongsReceived == 9 })
    }
}

@Suite struct NoDriftTests {
    /// Ticks arrive up to 3 s late and pongs take a random time; the k-th ping is still due at
    /// exactly k·10 s, so lateness never accumulates.
    @Test func pingsStayOnTheGridWhateverTheTickLateness() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        var random = SplitMix64(seed: 11)
        for k in 1...10_000 {
            let due = try #require(engine.nextDeadline)
            #expect(due == Timestamp(nanoseconds: Int64(k) * 10_000_000_000))
            let late = Int64(random.next() % 3_000_000_000)
            let tickTime = due + .nanoseconds(late)
            let ping = try engine.expectPing(at: tickTime)
            engine.receivedPong(ping, now: tickTime + .nanoseconds(Int64(random.next() % 900_000_000)))
        }
        #expect(engine.counters.pingsSent == 10_000)
        #expect(engine.counters.pongsMissed == 0)
    }

    /// A tick later than a whole interval skips the lost slots instead of bursting pings.
    @Test func aVeryLateTickSendsOnePingAndReturnsToTheGrid() throws {
        var engine = HeartbeatEngine(configuration: fixedConfiguration(), dialect: .envelope, now: at(0))
        let ping = try engine.expectPing(at: at(47))
        #expect(engine.nextDeadline == at(48))  // the ping's ack deadline
        engine.receivedPong(ping, now: at(47.1))
        #expect(engine.nextDeadline == at(50))
    }
}
