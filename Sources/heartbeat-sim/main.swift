// Prints the simulation report that decides the engine's defaults (issue 3, docs/heartbeat.md).
// Usage: heartbeat-sim [heartbeats] [trials] [seed]    the report
//        heartbeat-sim tune [heartbeats] [trials]      the phi-accrual parameter sweep
import Heartbeat
import Simulation

var commandLine = Array(CommandLine.arguments.dropFirst())
let tuning = commandLine.first == "tune"
if tuning { commandLine.removeFirst() }
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
