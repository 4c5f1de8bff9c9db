import Framing
import Heartbeat
import Testing

/// Two TLS Heartbeat sessions, a client and a server, wired back to back in virtual time: each
/// one's pending control bytes are fed to the other (the echo liveness model, RFC 6520 §4).
@Suite struct TLSSessionTests {
    typealias Session = HeartbeatSession<TLSDialect>
    typealias Peer = WebSocketClientServerSessionTests

    /// Takes all pending control octets of `session` as written at `now`.
    static func takeControl(_ session: inout Session, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    /// Feeds `bytes` to `session` at `now`; the business records it delivers, as (type, fragment).
    static func receive(_ bytes: [UInt8], into session: inout Session, now: Timestamp) throws -> [(UInt64, [UInt8])] {
        var delivered: [(UInt64, [UInt8])] = []
        try session.receive(bytes.span.bytes, now: now) { frame, payload in
            delivered.append((frame.type, payload.withUnsafeBytes { Array($0) }))
        }
        return delivered
    }

    static func outputs(_ session: inout Session) -> [HeartbeatSessionOutput] {
        var all: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { all.append(output) }
        return all
    }

    /// The heartbeat messages in `records`: (type, payload, padding length), decoded by hand.
    static func messages(_ records: [UInt8]) -> [(type: UInt8, payload: [UInt8], padding: Int)] {
        var found: [(UInt8, [UInt8], Int)] = []
        var index = 0
        while index + 5 <= records.count {
            let length = Int(records[index + 3]) << 8 | Int(records[index + 4])
            let fragment = Array(records[(index + 5)..<(index + 5 + length)])
            if records[index] == 24 {
                let payloadLength = Int(fragment[1]) << 8 | Int(fragment[2])
                found.append((fragment[0], Array(fragment[3..<(3 + payloadLength)]), length - 3 - payloadLength))
            }
            index += 5 + length
        }
        return found
    }

    static func pair(now: Timestamp) -> (client: Session, server: Session) {
        (Session(dialect: TLSDialect(), role: .client, configuration: fixedConfiguration(), encoderSeed: 21, now: now),
         Session(dialect: TLSDialect(), role: .server, configuration: fixedConfiguration(), encoderSeed: 22, now: now))
    }

    @Test func aRequestIsAnsweredWithItsPayloadAndAnRTTSample() throws {
        var (client, server) = Self.pair(now: at(0))
        #expect(!client.hasControlBytes && !server.hasControlBytes, "no preface: the extension is assumed negotiated")
        client.tick(now: at(10))
        let request = Self.takeControl(&client, now: at(10))
        #expect(request.count == 32)
        let sent = try #require(Self.messages(request).first)
        #expect(sent.type == 1 && sent.payload.count == 8 && sent.padding == 16)
        #expect(try Self.receive(request, into: &server, now: at(10.02)).isEmpty)
        let control = Self.takeControl(&server, now: at(10.02))
        // The server's own request fell due too; its response echoes the client's payload exactly.
        let responses = Self.messages(control).filter { $0.type == 2 }
        #expect(responses.count == 1)
        #expect(responses.first?.payload == sent.payload && responses.first?.padding == 16)
        #expect(try Self.receive(control, into: &client, now: at(10.05)).isEmpty)
        #expect(Peer.rttSamples(Self.outputs(&client)) == [.milliseconds(50)])
        #expect(client.engine.counters.rttSamples == 1)
        #expect(server.engine.counters.pingsReceived == 1)
    }

    @Test(arguments: [0, 1, 9, 100, 2000])
    func aPeersRequestOfAnyLengthIsEchoedWholeAndNoMore(_ length: Int) throws {
        var (_, server) = Self.pair(now: at(0))
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }
        var request: [UInt8] = []
        TLSRecord.appendHeartbeat(messageType: 1, payload: payload.span.bytes, padding: [UInt8](repeating: 0xEE, count: 40).span.bytes, to: &request)
        #expect(try Self.receive(request, into: &server, now: at(1)).isEmpty)
        let response = Self.takeControl(&server, now: at(1))
        #expect(response.count == 5 + 3 + length + 16)
        let message = try #require(Self.messages(response).first)
        #expect(message.type == 2 && message.payload == payload && message.padding == 16)
        #expect(server.pongsDiscarded == 0)
    }

    /// CVE-2014-0160: a 3-octet heartbeat record claiming 16,384 payload octets. The session sends
    /// nothing at all for it, counts no ping, and answers the valid request after it alone.
    @Test func theHeartbleedRequestIsNeverAnswered() throws {
        var (_, server) = Self.pair(now: at(0))
        let heartbleed: [UInt8] = [0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0x40, 0x00]
        #expect(try Self.receive(heartbleed, into: &server, now: at(1)).isEmpty)
        #expect(!server.hasControlBytes)
        #expect(server.engine.counters.pingsReceived == 0)
        #expect(server.failure == nil)
        // Variants: the whole claimed payload absent, padding short, an unknown type.
        var variants: [UInt8] = []
        TLSRecord.appendHeader(type: 24, length: 3 + 8 + 16, to: &variants)
        variants += [1, 0x40, 0x00] + [UInt8](repeating: 0x41, count: 24)
        TLSRecord.appendHeader(type: 24, length: 3 + 8 + 15, to: &variants)
        variants += [1, 0, 8] + [UInt8](repeating: 0x42, count: 23)
        TLSRecord.appendHeader(type: 24, length: 3 + 8 + 16, to: &variants)
        variants += [7, 0, 8] + [UInt8](repeating: 0x43, count: 24)
        #expect(try Self.receive(variants, into: &server, now: at(2)).isEmpty)
        #expect(!server.hasControlBytes)
        #expect(server.engine.counters.pingsReceived == 0)
        // A valid request after them is answered: exactly one response, its own payload.
        var valid: [UInt8] = []
        TLSRecord.appendHeartbeat(messageType: 1, payload: Array("alive?".utf8).span.bytes, padding: [UInt8](repeating: 0, count: 16).span.bytes, to: &valid)
        #expect(try Self.receive(valid, into: &server, now: at(3)).isEmpty)
        let control = Self.takeControl(&server, now: at(3))
        #expect(control.count == 5 + 3 + 6 + 16)
        #expect(Self.messages(control).map(\.payload) == [Array("alive?".utf8)])
    }

    @Test func applicationDataIsDeliveredAndCloseNotifyAnswered() throws {
        var (client, server) = Self.pair(now: at(0))
        var data: [UInt8] = []
        client.encodeData(Array("hello".utf8).span.bytes, to: &data)
        #expect(data == [23, 3, 3, 0, 5] + Array("hello".utf8))
        let delivered = try Self.receive(data, into: &server, now: at(1))
        #expect(delivered.count == 1 && delivered.first?.0 == 23 && delivered.first?.1 == Array("hello".utf8))
        #expect(try Self.receive([21, 3, 3, 0, 2, 1, 0], into: &server, now: at(2)).isEmpty)
        #expect(Self.takeControl(&server, now: at(2)) == [21, 3, 3, 0, 2, 1, 0])
        #expect(Self.outputs(&server).contains(.peerGoAway(code: 0, reason: "CLOSE_NOTIFY")))
    }
}
