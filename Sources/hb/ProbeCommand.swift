import Framing
import Glibc
import Heartbeat
import Transports

/// `hb probe`: ping(8) at the protocol level.
enum ProbeCommand {
    static let usage = """
        usage: hb probe --dialect tcp|http2|ws|tls|mqtt|amqp|resp|lines HOST:PORT|ws://HOST:PORT/PATH|mqtt5://HOST:PORT [--count N] [--interval S] [--timeout S]
                        [--format text|jsonl] [--histogram] [--no-local-health] [--reconnect]

        Connects to HOST:PORT and sends heartbeats like ping(8): TCP envelope PINGs, HTTP/2 PINGs over
        cleartext HTTP/2 with prior knowledge (client preface, SETTINGS, SETTINGS ACK) to any HTTP/2 server,
        or WebSocket Pings after the opening handshake (RFC 6455) to any ws:// server, or MQTT PINGREQs after
        CONNECT/CONNACK (MQTT 3.1.1; mqtt5:// for 5.0) with a Keep Alive of the interval rounded up to seconds.
        --dialect tls sends RFC 6520 heartbeat requests in plaintext TLS records (spec/tls.md): for TLS
        stacks' plaintext record layer and test peers, not for a TLS port (which expects a ClientHello).
        resp: Redis PING to any RESP server, answered +PONG (in order); HOST:PORT/echo sends
        PING <message> instead, answered by its echo. lines: PING lines, answered PONG.
        Prints one line per reply and a min/avg/max/mdev summary. When the peer answers in another
        protocol (an HTTP/1.x status line, a TLS alert or handshake, an envelope or HTTP/2 preface, an
        SSH banner), says so instead of reporting a framing error. AMQP 0-9-1 heartbeats answer nothing:
        the probe logs in as guest, asks for an --interval heartbeat (whole seconds), sends N beats and
        prints, at each, how many heartbeats the server sent; the server is dead after 2 silent
        intervals (jsonl events: start, beat {"seq","heartbeats_received","peer_alive"}, peer_dead,
        summary {"sent","heartbeats_received","peer_alive"[,"error"]}).
          --count N       pings to send (default 5)
          --interval S    seconds between pings (default 1)
          --timeout S     seconds to wait for each reply (default 2; amqp: the handshake's share of the
                          whole probe's time limit, timeout + interval × (count + 3))
          --histogram     end with a histogram of the round-trip times
          --reconnect     keep probing across connections: when the server dies, resets, refuses or is declared
                          dead (2 replies missed in a row), reconnect on the backoff schedule (100 ms, 400 ms,
                          1.2 s with jitter) behind a circuit breaker (8 failures: 2 s cool-down, then one probe);
                          prints each health change ("health: down (...); next attempt in S s"; jsonl: health
                          {"state","reason"[,"next_attempt_ms"]}, reply {"seq","rtt_ms"}, loss {"seq","ping"},
                          summary {"target","replies","losses","attempts"[,"error"]}) and ends after --count
                          replies (exit 0), or fails after --count x --interval + 30 s. Not for amqp.
          --no-local-health  judge replies even while our own process lags (by default a reply that
                          waited for us while we were stopped or starved is not counted lost)
          --format jsonl  one JSON object per line instead of text (times in milliseconds):
            {"event":"start","target":T,"address":A,"dialect":D,"count":N,"interval_ms":F,"timeout_ms":F}
            {"event":"reply","seq":N,"rtt_ms":F,"srtt_ms":F}                a ping answered
            {"event":"reply","seq":N,"rtt_ms":F,"after_local_lag":true}     answered while we lagged (no RTT sample)
            {"event":"local_lag","late_ms":F}                               our own process was late
            {"event":"loss","seq":N,"ping":N,"timeout_ms":F}                 a ping unanswered in time
                                                                         (ping: its payload's sequence number)
            {"event":"goaway","code":N,"reason":S}                          the peer is closing
            {"event":"other_protocol","protocol":S,"detail":S,"message":S}   the peer speaks another protocol
            {"event":"summary","target":T,"sent":N,"replies":N,"loss_percent":F,
             "rtt_min_ms":F,"rtt_avg_ms":F,"rtt_max_ms":F,"rtt_mdev_ms":F,   (rtt_*: only with replies)
             "histogram":[{"from_ms":F,"to_ms":F,"count":N},...],            (only with --histogram)
             "error":S}                                                      (only if the connection failed)
        Exit status: 0 if every ping was answered, 1 if any was lost or the connection failed, 2 usage.
        """

    /// What the command line asked for.
    struct Options {
        var dialect: CommandLineDialect
        var target: String
        var count: Int
        var interval: Duration
        var ackTimeout: Duration
        var format: OutputFormat
        var histogram: Bool
        /// Whether the engine's local-health awareness is on (`--no-local-health` turns it off).
        var localHealth: Bool
        /// Whether to reconnect when the connection ends (`--reconnect`).
        var reconnect = false
    }

