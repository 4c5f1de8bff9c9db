#if canImport(Glibc)
import Glibc  // math only: log
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Heartbeat
import Framing

/// A deterministic discrete-event simulation of one heartbeat engine talking to a peer over a
/// ``LinkModel`` path, in virtual time.
///
/// It is itself a small event loop: one ``TimerHeap`` holds the engine's deadline (slot 0) and
/// every packet in flight (the other slots). The peer answers each ping that reaches it while
/// it is alive. When the engine declares the peer dead, the simulation reconnects: a fresh
/// engine starts at that moment, as a transport would do. Storage is allocated in `init` only,
/// so the steady state allocates nothing (the tests count it).
///
/// Our own process may stall (``LocalStallModel``): during a stall nothing of ours runs — no
/// timer fires, no packet is read, nothing is sent — while the peer and the network go on. On
/// resume the loop runs its timers first, then reads the packets that arrived during the stall
/// (all at the resume instant plus 1 ns, in any order: each pong is matched by its payload).
/// That is the worst order for a loop that checks timers before reads, and the order the engine
/// itself applies within one input (every input first runs the timers due).
public struct NetworkSimulation: Sendable {
    /// What a run produced.
    public struct Tally: Hashable, Sendable {
        /// Virtual time during which the peer was alive, in nanoseconds.
        public var aliveNanoseconds: Int64 = 0
        /// Peer declared dead while it was alive.
        public var falsePositives = 0
        /// Pings the engines sent while the peer was alive.
        public var pingsSent = 0
        /// Pongs that reached the engines.
        public var pongsDelivered = 0
        /// Stalls of our own process that began.
        public var localStalls = 0
        /// Virtual time our own process spent stalled, in nanoseconds.
        public var localStallNanoseconds: Int64 = 0
    }

    private struct Packet: Sendable {
        var toPeer = false
        var payload: UInt64 = 0
        var generation: UInt32 = 0
    }

    private static let engineSlot = 0
    private static let packetSlots = 63

    /// The engine settings every (re)connection uses; each gets its own jitter seed.
    public let configuration: HeartbeatConfiguration
    /// Totals so far.
    public private(set) var tally = Tally()
    /// The engine of the current connection.
    public private(set) var engine: HeartbeatEngine
    /// Virtual now, in nanoseconds.
    public private(set) var now: Int64 = 0

    private var random: SplitMix64
    private var toPeer: LinkDirection
    private var fromPeer: LinkDirection
    private var timers = TimerHeap(capacity: 1 + NetworkSimulation.packetSlots)
    private var packets: [Packet]
    private var freeSlots: [Int]
    private var generation: UInt32 = 0
    private var peerSilentFrom = Int64.max
    private var stalls: LocalStallSchedule

    /// A simulation of `configuration` over `link` (both directions alike), seeded with `seed`;
    /// our own process stalls as `localStalls` says (never, by default). The stall schedule has
    /// its own random source, so two configurations run with one seed meet the same stalls.
    public init(configuration: HeartbeatConfiguration, link: LinkModel, seed: UInt64,
                localStalls: LocalStallModel = .none) {
        self.configuration = configuration
        stalls = LocalStallSchedule(model: localStalls, seed: seed ^ 0x57A1_1ED0_0000_0001)
        var random = SplitMix64(seed: seed)
        toPeer = LinkDirection(model: link, random: &random)
        fromPeer = LinkDirection(model: link, random: &random)
        self.random = random
        packets = Array(repeating: Packet(), count: 1 + NetworkSimulation.packetSlots)
        freeSlots = Array(1...NetworkSimulation.packetSlots).reversed()
        freeSlots.reserveCapacity(NetworkSimulation.packetSlots)
        engine = HeartbeatEngine(configuration: configuration, connectionID: 0, dialect: .envelope, now: .zero)
        timers.update(NetworkSimulation.engineSlot, to: engine.nextDeadline)
    }

    /// Runs with a live peer for `duration` nanoseconds of virtual time.
    public mutating func runAlive(for duration: Int64) {
        let end = now + duration
        tally.aliveNanoseconds += duration
        while let (slot, deadline) = timers.first, deadline.nanoseconds <= end {
            _ = timers.popExpired(now: deadline)
            step(slot: slot, at: deadline.nanoseconds)
        }
        now = end
    }

    /// Runs with a live peer for `aliveFor` nanoseconds, then silences the peer and runs until
    /// the engine declares it dead. Returns the detection time (silence to declaration) in
    /// nanoseconds. The next run starts with a fresh connection to a live peer.
    public mutating func runUntilDetection(aliveFor: Int64) -> Int64 {
        runAlive(for: aliveFor)
        let silentAt = now
        peerSilentFrom = silentAt
        let deathsBefore = generation
        while generation == deathsBefore, let (slot, deadline) = timers.first {
            _ = timers.popExpired(now: deadline)
            step(slot: slot, at: deadline.nanoseconds)
        }
        peerSilentFrom = .max
        return now - silentAt
    }

