/// One timer structure for all the connections of an event loop: an indexed binary min-heap of
/// deadlines keyed by a dense connection slot (`0..<capacity`).
///
/// Each engine has at most one deadline (its ``HeartbeatEngine/nextDeadline``), which moves on
/// almost every input, so rescheduling is the common operation. ``schedule(_:at:)`` (insert or
/// move), ``cancel(_:)`` and ``popExpired(now:)`` are O(log n); ``nextDeadline`` is O(1).
/// Deadlines keep their full nanosecond precision (no wheel granularity). All storage is
/// allocated in ``init(capacity:)``; nothing allocates afterwards. docs/heartbeat.md explains the
/// choice over a timing wheel. Among equal deadlines the lower slot comes first.
public struct TimerHeap: Sendable {
    /// Slots are `0..<capacity`.
    public let capacity: Int
    private var heap: [Int32]
    private var deadlines: [Int64]
    /// Position of each slot in `heap`, or -1 when it has no deadline.
    private var positions: [Int32]
    /// Number of slots with a deadline.
    public private(set) var count = 0

    /// An empty heap for slots `0..<capacity` (capacity ≤ 2³¹ − 1).
    public init(capacity: Int) {
        precondition(capacity >= 0 && capacity < Int(Int32.max), "capacity out of range")
        self.capacity = capacity
        heap = Array(repeating: 0, count: capacity)
        deadlines = Array(repeating: 0, count: capacity)
        positions = Array(repeating: -1, count: capacity)
    }

    /// Whether no slot has a deadline.
    public var isEmpty: Bool { count == 0 }

    /// The earliest deadline, or `nil` when empty.
    public var nextDeadline: Timestamp? {
        count == 0 ? nil : Timestamp(nanoseconds: deadlines[Int(heap[0])])
    }

    /// The slot with the earliest deadline, and that deadline.
    public var first: (slot: Int, deadline: Timestamp)? {
        count == 0 ? nil : (Int(heap[0]), Timestamp(nanoseconds: deadlines[Int(heap[0])]))
    }

    /// The deadline of `slot`, or `nil` when it has none.
    public func deadline(of slot: Int) -> Timestamp? {
        positions[slot] < 0 ? nil : Timestamp(nanoseconds: deadlines[slot])
    }

    /// Gives `slot` the deadline `deadline`, replacing any it had.
    public mutating func schedule(_ slot: Int, at deadline: Timestamp) {
        precondition(slot >= 0 && slot < capacity, "slot out of range")
        let position = Int(positions[slot])
        deadlines[slot] = deadline.nanoseconds
        if position < 0 {
            heap[count] = Int32(slot)
            positions[slot] = Int32(count)
            count += 1
            siftUp(count - 1)
        } else {
            siftUp(position)
            siftDown(Int(positions[slot]))
        }
    }

    /// Schedules `slot` at `deadline`, or cancels it when `deadline` is `nil` — the shape of
    /// ``HeartbeatEngine/nextDeadline``.
    public mutating func update(_ slot: Int, to deadline: Timestamp?) {
        if let deadline { schedule(slot, at: deadline) } else { cancel(slot) }
    }

    /// Removes `slot`'s deadline, if any.
    public mutating func cancel(_ slot: Int) {
        precondition(slot >= 0 && slot < capacity, "slot out of range")
        let position = Int(positions[slot])
        guard position >= 0 else { return }
        count -= 1
        positions[slot] = -1
        guard position != count else { return }
        let moved = heap[count]
        heap[position] = moved
        positions[Int(moved)] = Int32(position)
        siftUp(position)
        siftDown(Int(positions[Int(moved)]))
    }

    /// Removes and returns the slot with the earliest deadline if that deadline is at or before
    /// `now`; call it until `nil` to expire everything due.
    public mutating func popExpired(now: Timestamp) -> Int? {
        guard count > 0 else { return nil }
        let slot = Int(heap[0])
        guard deadlines[slot] <= now.nanoseconds else { return nil }
        cancel(slot)
        return slot
    }

    private func precedes(_ a: Int32, _ b: Int32) -> Bool {
        let da = deadlines[Int(a)], db = deadlines[Int(b)]
        return da < db || (da == db && a < b)
    }

    private mutating func place(_ slot: Int32, at position: Int) {
        heap[position] = slot
        positions[Int(slot)] = Int32(position)
    }

    private mutating func siftUp(_ start: Int) {
        var position = start
        let slot = heap[position]
        while position > 0 {
            let parent = (position - 1) / 2
            guard precedes(slot, heap[parent]) else { break }
            place(heap[parent], at: position)
            position = parent
        }
        place(slot, at: position)
    }

    private mutating func siftDown(_ start: Int) {
        var position = start
        let slot = heap[position]
        while true {
            var child = 2 * position + 1
            guard child < count else { break }
            if child + 1 < count && precedes(heap[child + 1], heap[child]) { child += 1 }
            guard precedes(heap[child], slot) else { break }
            place(heap[child], at: position)
            position = child
        }
        place(slot, at: position)
    }
}
