// How long a task blocked reading a silent connection takes to return once cancelled, over real
// loopback sockets with a 30 s heartbeat configured (nothing else will wake it), against the
// same measurement for a task blocked in Task.sleep(for: 30 s) in the same run.
// Usage: swift run -c release cancellation-latency [ROUNDS]
import Glibc
import Heartbeat
import Transports

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = String(Int(scaled) - whole * Int(scale))
    return digits == 0 ? String(whole) : "\(whole).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
}

/// Microseconds from `cancel()` to the cancelled task's completion, for a task made by `start`
/// once it is blocked.
func measure(rounds: Int, _ start: () async throws -> Task<Void, Never>) async rethrows -> [Double] {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let task = try await start()
        try? await Task.sleep(for: .milliseconds(2))  // let it block
        let begin = EventLoop.now()
        task.cancel()
        await task.value
        samples.append(Double((EventLoop.now() - begin).nanosecondCount) / 1000)
    }
    return samples
}

func main() async throws {
    let rounds = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 500
    let loop = try EventLoop()
    var heartbeat = HeartbeatConfiguration.fixedTimeout
    heartbeat.pingInterval = .seconds(30)
    heartbeat.ackTimeout = .seconds(30)
    let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat)
    let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
    // The server accepts and never sends anything but its preface: a silent peer.
    let server = Task { for await connection in listener.connections { _ = connection } }
    let connection = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)

    let reads = await measure(rounds: rounds) {
        Task {
            var iterator = connection.inbound.makeAsyncIterator()
            _ = try? await iterator.next()
        }
    }
    let sleeps = await measure(rounds: rounds) {
        Task { try? await Task.sleep(for: .seconds(30)) }
    }
    print("cancelling a task blocked on a silent connection (30 s heartbeat), \(rounds) rounds, loopback TCP:")
    for (name, samples) in [("connection.inbound.next()", reads), ("Task.sleep(for: 30 s) baseline", sleeps)] {
        print("  \(name + String(repeating: " ", count: max(0, 32 - name.count))) median \(fixed(percentile(samples, 0.5), 1)) µs   p99 \(fixed(percentile(samples, 0.99), 1)) µs   max \(fixed(samples.max() ?? 0, 1)) µs")
    }
    print("  ratio of medians (read / sleep): \(fixed(percentile(reads, 0.5) / percentile(sleeps, 0.5), 2))")
    await connection.close()
    await listener.close()
    server.cancel()
    loop.shutdown()
}

try await main()
