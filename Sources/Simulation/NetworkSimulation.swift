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

    /// A simulation of `configuration` over `link` (both directions alike), seeded with `seed`.
    public init(configuration: HeartbeatConfiguration, link: LinkModel, seed: UInt64) {
        self.configuration = configuration
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
