// swift-tools-version:6.2
// swift-heartbeat integrations: the library inside SwiftNIO pipelines, and its events in swift-log,
// swift-metrics and swift-distributed-tracing. A package of its own so that the root package still
// names no dependency.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let heartbeat: [Target.Dependency] = [
    .product(name: "Framing", package: "swift-heartbeat"),
    .product(name: "Heartbeat", package: "swift-heartbeat"),
]
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")

let package = Package(
    name: "swift-heartbeat-integrations",
    products: [
        .library(name: "HeartbeatNIO", targets: ["HeartbeatNIO"]),
        .library(name: "NIOHTTP2Keepalive", targets: ["NIOHTTP2Keepalive"]),
        .library(name: "HeartbeatLogging", targets: ["HeartbeatLogging"]),
        .library(name: "HeartbeatMetrics", targets: ["HeartbeatMetrics"]),
        .library(name: "HeartbeatTracing", targets: ["HeartbeatTracing"]),
        .executable(name: "heartbeat-metrics-example", targets: ["MetricsExample"]),
    ],
    dependencies: [
        .package(name: "swift-heartbeat", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // A HeartbeatSession (any stream dialect) as a ChannelDuplexHandler over a byte pipeline.
        .target(name: "HeartbeatNIO", dependencies: heartbeat + [nioCore], swiftSettings: strict),
        // HTTP/2 keepalive for pipelines that already run NIOHTTP2Handler: our engine over HTTP2Frame PINGs.
        .target(name: "NIOHTTP2Keepalive",
                dependencies: heartbeat + ["HeartbeatNIO", nioCore, .product(name: "NIOHTTP2", package: "swift-nio-http2")],
                swiftSettings: strict),
        // HeartbeatEvents as swift-log records with metadata.
        .target(name: "HeartbeatLogging", dependencies: heartbeat + [.product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // RTT histogram, state gauge and counters through swift-metrics.
        .target(name: "HeartbeatMetrics", dependencies: heartbeat + [.product(name: "CoreMetrics", package: "swift-metrics")],
                swiftSettings: strict),
        // Spans per failure episode or per probe through swift-distributed-tracing.
        .target(name: "HeartbeatTracing", dependencies: heartbeat + [.product(name: "Tracing", package: "swift-distributed-tracing")],
                swiftSettings: strict),
        // Example: heartbeat server whose metrics are scraped in Prometheus text format.
        .executableTarget(name: "MetricsExample",
                          dependencies: heartbeat + ["HeartbeatNIO", "HeartbeatMetrics", "HeartbeatLogging", nioCore,
                                                     .product(name: "NIOPosix", package: "swift-nio"),
                                                     .product(name: "NIOHTTP1", package: "swift-nio"),
                                                     .product(name: "Logging", package: "swift-log"),
                                                     .product(name: "Prometheus", package: "swift-prometheus")],
                          path: "Examples/MetricsServer", swiftSettings: strict),

        .testTarget(name: "IntegrationsTests",
                    dependencies: heartbeat + ["HeartbeatNIO", "NIOHTTP2Keepalive", "HeartbeatLogging", "HeartbeatMetrics",
                                               "HeartbeatTracing", "MetricsExample", nioCore,
                                               .product(name: "NIOPosix", package: "swift-nio"),
                                               .product(name: "NIOEmbedded", package: "swift-nio"),
                                               .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                                               .product(name: "Logging", package: "swift-log"),
                                               .product(name: "InMemoryLogging", package: "swift-log"),
                                               .product(name: "MetricsTestKit", package: "swift-metrics"),
                                               .product(name: "Tracing", package: "swift-distributed-tracing"),
                                               .product(name: "InMemoryTracing", package: "swift-distributed-tracing")],
                    swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
