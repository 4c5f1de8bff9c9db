import Framing
import Heartbeat
import Testing

/// Two WebSocket sessions, a client and a server, wired back to back by hand: each one's pending
/// control bytes are fed to the other.
@Suite struct WebSocketClientServerSessionTests {
    typealias Session = HeartbeatSession<WebSocketDialect>

    /// A business frame as delivered: its header and its (unmasked) payload.
    struct Delivered: Equatable {
        var frame: BusinessFrame
        var payload: [UInt8]
    }


    /// Takes all pending control octets of `session` as written at `now`.
    static func takeControl(_ session: inout Session, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    /// Feeds `bytes` to `session` at `now`; the business frames it delivers.
    static func receive(_ bytes: [UInt8], into session: inout Session, now: Timestamp) throws -> [Delivered] {
        var delivered: [Delivered] = []
        try session.receive(bytes.span.bytes, now: now) { frame, payload in
            delivered.append(Delivered(frame: frame, payload: payload.withUnsafeBytes { Array($0) }))
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

    /// A client and a server session, their opening handshake done at `now`: the client's
    /// request and the server's 101, each written and read.
    static func openedPair(now: Timestamp) throws -> (client: Session, server: Session) {
        var client = Session(dialect: WebSocketDialect(), role: .client, configuration: fixedConfiguration(), encoderSeed: 11, now: now)
        var server = Session(dialect: WebSocketDialect(), role: .server, configuration: fixedConfiguration(), encoderSeed: 12, now: now)
        #expect(!client.isOpen && !server.isOpen)
        let request = Self.takeControl(&client, now: now)
        #expect(request.starts(with: Array("GET / HTTP/1.1\r\n".utf8)))
        #expect(try Self.receive(request, into: &server, now: now).isEmpty)
        #expect(server.isOpen)
        let response = Self.takeControl(&server, now: now)
        #expect(response.starts(with: Array("HTTP/1.1 101 Switching Protocols\r\n".utf8)))
        #expect(try Self.receive(response, into: &client, now: now).isEmpty)
        #expect(client.isOpen)
        #expect(!client.hasControlBytes && !server.hasControlBytes)
        return (client, server)
    }

    @Test func handshakeCompletesAndAPingIsAnsweredWithAnRTTSample() throws {
        var (client, server) = try Self.openedPair(now: at(0))
        _ = Self.outputs(&client)
        // The client's ping falls due; written at 10 s, answered by the server, read back 50 ms later.
        client.tick(now: at(10))
        let ping = Self.takeControl(&client, now: at(10))
        #expect(ping.count == WebSocketFrame.maxHeartbeatLength)   // masked, 8-octet payload
        #expect(ping.first == 0x89 && ping[1] == 0x80 | 8)
        #expect(try Self.receive(ping, into: &server, now: at(10.02)).isEmpty)
        // The server's own ping falls due too: its control bytes hold that and the pong, unmasked.
        let control = Self.takeControl(&server, now: at(10.02))
        var demuxer = StreamDemuxer(WebSocketFrameDecoder(role: .client))
        var pongs: [HeartbeatPayload] = []
        try demuxer.feed(control.span.bytes) { item, _ in if case .pong(let payload) = item { pongs.append(payload) } }
        #expect(pongs.count == 1 && pongs.first?.byteCount == 8)
        #expect(try Self.receive(control, into: &client, now: at(10.05)).isEmpty)
        #expect(Self.rttSamples(Self.outputs(&client)) == [.milliseconds(50)])
        #expect(client.engine.counters.rttSamples == 1)
        #expect(server.engine.counters.pingsReceived == 1)
    }

    @Test func aMaskedPingOf20OctetsIsEchoedWhole() throws {
        var (_, server) = try Self.openedPair(now: at(0))
        let payload = (0..<20).map { UInt8($0 * 11 + 3) }
        var ping: [UInt8] = []
        WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.ping, payload: payload.span.bytes, maskingKey: 0x3A5C_9E01, to: &ping)
        #expect(ping.count == 2 + 4 + 20)
        #expect(try Self.receive(ping, into: &server, now: at(1)).isEmpty)
        let pong = Self.takeControl(&server, now: at(1))
        #expect(pong == [0x8A, 20] + payload)
        // And the client reads it as the pong of that payload, all 20 octets handed over.
        var demuxer = StreamDemuxer(WebSocketFrameDecoder(role: .client))
        var items: [(DemuxedItem, [UInt8])] = []
        try demuxer.feed(pong.span.bytes) { item, bytes in items.append((item, bytes.withUnsafeBytes { Array($0) })) }
        #expect(items.count == 1)
        #expect(items.first?.0 == .pong(HeartbeatPayload(prefixOf: payload.span.bytes)))
        #expect(items.first?.1 == payload)
    }

    @Test func businessDataArrivesUnmaskedBothWays() throws {
        var (client, server) = try Self.openedPair(now: at(0))
        let text = Array("hello, server".utf8)
        var toServer: [UInt8] = []
        client.encodeData(text.span.bytes, type: UInt64(WebSocketFrame.Opcode.text), to: &toServer)
        #expect(toServer[1] & WebSocketFrame.Flags.mask != 0)       // a client masks its frames
        #expect(!toServer.contains(subsequence: text))
        #expect(try Self.receive(toServer, into: &server, now: at(1))
                == [Delivered(frame: BusinessFrame(type: 1, flags: WebSocketFrame.Flags.fin, length: text.count), payload: text)])

        let binary = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var toClient: [UInt8] = []
        server.encodeData(binary.span.bytes, to: &toClient)
        #expect(try Self.receive(toClient, into: &client, now: at(1))
                == [Delivered(frame: BusinessFrame(type: 2, flags: WebSocketFrame.Flags.fin, length: binary.count), payload: binary)])
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in this array as a contiguous run.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
