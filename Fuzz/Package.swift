// swift-tools-version:5.4
// libFuzzer targets for swift-heartbeat: a package of its own, so that building or testing the
// library never needs the fuzzer. Tools version 5.4 on purpose: newer tools versions link
// executables with `--defsym main=<target>_main`, which replaces libFuzzer's own `main`.
// Build and run with `Fuzz/run.sh TARGET SECONDS` (see README.md).
import PackageDescription

/// Each fuzz target is `Sources/<name>/`, exports `LLVMFuzzerTestOneInput`, and has a committed
/// corpus in `corpus/<name>/`. Add a target by adding a line here and a folder beside the others.
let fuzzTargets: [(name: String, products: [String])] = [
    ("envelope-decoder", ["Framing"]),
    ("http2-decoder", ["Framing"]),
    ("quic-decoder", ["Framing"]),
    ("websocket-decoder", ["Framing"]),
    ("tls-decoder", ["Framing"]),
    ("mqtt-decoder", ["Framing"]),
    ("amqp-decoder", ["Framing"]),
    ("resp-decoder", ["Framing"]),
    ("lines-decoder", ["Framing"]),
    ("demux-differential", ["Framing"]),
    ("streaming-differential", ["Framing"]),
    ("roundtrip", ["Framing"]),
    ("heartbeat-engine", ["Framing", "Heartbeat"]),
    ("dissector", ["Framing"]),
]

let package = Package(
    name: "swift-heartbeat-fuzz",
    dependencies: [
        .package(name: "swift-heartbeat", path: ".."),
    ],
    targets: [
        // What every target shares: input reading, invariant checks, demuxer set-ups.
        .target(name: "FuzzSupport", dependencies: [.product(name: "Framing", package: "swift-heartbeat")]),
    ] + fuzzTargets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport"] + target.products.map { .product(name: $0, package: "swift-heartbeat") }
        )
    }
)
