/// What became of a ping we sent.
enum PingStatus: UInt8, Sendable {
    case free, awaiting, excused, answered, expired
}

/// One ping we sent: matched to its pong by payload, for QUIC by the packet number that
/// carried it, and in the in-order model by its ordinal (the pings are numbered 1, 2, 3, … in
/// the order they were sent).
struct PingRecord: Sendable {
    static let noPacketNumber = UInt64.max
    var payload: UInt64 = 0
    var ordinal: UInt64 = 0
    var packetNumber: UInt64 = PingRecord.noPacketNumber
    var sentAt: Int64 = 0
    var deadline: Int64 = 0
    var status: PingStatus = .free
}

/// The pings we remember, eight at most, stored inline: those awaiting a pong, and the most
/// recent answered or missed ones so that a duplicate or late pong can be told from an unknown one.
struct PingTable: Sendable {
    static var capacity: Int { 8 }
    private var slots: (PingRecord, PingRecord, PingRecord, PingRecord,
                        PingRecord, PingRecord, PingRecord, PingRecord) =
        (.init(), .init(), .init(), .init(), .init(), .init(), .init(), .init())
    /// Records whose status is `.awaiting`.
    private(set) var awaitingCount = 0
    /// The ordinal of the latest ping inserted (0 before the first): how many were ever sent.
    private(set) var lastOrdinal: UInt64 = 0

    private mutating func withRecords<R>(_ body: (UnsafeMutablePointer<PingRecord>) -> R) -> R {
        withUnsafeMutablePointer(to: &slots) { tuple in
            tuple.withMemoryRebound(to: PingRecord.self, capacity: Self.capacity) { body($0) }
        }
    }

    private func readRecords<R>(_ body: (UnsafePointer<PingRecord>) -> R) -> R {
        withUnsafePointer(to: slots) { tuple in
            tuple.withMemoryRebound(to: PingRecord.self, capacity: Self.capacity) { body($0) }
        }
    }

    subscript(index: Int) -> PingRecord {
        readRecords { $0[index] }
    }

    /// Remembers a newly sent ping, forgetting the oldest record that is not awaited if full.
    /// At most four records are awaited (``HeartbeatConfiguration/maxOutstandingPings``), so
    /// there is always one to forget.
    mutating func insert(payload: UInt64, sentAt: Int64, deadline: Int64) {
        let victim = readRecords { records -> Int in
            var victim = -1
            for index in 0..<Self.capacity {
                if records[index].status == .free { victim = index; break }
                if records[index].status != .awaiting
                    && (victim < 0 || records[index].sentAt < records[victim].sentAt) {
                    victim = index
                }
            }
            return victim
        }
        precondition(victim >= 0, "more than eight pings awaited")
        lastOrdinal += 1
        let ordinal = lastOrdinal
        withRecords {
            $0[victim] = PingRecord(
                payload: payload, ordinal: ordinal, packetNumber: PingRecord.noPacketNumber,
                sentAt: sentAt, deadline: deadline, status: .awaiting)
        }
        awaitingCount += 1
    }

    /// The most recent record with this payload.
    func index(ofPayload payload: UInt64) -> Int? {
        find { $0.payload == payload }
    }

    /// The record bound to this QUIC packet number.
    func index(ofPacketNumber packetNumber: UInt64) -> Int? {
        guard packetNumber != PingRecord.noPacketNumber else { return nil }
        return find { $0.packetNumber == packetNumber }
    }

    /// The record of the `ordinal`-th ping sent, if it is still remembered.
    func index(ofOrdinal ordinal: UInt64) -> Int? {
        guard ordinal > 0 else { return nil }
        return find { $0.ordinal == ordinal }
    }

    private func find(_ matches: (PingRecord) -> Bool) -> Int? {
        readRecords { records in
            var found: Int?
            for index in 0..<Self.capacity where records[index].status != .free && matches(records[index]) {
                if found == nil || records[index].sentAt >= records[found!].sentAt { found = index }
            }
            return found
        }
    }

    /// The awaited record with the earliest deadline.
    func earliestAwaiting() -> (index: Int, deadline: Int64)? {
        guard awaitingCount > 0 else { return nil }
        return readRecords { records in
            var best: (index: Int, deadline: Int64)?
            for index in 0..<Self.capacity where records[index].status == .awaiting {
                if best == nil || records[index].deadline < best!.deadline {
                    best = (index, records[index].deadline)
                }
            }
            return best
        }
    }

    /// The awaited record sent first (lowest ordinal), with its deadline: in the in-order model
    /// only the oldest awaited ping can be answered or missed next.
    func oldestAwaiting() -> (index: Int, deadline: Int64)? {
        guard awaitingCount > 0 else { return nil }
        return readRecords { records in
            var best: Int?
            for index in 0..<Self.capacity where records[index].status == .awaiting {
                if best == nil || records[index].ordinal < records[best!].ordinal { best = index }
            }
            return best.map { ($0, records[$0].deadline) }
        }
    }

    /// Sets a record's status, keeping `awaitingCount` in step.
    mutating func setStatus(_ status: PingStatus, at index: Int) {
        if self[index].status == .awaiting { awaitingCount -= 1 }
        if status == .awaiting { awaitingCount += 1 }
        withRecords { $0[index].status = status }
    }

    /// Re-times an awaited ping to when it was actually written, and binds its QUIC packet number.
    mutating func rebase(at index: Int, sentAt: Int64, deadline: Int64, packetNumber: UInt64) {
        withRecords { records in
            records[index].sentAt = sentAt
            records[index].deadline = deadline
            records[index].packetNumber = packetNumber
        }
    }

    /// Moves every awaited record to `status`; returns how many there were.
    mutating func settleAllAwaiting(as status: PingStatus) -> Int {
        let settled = awaitingCount
        withRecords { records in
            for index in 0..<Self.capacity where records[index].status == .awaiting {
                records[index].status = status
            }
        }
        awaitingCount = 0
        return settled
    }
}

extension PingTable {
    /// When the oldest awaited ping was sent.
    func oldestAwaitingSentAt() -> Int64? {
        guard awaitingCount > 0 else { return nil }
        var oldest = Int64.max
        for index in 0..<Self.capacity where self[index].status == .awaiting {
            oldest = Swift.min(oldest, self[index].sentAt)
        }
        return oldest
    }
}
