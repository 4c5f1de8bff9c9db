import Synchronization

/// Business frames handed from the loop thread to the application's task, bounded in octets.
/// Waiting for the next frame is cancellation-aware: cancelling the waiting task resumes it at
/// once, whatever the peer does.
final class InboundQueue: Sendable {
    private struct State {
        var frames: [InboundFrame] = []
        var head = 0
        var queuedBytes = 0
        var finished: TransportError??
        var waiter: (id: UInt64, continuation: CheckedContinuation<InboundFrame?, any Error>)?
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Called on the application's thread when the queue drains below half its limit after
    /// having been full, so that reading resumes.
    let onDrained = Mutex<(@Sendable () -> Void)?>(nil)
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Loop side: hands over a frame. Returns false when the queue is over its limit (stop reading).
    func push(_ frame: InboundFrame) -> Bool {
        let (waiter, belowLimit) = state.withLock { state -> (CheckedContinuation<InboundFrame?, any Error>?, Bool) in
            if let waiter = state.waiter.take() { return (waiter.continuation, true) }
            state.frames.append(frame)
            state.queuedBytes += frame.payload.count
            return (nil, state.queuedBytes < limit)
        }
        waiter?.resume(returning: frame)
        return belowLimit
    }

    /// Loop side: no more frames; `nil` error is a graceful end.
    func finish(_ error: TransportError?) {
        let waiter = state.withLock { state -> CheckedContinuation<InboundFrame?, any Error>? in
            if state.finished == nil { state.finished = .some(error) }
            return state.waiter.take()?.continuation
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    /// Octets waiting for the application.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Application side: the next frame, nil at a graceful end; throws the connection's error or
    /// `CancellationError` when the task is cancelled while waiting.
    func next() async throws -> InboundFrame? {
        if let ready = try takeReady() { return ready }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate: Result<InboundFrame?, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.head < state.frames.count || state.finished != nil { return .success(nil) }
                    state.waiter = (id, continuation)
                    return nil
                }
                guard let immediate else { return }
                switch immediate {
                case .failure(let error): continuation.resume(throwing: error)
                case .success:
                    // A frame or the end arrived between the first look and now.
                    do { continuation.resume(returning: try takeReady()) } catch { continuation.resume(throwing: error) }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<InboundFrame?, any Error>? in
                guard state.waiter?.id == id else { return nil }
                return state.waiter.take()?.continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func takeReady() throws -> InboundFrame? {
        let (frame, finished, resume) = state.withLock { state -> (InboundFrame?, TransportError??, Bool) in
            guard state.head < state.frames.count else { return (nil, state.finished, false) }
            let frame = state.frames[state.head]
            state.head += 1
            let wasFull = state.queuedBytes >= limit
            state.queuedBytes -= frame.payload.count
            if state.head == state.frames.count {
                state.frames.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return (frame, nil, wasFull && state.queuedBytes < limit / 2)
        }
        if resume, let onDrained = onDrained.withLock({ $0 }) { onDrained() }
        if let frame { return frame }
        if let finished {
            if let error = finished { throw error }
            return nil
        }
        return nil
    }
}

/// The business frames a connection receives, in order. Iteration ends (nil) at a graceful close
/// and throws the `TransportError` that ended the connection otherwise; cancelling the iterating
/// task makes the pending `next()` throw `CancellationError` at once.
public struct InboundFrames: AsyncSequence, Sendable {
    public typealias Element = InboundFrame
    let queue: InboundQueue

    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: InboundQueue
        public mutating func next() async throws -> InboundFrame? { try await queue.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue) }
}
