public import NIOCore

/// Calls `observe` with every `HeartbeatNIOEvent` that passes it, and passes everything on
/// unchanged: the place to feed a `HeartbeatLogger`, `HeartbeatMetrics` or `HeartbeatTracing`.
/// Put it anywhere after `NIOHeartbeatHandler` (or the HTTP/2 keepalive handler).
public final class NIOHeartbeatObserver: ChannelInboundHandler, RemovableChannelHandler {
    /// Whatever passes; it is not read.
    public typealias InboundIn = Any

    private let observe: (HeartbeatNIOEvent) -> Void

    /// An observer calling `observe` on the channel's event loop.
    public init(_ observe: @escaping (HeartbeatNIOEvent) -> Void) {
        self.observe = observe
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let heartbeat = event as? HeartbeatNIOEvent { observe(heartbeat) }
        context.fireUserInboundEventTriggered(event)
    }
}