    static func run(_ arguments: [String]) async -> Int32 {
        let parsed = parseCommand("probe", arguments, usage: usage,
                                  valueOptions: ["--dialect", "--count", "--interval", "--timeout", "--format"],
                                  flagOptions: ["--histogram", "--no-local-health", "--reconnect"]) { (parsed) throws(UsageError) in
            let dialect = try parseDialect(parsed.value("--dialect"), allowQUIC: false)
            guard parsed.positionals.count == 1 else { throw UsageError(parsed.positionals.isEmpty ? "HOST:PORT is required" : "one HOST:PORT only") }
            let count = try parsed.value("--count", default: 5) { Int($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil } }
            if parsed.flag("--reconnect"), case .unilateral? = dialect.stream?.liveness {
                throw UsageError("--reconnect does not apply to \(dialect.dialect.name)")
            }
            return Options(dialect: dialect, target: parsed.positionals[0], count: count,
                           interval: try parsed.value("--interval", default: Duration.seconds(1), parseSeconds),
                           ackTimeout: try parsed.value("--timeout", default: Duration.seconds(2), parseSeconds),
                           format: try parsed.value("--format", default: OutputFormat.text) { OutputFormat(rawValue: $0) },
                           histogram: parsed.flag("--histogram"), localHealth: !parsed.flag("--no-local-health"),
                           reconnect: parsed.flag("--reconnect"))
        }
        guard case .run(let options) = parsed else { return parsed.exitStatus }
        do {
            return try await probe(options)
        } catch {
            if options.format == .jsonl {
                var summary = JSONLine(event: "summary")
                summary.add("target", options.target)
                summary.add("sent", 0)
                summary.add("replies", 0)
                summary.add("loss_percent", 100.0, digits: 1)
                summary.add("error", "\(error)")
                say(summary.line)
            }
            complain("hb probe: \(options.target): \(error)")
            return ExitStatus.failure
        }
    }

