import Dispatch
import Framing
import Glibc
import Heartbeat
import Transports

/// `hb serve`: answers heartbeats, echoes business data, logs each connection's events.
enum ServeCommand {
    static let usage = """
        usage: hb serve --dialect tcp|http2|ws|tls|mqtt|amqp|resp|lines [--host H] --port N [--interval S] [--timeout S] [--format text|jsonl]
                        [--max-connections N] [--handshake-timeout S] [--log-data] [--loops N]

        Listens on H:N (default host 127.0.0.1; port 0 picks a free one), answers heartbeats, echoes
        business data (tcp: DATA payloads; http2: DATA frames back on their stream; ws: text and binary
        messages as they came, after answering the opening handshake; a message over 1 MiB is dropped; mqtt: QoS 0
        PUBLISH packets, after answering CONNECT; an MQTT server never pings and drops a client silent for 1.5 x its
        Keep Alive;
        amqp: nothing, after the connection handshake, proposing an --interval heartbeat), pings each client
        every --interval seconds (default 30) and logs each connection's liveness events. Runs until
        interrupted (SIGINT, SIGTERM).
        --max-connections N   close connections beyond N open ones at once, logging each refusal (default: no limit)
        --handshake-timeout S close a connection that has not sent its preface, handshake or first frame within S
                              seconds (default 10; 0 disables)
        --log-data            log every business frame received (jsonl: a "data" line; the fault tests read it)
        --loops N             event loops (threads) serving the connections, spread in turn (default 1; 0: one per core)
        resp: answers PING with +PONG and PING <message> with its echo, every other command with
        -ERR unknown command, in order; never pings (RESP servers do not). lines: echoes every line.
        --dialect tls speaks plaintext TLS records with RFC 6520 heartbeats, the extension assumed negotiated
        (spec/tls.md): it answers heartbeat requests and echoes application_data records.
          --format jsonl  one JSON object per line instead of text (conn: the connection's number
                          from 1, in order of arrival; times in milliseconds):
            {"event":"listening","address":A,"dialect":D}
            {"event":"connected","conn":N}
            {"event":"rtt","conn":N,"rtt_ms":F,"srtt_ms":F}          our ping answered
            {"event":"state","conn":N,"from":S,"to":S}               liveness state change
            {"event":"pong_missed","conn":N,"ping":N,"consecutive":N}
            {"event":"peer_dead","conn":N,"reason":S}
            {"event":"policing_strike","conn":N,"strikes":N}         the client pings too often
            {"event":"closing","conn":N,"reason":S}                  we close the connection
            {"event":"goaway","conn":N,"code":N,"reason":S}          the client is closing
            {"event":"closed","conn":N,"error":S,"pings_received":N,"pongs_sent":N}
            {"event":"data","conn":N,"type":N,"hex":S}                 a business frame (--log-data)
            {"event":"refused","open":N,"limit":N}                   over --max-connections, closed at once
            {"event":"stopping"}                                     on SIGINT or SIGTERM
        """

