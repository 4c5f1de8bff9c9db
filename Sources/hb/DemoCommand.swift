import Framing
import Heartbeat
import Transports

/// `hb demo`: a server and a client in one process on loopback; the server stalls and the client
/// detects it.
enum DemoCommand {
    static let usage = """
        usage: hb demo [--interval S] [--timeout S] [--stall-after S]

        Starts a server and a client on 127.0.0.1 speaking the TCP envelope, prints each RTT sample and
        state change of the client as it happens, then stalls the server (it stops reading and answering
        but keeps the connection open) and shows the client detecting it. Exits 0 once detected.
          --interval S     ping interval of the client (default 0.5)
          --timeout S      ack timeout of the client (default 1)
          --stall-after S  when the server stalls (default 4)
        """

    static func run(_ arguments: [String]) async -> Int32 {
        let parsed = parseCommand("demo", arguments, usage: usage, valueOptions: ["--interval", "--timeout", "--stall-after"]) {
            (parsed) throws(UsageError) in
            guard parsed.positionals.isEmpty else { throw UsageError("unexpected argument \(parsed.positionals[0])") }
            return (try parsed.value("--interval", default: Duration.milliseconds(500), parseSeconds),
                    try parsed.value("--timeout", default: Duration.seconds(1), parseSeconds),
                    try parsed.value("--stall-after", default: Duration.seconds(4), parseSeconds))
        }
        guard case .run(let (interval, ackTimeout, stallAfter)) = parsed else { return parsed.exitStatus }
        do {
            return try await demo(interval: interval, ackTimeout: ackTimeout, stallAfter: stallAfter)
        } catch {
            complain("hb demo: \(error)")
            return ExitStatus.failure
        }
    }

    static func demo(interval: Duration, ackTimeout: Duration, stallAfter: Duration) async throws -> Int32 {
        let loop = try EventLoop()
        defer { loop.shutdown() }
        let start = EventLoop.now()
        func stamp() -> String {
            let elapsed = (EventLoop.now() - start).secondsValue
            let text = fixed(elapsed, 3)
            return "[" + String(repeating: " ", count: max(0, 7 - text.count)) + text + "s]"
        }
        // The client: the fixed policy, so detection takes at most one interval plus the timeout.
        var clientHeartbeat = HeartbeatConfiguration.fixedTimeout
        clientHeartbeat.pingInterval = interval
        clientHeartbeat.ackTimeout = ackTimeout
        // The server pings rarely and never closes on its own: the client is the one to notice.
        var serverHeartbeat = HeartbeatConfiguration()
        serverHeartbeat.pingInterval = .seconds(60)
        serverHeartbeat.pingPolicy.minimumPeerPingInterval = min(interval / 2, .seconds(1))
        var serverConfiguration = ConnectionConfiguration(dialect: .envelope, heartbeat: serverHeartbeat)
        serverConfiguration.closeOnPeerDead = false
        let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                        configuration: serverConfiguration, on: loop)
        say("hb demo: a server and a client on \(listener.localAddress), speaking the TCP envelope (spec/envelope.md)")
        say("         the client pings every \(fixed(interval.secondsValue, 3)) s with a \(fixed(ackTimeout.secondsValue, 3)) s ack timeout; the server stalls after \(fixed(stallAfter.secondsValue, 1)) s")

        let server = Task { () -> HeartbeatConnection? in
            for await connection in listener.connections {
                say("\(stamp()) server accepted a connection")
                Task { for try await frame in connection.inbound { try await connection.write(frame.payload) } }
                try? await Task.sleep(for: max(.zero, stallAfter - (EventLoop.now() - start)))
                connection.pauseReading()
                say("\(stamp()) server stalls: stops reading and answering, the connection stays open")
                return connection
            }
            return nil
        }
        let client = try await HeartbeatConnection.connect(to: listener.localAddress,
                                                          configuration: ConnectionConfiguration(dialect: .envelope, heartbeat: clientHeartbeat),
                                                          on: loop)
        say("\(stamp()) client connected")
        let watchdog = Task {
            try await Task.sleep(for: stallAfter + interval + ackTimeout + .seconds(5))
            say("\(stamp()) no failure detected in time")
            await client.close()
        }
        var detected = false
        var stalledAt: Timestamp?
        for await event in client.events {
            switch event {
            case .heartbeat(let heartbeat):
                switch heartbeat.kind {
                case .rttSample(let rtt):
                    say("\(stamp()) client rtt \(milliseconds(rtt.latest)) ms  (srtt \(milliseconds(rtt.smoothed)) ms, min \(milliseconds(rtt.minimum)) ms, p75 \(milliseconds(rtt.percentile75)) ms)")
                case .stateChanged(let from, let to):
                    say("\(stamp()) client state \(from) -> \(to)")
                case .pingSent(let payload, _) where stalledAt != nil || (EventLoop.now() - start) >= stallAfter:
                    stalledAt = stalledAt ?? start + stallAfter
                    say("\(stamp()) client ping \(payload.sequence) sent")
                case .pongMissed(let payload, let consecutive):
                    say("\(stamp()) client pong \(payload.sequence) missed (\(consecutive) in a row)")
                case .peerDead(let reason):
                    let after = (EventLoop.now() - (start + stallAfter)).secondsValue
                    say("\(stamp()) client declares the server dead: \(reason); \(fixed(after, 3)) s after the stall")
                    detected = true
                default:
                    break
                }
            case .peerGoAway(let code, let reason):
                say("\(stamp()) client got GOAWAY \(code) \(reason)")
            case .closed(let error):
                say("\(stamp()) client connection closed: \(error)")
            }
        }
        watchdog.cancel()
        if let connection = await server.value { await connection.close() }
        await listener.close()
        say(detected ? "hb demo: failure detected; done" : "hb demo: the stall was not detected")
        return detected ? ExitStatus.success : ExitStatus.failure
    }
}
