import Framing
import Heartbeat
import Synchronization
import Transports

/// `hb probe --reconnect`: the probe over a `ReconnectingConnection`, which reconnects on the
/// engine's backoff schedule, behind its circuit breaker, whenever the server dies or refuses.
extension ProbeCommand {
    /// Replies and losses counted across connections.
    private final class Tally: Sendable {
        private let counts = Mutex<(replies: Int, losses: Int)>((0, 0))
        func reply() -> Int { counts.withLock { $0.replies += 1; return $0.replies + $0.losses } }
        func loss() -> Int { counts.withLock { $0.losses += 1; return $0.replies + $0.losses } }
        var replies: Int { counts.withLock { $0.replies } }
        var losses: Int { counts.withLock { $0.losses } }
    }

    static func probeReconnecting(_ options: Options, address: SocketAddress, stream: any StreamDialect) async throws -> Int32 {
        let jsonl = options.format == .jsonl
        let loop = try EventLoop()
        defer { loop.shutdown() }
        var heartbeat = HeartbeatConfiguration.fixedTimeout
        heartbeat.pingInterval = options.interval
        heartbeat.ackTimeout = options.ackTimeout
        // Two missed pongs in a row declare the server dead; the link then reconnects.
        heartbeat.missedPongsBeforeDead = 2
        heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
        heartbeat.localHealth = options.localHealth ? LocalHealthPolicy() : nil
        var connectionConfiguration = ConnectionConfiguration(dialect: stream, heartbeat: heartbeat)
        if !options.localHealth { connectionConfiguration.localHealth = nil }
        let configuration = ReconnectConfiguration(
            connection: connectionConfiguration,
            circuitBreaker: CircuitBreaker(failureThreshold: 8, coolDown: .seconds(2)),
            writePolicy: .failFast, connectTimeout: options.ackTimeout)
        let link = ReconnectingConnection(to: address, configuration: configuration, on: loop)
        let bound = options.interval * options.count + .seconds(30)
        if jsonl {
            var start = JSONLine(event: "start")
            start.add("target", options.target)
            start.add("address", "\(address)")
            start.add("dialect", options.dialect.dialect.name)
            start.add("count", options.count)
            start.add("reconnect", json: "true")
            say(start.line)
        } else {
            say("PROBE \(options.target) (\(address)) \(options.dialect.title) PING, reconnecting, until \(options.count) replies "
                + "(at most \(fixed(bound.secondsValue, 1)) s)")
        }
        let tally = Tally()
        await link.start()
        let finished = await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                for await update in link.health { say(line(for: update, jsonl: jsonl)) }
                return nil
            }
            group.addTask {
                do { for try await _ in link.inbound {} } catch {}
                return nil
            }
            group.addTask {
                for await event in link.connectionEvents {
                    guard case .heartbeat(let heartbeat) = event else { continue }
                    switch heartbeat.kind {
                    case .rttSample(let rtt):
                        let seq = tally.reply()
                        if jsonl {
                            var reply = JSONLine(event: "reply")
                            reply.add("seq", seq)
                            reply.add("rtt_ms", rtt.latest.secondsValue * 1e3)
                            say(reply.line)
                        } else {
                            say("reply from \(address): seq=\(seq) time=\(milliseconds(rtt.latest)) ms")
                        }
                        if tally.replies >= options.count { return true }
                    case .pongMissed(let payload, _):
                        let seq = tally.loss()
                        if jsonl {
                            var loss = JSONLine(event: "loss")
                            loss.add("seq", seq)
                            loss.add("ping", Int(payload.sequence))
                            say(loss.line)
                        } else {
                            say("no reply from \(address): seq=\(seq) (ping \(payload.sequence))")
                        }
                    default:
                        break
                    }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: bound)
                return false
            }
            var finished = false
            for await outcome in group {
                guard let outcome else { continue }
                finished = outcome
                break
            }
            await link.close()
            group.cancelAll()
            return finished
        }
        let connections = await link.attempts
        if jsonl {
            var summary = JSONLine(event: "summary")
            summary.add("target", options.target)
            summary.add("replies", tally.replies)
            summary.add("losses", tally.losses)
            summary.add("attempts", connections)
            if !finished { summary.add("error", "fewer than \(options.count) replies within \(fixed(bound.secondsValue, 1)) s") }
            say(summary.line)
        } else {
            say("--- \(options.target) reconnecting probe statistics ---")
            say("\(tally.replies) replies, \(tally.losses) lost, \(connections) connection attempt(s)")
        }
        return finished ? ExitStatus.success : ExitStatus.failure
    }

    /// The line for a health update: text, or `{"event":"health","state":S,"reason":S[,"next_attempt_ms":F]}`.
    private static func line(for update: LinkHealthUpdate, jsonl: Bool) -> String {
        let wait = update.nextAttempt.map { $0 - update.time }
        guard jsonl else {
            return "health: \(update.health)" + (update.reason.isEmpty ? "" : " (\(update.reason))")
                + (wait.map { "; next attempt in \(fixed($0.secondsValue, 3)) s" } ?? "")
        }
        var line = JSONLine(event: "health")
        line.add("state", "\(update.health)")
        line.add("reason", update.reason)
        if let wait { line.add("next_attempt_ms", wait.secondsValue * 1e3) }
        return line.line
    }
}
