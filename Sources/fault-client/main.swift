// fault-client: the client side of the network fault tests (Interop/faults.sh).
//
//   fault-client A.B.C.D:PORT [--interval S] [--timeout S] [--detector fixed|phi] [--missed N]
//                [--pause S] [--duration S]
//   fault-client A.B.C.D:PORT --reconnect [--interval S] [--timeout S] [--writes N] [--write-every S]
//                [--linger S] [--seed N]
//
// The first form runs one envelope connection (`HeartbeatConnection`) with the given detector and
// prints its liveness events until it closes or --duration (default 3600) seconds pass. --detector
// fixed: a pong is missed after --timeout; phi: φ-accrual with threshold 8, --pause seconds of
// acceptable pause (default 0.15), capped by --timeout. --missed: missed pongs in a row that declare
// the peer dead (default 1).
// The second form runs a `ReconnectingConnection` (standard backoff, hold policy) and writes
// --writes business frames (payload "w" and the number, from w1), one every --write-every seconds,
// whatever the link's health, then waits --linger seconds and closes.
//
// One JSON object per line on standard output; t is CLOCK_MONOTONIC in seconds (the engine's clock):
//   {"event":"ping","t":F,"ping":N,"deadline":F}        {"event":"rtt","t":F,"rtt_ms":F,"srtt_ms":F}
//   {"event":"pong_missed","t":F,"ping":N,"consecutive":N}  {"event":"peer_dead","t":F,"reason":S}
//   {"event":"closed","t":F,"error":S}
//   --reconnect also: {"event":"health","t":F,"state":S,"reason":S[,"next_attempt":F]}
//   {"event":"write","t":F,"seq":N,"payload":S[,"error":S]}   {"event":"report","t":F,"report":S}
//   and last {"event":"done","t":F,"attempts":N}
import Framing
import Glibc
import Heartbeat
import Transports

struct Options {
    var target = ""
    var interval = Duration.milliseconds(500)
    var timeout = Duration.milliseconds(500)
    var phi = false
    var missed = 1
    var pause = Duration.milliseconds(150)
    var duration = Duration.seconds(3_600)
    var reconnect = false
    var writes = 0
    var writeEvery = Duration.milliseconds(100)
    var linger = Duration.seconds(2)
    var seed: UInt64 = 12
}

func fail(_ message: String) -> Never {
    var text = "fault-client: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func parseOptions(_ arguments: ArraySlice<String>) -> Options {
    var options = Options()
    var rest = arguments
    func seconds(_ name: String) -> Duration {
        guard let text = rest.popFirst(), let value = Double(text), value > 0, value < 1e6 else { fail("\(name) needs seconds > 0") }
        return .nanoseconds(Int64(value * 1e9))
    }
    func count(_ name: String) -> Int {
        guard let text = rest.popFirst(), let value = Int(text), value >= 0 else { fail("\(name) needs a count") }
        return value
    }
    while let name = rest.popFirst() {
        switch name {
        case "--interval": options.interval = seconds(name)
        case "--timeout": options.timeout = seconds(name)
        case "--pause": options.pause = seconds(name)
        case "--duration": options.duration = seconds(name)
        case "--write-every": options.writeEvery = seconds(name)
        case "--linger": options.linger = seconds(name)
        case "--missed": options.missed = max(1, count(name))
        case "--writes": options.writes = count(name)
        case "--seed": options.seed = UInt64(count(name))
        case "--reconnect": options.reconnect = true
        case "--detector":
            switch rest.popFirst() {
            case "fixed": options.phi = false
            case "phi": options.phi = true
            default: fail("--detector fixed|phi")
            }
        default:
            guard options.target.isEmpty, !name.hasPrefix("-") else { fail("unexpected argument \(name)") }
            options.target = name
        }
    }
    guard !options.target.isEmpty else { fail("A.B.C.D:PORT is required") }
    return options
}

func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// Seconds of a CLOCK_MONOTONIC timestamp.
func seconds(_ time: Timestamp) -> String { String(Double(time.nanoseconds) / 1e9) }
func milliseconds(_ duration: Duration) -> String { String(Double(duration.nanosecondCount) / 1e6) }

