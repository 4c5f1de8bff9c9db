import Framing
import Heartbeat
import HeartbeatNIO
import Logging
@testable import MetricsExample
import NIOCore
import NIOPosix
import Testing

@Suite struct MetricsExampleTests {
    /// `GET path` over loopback, the whole response as text (the connection is closed by us after it).
    func scrape(port: Int, path: String = "/metrics") async throws -> String {
        let group = MultiThreadedEventLoopGroup.singleton
        let response = group.next().makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResponseReader(done: response)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(channel.allocator.buffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        return try await response.futureResult.get(within: .seconds(30))
    }

    @Test func prometheusScrapesTheLivenessOfAConnectedPeer() async throws {
        var configuration = HeartbeatConfiguration()
        configuration.pingInterval = .milliseconds(100)
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .milliseconds(50), maxPingStrikes: 10)
        let server = try await MetricsServer.start(dialect: EnvelopeDialect(), port: 0, metricsPort: 0,
                                                   configuration: configuration,
                                                   logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let heartbeatPort = try #require(server.heartbeat.localAddress?.port)
        let metricsPort = try #require(server.metrics.localAddress?.port)

        // A NIO client pinging every 100 ms, kept connected while we scrape.
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.next().makePromise(of: Int.self)
        let clientConfiguration = configuration
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client, configuration: clientConfiguration),
                        SampleCounter(target: 3, done: done),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: heartbeatPort).get()
        _ = try await done.futureResult.get(within: .seconds(30))
        let address = try #require(client.localAddress)
        let peer = "\(address.ipAddress ?? ""):\(address.port ?? 0)"

        // Scrape until the server's own pings have been answered too (each scrape is a real GET).
        var text = ""
        var series: [Substring] = []
        func value(_ name: String) -> Double? {
            series.first { $0.hasPrefix(name + "{") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        }
        for _ in 0..<100 {
            text = try await scrape(port: metricsPort)
            series = text.split(separator: "\n").filter { $0.hasPrefix("heartbeat_") }
            if (value("heartbeat_rtt_seconds_count") ?? 0) >= 1 && (value("heartbeat_pings_received_total") ?? 0) >= 3 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.contains("text/plain; version=0.0.4"))
        let labels = ["service=\"heartbeat-metrics-example\"", "dialect=\"tcp\"", "peer=\"\(peer)\"", "zone=\"\""]
        #expect(series.contains { line in line.hasPrefix("heartbeat_pings_received_total{") && labels.allSatisfy { line.contains($0) } },
                "scraped:\n\(text)")
        #expect((value("heartbeat_pings_received_total") ?? 0) >= 3)
        #expect((value("heartbeat_rtt_seconds_count") ?? 0) >= 1)
        #expect(series.contains { $0.hasPrefix("heartbeat_rtt_seconds_bucket{") && $0.contains("status=\"up\"") && $0.contains("le=") })
        #expect(value("heartbeat_peer_up") == 1)
        #expect(value("heartbeat_state") != nil)

        #expect(try await scrape(port: metricsPort, path: "/other").hasPrefix("HTTP/1.1 404"))
        try await client.close()
        try await server.stop()
    }
}

/// Collects a response until the server closes, then succeeds with it as text.
final class ResponseReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let done: EventLoopPromise<String>
    var text = ""
    init(done: EventLoopPromise<String>) { self.done = done }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { text += String(buffer: unwrapInboundIn(data)) }
    func channelInactive(context: ChannelHandlerContext) { done.succeed(text) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { done.fail(error) }
}
