// Prints the simulation report that decides the engine's defaults (issue 3, docs/heartbeat.md).
// Usage: heartbeat-sim [heartbeats] [trials] [seed]    the report
//        heartbeat-sim tune [heartbeats] [trials]      the phi-accrual parameter sweep
//        heartbeat-sim stalls [heartbeats] [trials] [seed]   local health while our own process stalls (issue 12)
#if canImport(Glibc)
import Glibc  // exit
#elseif canImport(Darwin)
import Darwin
#endif
import Heartbeat
import Simulation

var commandLine = Array(CommandLine.arguments.dropFirst())
let tuning = commandLine.first == "tune"
let stalling = commandLine.first == "stalls"
if tuning || stalling { commandLine.removeFirst() }
let numbers = commandLine.compactMap { Int($0) }
let scale = ExperimentScale(
    heartbeats: numbers.count > 0 ? numbers[0] : 1_000_000,
    trials: numbers.count > 1 ? numbers[1] : 10_000,
    seed: numbers.count > 2 ? UInt64(numbers[2]) : 2_004)

func milliseconds(_ duration: Duration) -> String { "\(duration.nanosecondCount / 1_000_000) ms" }

func describe(_ link: LinkModel) -> String {
    "one-way lognormal delay, median \(milliseconds(link.medianDelay)), sigma \(link.sigma); "
        + "\(link.stallsPerHour) stalls/h of \(milliseconds(link.stallDuration.lowerBound))-"
        + "\(milliseconds(link.stallDuration.upperBound)) per direction; loss \(link.lossRate * 100) % per packet"
}

func phiConfiguration(threshold: Double, pause: Duration, minimumDeviation: Duration, misses: Int) -> HeartbeatConfiguration {
    HeartbeatConfiguration(
        failureDetector: .phiAccrual(PhiAccrualConfiguration(
            threshold: threshold, minimumStandardDeviation: minimumDeviation, acceptablePause: pause)),
        missedPongsBeforeDead: misses)
}

if stalling {
    runStallReport(scale: scale)
    exit(0)
}

let link = LinkModel()
print("link: \(describe(link))")
print("scale: \(scale.heartbeats) heartbeats of live peer in \(scale.trials) silent-peer trials, seed \(scale.seed)")
print("")

if tuning {
    var reports: [PolicyReport] = []
    for misses in [2, 3, 4] {
        for threshold in [3.0, 8.0, 12.0] {
            for pause in [Duration.zero, .milliseconds(150), .milliseconds(400)] {
                for deviation in [Duration.milliseconds(50), .milliseconds(100), .milliseconds(200)] {
                    let name = "phi \(Int(threshold)), pause \(milliseconds(pause)), min sd \(milliseconds(deviation)), dead after \(misses)"
                    reports.append(runExperiment(
                        name: name,
                        configuration: phiConfiguration(threshold: threshold, pause: pause, minimumDeviation: deviation, misses: misses),
                        link: link, scale: scale))
                }
            }
        }
    }
    print(formatTable(reports))
} else {
    var fixedTwoMisses = HeartbeatConfiguration.fixedTimeout
    fixedTwoMisses.missedPongsBeforeDead = 2
    var fixedTuned = HeartbeatConfiguration.fixedTimeout
    fixedTuned.ackTimeout = .milliseconds(800)
    fixedTuned.missedPongsBeforeDead = 3
    let policies: [(String, HeartbeatConfiguration)] = [
        ("fixed 30 s / 3 s, dead after 1 miss (seed design)", .fixedTimeout),
        ("fixed 30 s / 3 s, dead after 2 misses", fixedTwoMisses),
        ("fixed 30 s / 0.8 s, dead after 3 misses (hand-tuned)", fixedTuned),
        ("phi-accrual 30 s, defaults (dead after 3 misses)", HeartbeatConfiguration()),
    ]
    print(formatTable(policies.map { runExperiment(name: $0.0, configuration: $0.1, link: link, scale: scale) }))

    // The same policies on a slower path: what adapting buys over a timeout tuned for the first.
    var slow = link
    slow.medianDelay = .milliseconds(250)
    print("")
    print("slower link: \(describe(slow))")
    print("")
    print(formatTable(policies.map { runExperiment(name: $0.0, configuration: $0.1, link: slow, scale: scale) }))
}

/// φ-accrual alone against φ-accrual with local health while our own process stalls 1–5 s at
/// random, the peer alive throughout (issue 12; docs/heartbeat.md, "Local health").
func runStallReport(scale: ExperimentScale) {
    let stalls = LocalStallModel()
    let stallText = "our process stalls \(stalls.stallsPerHour) times/h for "
        + "\(milliseconds(stalls.duration.lowerBound))-\(milliseconds(stalls.duration.upperBound)) "
        + "(nothing of ours runs; on resume timers first, then the packets that arrived)"
    // Where stalls decide: a short interval and the first missed pong declares death, on a path
    // that loses nothing, so that every false verdict left is the stall's (or the delay tail's).
    let clean = LinkModel(lossRate: 0, stallsPerHour: 0)
    var short = HeartbeatConfiguration(pingInterval: .seconds(1), missedPongsBeforeDead: 1)
    short.localHealth = nil
    var shortWithHealth = short
    shortWithHealth.localHealth = LocalHealthPolicy()
    var withAllowance = short
    withAllowance.localHealth = LocalHealthPolicy(allowanceMultiplier: 1)
    print("link: \(describe(clean))")
    print("stalls: \(stallText)")
    print("scale: \(scale.heartbeats) heartbeats of live peer in \(scale.trials) silent-peer trials, seed \(scale.seed)")
    print("")
    let reports = [
        runExperiment(name: "phi-accrual, 1 s, dead after 1 miss", configuration: short, link: clean,
                      scale: scale, localStalls: stalls),
        runExperiment(name: "phi-accrual + local health (defaults: hold 50 ms, no allowance)", configuration: shortWithHealth,
                      link: clean, scale: scale, localStalls: stalls),
        runExperiment(name: "phi-accrual + local health, allowance 1 x lag (half-life 2 s, cap 0.5 s)",
                      configuration: withAllowance, link: clean, scale: scale, localStalls: stalls),
        runExperiment(name: "phi-accrual, 1 s, dead after 1 miss, no stalls (reference)", configuration: short,
                      link: clean, scale: scale),
    ]
    print(formatTable(reports))
    print("stalls met: \(reports.map { String($0.localStalls) }.joined(separator: " / "))")
    print("")

    // The defaults on the issue-3 link: what local health costs where stalls rarely decide.
    let defaults = HeartbeatConfiguration()  // local health is off by default
    var defaultsWithHealth = defaults
    defaultsWithHealth.localHealth = LocalHealthPolicy()
    let link = LinkModel()
    print("link: \(describe(link))")
    print("stalls: \(stallText)")
    print("")
    print(formatTable([
        runExperiment(name: "phi-accrual 30 s, defaults", configuration: defaults, link: link,
                      scale: scale, localStalls: stalls),
        runExperiment(name: "phi-accrual 30 s, defaults + local health", configuration: defaultsWithHealth,
                      link: link, scale: scale, localStalls: stalls),
        runExperiment(name: "phi-accrual 30 s, defaults, no stalls (reference)", configuration: defaults,
                      link: link, scale: scale),
    ]))
}