/// The line for a connection event, or nil for those the fault tests do not read.
func line(for event: ConnectionEvent) -> String? {
    switch event {
    case .heartbeat(let heartbeat):
        let t = seconds(heartbeat.time)
        switch heartbeat.kind {
        case .pingSent(let payload, let deadline):
            return "{\"event\":\"ping\",\"t\":\(t),\"ping\":\(payload.sequence),\"deadline\":\(seconds(deadline))}"
        case .rttSample(let rtt):
            return "{\"event\":\"rtt\",\"t\":\(t),\"rtt_ms\":\(milliseconds(rtt.latest)),\"srtt_ms\":\(milliseconds(rtt.smoothed))}"
        case .pongMissed(let payload, let consecutive):
            return "{\"event\":\"pong_missed\",\"t\":\(t),\"ping\":\(payload.sequence),\"consecutive\":\(consecutive)}"
        case .peerDead(let reason):
            return "{\"event\":\"peer_dead\",\"t\":\(t),\"reason\":\("\(reason)".jsonLiteral)}"
        default:
            return nil
        }
    case .peerGoAway:
        return nil
    case .closed(let error):
        return "{\"event\":\"closed\",\"t\":\(seconds(EventLoop.now())),\"error\":\("\(error)".jsonLiteral)}"
    }
}

func heartbeatConfiguration(_ options: Options) -> HeartbeatConfiguration {
    var heartbeat = HeartbeatConfiguration(pingInterval: options.interval, ackTimeout: options.timeout,
                                           failureDetector: .fixedTimeout, missedPongsBeforeDead: options.missed)
    if options.phi { heartbeat.failureDetector = .phiAccrual(PhiAccrualConfiguration(acceptablePause: options.pause)) }
    // The server pings us too; its pings are answered, never policed.
    heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
    return heartbeat
}

/// One connection: its events until it closes or the duration ends.
func runOnce(_ options: Options, address: SocketAddress, loop: EventLoop) async throws {
    let configuration = ConnectionConfiguration(heartbeat: heartbeatConfiguration(options))
    let connection = try await HeartbeatConnection.connect(to: address, configuration: configuration, on: loop)
    let drain = Task { do { for try await _ in connection.inbound {} } catch {} }
    let deadline = Task {
        try? await Task.sleep(for: options.duration)
        await connection.close()
    }
    for await event in connection.events {
        if let line = line(for: event) { say(line) }
    }
    deadline.cancel()
    drain.cancel()
}

/// A reconnecting link writing numbered business frames on a schedule, whatever its health.
func runReconnecting(_ options: Options, address: SocketAddress, loop: EventLoop) async {
    let configuration = ReconnectConfiguration(
        connection: ConnectionConfiguration(heartbeat: heartbeatConfiguration(options)),
        writePolicy: .hold(maxWrites: 1024, maxBytes: 1 << 20), connectTimeout: .seconds(2), seed: options.seed)
    let link = ReconnectingConnection(to: address, configuration: configuration, on: loop)
    let watchers = [
        Task {
            for await update in link.health {
                let next = update.nextAttempt.map { ",\"next_attempt\":\(seconds($0))" } ?? ""
                say("{\"event\":\"health\",\"t\":\(seconds(update.time)),\"state\":\"\(update.health)\",\"reason\":\(update.reason.jsonLiteral)\(next)}")
            }
        },
        Task {
            for await report in link.deliveryReports {
                say("{\"event\":\"report\",\"t\":\(seconds(EventLoop.now())),\"report\":\("\(report)".jsonLiteral)}")
            }
        },
        Task {
            for await event in link.connectionEvents {
                if let line = line(for: event) { say(line) }
            }
        },
        Task { do { for try await _ in link.inbound {} } catch {} },
    ]
    await link.start()
    for number in 1...max(1, options.writes) where options.writes > 0 {
        let payload = "w\(number)"
        let t = seconds(EventLoop.now())
        do {
            let sequence = try await link.write(Array(payload.utf8))
            say("{\"event\":\"write\",\"t\":\(t),\"seq\":\(sequence),\"payload\":\"\(payload)\"}")
        } catch {
            say("{\"event\":\"write\",\"t\":\(t),\"seq\":0,\"payload\":\"\(payload)\",\"error\":\("\(error)".jsonLiteral)}")
        }
        try? await Task.sleep(for: options.writeEvery)
    }
    try? await Task.sleep(for: options.linger)
    let attempts = await link.attempts
    await link.close()
    for watcher in watchers { await watcher.value }
    say("{\"event\":\"done\",\"t\":\(seconds(EventLoop.now())),\"attempts\":\(attempts)}")
}

let options = parseOptions(CommandLine.arguments.dropFirst())
do {
    let address = try SocketAddress(parsing: options.target)
    let loop = try EventLoop()
    if options.reconnect {
        await runReconnecting(options, address: address, loop: loop)
    } else {
        try await runOnce(options, address: address, loop: loop)
    }
    loop.shutdown()
} catch {
    say("{\"event\":\"error\",\"t\":\(seconds(EventLoop.now())),\"error\":\("\(error)".jsonLiteral)}")
    exit(1)
}
