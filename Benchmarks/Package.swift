// swift-tools-version:6.2
// Benchmarks for swift-heartbeat. A package of its own so that the library never depends on
// what the benchmarks use. Run: swift run -c release framing-throughput | cancellation-latency
import PackageDescription

let package = Package(
    name: "swift-heartbeat-benchmarks",
    dependencies: [.package(name: "swift-heartbeat", path: "..")],
    targets: [
        .executableTarget(
            name: "framing-throughput",
            dependencies: [.product(name: "Framing", package: "swift-heartbeat")]
        ),
        .executableTarget(
            name: "ping-ack",
            dependencies: [.product(name: "Framing", package: "swift-heartbeat")]
        ),
        .executableTarget(
            name: "cancellation-latency",
            dependencies: [
                .product(name: "Transports", package: "swift-heartbeat"),
                .product(name: "Heartbeat", package: "swift-heartbeat"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
