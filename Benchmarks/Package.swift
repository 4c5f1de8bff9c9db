// swift-tools-version:6.1
// Benchmarks for swift-heartbeat. A package of its own so that the library never depends on
// what the benchmarks use. Plain executables: swift run -c release framing-throughput | ping-ack |
// cancellation-latency. ordo-one/benchmark suites (sources under Benchmarks/Benchmarks/<Suite>/):
// swift package --allow-writing-to-package-directory benchmark
import PackageDescription

let package = Package(
    name: "swift-heartbeat-benchmarks",
    dependencies: [
        .package(name: "swift-heartbeat", path: ".."),
        // Wall time plus malloc counts; the trait list leaves out the Swift 6.3 runtime interposer.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The comparison servers and codecs (never a dependency of the library).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        .executableTarget(
            name: "framing-throughput",
            dependencies: [.product(name: "Framing", package: "swift-heartbeat")]
        ),
        .executableTarget(
            name: "ping-ack",
            dependencies: [.product(name: "Framing", package: "swift-heartbeat")]
        ),
        .target(
            name: "CodecPingCases",
            dependencies: [.product(name: "Framing", package: "swift-heartbeat")]
        ),
        .executableTarget(
            name: "codec-ping",
            dependencies: ["CodecPingCases"]
        ),
        .executableTarget(
            name: "Codec",
            dependencies: [
                "CodecPingCases",
                .product(name: "Framing", package: "swift-heartbeat"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            path: "Benchmarks/Codec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
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
