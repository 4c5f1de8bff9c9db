// The PING path of every built-in dialect, in one run (the cases are in CodecPingCases): N pings
// demuxed by `Demuxer(dialect:)` from one buffer (QUIC: one feed per packet of PING + 16 PADDING),
// each ping answered by the dialect's encoder into a reused buffer, beside a bare unsafe walk over
// the same HTTP/2 PINGs (the ceiling). Prints ns per ping, the median of 9 passes.
//   swift run -c release codec-ping [PINGS]           every dialect, timed
//   codec-ping --passes K NAME [PINGS]                K untimed passes of one case, for callgrind
//                                                     (Benchmarks/callgrind-ping.sh)
// NAME is a dialect name (tcp, http2, quic, ws, tls, mqtt, amqp, resp, lines) or `walk`.
import CodecPingCases
import Glibc

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--passes", arguments.count >= 3, let passes = Int(arguments[1]),
   let run = pingPathCase(arguments[2], arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000) {
    var sink = 0
    for _ in 0..<passes { sink &+= run.pass() }
    print("\(run.name): \(passes) passes of \(run.count), check \(sink)")
    exit(0)
}
let count = arguments.first.flatMap { Int($0) } ?? 1_000_000
for name in pingPathNames {
    guard let run = pingPathCase(name, count) else { continue }
    var samples: [Double] = []
    var check = 0
    for _ in 0..<9 {
        let start = now()
        check = run.pass()
        samples.append(now() - start)
    }
    let median = samples.sorted()[samples.count / 2]
    let nanoseconds = (median / Double(count) * 1e10).rounded() / 10
    print("\(name + String(repeating: " ", count: max(0, 8 - name.count))) \(nanoseconds) ns/ping (median of 9 passes of \(count); check \(check))")
}
