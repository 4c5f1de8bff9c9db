import Framing
import Glibc
import Heartbeat
import Transports

/// `hb probe`: ping(8) at the protocol level.
enum ProbeCommand {
    static let usage = """
        usage: hb probe --dialect tcp|http2|ws HOST:PORT|ws://HOST:PORT/PATH [--count N] [--interval S] [--timeout S] [--no-local-health]

        Connects to HOST:PORT and sends heartbeats like ping(8): TCP envelope PINGs, HTTP/2 PINGs over
        cleartext HTTP/2 with prior knowledge (client preface, SETTINGS, SETTINGS ACK) to any HTTP/2 server,
        or WebSocket Pings after the opening handshake (RFC 6455) to any ws:// server.
        Prints one line per reply and a min/avg/max/mdev summary.
          --count N     pings to send (default 5)
          --interval S  seconds between pings (default 1)
          --timeout S   seconds to wait for each reply (default 2)
          --no-local-health  judge replies even while our own process lags (by default a reply
                        that waited for us while we were stopped or starved is not counted lost)
        Exit status: 0 if every ping was answered, 1 if any was lost or the connection failed, 2 usage.
        """

    static func run(_ arguments: [String]) async -> Int32 {
        let parsed = parseCommand("probe", arguments, usage: usage, valueOptions: ["--dialect", "--count", "--interval", "--timeout"],
                                  flagOptions: ["--no-local-health"]) {
            (parsed) throws(UsageError) in
            let dialect = try parseDialect(parsed.value("--dialect"), allowQUIC: false)
            guard parsed.positionals.count == 1 else { throw UsageError(parsed.positionals.isEmpty ? "HOST:PORT is required" : "one HOST:PORT only") }
            let count = try parsed.value("--count", default: 5) { Int($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil } }
            return (dialect, parsed.positionals[0], count, try parsed.value("--interval", default: Duration.seconds(1), parseSeconds),
                    try parsed.value("--timeout", default: Duration.seconds(2), parseSeconds), !parsed.flag("--no-local-health"))
        }
        guard case .run(let (dialect, target, count, interval, ackTimeout, localHealth)) = parsed else { return parsed.exitStatus }
        do {
            return try await probe(target, dialect: dialect, count: count, interval: interval, ackTimeout: ackTimeout,
                                   localHealth: localHealth)
        } catch {
            complain("hb probe: \(target): \(error)")
            return ExitStatus.failure
        }
    }

    static func probe(_ target: String, dialect: CommandLineDialect, count: Int, interval: Duration, ackTimeout: Duration,
                      localHealth: Bool = true) async throws -> Int32 {
        let (host, stream) = try dialect.target(target)
        let address = try SocketAddress(parsing: host)
        let loop = try EventLoop()
        defer { loop.shutdown() }
        // Every ping is sent on schedule and judged on its own: no retries, no giving up.
        var heartbeat = HeartbeatConfiguration.fixedTimeout
        heartbeat.pingInterval = interval
        heartbeat.ackTimeout = ackTimeout
        heartbeat.missedPongsBeforeDead = Int.max / 2
        heartbeat.maxOutstandingPings = 4
        heartbeat.circuitBreakerThreshold = Int.max / 2
        heartbeat.trafficCountsAsLiveness = false
        // The probed server's own keepalive pings are answered, never policed: it is not abusing us.
        heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        heartbeat.backoff = BackoffSchedule(steps: [BackoffStep(failures: 1, delay: interval, jitter: 0)])
        // A reply that waited in the kernel while our own process was stopped is not lost (issue 12).
        heartbeat.localHealth = localHealth ? LocalHealthPolicy() : nil
        var configuration = ConnectionConfiguration(dialect: stream, heartbeat: heartbeat)
        configuration.closeOnPeerDead = false
        let connection = try await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop)
        say("PROBE \(target) (\(address)) \(dialect.title) PING, \(count) pings every \(fixed(interval.secondsValue, 3)) s")
        // Drain business frames (SETTINGS, WINDOW_UPDATE, ...) so reading never stops.
        let drain = Task { do { for try await _ in connection.inbound {} } catch {} }
        var sent = 0, answered = 0, missed = 0
        var samples: [Double] = []
        var failure: TransportError?
        for await event in connection.events {
            switch event {
            case .heartbeat(let heartbeat):
                switch heartbeat.kind {
                case .pingSent: sent += 1
                case .rttSample(let rtt):
                    answered += 1
                    let ms = Double(rtt.latest.nanosecondCount) / 1e6
                    samples.append(ms)
                    say("reply from \(address): seq=\(answered + missed) time=\(fixed(ms, 3)) ms")
                case .pongAfterLocalLag(_, let roundTrip):
                    answered += 1
                    let ms = Double(roundTrip.nanosecondCount) / 1e6
                    say("reply from \(address): seq=\(answered + missed) time=\(fixed(ms, 3)) ms (waited for our own lag; not an RTT sample)")
                case .localLag(let lateness, _):
                    say("local lag: our own process was \(fixed(Double(lateness.nanosecondCount) / 1e6, 3)) ms late")
                case .pongMissed(let payload, _):
                    missed += 1
                    say("no reply from \(address): seq=\(answered + missed) (ping \(payload.sequence) timed out after \(fixed(ackTimeout.secondsValue, 3)) s)")
                default:
                    break
                }
            case .peerGoAway(let code, let reason):
                say("peer sent GOAWAY code \(code)\(reason.isEmpty ? "" : " \"\(reason)\"")")
            case .closed(let error):
                if error != .closed { failure = error }
            }
            if answered + missed >= count { break }
        }
        await connection.close()
        drain.cancel()
        let loss = sent == 0 ? 100 : Double(sent - answered) * 100 / Double(max(sent, answered + missed))
        say("--- \(target) probe statistics ---")
        say("\(answered + missed) pings sent, \(answered) replies, \(fixed(loss, 1))% loss")
        if !samples.isEmpty {
            let mean = samples.reduce(0, +) / Double(samples.count)
            let deviation = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)).squareRoot()
            say("rtt min/avg/max/mdev = \(fixed(samples.min()!, 3))/\(fixed(mean, 3))/\(fixed(samples.max()!, 3))/\(fixed(deviation, 3)) ms")
        }
        if let failure { complain("hb probe: connection failed: \(failure)") }
        return failure == nil && missed == 0 && answered >= count ? ExitStatus.success : ExitStatus.failure
    }
}
