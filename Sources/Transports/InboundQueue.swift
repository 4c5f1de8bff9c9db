/// Business frames handed from the loop thread to the application's task, bounded in octets.
/// Waiting for the next frame is cancellation-aware: cancelling the waiting task resumes it at
/// once, whatever the peer does. Frames only ever travel under the lock; the continuation just
/// wakes the waiter.
final class InboundQueue: Sendable {
    private struct State {
        var frames: [InboundFrame] = []
        var head = 0
        var queuedBytes = 0
        /// Set once: nil inside means a graceful end.
        var finished: TransportError??
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var nextWaiterID: UInt64 = 0
    }

    private enum Next {
        case frame(InboundFrame)
        case end
        case failure(TransportError)
        case none
    }

    private let state = Lock(State())
    /// Called on the application's thread when the queue drains below half its limit after
    /// having been full, so that reading resumes.
    let onDrained = Lock<(@Sendable () -> Void)?>(nil)
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Loop side: hands over a frame. Returns false when the queue is over its limit (stop reading).
    func push(_ frame: InboundFrame) -> Bool {
        let (waiter, belowLimit) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Bool) in
            state.frames.append(frame)
            state.queuedBytes += frame.payload.count
            return (state.waiter.take()?.continuation, state.queuedBytes < limit)
        }
        waiter?.resume()
        return belowLimit
    }

    /// Loop side: no more frames; a `nil` error is a graceful end.
    func finish(_ error: TransportError?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.finished == nil { state.finished = .some(error) }
            return state.waiter.take()?.continuation
        }
        waiter?.resume()
    }

    /// Octets waiting for the application.
    var queuedBytes: Int { state.withLock { $0.queuedBytes } }

    /// Application side: the next frame, nil at a graceful end; throws the connection's error, or
    /// `CancellationError` when the task is cancelled while waiting.
    func next() async throws -> InboundFrame? {
        while true {
            switch take() {
            case .frame(let frame): return frame
            case .end: return nil
            case .failure(let error): throw error
            case .none: break
            }
            try Task.checkCancellation()
            let id = state.withLock { state -> UInt64 in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state -> Bool in
                        if Task.isCancelled || state.head < state.frames.count || state.finished != nil { return true }
                        state.waiter = (id, continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard state.waiter?.id == id else { return nil }
                    return state.waiter.take()?.continuation
                }
                waiter?.resume()
            }
        }
    }

    private func take() -> Next {
        let (next, drained) = state.withLock { state -> (Next, Bool) in
            guard state.head < state.frames.count else {
                switch state.finished {
                case .none: return (.none, false)
                case .some(.none): return (.end, false)
                case .some(.some(let error)): return (.failure(error), false)
                }
            }
            let frame = state.frames[state.head]
            state.head += 1
            let wasFull = state.queuedBytes >= limit
            state.queuedBytes -= frame.payload.count
            if state.head == state.frames.count {
                state.frames.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return (.frame(frame), wasFull && state.queuedBytes < limit / 2)
        }
        if drained, let onDrained = onDrained.withLock({ $0 }) { onDrained() }
        return next
    }
}

/// The business frames a connection receives, in order. Iteration ends (nil) at a graceful close
/// and throws the `TransportError` that ended the connection otherwise; cancelling the iterating
/// task makes the pending `next()` throw `CancellationError` at once.
public struct InboundFrames: AsyncSequence, Sendable {
    public typealias Element = InboundFrame
    let queue: InboundQueue

    /// Iterates the frames; use one iterator at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: InboundQueue
        /// The next frame, nil at a graceful end.
        public mutating func next() async throws -> InboundFrame? { try await queue.next() }
    }

    /// An iterator over the frames.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue) }
}
