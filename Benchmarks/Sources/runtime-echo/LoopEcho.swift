// The loop-thread API (ConnectionHandler) for both ends of the echo: no task, no hop. The client
// handler writes 8 octets, times the echo, writes again; it hands the measurement back once done.
import Framing
import Heartbeat
import RuntimeBenchCounters
import Transports

/// The server end: writes every business frame back as it came.
final class LoopEchoServer: ConnectionHandler {
    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        context.write(payload, type: header.type)
    }
}

/// The client end: warm-up rounds, then timed ones; `done` gets the measurement (on the loop).
final class LoopEchoClient: ConnectionHandler, @unchecked Sendable {
    let warmUp: Int
    let rounds: Int
    let done: @Sendable (Measurement) -> Void
    var samples: [Double]
    var round = 0
    var start = 0.0
    var switches: Int64 = 0
    var allocations: UInt64 = 0
    let message: [UInt8] = Array("8octets!".utf8)

    init(warmUp: Int, rounds: Int, done: @escaping @Sendable (Measurement) -> Void) {
        self.warmUp = warmUp
        self.rounds = rounds
        self.done = done
        self.samples = [Double](repeating: 0, count: rounds)
    }

    func connectionStarted(context: ConnectionContext) { send(context) }

    private func send(_ context: ConnectionContext) {
        if round == warmUp {
            switches = runtime_bench_context_switches()
            allocations = runtime_bench_allocations()
        }
        start = nowMicroseconds()
        message.withUnsafeBytes { context.write($0.bytes) }
    }

    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        let elapsed = nowMicroseconds() - start
        if round >= warmUp { samples[round - warmUp] = elapsed }
        round += 1
        if round < warmUp + rounds {
            send(context)
        } else {
            done(Measurement(samples: samples, switches: runtime_bench_context_switches() - switches,
                             allocations: runtime_bench_allocations() - allocations))
        }
    }
}

func runLoop(rounds: Int) async throws -> Measurement {
    let serverLoop = try EventLoop()
    let clientLoop = try EventLoop()
    var heartbeat = HeartbeatConfiguration()
    heartbeat.pingInterval = .seconds(3600)
    heartbeat.ackTimeout = .seconds(60)
    var serverConfiguration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat)
    serverConfiguration.handler = { LoopEchoServer() }
    let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: serverConfiguration,
                                                    on: serverLoop)
    let server = Task { for await connection in listener.connections { _ = connection } }
    let (measurements, finished) = AsyncStream.makeStream(of: Measurement.self)
    let client = LoopEchoClient(warmUp: max(1, rounds / 10), rounds: rounds) { measurement in
        finished.yield(measurement)
        finished.finish()
    }
    var clientConfiguration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat)
    clientConfiguration.handler = { client }
    let connection = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: clientConfiguration, on: clientLoop)
    var results = measurements.makeAsyncIterator()
    guard let measurement = await results.next() else { throw EchoFailure() }
    await connection.close()
    await listener.close()
    server.cancel()
    return measurement
}
