// The HTTP/2 PING path: 10^6 PINGs demuxed, each answered with a PING ACK appended to a reused
// buffer, through the run-time `Demuxer(dialect: .http2)` (one dynamic call per feed) and, where
// the library has it, the compile-time `StreamDemuxer` over `HTTP2FrameDecoder`. Prints ns per
// PING as the median of 9 runs. The ACK is written with `HTTP2Frame.appendPing`, which every
// version of the library has, so the same source measures the library before and after a change:
// `Benchmarks/compare.sh` builds it against two commits and runs them side by side.
// Usage: swift run -c release ping-ack [PINGS]
import Framing
import Glibc

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
var input: [UInt8] = []
input.reserveCapacity(count * 17)
for index in 0..<count {
    HTTP2Frame.appendPing(HeartbeatPayload(sequence: UInt32(truncatingIfNeeded: index), timestampMilliseconds: 7), ack: false, to: &input)
}
var output: [UInt8] = []
output.reserveCapacity(64)

/// One pass: every PING answered into `output` (cleared per PING, as a writer would drain it).
@inline(never)
func runDemuxer(_ input: [UInt8], _ output: inout [UInt8]) throws -> (seconds: Double, acks: Int) {
    var demuxer = Demuxer(dialect: .http2)
    var acks = 0
    let start = now()
    try demuxer.feed(input) { item, _ in
        if case .ping(let payload) = item {
            output.removeAll(keepingCapacity: true)
            HTTP2Frame.appendPing(payload, ack: true, to: &output)
            acks &+= Int(output[16])
        }
    }
    return (now() - start, acks)
}

@inline(never)
func runStreamDemuxer(_ input: [UInt8], _ output: inout [UInt8]) throws -> (seconds: Double, acks: Int) {
    var demuxer = StreamDemuxer(HTTP2FrameDecoder())
    var acks = 0
    let start = now()
    try demuxer.feed(input) { item, _ in
        if case .ping(let payload) = item {
            output.removeAll(keepingCapacity: true)
            HTTP2Frame.appendPing(payload, ack: true, to: &output)
            acks &+= Int(output[16])
        }
    }
    return (now() - start, acks)
}

func report(_ name: String, _ count: Int, _ run: () throws -> (seconds: Double, acks: Int)) rethrows {
    var samples: [Double] = []
    for _ in 0..<9 { samples.append(try run().seconds) }
    let median = samples.sorted()[samples.count / 2]
    print("\(name): \(Double(Int(median / Double(count) * 1e10)) / 10) ns per PING + ACK (median of 9, \(count) PINGs)")
}

try report("Demuxer(dialect: .http2)", count) { try runDemuxer(input, &output) }
try report("StreamDemuxer<HTTP2FrameDecoder>", count) { try runStreamDemuxer(input, &output) }
