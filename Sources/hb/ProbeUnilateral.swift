import Framing
import Heartbeat
import Transports

extension ProbeCommand {
    /// `hb probe` for a dialect whose heartbeats nothing answers (AMQP 0-9-1): connects, lets the
    /// dialect's handshake settle the interval, sends `count` beats and reports, at each, how many
    /// heartbeats the peer sent and whether it is alive (heard from within `deadAfter` intervals).
    /// Exit status 0 when every beat went out, the peer beat at least once and was never dead.
    static func probeUnilateral(_ options: Options, address: SocketAddress, stream: any StreamDialect, deadAfter: Int) async throws -> Int32 {
        let (target, count, interval, ackTimeout) = (options.target, options.count, options.interval, options.ackTimeout)
        let jsonl = options.format == .jsonl
        let loop = try EventLoop()
        defer { loop.shutdown() }
        var heartbeat = HeartbeatConfiguration.fixedTimeout
        heartbeat.pingInterval = interval
        // The peer's beats are never policed: it beats as often as it likes.
        heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        var configuration = ConnectionConfiguration(dialect: stream, heartbeat: heartbeat)
        configuration.closeOnPeerDead = false
        let connection = try await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop)
        if jsonl {
            var start = JSONLine(event: "start")
            start.add("target", target)
            start.add("address", "\(address)")
            start.add("dialect", options.dialect.dialect.name)
            start.add("count", count)
            start.add("interval_ms", interval.secondsValue * 1e3)
            start.add("dead_after_intervals", deadAfter)
            say(start.line)
        } else {
            say("PROBE \(target) (\(address)) \(options.dialect.title) heartbeat, \(count) beats every \(fixed(interval.secondsValue, 3)) s asked for; "
                + "the peer is dead after \(deadAfter) silent intervals")
        }
        let drain = Task { do { for try await _ in connection.inbound {} } catch {} }
        // The handshake, then every beat: a bound on the whole probe, whatever the peer does.
        let limit = ackTimeout + interval * (count + deadAfter + 1)
        let watchdog = Task {
            try await Task.sleep(for: limit)
            if !jsonl { say("no beat for \(fixed(limit.secondsValue, 3)) s: giving up") }
            await connection.close()
        }
        var sent = 0, deaths = 0
        var failure: TransportError?
        for await event in connection.events {
            switch event {
            case .heartbeat(let heartbeat):
                switch heartbeat.kind {
                case .pingSent:
                    sent += 1
                    let counters = connection.counters
                    let alive = connection.state != .failed
                    if jsonl {
                        var beat = JSONLine(event: "beat")
                        beat.add("seq", sent)
                        beat.add("heartbeats_received", counters.pingsReceived)
                        beat.add("peer_alive", json: alive ? "true" : "false")
                        say(beat.line)
                    } else {
                        say("beat \(sent) sent: \(counters.pingsReceived) heartbeats from \(address) so far, peer \(alive ? "alive" : "dead")")
                    }
                case .peerDead(let reason):
                    deaths += 1
                    if jsonl {
                        var dead = JSONLine(event: "peer_dead")
                        dead.add("reason", "\(reason)")
                        say(dead.line)
                    } else {
                        say("peer dead: \(reason)")
                    }
                case .peerRecovered:
                    if !jsonl { say("peer heard from again") }
                default:
                    break
                }
            case .peerGoAway(let code, let reason):
                if !jsonl { say("peer sent Close code \(code)\(reason.isEmpty ? "" : " \"\(reason)\"")") }
            case .closed(let error):
                if error != .closed { failure = error }
            }
            if sent >= count { break }
        }
        watchdog.cancel()
        let received = connection.counters.pingsReceived
        let alive = connection.state != .failed && deaths == 0
        await connection.close()
        drain.cancel()
        if jsonl {
            var summary = JSONLine(event: "summary")
            summary.add("target", target)
            summary.add("sent", sent)
            summary.add("heartbeats_received", received)
            summary.add("peer_alive", json: alive ? "true" : "false")
            if let failure { summary.add("error", "\(failure)") }
            say(summary.line)
        } else {
            say("--- \(target) heartbeat statistics ---")
            say("\(sent) beats sent, \(received) heartbeats received, peer \(alive ? "alive" : "dead")"
                + (deaths > 0 ? " (declared dead \(deaths) time(s))" : ""))
        }
        if let failure { complain("hb probe: connection failed: \(failure)") }
        return failure == nil && sent >= count && received > 0 && alive ? ExitStatus.success : ExitStatus.failure
    }
}
