import Glibc

/// A value guarded by a `pthread_mutex_t`.
///
/// Transports hands values between its loop thread and application tasks. The standard library's
/// `Mutex` is built on futexes inside a library ThreadSanitizer does not instrument, so TSan
/// cannot see the ordering it provides and reports races that are not there; a pthread mutex is
/// intercepted by every sanitizer. Every cross-thread hand-off in this module goes through one.
final class Lock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// One result handed from the loop thread to a waiting task. The result travels under a `Lock`
/// and the continuation only wakes the task, so the hand-off is ordered for every sanitizer.
final class Handoff<Success>: @unchecked Sendable {
    private let slot = Lock<Result<UncheckedBox<Success>, any Error>?>(nil)
    private let continuation = Lock<CheckedContinuation<Void, Never>?>(nil)

    /// Runs `start` on `loop` with a fresh hand-off and waits for its `complete`.
    static func run(on loop: EventLoop, _ start: @escaping @Sendable (Handoff<Success>) -> Void) async throws -> Success {
        let handoff = Handoff<Success>()
        await withCheckedContinuation { continuation in
            handoff.continuation.withLock { $0 = continuation }
            loop.execute { start(handoff) }
        }
        guard let result = handoff.slot.withLock({ $0 }) else { throw TransportError.closed }
        return try result.get().value
    }

    /// Delivers the result; later calls are ignored.
    func complete(_ result: Result<Success, any Error>) {
        let waiting = continuation.withLock { continuation -> CheckedContinuation<Void, Never>? in
            guard let waiting = continuation.take() else { return nil }
            slot.withLock { $0 = result.map(UncheckedBox.init) }
            return waiting
        }
        waiting?.resume()
    }

    /// Delivers `value`.
    func succeed(_ value: Success) { complete(.success(value)) }

    /// Delivers `error`.
    func fail(_ error: any Error) { complete(.failure(error)) }
}

/// Hands a non-Sendable value to the thread that will own it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
