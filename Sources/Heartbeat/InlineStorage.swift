/// A first-in first-out queue of at most eight elements stored inline (no heap storage).
///
/// The engine's action, pending-pong and event queues: bounded by construction, so a peer or
/// a caller that never drains them cannot grow our memory.
struct InlineQueue<Element: Sendable>: Sendable {
    static var capacity: Int { 8 }

    private var slots: (Element?, Element?, Element?, Element?, Element?, Element?, Element?, Element?) =
        (nil, nil, nil, nil, nil, nil, nil, nil)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == Self.capacity }

    private mutating func withSlots<R>(_ body: (UnsafeMutablePointer<Element?>) -> R) -> R {
        withUnsafeMutablePointer(to: &slots) { tuple in
            tuple.withMemoryRebound(to: Element?.self, capacity: Self.capacity) { body($0) }
        }
    }

    /// Appends `element`; the queue must not be full.
    mutating func append(_ element: Element) {
        precondition(!isFull, "InlineQueue overflow")
        let index = (head + count) % Self.capacity
        withSlots { $0[index] = element }
        count += 1
    }

    /// Removes and returns the oldest element, or `nil` when empty.
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let index = head
        let element = withSlots { slots -> Element? in
            defer { slots[index] = nil }
            return slots[index]
        }
        head = (head + 1) % Self.capacity
        count -= 1
        return element
    }

    /// The element `offset` places from the oldest; `offset` must be below `count`.
    mutating func element(at offset: Int) -> Element {
        precondition(offset >= 0 && offset < count)
        let index = (head + offset) % Self.capacity
        return withSlots { $0[index]! }
    }

    mutating func removeAll() {
        while popFirst() != nil {}
    }
}

/// The most recent samples (up to 32) of a measurement in nanoseconds, stored inline.
struct SampleWindow: Sendable {
    static var maximumCapacity: Int { 32 }

    private var slots: (
        Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
        Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
        Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
        Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64
    ) = (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    )
    /// How many samples the window keeps, 1 to 32.
    let capacity: Int
    private var next = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= Self.maximumCapacity, "window capacity must be 1...32")
        self.capacity = capacity
    }

    /// Adds a sample, evicting the oldest when full.
    mutating func append(_ sample: Int64) {
        let index = next
        withUnsafeMutablePointer(to: &slots) { tuple in
            tuple.withMemoryRebound(to: Int64.self, capacity: Self.maximumCapacity) { $0[index] = sample }
        }
        next = (next + 1) % capacity
        count = Swift.min(count + 1, capacity)
    }

    /// Calls `body` with the samples (in no particular order).
    func withSamples<R>(_ body: (UnsafeBufferPointer<Int64>) -> R) -> R {
        withUnsafePointer(to: slots) { tuple in
            tuple.withMemoryRebound(to: Int64.self, capacity: Self.maximumCapacity) {
                body(UnsafeBufferPointer(start: $0, count: count))
            }
        }
    }

    /// Mean and population standard deviation of the samples, in nanoseconds (0, 0 when empty).
    var meanAndStandardDeviation: (mean: Double, standardDeviation: Double) {
        withSamples { samples in
            guard !samples.isEmpty else { return (0, 0) }
            var sum = 0.0
            for sample in samples { sum += Double(sample) }
            let mean = sum / Double(samples.count)
            var squares = 0.0
            for sample in samples {
                let deviation = Double(sample) - mean
                squares += deviation * deviation
            }
            return (mean, (squares / Double(samples.count)).squareRoot())
        }
    }
}
