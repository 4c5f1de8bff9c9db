public import Heartbeat
public import NIOCore

/// The one timer a heartbeat engine needs, on a channel's event loop: scheduled at the engine's
/// `nextDeadline` and moved whenever that changes. Used by `NIOHeartbeatHandler` and the HTTP/2
/// keepalive handler; confined to the event loop.
public struct NIOEngineTimer {
    private var scheduled: Scheduled<Void>?
    private var deadline: Timestamp?

    /// No timer.
    public init() {}

    /// Runs `fire` on `loop` at `deadline` (nil: never), replacing the timer set before unless it is
    /// already set for that instant. Call from the loop.
    public mutating func schedule(at deadline: Timestamp?, on loop: any EventLoop, _ fire: @escaping () -> Void) {
        guard deadline != self.deadline else { return }
        cancel()
        guard let deadline else { return }
        self.deadline = deadline
        scheduled = loop.assumeIsolated().scheduleTask(deadline: NIODeadline(deadline), fire)
    }

    /// Forgets the timer that just fired; call first thing in `fire`.
    public mutating func fired() {
        scheduled = nil
        deadline = nil
    }

    /// Cancels the timer, if any.
    public mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
        deadline = nil
    }
}

extension ChannelHandlerContext {
    /// Closes the channel once `written` (a close frame: GOAWAY, WebSocket Close) completes, so the
    /// frame reaches the socket before it closes, or after `limit` if it does not (a dead peer that
    /// stopped reading may never take it). Call on the event loop.
    package func close(after written: EventLoopFuture<Void>, limit: TimeAmount = .seconds(1)) {
        let loop = eventLoop.assumeIsolated()
        let fallback = loop.scheduleTask(in: limit) { self.close(promise: nil) }
        written.assumeIsolated().whenComplete { _ in
            fallback.cancel()
            self.close(promise: nil)
        }
    }
}
