// The 8-octet business echo round trip over loopback TCP, client and server in one process on
// two event loops (as the C baseline uses two threads), for:
//   ours   the async API: HeartbeatConnection.write, then the client awaits connection.inbound;
//          the server task echoes each inbound frame (an envelope DATA frame of 8 octets)
//   loop   the loop-thread API (ConnectionHandler, LoopEcho.swift) at both ends: no task hop
//   nio    SwiftNIO 2: a client ChannelHandler and an echo ChannelHandler, one event loop each,
//          8 raw octets each way (SwiftNIO has no envelope)
// Prints one line of key=value figures, as Benchmarks/Runtime/pingpong.c does:
//   impl=ours rounds=N p50_us=.. p99_us=.. mean_us=.. csw_per_rt=.. mallocs_per_rt=..
// Context switches and allocations are the whole process's (all threads) over the timed rounds.
// Usage: runtime-echo ours|loop|nio [ROUNDS] [SAMPLES_FILE]   (pin it with taskset -c 0 for "pinned")
import Glibc
import Heartbeat
import NIOCore
import NIOPosix
import RuntimeBenchCounters
import Transports

func nowMicroseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1e6 + Double(time.tv_nsec) / 1e3
}

/// Timed rounds: samples, context switches and allocations over them.
struct Measurement {
    var samples: [Double]
    var switches: Int64
    var allocations: UInt64
}

func report(_ impl: String, _ measurement: Measurement, samplesFile: String?) {
    let rounds = measurement.samples.count
    if let samplesFile, let file = fopen(samplesFile, "w") {
        for sample in measurement.samples { fputs("\(sample)\n", file) }
        fclose(file)
    }
    let sorted = measurement.samples.sorted()
    let mean = sorted.reduce(0, +) / Double(rounds)
    func two(_ value: Double) -> String { String(Double(Int((value * 100).rounded())) / 100) }
    print("impl=\(impl) rounds=\(rounds) p50_us=\(two(sorted[rounds / 2])) p99_us=\(two(sorted[rounds * 99 / 100]))"
          + " mean_us=\(two(mean)) csw_per_rt=\(Double(measurement.switches) / Double(rounds))"
          + " mallocs_per_rt=\(Double(measurement.allocations) / Double(rounds))")
}

// MARK: ours, async API

func runOurs(rounds: Int) async throws -> Measurement {
    let serverLoop = try EventLoop()
    let clientLoop = try EventLoop()
    var heartbeat = HeartbeatConfiguration()
    heartbeat.pingInterval = .seconds(3600)  // business data only: no heartbeat in the timed rounds
    heartbeat.ackTimeout = .seconds(60)
    let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat)
    let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration,
                                                    on: serverLoop)
    let server = Task {
        for await connection in listener.connections {
            Task { for try await frame in connection.inbound { try await connection.write(frame.payload) } }
        }
    }
    let connection = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: clientLoop)
    let message: [UInt8] = Array("8octets!".utf8)
    var inbound = connection.inbound.makeAsyncIterator()
    for _ in 0..<max(1, rounds / 10) {  // warm-up
        try await connection.write(message)
        _ = try await inbound.next()
    }
    var samples = [Double](repeating: 0, count: rounds)
    let switches = runtime_bench_context_switches()
    let allocations = runtime_bench_allocations()
    for index in 0..<rounds {
        let start = nowMicroseconds()
        try await connection.write(message)
        guard try await inbound.next() != nil else { throw EchoFailure() }
        samples[index] = nowMicroseconds() - start
    }
    let measurement = Measurement(samples: samples, switches: runtime_bench_context_switches() - switches,
                                  allocations: runtime_bench_allocations() - allocations)
    await connection.close()
    await listener.close()
    server.cancel()
    return measurement
}

struct EchoFailure: Error {}

// MARK: SwiftNIO

final class NIOEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Writes 8 octets, waits for all 8 back, repeats: warm-up rounds first, then the timed ones.
final class NIOClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let warmUp: Int
    let rounds: Int
    let done: EventLoopPromise<Measurement>
    var samples: [Double]
    var round = 0
    var received = 0
    var start = 0.0
    var switches: Int64 = 0
    var allocations: UInt64 = 0
    var message: ByteBuffer?

    init(warmUp: Int, rounds: Int, done: EventLoopPromise<Measurement>) {
        self.warmUp = warmUp
        self.rounds = rounds
        self.done = done
        self.samples = [Double](repeating: 0, count: rounds)
    }

    func channelActive(context: ChannelHandlerContext) {
        message = context.channel.allocator.buffer(string: "8octets!")
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        if round == warmUp {
            switches = runtime_bench_context_switches()
            allocations = runtime_bench_allocations()
        }
        start = nowMicroseconds()
        context.writeAndFlush(wrapOutboundOut(message!), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received >= 8 else { return }
        received -= 8
        let elapsed = nowMicroseconds() - start
        if round >= warmUp { samples[round - warmUp] = elapsed }
        round += 1
        if round < warmUp + rounds {
            send(context: context)
        } else {
            done.succeed(Measurement(samples: samples, switches: runtime_bench_context_switches() - switches,
                                     allocations: runtime_bench_allocations() - allocations))
        }
    }
}

extension Measurement: Sendable {}

func runNIO(rounds: Int) async throws -> Measurement {
    let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let server = try await ServerBootstrap(group: serverGroup)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(NIOEchoHandler()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let done = clientGroup.next().makePromise(of: Measurement.self)
    let warmUp = max(1, rounds / 10)
    let client = try await ClientBootstrap(group: clientGroup)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOClientHandler(warmUp: warmUp, rounds: rounds, done: done))
            }
        }
        .connect(to: server.localAddress!).get()
    let measurement = try await done.futureResult.get()
    try await client.close()
    try await server.close()
    try await clientGroup.shutdownGracefully()
    try await serverGroup.shutdownGracefully()
    return measurement
}

// MARK: main

let arguments = CommandLine.arguments
guard arguments.count >= 2, ["ours", "loop", "nio"].contains(arguments[1]) else {
    print("usage: runtime-echo ours|loop|nio [ROUNDS] [SAMPLES_FILE]")
    exit(2)
}
let rounds = max(100, arguments.count > 2 ? Int(arguments[2]) ?? 20_000 : 20_000)
let samplesFile = arguments.count > 3 ? arguments[3] : nil
switch arguments[1] {
case "ours": report("ours", try await runOurs(rounds: rounds), samplesFile: samplesFile)
case "loop": report("loop", try await runLoop(rounds: rounds), samplesFile: samplesFile)
default: report("nio", try await runNIO(rounds: rounds), samplesFile: samplesFile)
}
