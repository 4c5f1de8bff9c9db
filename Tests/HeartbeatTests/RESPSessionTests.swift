import Framing
import Heartbeat
import Testing

/// Sessions of one dialect wired back to back by hand, in virtual time: each one's pending
/// control bytes are fed to the other.
struct BackToBack<D: StreamDialect> {
    typealias Session = HeartbeatSession<D>

    /// Takes all pending control octets of `session` as written at `now`.
    static func takeControl(_ session: inout Session, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    /// Feeds `bytes` to `session` at `now`; the business frames it delivers, with their octets.
    static func receive(_ bytes: [UInt8], into session: inout Session, now: Timestamp) throws -> [(BusinessFrame, [UInt8])] {
        var delivered: [(BusinessFrame, [UInt8])] = []
        try session.receive(bytes.span.bytes, now: now) { frame, payload in
            delivered.append((frame, payload.withUnsafeBytes { Array($0) }))
        }
        return delivered
    }

    static func outputs(_ session: inout Session) -> [HeartbeatSessionOutput] {
        var all: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { all.append(output) }
        return all
    }

    static func rttSamples(_ outputs: [HeartbeatSessionOutput]) -> [Duration] {
        outputs.compactMap { output in
            if case .event(let event) = output, case .rttSample(let rtt) = event.kind { return rtt.latest }
            return nil
        }
    }

    static func peerDead(_ outputs: [HeartbeatSessionOutput]) -> Bool {
        outputs.contains { if case .peerDead = $0 { return true } else { return false } }
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A RESP client session against a RESP server session (spec/resp.md §3).
@Suite struct RESPSessionTests {
    typealias Pair = BackToBack<RESPDialect>

    /// In order: bare PINGs answered `+PONG`, in order with the server's replies to pipelined
    /// commands; each pong gives an RTT sample for the oldest ping.
    @Test func inOrderPingsAreAnsweredInOrderWithCommandReplies() throws {
        var client = Pair.Session(dialect: RESPDialect(), role: .client, configuration: fixedConfiguration(), encoderSeed: 1, now: at(0))
        var server = Pair.Session(dialect: RESPDialect(answersCommands: true), role: .server, configuration: fixedConfiguration(),
                                  encoderSeed: 2, now: at(0))
        client.tick(now: at(10))
        let ping = Pair.takeControl(&client, now: at(10))
        #expect(ping == bytes("*1\r\n$4\r\nPING\r\n"))
        // A business command before and after the ping, in one read.
        let get = bytes("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        let delivered = try Pair.receive(get + ping + bytes("INFO\r\n"), into: &server, now: at(10.01))
        #expect(delivered.map(\.0.type) == [42, 0])
        let answers = Pair.takeControl(&server, now: at(10.01))
        #expect(answers == bytes("-ERR unknown command\r\n+PONG\r\n-ERR unknown command\r\n"))
        let replies = try Pair.receive(answers, into: &client, now: at(10.04))
        #expect(replies.map(\.0.type) == [45, 45])
        #expect(Pair.rttSamples(Pair.outputs(&client)) == [.milliseconds(40)])
    }

    /// Echo: `PING hb-<payload>` answered by its echo, matched by payload; a business bulk reply
    /// between them is delivered, not taken for a pong.
    @Test func echoPingsAreMatchedByPayload() throws {
        let dialect = RESPDialect(pingMessage: "hb-")
        var client = Pair.Session(dialect: dialect, role: .client, configuration: fixedConfiguration(), encoderSeed: 1, now: at(0))
        var server = Pair.Session(dialect: RESPDialect(), role: .server, configuration: fixedConfiguration(), encoderSeed: 2, now: at(0))
        client.tick(now: at(10))
        let ping = Pair.takeControl(&client, now: at(10))
        #expect(ping.starts(with: bytes("*2\r\n$4\r\nPING\r\n$11\r\nhb-")))
        #expect(try Pair.receive(ping, into: &server, now: at(10.01)).isEmpty)
        let echo = Pair.takeControl(&server, now: at(10.01))
        #expect(echo == bytes("$11\r\n") + Array(ping[(ping.count - 13)...]))
        let delivered = try Pair.receive(bytes("$3\r\nbar\r\n") + echo, into: &client, now: at(10.02))
        #expect(delivered.map(\.1) == [bytes("$3\r\nbar\r\n")])
        #expect(Pair.rttSamples(Pair.outputs(&client)) == [.milliseconds(20)])
        // An echo of another payload answers nothing.
        client.tick(now: at(20))
        _ = Pair.takeControl(&client, now: at(20))
        var stale = echo
        stale[stale.count - 3] ^= 0xFF
        _ = try Pair.receive(stale, into: &client, now: at(20.01))
        #expect(Pair.rttSamples(Pair.outputs(&client)).isEmpty)
    }

    /// A server never pings (RESP has no server-to-client PING) and, without an idle timeout,
    /// never declares a silent client dead; with one it does.
    @Test func aServerNeverPingsAndWatchesOnlyForIdleClients() throws {
        var quiet = Pair.Session(dialect: RESPDialect(), role: .server, configuration: fixedConfiguration(), encoderSeed: 2, now: at(0))
        for second in stride(from: 1.0, through: 300, by: 1) { quiet.tick(now: at(second)) }
        #expect(!quiet.hasControlBytes)
        #expect(!Pair.peerDead(Pair.outputs(&quiet)))

        var strict = Pair.Session(dialect: RESPDialect(serverIdleTimeout: .seconds(60)), role: .server, configuration: fixedConfiguration(),
                                  encoderSeed: 2, now: at(0))
        _ = try Pair.receive(bytes("PING\r\n"), into: &strict, now: at(30))
        #expect(Pair.takeControl(&strict, now: at(30)) == bytes("+PONG\r\n"))
        strict.tick(now: at(89))
        #expect(!Pair.peerDead(Pair.outputs(&strict)))
        strict.tick(now: at(91))
        #expect(Pair.peerDead(Pair.outputs(&strict)))
    }

    /// A missed `+PONG` is judged on time; the late one pays the oldest ping's debt.
    @Test func aMissingPongIsJudgedInOrder() throws {
        var client = Pair.Session(dialect: RESPDialect(), role: .client, configuration: fixedConfiguration(missed: 2), encoderSeed: 1, now: at(0))
        client.tick(now: at(10))
        _ = Pair.takeControl(&client, now: at(10))
        client.tick(now: at(11.5))
        let missed = Pair.outputs(&client).contains { output in
            if case .event(let event) = output, case .pongMissed = event.kind { return true }
            return false
        }
        #expect(missed)
        _ = try Pair.receive(bytes("+PONG\r\n"), into: &client, now: at(12))
        #expect(client.failure == nil)
    }
}

/// Two text-lines sessions: both ends ping, both answer, in order.
@Suite struct LinesSessionTests {
    typealias Pair = BackToBack<LinesDialect>

    @Test func bothEndsPingAndAnswerInOrder() throws {
        var client = Pair.Session(dialect: LinesDialect(), role: .client, configuration: fixedConfiguration(), encoderSeed: 1, now: at(0))
        var server = Pair.Session(dialect: LinesDialect(), role: .server, configuration: fixedConfiguration(), encoderSeed: 2, now: at(0))
        client.tick(now: at(10))
        server.tick(now: at(10))
        let clientPing = Pair.takeControl(&client, now: at(10))
        let serverPing = Pair.takeControl(&server, now: at(10))
        #expect(clientPing == bytes("PING\n") && serverPing == bytes("PING\n"))
        let delivered = try Pair.receive(bytes("hello\r\n") + clientPing, into: &server, now: at(10.01))
        #expect(delivered.map(\.1) == [bytes("hello")])
        #expect(Pair.takeControl(&server, now: at(10.01)) == bytes("PONG\n"))
        _ = try Pair.receive(serverPing + bytes("PONG\n"), into: &client, now: at(10.03))
        #expect(Pair.rttSamples(Pair.outputs(&client)) == [.milliseconds(30)])
        #expect(Pair.takeControl(&client, now: at(10.03)) == bytes("PONG\n"))
        _ = try Pair.receive(bytes("PONG\r\n"), into: &server, now: at(10.05))
        #expect(Pair.rttSamples(Pair.outputs(&server)) == [.milliseconds(50)])
    }

    @Test func aLineTooLongFailsTheSession() throws {
        var server = Pair.Session(dialect: LinesDialect(), role: .server, configuration: fixedConfiguration(), maxFrameSize: 16,
                                  encoderSeed: 2, now: at(0))
        #expect(throws: FramingError.self) { _ = try Pair.receive(bytes("ok\n") + Array(repeating: 0x61, count: 40), into: &server, now: at(1)) }
        #expect(server.failure?.code.name == "LINE_TOO_LONG")
        #expect(server.failure?.offset == 3)
    }
}
