// swift-tools-version:6.2
// swift-heartbeat: heartbeat framing, demuxing and liveness detection. Depends on no packages.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-heartbeat",
    products: [
        .library(name: "Framing", targets: ["Framing"]),
        .library(name: "Heartbeat", targets: ["Heartbeat"]),
        .library(name: "Transports", targets: ["Transports"]),
        .executable(name: "hb", targets: ["hb"]),
    ],
    targets: [
        // Sans-IO wire codecs: dialects, demuxer, errors, limits. No system calls, no clock.
        .target(name: "Framing", swiftSettings: strict),
        // Sans-IO liveness engine: state machine, RTT, failure detection, backoff, timers.
        .target(name: "Heartbeat", dependencies: ["Framing"], swiftSettings: strict),
        // The only layer that makes system calls: Glibc sockets, epoll event loop, connections.
        .target(name: "Transports", dependencies: ["Framing", "Heartbeat", "CTransportsShims"], swiftSettings: strict),
        // Linux headers Swift's Glibc module lacks (epoll, eventfd, TCP options) and an ioctl wrapper.
        .target(name: "CTransportsShims"),
        // Command-line tool: demo, serve, probe, decode.
        .executableTarget(name: "hb", dependencies: ["Framing", "Heartbeat", "Transports"], swiftSettings: strict),

        // Frames written by our encoders for independent implementations to read (Interop/run.sh).
        .executableTarget(name: "interop-frames", dependencies: ["Framing"], swiftSettings: strict),

        // Network fault tests (Interop/faults.sh): a TCP forwarder with seeded delay, jitter, stalls and
        // cuts (Glibc sockets; Framing for SplitMix64 only), and the client side of the tests.
        .executableTarget(name: "chaos-proxy", dependencies: ["Framing"], swiftSettings: strict),
        .executableTarget(name: "fault-client", dependencies: ["Framing", "Heartbeat", "Transports"], swiftSettings: strict),

        // Deterministic network simulation used by tests and by the `heartbeat-sim` report.
        .target(name: "Simulation", dependencies: ["Framing", "Heartbeat"], swiftSettings: strict),
        .executableTarget(name: "heartbeat-sim", dependencies: ["Simulation", "Heartbeat"], swiftSettings: strict),

        // Test-only allocator interposer: counts malloc/calloc/realloc/memalign per thread.
        // Never part of a product.
        .target(name: "MallocCounter"),
        .target(name: "AllocationCounting", dependencies: ["MallocCounter"], swiftSettings: strict),

        .testTarget(name: "FramingTests", dependencies: ["Framing", "AllocationCounting"], swiftSettings: strict),
        .testTarget(name: "HeartbeatTests", dependencies: ["Heartbeat", "Simulation", "AllocationCounting"], swiftSettings: strict),
        .testTarget(name: "TransportsTests", dependencies: ["Transports", "AllocationCounting"], swiftSettings: strict),
        // A dialect defined outside the library, through its public API only.
        .testTarget(name: "ExternalDialectTests", dependencies: ["Framing", "Heartbeat", "Transports"], swiftSettings: strict),
        .testTarget(name: "hbTests", dependencies: ["hb", "Framing"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
