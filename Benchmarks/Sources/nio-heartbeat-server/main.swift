// The SwiftNIO server of the scale run (Benchmarks/Runtime/scale.py): speaks the TCP envelope
// (spec/envelope.md) through our Framing codec inside a ChannelHandler, answers each PING with a
// PONG, and closes a connection silent for --idle seconds (IdleStateHandler), printing
// "idle-close" to standard error for each (a false verdict when the peer was alive).
// Usage: nio-heartbeat-server [--port N] [--threads N] [--idle S]   (prints "listening PORT")
import Framing
import Glibc
import NIOCore
import NIOPosix

final class EnvelopeHeartbeatHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var demuxer = Demuxer(dialect: .envelope)
    private var replies: [UInt8] = []

    func channelActive(context: ChannelHandlerContext) {
        var preface: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &preface)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: preface)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes in
                try demuxer.feed(bytes.bytes) { item, _ in
                    if case .ping(let payload) = item { EnvelopeFrame.appendPong(payload, to: &replies) }
                }
            }
        } catch {
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !replies.isEmpty else { return }
        var out = context.channel.allocator.buffer(capacity: replies.count)
        out.writeBytes(replies)
        replies.removeAll(keepingCapacity: true)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            let line = "idle-close\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

var port = 0
var threads = 1
var idle: Int64 = 3
var arguments = CommandLine.arguments.dropFirst()
while let option = arguments.popFirst() {
    guard let value = arguments.popFirst().flatMap({ Int($0) }) else {
        print("usage: nio-heartbeat-server [--port N] [--threads N] [--idle S]")
        exit(2)
    }
    switch option {
    case "--port": port = value
    case "--threads": threads = value
    case "--idle": idle = Int64(value)
    default: print("unknown option \(option)"); exit(2)
    }
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let idleTimeout = TimeAmount.seconds(idle)
let server = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
            try channel.pipeline.syncOperations.addHandler(EnvelopeHeartbeatHandler())
        }
    }
    .bind(host: "127.0.0.1", port: port).get()
let listening = "listening \(server.localAddress!.port!)\n"
_ = listening.withCString { write(1, $0, strlen($0)) }
try await server.closeFuture.get()
