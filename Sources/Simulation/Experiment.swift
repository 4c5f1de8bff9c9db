public import Heartbeat
import Framing

/// The outcome of one policy in the simulation: false positives over a long live run, and
/// detection times of a silent peer.
public struct PolicyReport: Sendable {
    /// A short label for the table.
    public var name: String
    /// Heartbeat intervals (of the policy's `pingInterval`) during which the peer was alive.
    public var heartbeats: Double
    /// Times the peer was declared dead while alive.
    public var falsePositives: Int
    /// Detection times in seconds, one per silent-peer trial, sorted.
    public var detectionSeconds: [Double]
    /// Pings sent per heartbeat interval of live peer (1 plus the retries' overhead).
    public var pingsPerHeartbeat: Double
    /// Stalls of our own process during the run (0 without a ``LocalStallModel``).
    public var localStalls = 0

    /// False positives per million heartbeats.
    public var falsePositivesPerMillion: Double { Double(falsePositives) / heartbeats * 1e6 }
    /// Median detection time in seconds (nearest rank).
    public var medianDetection: Double { percentile(0.50) }
    /// 99th-percentile detection time in seconds (nearest rank).
    public var p99Detection: Double { percentile(0.99) }

    /// The `fraction` quantile of the detection times by nearest rank (0 when there are none).
    public func percentile(_ fraction: Double) -> Double {
        guard !detectionSeconds.isEmpty else { return 0 }
        var rank = Int((fraction * Double(detectionSeconds.count)).rounded(.up))
        rank = Swift.min(Swift.max(rank, 1), detectionSeconds.count)
        return detectionSeconds[rank - 1]
    }
}

/// How much to simulate.
public struct ExperimentScale: Hashable, Sendable {
    /// Heartbeat intervals of live peer in all, split evenly across the trials.
    public var heartbeats: Int
    /// Silent-peer trials: each runs `heartbeats / trials` intervals plus a uniformly random
    /// fraction of one with a live peer, then silences the peer.
    public var trials: Int
    /// The seed of everything random (link and jitter).
    public var seed: UInt64

    /// A scale; the report's is 10⁶ heartbeats in 10,000 trials.
    public init(heartbeats: Int = 1_000_000, trials: Int = 10_000, seed: UInt64 = 2_004) {
        precondition(heartbeats >= trials && trials >= 1, "need at least one heartbeat per trial")
        self.heartbeats = heartbeats
        self.trials = trials
        self.seed = seed
    }
}

/// Simulates `configuration` over `link` at `scale`, our own process stalling as `localStalls`
/// says, and reports false positives and detection times.
public func runExperiment(name: String, configuration: HeartbeatConfiguration, link: LinkModel = LinkModel(),
                          scale: ExperimentScale = ExperimentScale(),
                          localStalls: LocalStallModel = .none) -> PolicyReport {
    var simulation = NetworkSimulation(configuration: configuration, link: link, seed: scale.seed, localStalls: localStalls)
    var random = SplitMix64(seed: scale.seed ^ 0xD1CE)
    let interval = configuration.pingInterval.nanosecondCount
    let perTrial = Int64(scale.heartbeats / scale.trials) * interval
    var detections: [Double] = []
    detections.reserveCapacity(scale.trials)
    for _ in 0..<scale.trials {
        let alive = perTrial + Int64(random.nextUnitInterval() * Double(interval))
        detections.append(Double(simulation.runUntilDetection(aliveFor: alive)) / 1e9)
    }
    detections.sort()
    let tally = simulation.tally
    let heartbeats = Double(tally.aliveNanoseconds) / Double(interval)
    return PolicyReport(
        name: name, heartbeats: heartbeats, falsePositives: tally.falsePositives,
        detectionSeconds: detections, pingsPerHeartbeat: Double(tally.pingsSent) / heartbeats,
        localStalls: tally.localStalls)
}

/// The report as a Markdown table.
public func formatTable(_ reports: [PolicyReport]) -> String {
    var lines = [
        "| policy | heartbeats | false positives | per 10^6 | detection median | detection p99 | pings per heartbeat |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for report in reports {
        lines.append("| \(report.name) | \(Int(report.heartbeats.rounded())) | \(report.falsePositives) | "
            + "\(fixed(report.falsePositivesPerMillion, 1)) | \(fixed(report.medianDetection, 2)) s | "
            + "\(fixed(report.p99Detection, 2)) s | \(fixed(report.pingsPerHeartbeat, 3)) |")
    }
    return lines.joined(separator: "\n")
}

/// `value` with `decimals` digits after the point (no Foundation).
func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((value * scale).rounded())
    let sign = scaled < 0 ? "-" : ""
    let magnitude = scaled.magnitude
    let whole = magnitude / UInt64(scale)
    guard decimals > 0 else { return sign + String(whole) }
    let fraction = String(magnitude % UInt64(scale))
    return sign + String(whole) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}
