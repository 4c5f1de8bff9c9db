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
        // Malloc counts in the plain framing-throughput executable (ordo-one/benchmark uses it too).
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
    ],
    targets: [
        .executableTarget(
            name: "framing-throughput",
            dependencies: [
                .product(name: "Framing", package: "swift-heartbeat"),
                // The DATA-path comparison: NIOHTTP2Handler in an EmbeddedChannel on the same bytes.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ]
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
        // Runtime (issue 10 items 6-7): the echo round trip, ours vs SwiftNIO (C: Runtime/pingpong.c),
        // and the SwiftNIO server of the scale run (Runtime/scale.py).
        .target(name: "RuntimeBenchCounters"),
        .executableTarget(
            name: "runtime-echo",
            dependencies: [
                "RuntimeBenchCounters",
                .product(name: "Transports", package: "swift-heartbeat"),
                .product(name: "Heartbeat", package: "swift-heartbeat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "nio-heartbeat-server",
            dependencies: [
                .product(name: "Framing", package: "swift-heartbeat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
