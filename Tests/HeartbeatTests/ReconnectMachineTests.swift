import Framing
import Heartbeat
import Testing

/// The sans-IO reconnect decisions (issue 12 item 1), driven in virtual time.
@Suite struct ReconnectMachineTests {
    static let backoff = BackoffSchedule(steps: [
        BackoffStep(failures: 1, delay: .milliseconds(100), jitter: 0.2),
        BackoffStep(failures: 3, delay: .milliseconds(400), jitter: 0.3),
    ])

    func machine(threshold: Int = 4, coolDown: Duration = .seconds(5), seed: UInt64 = 42) -> ReconnectMachine {
        ReconnectMachine(backoff: Self.backoff, breaker: CircuitBreaker(failureThreshold: threshold, coolDown: coolDown), seed: seed)
    }

    func drain(_ machine: inout ReconnectMachine) -> [LinkHealthUpdate] {
        var updates: [LinkHealthUpdate] = []
        while let update = machine.pollUpdate() { updates.append(update) }
        return updates
    }

    func at(_ milliseconds: Int64) -> Timestamp { Timestamp(nanoseconds: milliseconds * 1_000_000) }

    @Test func startConnectsAtOnceAndAnUpLinkSchedulesNothing() {
        var machine = machine()
        do { let decided = machine.start(now: at(0)); #expect(decided) }
        do { let decided = machine.start(now: at(1)); #expect(!decided) }
        #expect(machine.health == .connecting)
        #expect(machine.nextDeadline == nil)
        machine.connected(now: at(3))
        #expect(machine.health == .up)
        // Up, not yet confirmed: staying up for `stableAfter` (1 s) confirms it.
        #expect(machine.awaitingConfirmation)
        #expect(machine.nextDeadline == at(1_003))
        do { let decided = machine.shouldConnect(now: at(1_003)); #expect(!decided) }
        #expect(!machine.awaitingConfirmation)
        #expect(machine.nextDeadline == nil)
        do { let decided = machine.shouldConnect(now: at(1_000_000)); #expect(!decided) }
        #expect(drain(&machine).map(\.health) == [.connecting, .up])
    }

    @Test func refusedAttemptsBackOffWithJitterWithinTheSchedule() {
        var machine = machine(threshold: 100)
        _ = machine.start(now: at(0))
        var now = at(0)
        for failure in 1...6 {
            machine.connectFailed(reason: "refused", now: now)
            #expect(machine.health == .down)
            let deadline = try! #require(machine.nextDeadline)
            let wait = deadline - now
            let step = Self.backoff.step(afterFailures: failure)
            let nominal = step.delay.secondsValue
            #expect(wait.secondsValue >= nominal * (1 - step.jitter) - 1e-9)
            #expect(wait.secondsValue <= nominal * (1 + step.jitter) + 1e-9)
            // Not a moment early.
            do { let decided = machine.shouldConnect(now: deadline - .nanoseconds(1)); #expect(!decided) }
            do { let decided = machine.shouldConnect(now: deadline); #expect(decided) }
            #expect(machine.health == .connecting)
            now = deadline
        }
        #expect(machine.attempts == 7)
        #expect(machine.consecutiveFailures == 6)
    }

    @Test func theSameSeedGivesTheSameWaitsAndAnotherSeedOthers() {
        func waits(seed: UInt64) -> [Duration] {
            var machine = machine(threshold: 100, seed: seed)
            _ = machine.start(now: at(0))
            var now = at(0)
            var waits: [Duration] = []
            for _ in 0..<8 {
                machine.connectFailed(reason: "refused", now: now)
                let deadline = machine.nextDeadline!
                waits.append(deadline - now)
                _ = machine.shouldConnect(now: deadline)
                now = deadline
            }
            return waits
        }
        #expect(waits(seed: 7) == waits(seed: 7))
        #expect(waits(seed: 7) != waits(seed: 8))
    }

    @Test func theCircuitOpensCoolsDownProbesOnceAndCloses() {
        var machine = machine(threshold: 3, coolDown: .seconds(5))
        _ = machine.start(now: at(0))
        var now = at(0)
        for _ in 1...2 {
            machine.connectFailed(reason: "refused", now: now)
            now = machine.nextDeadline!
            do { let decided = machine.shouldConnect(now: now); #expect(decided) }
        }
        machine.connectFailed(reason: "refused", now: now)
        #expect(machine.health == .circuitOpen)
        #expect(machine.nextDeadline == now + .seconds(5))
        let opened = now
        do { let decided = machine.shouldConnect(now: opened + .milliseconds(4_999)); #expect(!decided) }
        // Half-open: exactly one probe.
        do { let decided = machine.shouldConnect(now: opened + .seconds(5)); #expect(decided) }
        #expect(machine.health == .connecting)
        do { let decided = machine.shouldConnect(now: opened + .seconds(6)); #expect(!decided) }
        // The probe fails: open again for another cool-down.
        machine.connectFailed(reason: "refused", now: opened + .seconds(5))
        #expect(machine.health == .circuitOpen)
        #expect(machine.nextDeadline == opened + .seconds(10))
        do { let decided = machine.shouldConnect(now: opened + .seconds(10)); #expect(decided) }
        machine.connected(now: opened + .seconds(10))
        #expect(machine.health == .up)
        #expect(machine.breaker.state == .halfOpen)  // until the peer answers
        machine.peerAnswered(now: opened + .seconds(10) + .milliseconds(1))
        #expect(machine.breaker.state == .closed)
        #expect(machine.consecutiveFailures == 0)
        let states = drain(&machine).map(\.health)
        #expect(states == [.connecting, .down, .connecting, .down, .connecting, .circuitOpen, .connecting, .circuitOpen, .connecting, .up])
    }

    @Test func aLostConnectionWaitsTheFirstStepAndSuspicionComesAndGoes() {
        var machine = machine()
        _ = machine.start(now: at(0))
        machine.connected(now: at(1))
        machine.suspected(reason: "1 pong(s) missed", now: at(10))
        #expect(machine.health == .suspect)
        machine.recovered(now: at(11))
        #expect(machine.health == .up)
        machine.suspected(reason: "1 pong(s) missed", now: at(20))
        machine.connectionLost(reason: "peer declared dead", now: at(30))
        #expect(machine.health == .down)
        let wait = machine.nextDeadline! - at(30)
        #expect(wait >= .milliseconds(80) && wait <= .milliseconds(120))
        let updates = drain(&machine)
        #expect(updates.map(\.health) == [.connecting, .up, .suspect, .up, .suspect, .down])
        #expect(updates.last?.reason == "peer declared dead")
        #expect(updates.last?.time == at(30))
        #expect(updates.last?.nextAttempt == machine.nextDeadline)
    }

    /// A server that accepts and at once drops every connection: each drop before confirmation
    /// counts as a failure, so the waits grow and the circuit opens, as for refusals.
    @Test func connectionsDroppedBeforeConfirmationBackOffAndOpenTheCircuit() {
        var machine = machine(threshold: 4, coolDown: .seconds(5))
        _ = machine.start(now: at(0))
        var now = at(0)
        for failure in 1...4 {
            machine.connected(now: now)
            machine.connectionLost(reason: "EOF", now: now + .milliseconds(5))
            #expect(machine.consecutiveFailures == failure)
            #expect(machine.health == (failure < 4 ? .down : .circuitOpen))
            now = machine.nextDeadline!
            do { let decided = machine.shouldConnect(now: now); #expect(decided) }  // a retry, then the half-open probe
        }
        // One that stays up past `stableAfter` resets it all.
        var healthy = self.machine(threshold: 4)
        _ = healthy.start(now: at(0))
        healthy.connected(now: at(0))
        healthy.connectionLost(reason: "EOF", now: at(10))
        _ = healthy.shouldConnect(now: healthy.nextDeadline!)
        healthy.connected(now: at(500))
        _ = healthy.shouldConnect(now: at(1_500))
        #expect(healthy.consecutiveFailures == 0)
        healthy.connectionLost(reason: "EOF", now: at(2_000))
        #expect(healthy.consecutiveFailures == 1)
    }

    @Test func inputsOutOfPlaceAreIgnored() {
        var machine = machine()
        machine.connected(now: at(0))
        machine.connectFailed(reason: "x", now: at(0))
        machine.connectionLost(reason: "x", now: at(0))
        machine.suspected(reason: "x", now: at(0))
        machine.recovered(now: at(0))
        #expect(drain(&machine).isEmpty)
        _ = machine.start(now: at(0))
        machine.connectionLost(reason: "not connected", now: at(1))  // still connecting
        machine.recovered(now: at(1))
        #expect(machine.health == .connecting)
        machine.close(now: at(2))
        machine.connected(now: at(3))
        #expect(machine.health == .closed)
        do { let decided = machine.shouldConnect(now: at(1_000_000)); #expect(!decided) }
        #expect(drain(&machine).map(\.health) == [.connecting, .closed])
    }

    /// Every sequence of inputs, from seeds: the health is always the one the last update named,
    /// a deadline exists exactly while down or open, and attempts never start early.
    @Test func randomInputSequencesKeepTheInvariants() {
        for seed in UInt64(1)...200 {
            var random = SplitMix64(seed: seed)
            var machine = machine(threshold: 1 + Int(random.next() % 4), coolDown: .milliseconds(Int64(random.next() % 3_000)), seed: seed)
            var now = at(0)
            _ = machine.start(now: now)
            var last: LinkHealth = .connecting
            for _ in 0..<200 {
                now = now + .milliseconds(Int64(random.next() % 700))
                let deadline = machine.nextDeadline
                switch random.next() % 6 {
                case 0: machine.connected(now: now)
                case 1: machine.connectFailed(reason: "refused", now: now)
                case 2: machine.connectionLost(reason: "EOF", now: now)
                case 3: machine.suspected(reason: "missed", now: now)
                case 4:
                    if random.next() % 2 == 0 { machine.recovered(now: now) } else { machine.peerAnswered(now: now) }
                default:
                    let before = machine.health
                    let connect = machine.shouldConnect(now: now)
                    if connect {
                        #expect(before == .down || before == .circuitOpen)
                        #expect(deadline.map { now >= $0 } ?? false)
                        #expect(machine.health == .connecting)
                    }
                }
                let updates = drain(&machine)
                if let newest = updates.last { last = newest.health }
                #expect(updates.count <= 2)
                #expect(machine.health == last)
                let waiting = machine.health == .down || machine.health == .circuitOpen
                #expect((machine.nextDeadline != nil) == (waiting || machine.awaitingConfirmation))
                #expect(!machine.awaitingConfirmation || machine.isConnected)
            }
        }
    }
}