    private mutating func step(slot: Int, at time: Int64) {
        // Our side (the engine's timer and packets reaching us) waits out a stall of our
        // process: the timer at its end, the packets just after it.
        if slot == NetworkSimulation.engineSlot || !packets[slot].toPeer,
           let resume = stalls.resumption(covering: time, tally: &tally) {
            let wake = slot == NetworkSimulation.engineSlot ? resume : resume + 1
            timers.schedule(slot, at: Timestamp(nanoseconds: wake))
            return
        }
        now = time
        let stamp = Timestamp(nanoseconds: time)
        if slot == NetworkSimulation.engineSlot {
            engine.tick(now: stamp)
        } else {
            let packet = packets[slot]
            freeSlots.append(slot)
            guard packet.generation == generation else { return }
            if packet.toPeer {
                // The peer answers at once while alive.
                if time < peerSilentFrom { send(payload: packet.payload, toPeer: false) }
                return
            }
            tally.pongsDelivered += 1
            engine.receivedPong(HeartbeatPayload(rawValue: packet.payload), now: stamp)
        }
        drainActions()
    }

    private mutating func drainActions() {
        while let action = engine.pollAction() {
            switch action {
            case .sendPing(let payload):
                if now < peerSilentFrom { tally.pingsSent += 1 }
                send(payload: payload.rawValue, toPeer: true)
            case .peerDead:
                if now < peerSilentFrom { tally.falsePositives += 1 }
                reconnect()
                return
            case .sendPong, .peerRecovered, .close:
                break
            }
        }
        while engine.pollEvent() != nil {}
        timers.update(NetworkSimulation.engineSlot, to: engine.nextDeadline)
    }

    private mutating func reconnect() {
        generation &+= 1
        var next = configuration
        next.randomSeed = random.next()
        engine = HeartbeatEngine(configuration: next, connectionID: UInt64(generation), dialect: .envelope,
                                 now: Timestamp(nanoseconds: now))
        timers.update(NetworkSimulation.engineSlot, to: engine.nextDeadline)
    }

    private mutating func send(payload: UInt64, toPeer: Bool) {
        let arrival = toPeer
            ? self.toPeer.deliver(sentAt: now, random: &random)
            : fromPeer.deliver(sentAt: now, random: &random)
        guard let arrival, let slot = freeSlots.popLast() else { return }
        packets[slot] = Packet(toPeer: toPeer, payload: payload, generation: generation)
        timers.schedule(slot, at: Timestamp(nanoseconds: arrival))
    }
}

/// How our own process stalls: a Poisson process of `stallsPerHour` episodes whose length is
/// uniform in `duration` (CPU starvation, a stopped process, a long synchronous callback).
public struct LocalStallModel: Hashable, Sendable {
    /// Mean number of stalls per hour.
    public var stallsPerHour: Double
    /// Range of a stall's length.
    public var duration: ClosedRange<Duration>

    /// A model; the default is the issue's: 1–5 s stalls, 60 an hour.
    public init(stallsPerHour: Double = 60, duration: ClosedRange<Duration> = .seconds(1) ... .seconds(5)) {
        precondition(stallsPerHour >= 0, "stallsPerHour must be >= 0")
        self.stallsPerHour = stallsPerHour
        self.duration = duration
    }

    /// A process that never stalls.
    public static let none = LocalStallModel(stallsPerHour: 0)
}

/// The stalls of ``LocalStallModel`` drawn one after the other, for times that never decrease.
struct LocalStallSchedule: Sendable {
    let model: LocalStallModel
    private var random: SplitMix64
    private var start = Int64.max
    private var end = Int64.max
    private var counted = false

    init(model: LocalStallModel, seed: UInt64) {
        self.model = model
        random = SplitMix64(seed: seed)
        if model.stallsPerHour > 0 { draw(after: 0) }
    }

    /// When our process resumes, if `time` falls inside a stall; `nil` when it is running.
    mutating func resumption(covering time: Int64, tally: inout NetworkSimulation.Tally) -> Int64? {
        while time >= end { draw(after: end) }
        guard time >= start else { return nil }
        if !counted {
            counted = true
            tally.localStalls += 1
            tally.localStallNanoseconds += end - start
        }
        return end
    }

    private mutating func draw(after time: Int64) {
        let meanGap = 3_600e9 / model.stallsPerHour
        let gap = -log(1 - random.nextUnitInterval()) * meanGap
        let shortest = Double(model.duration.lowerBound.nanosecondCount)
        let longest = Double(model.duration.upperBound.nanosecondCount)
        start = time + Int64(gap)
        end = start + Swift.max(1, Int64(shortest + (longest - shortest) * random.nextUnitInterval()))
        counted = false
    }
}
