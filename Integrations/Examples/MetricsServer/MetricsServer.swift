// An example: a heartbeat server on SwiftNIO whose liveness metrics Prometheus scrapes.
//
//   swift run heartbeat-metrics-example --dialect tcp --port 7000 --metrics-port 9100
//   hb probe --dialect tcp 127.0.0.1:7000 &
//   curl -s 127.0.0.1:9100/metrics | grep heartbeat_
//
// Each connection gets a NIOHeartbeatHandler (answers and sends heartbeats, echoes business frames),
// a HeartbeatMetrics labelled with the peer's address, and a HeartbeatLogger; GET /metrics answers in
// Prometheus text format from swift-prometheus's registry.
import Framing
import Glibc
import Heartbeat
import HeartbeatLogging
import HeartbeatMetrics
import HeartbeatNIO
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The example server: a heartbeat listener and a metrics listener sharing one registry.
struct MetricsServer: Sendable {
    /// Accepts heartbeat connections.
    let heartbeat: any Channel
    /// Answers `GET /metrics`.
    let metrics: any Channel
    /// Where every connection's metrics live.
    let registry: PrometheusCollectorRegistry

    /// The service name in every metric's `service` label.
    static let service = "heartbeat-metrics-example"

    /// Starts both listeners on `host` (port 0: a free one).
    static func start(dialect: any StreamDialect, host: String = "127.0.0.1", port: Int, metricsPort: Int,
                      configuration: HeartbeatConfiguration, logger: Logger,
                      group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> MetricsServer {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let heartbeat = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
                    let metrics = HeartbeatMetrics(service: service, dialect: dialect.dialect, peer: peer, factory: factory)
                    let log = HeartbeatLogger(logger: logger, peer: peer)
                    try channel.pipeline.syncOperations.addHandlers([
                        makeHeartbeatHandler(dialect: dialect, role: .server, configuration: configuration),
                        NIOHeartbeatObserver { event in
                            metrics.record(event.output, counters: event.counters)
                            log.log(event.output)
                        },
                        Echo(),
                    ])
                    // A peer gone for good takes its series with it (the `peer` label's cardinality).
                    channel.closeFuture.whenComplete { _ in metrics.destroy() }
                }
            }
            .bind(host: host, port: port).get()
        let metrics = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsEndpoint(registry: registry))
                }
            }
            .bind(host: host, port: metricsPort).get()
        return MetricsServer(heartbeat: heartbeat, metrics: metrics, registry: registry)
    }

    /// Closes both listeners.
    func stop() async throws {
        try await heartbeat.close()
        try await metrics.close()
    }
}

/// Writes every business frame back as it came (envelope DATA, WebSocket messages).
final class Echo: ChannelInboundHandler {
    typealias InboundIn = HeartbeatNIOBusiness
    typealias OutboundOut = HeartbeatNIOWrite

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let business = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(HeartbeatNIOWrite(business.payload, type: business.frame.type)), promise: nil)
    }
}

/// `GET /metrics`: the registry in Prometheus text format (exposition format 0.0.4); 404 otherwise.
final class MetricsEndpoint: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var path: String?
    private var keepAlive = true

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.method == .GET ? head.uri : nil
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            var body = context.channel.allocator.buffer(capacity: 4096)
            let status: HTTPResponseStatus
            if path == "/metrics" {
                status = .ok
                body.writeBytes(registry.emitToBuffer())
            } else {
                status = .notFound
                body.writeString("not found\n")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { ended.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            path = nil
        }
    }
}

@main
enum MetricsExampleMain {
    static let usage = """
        usage: heartbeat-metrics-example [--dialect tcp|http2|ws] [--port N] [--metrics-port N] [--interval S]
        Serves heartbeats on 127.0.0.1:PORT (default 7000) and their metrics on
        http://127.0.0.1:METRICS-PORT/metrics (default 9100) in Prometheus text format.
        """

    static func main() async {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let name = arguments.popFirst() {
            guard ["--dialect", "--port", "--metrics-port", "--interval"].contains(name), let value = arguments.popFirst() else {
                print(usage)
                return
            }
            options[name] = value
        }
        guard let dialect = DialectRegistry.dialect(named: options["--dialect"] ?? "tcp").flatMap(DialectRegistry.streamDialect),
              let port = Int(options["--port"] ?? "7000"), let metricsPort = Int(options["--metrics-port"] ?? "9100"),
              let interval = Double(options["--interval"] ?? "30") else {
            print(usage)
            return
        }
        var configuration = HeartbeatConfiguration()
        configuration.pingInterval = .milliseconds(Int64(interval * 1000))
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .milliseconds(100), maxPingStrikes: 10)
        var logger = Logger(label: "heartbeat")
        logger.logLevel = .info
        do {
            let server = try await MetricsServer.start(dialect: dialect, port: port, metricsPort: metricsPort,
                                                       configuration: configuration, logger: logger)
            print("heartbeats on \(server.heartbeat.localAddress!), metrics on http://\(server.metrics.localAddress!)/metrics")
            try await server.heartbeat.closeFuture.get()
        } catch {
            print("heartbeat-metrics-example: \(error)")
            exit(1)
        }
    }
}