    static func run(_ arguments: [String]) async -> Int32 {
        let parsed = parseCommand("serve", arguments, usage: usage, valueOptions: ["--dialect", "--host", "--port", "--interval", "--timeout", "--format",
                                                                                      "--max-connections", "--handshake-timeout", "--loops"],
                                 flagOptions: ["--log-data"]) {
            (parsed) throws(UsageError) in
            guard parsed.positionals.isEmpty else { throw UsageError("unexpected argument \(parsed.positionals[0])") }
            let dialect = try parseDialect(parsed.value("--dialect"), allowQUIC: false)
            guard let portText = parsed.value("--port") else { throw UsageError("--port is required") }
            guard let port = UInt16(portText) else { throw UsageError("invalid port \"\(portText)\"") }
            return (dialect, parsed.value("--host") ?? "127.0.0.1", port,
                    try parsed.value("--interval", default: Duration.seconds(30), parseSeconds),
                    try parsed.value("--timeout", default: Duration.seconds(3), parseSeconds),
                    try parsed.value("--format", default: OutputFormat.text) { OutputFormat(rawValue: $0) },
                    try parsed.value("--max-connections", default: Int?.none) { text -> Int?? in
                        guard let limit = Int(text), limit >= 0 else { return nil }
                        return .some(limit)
                    },
                    try parsed.value("--handshake-timeout", default: Duration.seconds(10)) { $0 == "0" ? .zero : parseSeconds($0) },
                    parsed.flag("--log-data"),
                    try parsed.value("--loops", default: 1) { text -> Int? in
                        guard let count = Int(text), (0...1024).contains(count) else { return nil }
                        return count == 0 ? EventLoopGroup.coreCount : count
                    })
        }
        guard case .run(let (dialect, host, port, interval, ackTimeout, format, maxConnections, handshakeTimeout, logData, loops)) = parsed else {
            return parsed.exitStatus
        }
        do {
            let group = try EventLoopGroup(loopCount: loops)
            var heartbeat = HeartbeatConfiguration()
            heartbeat.pingInterval = interval
            heartbeat.ackTimeout = ackTimeout
            // RFC 6520 §3: at most one HeartbeatRequest in flight.
            if dialect.dialect == .tls { heartbeat.maxOutstandingPings = 1 }
            // Probes ping every second or faster; police only real floods.
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .milliseconds(100), maxPingStrikes: 10, maxPendingPongs: 4)
            guard let stream = dialect.stream.map({ dialect.atInterval($0, interval) }) else { throw UsageError("hb serve cannot run \(dialect.dialect)") }
            var configuration = ConnectionConfiguration(dialect: stream, heartbeat: heartbeat)
            configuration.handshakeTimeout = handshakeTimeout > .zero ? handshakeTimeout : nil
            // Each connection is served on its loop's thread by its handler: no task per connection.
            configuration.handler = { ServeHandler(format: format, logData: logData, echo: dialect.echo) }
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(host: host, port: port), configuration: configuration,
                                                            maxConnections: maxConnections, on: group)
            let refusals = Task {
                for await case .refused(let open, let limit) in listener.events {
                    if format == .jsonl {
                        var line = JSONLine(event: "refused")
                        line.add("open", open)
                        line.add("limit", limit)
                        say(line.line)
                    } else {
                        say("hb serve: refused a connection: \(open) connections open, the limit is \(limit) (--max-connections)")
                    }
                }
            }
            defer { refusals.cancel() }
            if format == .jsonl {
                var listening = JSONLine(event: "listening")
                listening.add("address", "\(listener.localAddress)")
                listening.add("dialect", dialect.dialect.name)
                say(listening.line)
            } else {
                say("hb serve: listening on \(listener.localAddress) (\(dialect.title))")
            }
            let stop = installSignalHandlers {
                say(format == .jsonl ? JSONLine(event: "stopping").line : "hb serve: stopping")
                exit(ExitStatus.success)
            }
            defer { stop.forEach { $0.cancel() } }
            // With a handler the listener hands out no connections: this waits until it closes.
            for await _ in listener.connections {}
            return ExitStatus.success
        } catch {
            complain("hb serve: \(error)")
            return ExitStatus.failure
        }
    }

}

/// One connection of `hb serve`, on its loop's thread: logs its events (and, with `--log-data`,
/// its business frames) and echoes what the dialect echoes. The connection's number is the
/// listener's `connectionID` (from 1, in order of acceptance).
final class ServeHandler: ConnectionHandler {
    private var log: ConnectionLog
    private let echo: @Sendable (inout EchoState, InboundFrame) -> (bytes: [UInt8], type: UInt64?)?
    private var state = EchoState()

    init(format: OutputFormat, logData: Bool, echo: @escaping @Sendable (inout EchoState, InboundFrame) -> (bytes: [UInt8], type: UInt64?)?) {
        log = ConnectionLog(number: 0, format: format, logData: logData)
        self.echo = echo
    }

    func connectionStarted(context: ConnectionContext) {
        log.number = Int(truncatingIfNeeded: context.connectionID)
        log.connected()
    }

