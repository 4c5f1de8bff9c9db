import Dispatch
import Framing
import Glibc
import Heartbeat
import Transports

/// `hb serve`: answers heartbeats, echoes business data, logs each connection's events.
enum ServeCommand {
    static let usage = """
        usage: hb serve --dialect tcp|http2|ws|resp|lines [--host H] --port N [--interval S] [--timeout S]

        Listens on H:N (default host 127.0.0.1; port 0 picks a free one), answers heartbeats, echoes
        business data (tcp: DATA payloads; http2: DATA frames back on their stream; ws: text and binary
        messages as they came, after answering the opening handshake; a message over 1 MiB is dropped), pings each client
        every --interval seconds (default 30) and logs each connection's liveness events. Runs until
        interrupted (SIGINT, SIGTERM).
        resp: answers PING with +PONG and PING <message> with its echo, every other command with
        -ERR unknown command, in order; never pings (RESP servers do not). lines: echoes every line.
        """

    static func run(_ arguments: [String]) async -> Int32 {
        let parsed = parseCommand("serve", arguments, usage: usage, valueOptions: ["--dialect", "--host", "--port", "--interval", "--timeout"]) {
            (parsed) throws(UsageError) in
            guard parsed.positionals.isEmpty else { throw UsageError("unexpected argument \(parsed.positionals[0])") }
            let dialect = try parseDialect(parsed.value("--dialect"), allowQUIC: false)
            guard let portText = parsed.value("--port") else { throw UsageError("--port is required") }
            guard let port = UInt16(portText) else { throw UsageError("invalid port \"\(portText)\"") }
            return (dialect, parsed.value("--host") ?? "127.0.0.1", port,
                    try parsed.value("--interval", default: Duration.seconds(30), parseSeconds),
                    try parsed.value("--timeout", default: Duration.seconds(3), parseSeconds))
        }
        guard case .run(let (dialect, host, port, interval, ackTimeout)) = parsed else { return parsed.exitStatus }
        do {
            let loop = try EventLoop()
            var heartbeat = HeartbeatConfiguration()
            heartbeat.pingInterval = interval
            heartbeat.ackTimeout = ackTimeout
            // Probes ping every second or faster; police only real floods.
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .milliseconds(100), maxPingStrikes: 10, maxPendingPongs: 4)
            guard let stream = dialect.stream else { throw UsageError("hb serve cannot run \(dialect.dialect)") }
            let configuration = ConnectionConfiguration(dialect: stream, heartbeat: heartbeat)
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(host: host, port: port), configuration: configuration, on: loop)
            say("hb serve: listening on \(listener.localAddress) (\(dialect.title))")
            let stop = installSignalHandlers {
                say("hb serve: stopping")
                exit(ExitStatus.success)
            }
            defer { stop.forEach { $0.cancel() } }
            var number = 0
            for await connection in listener.connections {
                number += 1
                let name = "conn \(number)"
                Task { await serve(connection, name: name, dialect: dialect) }
            }
            return ExitStatus.success
        } catch {
            complain("hb serve: \(error)")
            return ExitStatus.failure
        }
    }

    static func serve(_ connection: HeartbeatConnection, name: String, dialect: CommandLineDialect) async {
        say("\(name): connected")
        let echo = Task {
            do {
                var state = EchoState()
                for try await frame in connection.inbound {
                    if let reply = dialect.echo(&state, frame) { try await connection.write(reply.bytes, type: reply.type) }
                }
            } catch {}
        }
        for await event in connection.events {
            switch event {
            case .heartbeat(let heartbeat):
                switch heartbeat.kind {
                case .rttSample(let rtt): say("\(name): rtt \(milliseconds(rtt.latest)) ms (srtt \(milliseconds(rtt.smoothed)) ms)")
                case .stateChanged(let from, let to): say("\(name): state \(from) -> \(to)")
                case .pongMissed(let payload, let consecutive): say("\(name): pong \(payload.sequence) missed (\(consecutive) in a row)")
                case .peerDead(let reason): say("\(name): peer dead: \(reason)")
                case .policingStrike(let strikes): say("\(name): ping policing strike \(strikes)")
                case .closing(let reason): say("\(name): closing: \(reason)")
                default: break
                }
            case .peerGoAway(let code, let reason):
                say("\(name): peer sent GOAWAY code \(code)\(reason.isEmpty ? "" : " \"\(reason)\"")")
            case .closed(let error):
                let counters = connection.counters
                say("\(name): closed (\(error)); pings received \(counters.pingsReceived), pongs sent \(counters.pongsSent)")
            }
        }
        echo.cancel()
    }
}

/// Runs `handler` on SIGINT or SIGTERM; returns the sources to keep alive.
func installSignalHandlers(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
