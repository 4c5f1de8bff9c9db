import Glibc
import Synchronization

/// Several event loops, by default one per core, among which connections are spread: a listener
/// bound on a group accepts on its first loop and hands each accepted connection to the next
/// loop in turn, so that every core runs its share of the heartbeats.
///
/// ```swift
/// let group = try EventLoopGroup()                     // one loop per online core
/// defer { group.shutdown() }
/// let listener = try await HeartbeatListener.bind(to: address, on: group)
/// ```
public final class EventLoopGroup: Sendable {
    /// The loops, each with its own thread; never empty.
    public let loops: [EventLoop]
    private let nextIndex = Atomic<Int>(0)

    /// Online cores (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static var coreCount: Int { max(1, sysconf(CInt(_SC_NPROCESSORS_ONLN))) }

    /// Starts `loopCount` loops (≥ 1; default one per online core).
    public init(loopCount: Int = EventLoopGroup.coreCount) throws(TransportError) {
        precondition(loopCount >= 1, "an EventLoopGroup needs at least one loop")
        var loops: [EventLoop] = []
        for _ in 0..<loopCount {
            do {
                loops.append(try EventLoop())
            } catch {
                for loop in loops { loop.shutdown() }
                throw error
            }
        }
        self.loops = loops
    }

    /// The next loop in round-robin order: where a new connection goes.
    public func next() -> EventLoop {
        let index = nextIndex.add(1, ordering: .relaxed).oldValue
        return loops[index % loops.count]
    }

    /// Shuts every loop down (see `EventLoop.shutdown()`); must not be called on one of them.
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }
}