    static func probe(_ options: Options) async throws -> Int32 {
        let (dialect, target, count, interval, ackTimeout) = (options.dialect, options.target, options.count, options.interval, options.ackTimeout)
        let jsonl = options.format == .jsonl
        let (host, spoken) = try dialect.target(target)
        let stream = dialect.atInterval(spoken, interval)
        let address = try SocketAddress(parsing: host)
        if options.reconnect { return try await probeReconnecting(options, address: address, stream: stream) }
        if case .unilateral(let intervals) = stream.liveness {
            return try await probeUnilateral(options, address: address, stream: stream, deadAfter: intervals)
        }
        let loop = try EventLoop()
        defer { loop.shutdown() }
        // Every ping is sent on schedule and judged on its own: no retries, no giving up.
        var heartbeat = HeartbeatConfiguration.fixedTimeout
        heartbeat.pingInterval = interval
        heartbeat.ackTimeout = ackTimeout
        heartbeat.missedPongsBeforeDead = Int.max / 2
        // RFC 6520 §3: at most one HeartbeatRequest in flight; other dialects allow a few.
        heartbeat.maxOutstandingPings = dialect.dialect == .tls ? 1 : 4
        heartbeat.circuitBreakerThreshold = Int.max / 2
        heartbeat.trafficCountsAsLiveness = false
        // The probed server's own keepalive pings are answered, never policed: it is not abusing us.
        heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        heartbeat.backoff = BackoffSchedule(steps: [BackoffStep(failures: 1, delay: interval, jitter: 0)])
        // A reply that waited in the kernel while our own process was stopped is not lost (issue 12).
        heartbeat.localHealth = options.localHealth ? LocalHealthPolicy() : nil
        // The peer's first octets are kept so that a peer speaking another protocol can be named.
        let firstOctets = FirstOctets()
        var configuration = ConnectionConfiguration(dialect: sniffing(stream, into: firstOctets), heartbeat: heartbeat)
        configuration.closeOnPeerDead = false
        if !options.localHealth { configuration.localHealth = nil }
        let connection = try await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop)
        if jsonl {
            var start = JSONLine(event: "start")
            start.add("target", target)
            start.add("address", "\(address)")
            start.add("dialect", dialect.dialect.name)
            start.add("count", count)
            start.add("interval_ms", interval.secondsValue * 1e3)
            start.add("timeout_ms", ackTimeout.secondsValue * 1e3)
            say(start.line)
        } else {
            say("PROBE \(target) (\(address)) \(dialect.title) PING, \(count) pings every \(fixed(interval.secondsValue, 3)) s")
        }
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
                    if jsonl {
                        var reply = JSONLine(event: "reply")
                        reply.add("seq", answered + missed)
                        reply.add("rtt_ms", ms)
                        reply.add("srtt_ms", Double(rtt.smoothed.nanosecondCount) / 1e6)
                        say(reply.line)
                    } else {
                        say("reply from \(address): seq=\(answered + missed) time=\(fixed(ms, 3)) ms")
                    }
                case .pongAfterLocalLag(_, let roundTrip):
                    answered += 1
                    let ms = Double(roundTrip.nanosecondCount) / 1e6
                    if jsonl {
                        var reply = JSONLine(event: "reply")
                        reply.add("seq", answered + missed)
                        reply.add("rtt_ms", ms)
                        reply.add("after_local_lag", json: "true")
                        say(reply.line)
                    } else {
                        say("reply from \(address): seq=\(answered + missed) time=\(fixed(ms, 3)) ms (waited for our own lag; not an RTT sample)")
                    }
                case .localLag(let lateness, _):
                    if jsonl {
                        var lag = JSONLine(event: "local_lag")
                        lag.add("late_ms", Double(lateness.nanosecondCount) / 1e6)
                        say(lag.line)
                    } else {
                        say("local lag: our own process was \(fixed(Double(lateness.nanosecondCount) / 1e6, 3)) ms late")
                    }
                case .pongMissed(let payload, _):
                    missed += 1
                    if jsonl {
                        var loss = JSONLine(event: "loss")
                        loss.add("seq", answered + missed)
                        loss.add("ping", Int(payload.sequence))
                        loss.add("timeout_ms", ackTimeout.secondsValue * 1e3)
                        say(loss.line)
                    } else {
                        say("no reply from \(address): seq=\(answered + missed) (ping \(payload.sequence) timed out after \(fixed(ackTimeout.secondsValue, 3)) s)")
                    }
                default:
                    break
                }
            case .peerGoAway(let code, let reason):
                if jsonl {
                    var goAway = JSONLine(event: "goaway")
                    goAway.add("code", Int(truncatingIfNeeded: code))
                    goAway.add("reason", reason)
                    say(goAway.line)
                } else {
                    say("peer sent GOAWAY code \(code)\(reason.isEmpty ? "" : " \"\(reason)\"")")
                }
            case .closed(let error):
                if error != .closed { failure = error }
            }
            if answered + missed >= count { break }
        }
        await connection.close()
        drain.cancel()
        // A failure before the peer's first frame decoded: perhaps it speaks another protocol.
        var failureText = failure.map { "\($0)" }
        if failure != nil, !firstOctets.decodedAFrame, let explanation = PeerSniffer.explain(firstOctets.value, expected: dialect) {
            failureText = explanation.message
            if jsonl {
                var other = JSONLine(event: "other_protocol")
                other.add("protocol", explanation.sniffed.name)
                other.add("detail", explanation.sniffed.detail)
                other.add("message", explanation.message)
                say(other.line)
            }
        }
        let loss = sent == 0 ? 100 : Double(sent - answered) * 100 / Double(max(sent, answered + missed))
        let histogram = options.histogram ? RTTHistogram(samples) : nil
        if jsonl {
            var summary = JSONLine(event: "summary")
            summary.add("target", target)
            summary.add("sent", answered + missed)
            summary.add("replies", answered)
            summary.add("loss_percent", loss, digits: 1)
            if let statistics = RTTStatistics(samples) {
                summary.add("rtt_min_ms", statistics.minimum)
                summary.add("rtt_avg_ms", statistics.mean)
                summary.add("rtt_max_ms", statistics.maximum)
                summary.add("rtt_mdev_ms", statistics.deviation)
            }
            if let histogram { summary.add("histogram", json: histogram.json) }
            if let failureText { summary.add("error", failureText) }
            say(summary.line)
        } else {
            say("--- \(target) probe statistics ---")
            say("\(answered + missed) pings sent, \(answered) replies, \(fixed(loss, 1))% loss")
            if let statistics = RTTStatistics(samples) {
                say("rtt min/avg/max/mdev = \(fixed(statistics.minimum, 3))/\(fixed(statistics.mean, 3))/\(fixed(statistics.maximum, 3))/\(fixed(statistics.deviation, 3)) ms")
            }
            histogram?.lines().forEach(say)
        }
        if let failureText { complain("hb probe: \(failure.map { _ in "connection failed: " } ?? "")\(failureText)") }
        return failure == nil && missed == 0 && answered >= count ? ExitStatus.success : ExitStatus.failure
    }
}

/// ping(8)'s summary of round-trip times in milliseconds: min, mean, max and the standard deviation.
struct RTTStatistics {
    var minimum: Double
    var mean: Double
    var maximum: Double
    var deviation: Double

    /// The statistics of `samples`; nil when there are none.
    init?(_ samples: [Double]) {
        guard let minimum = samples.min(), let maximum = samples.max() else { return nil }
        let mean = samples.reduce(0, +) / Double(samples.count)
        self.minimum = minimum
        self.maximum = maximum
        self.mean = mean
        self.deviation = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)).squareRoot()
    }
}