    func frameReceived(_ header: BusinessFrame, payload: RawSpan, context: ConnectionContext) {
        let frame = InboundFrame(header: header, payload: payload.withUnsafeBytes { Array($0) })
        log.received(frame)
        guard let reply = echo(&state, frame) else { return }
        _ = reply.bytes.withUnsafeBytes { context.write($0.bytes, type: reply.type) }
    }

    func connectionEvent(_ event: ConnectionEvent, context: ConnectionContext) {
        log.log(event, counters: context.counters)
    }
}

/// One connection's events as `serve` prints them: text lines prefixed `conn N:`, or JSON lines.
struct ConnectionLog: Sendable {
    /// The connection's number, from 1 in order of arrival.
    var number: Int
    let format: OutputFormat
    /// Whether each business frame received is logged (`--log-data`).
    var logData = false

    private var name: String { "conn \(number)" }

    private func object(_ event: String) -> JSONLine {
        var object = JSONLine(event: event)
        object.add("conn", number)
        return object
    }

    func connected() {
        say(format == .jsonl ? object("connected").line : "\(name): connected")
    }

    /// Logs a business frame received, with `--log-data`.
    func received(_ frame: InboundFrame) {
        guard logData else { return }
        let hex = frame.payload.span.bytes.hexDescription
        guard format == .jsonl else { return say("\(name): data type \(frame.header.type): \(hex)") }
        var line = object("data")
        line.add("type", Int(truncatingIfNeeded: frame.header.type))
        line.add("hex", hex)
        say(line.line)
    }

    /// Prints `event` (nothing for the engine events nobody operating a server asks about).
    func log(_ event: ConnectionEvent, counters: @autoclosure () -> HeartbeatCounters) {
        if let line = line(for: event, counters: counters) { say(line) }
    }

    /// The line for `event`, or nil.
    func line(for event: ConnectionEvent, counters: () -> HeartbeatCounters) -> String? {
        let jsonl = format == .jsonl
        switch event {
        case .heartbeat(let heartbeat):
            switch heartbeat.kind {
            case .rttSample(let rtt):
                guard jsonl else { return "\(name): rtt \(milliseconds(rtt.latest)) ms (srtt \(milliseconds(rtt.smoothed)) ms)" }
                var line = object("rtt")
                line.add("rtt_ms", rtt.latest.secondsValue * 1e3)
                line.add("srtt_ms", rtt.smoothed.secondsValue * 1e3)
                return line.line
            case .stateChanged(let from, let to):
                guard jsonl else { return "\(name): state \(from) -> \(to)" }
                var line = object("state")
                line.add("from", "\(from)")
                line.add("to", "\(to)")
                return line.line
            case .pongMissed(let payload, let consecutive):
                guard jsonl else { return "\(name): pong \(payload.sequence) missed (\(consecutive) in a row)" }
                var line = object("pong_missed")
                line.add("ping", Int(payload.sequence))
                line.add("consecutive", consecutive)
                return line.line
            case .peerDead(let reason):
                guard jsonl else { return "\(name): peer dead: \(reason)" }
                var line = object("peer_dead")
                line.add("reason", "\(reason)")
                return line.line
            case .policingStrike(let strikes):
                guard jsonl else { return "\(name): ping policing strike \(strikes)" }
                var line = object("policing_strike")
                line.add("strikes", strikes)
                return line.line
            case .closing(let reason):
                guard jsonl else { return "\(name): closing: \(reason)" }
                var line = object("closing")
                line.add("reason", "\(reason)")
                return line.line
            default:
                return nil
            }
        case .peerGoAway(let code, let reason):
            guard jsonl else { return "\(name): peer sent GOAWAY code \(code)\(reason.isEmpty ? "" : " \"\(reason)\"")" }
            var line = object("goaway")
            line.add("code", Int(truncatingIfNeeded: code))
            line.add("reason", reason)
            return line.line
        case .closed(let error):
            let counters = counters()
            guard jsonl else {
                return "\(name): closed (\(error)); pings received \(counters.pingsReceived), pongs sent \(counters.pongsSent)"
            }
            var line = object("closed")
            line.add("error", "\(error)")
            line.add("pings_received", counters.pingsReceived)
            line.add("pongs_sent", counters.pongsSent)
            return line.line
        }
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
