import Framing
import Heartbeat
import Testing

/// A peer's pings longer than 8 octets (WebSocket allows 125, TLS 16,365) are echoed octet for
/// octet, each by its own pong, even when they begin alike: each is answered as it is read.
@Suite struct LongPingTests {
    /// The pongs a server would read in `control` (our client's frames, masked).
    func pongs(_ control: [UInt8]) throws -> [[UInt8]] {
        var demuxer = StreamDemuxer(WebSocketDialect(performsHandshake: false).makeDecoder(role: .server, maxFrameSize: nil))
        var pongs: [[UInt8]] = []
        try demuxer.feed(control) { item, bytes in
            if case .pong = item { pongs.append(bytes.withUnsafeBytes { Array($0) }) }
        }
        return pongs
    }

    @Test func eachLongPingGetsItsOwnPongAsItIsRead() throws {
        var configuration = fixedConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero, maxPendingPongs: 4)
        var session = HeartbeatSession(dialect: WebSocketDialect(performsHandshake: false), role: .client,
                                       configuration: configuration, encoderSeed: 9, now: at(0))
        // Six pings from the server, all beginning with the same 16 octets, in one read.
        let payloads = (0..<6).map { index in Array(#"{"timestamp":17000000"#.utf8) + [UInt8(ascii: "0") + UInt8(index)] }
        var wire: [UInt8] = []
        for payload in payloads {
            WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.ping, fin: true, payload: payload.span.bytes, maskingKey: nil, to: &wire)
        }
        try session.receive(wire.span.bytes, now: at(1)) { _, _ in }
        let answered = try pongs(session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } })
        // Each ping is answered as it is read, so the engine's bound of four waiting pongs is never
        // reached; each pong echoes its own ping.
        #expect(answered == payloads)
        #expect(session.engine.counters.pongsDropped == 0)
        #expect(session.pongsDiscarded == 0)
    }

    @Test func aLongPongThatBeginsLikeOurPingIsNotItsEcho() throws {
        var session = HeartbeatSession(dialect: WebSocketDialect(performsHandshake: false), role: .client,
                                       configuration: fixedConfiguration(), encoderSeed: 9, now: at(0))
        session.tick(now: at(10))  // our ping falls due
        let control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(control.count, now: at(10))
        var demuxer = StreamDemuxer(WebSocketDialect(performsHandshake: false).makeDecoder(role: .server, maxFrameSize: nil))
        var ours: [UInt8] = []
        try demuxer.feed(control) { item, bytes in if case .ping = item { ours = bytes.withUnsafeBytes { Array($0) } } }
        #expect(ours.count == 8)
        var reply: [UInt8] = []
        WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.pong, fin: true, payload: (ours + [0]).span.bytes, maskingKey: nil, to: &reply)
        try session.receive(reply.span.bytes, now: at(10.1)) { _, _ in }
        #expect(session.engine.counters.unknownPongs == 1)
        #expect(session.engine.counters.pongsReceived == 0)
    }
}

/// Review findings: a long TLS heartbeat is answered whole, and an in-order server never drops
/// an answer when the peer pipelines more than `maxPendingControlBytes` of requests.
@Suite struct AnswerBoundTests {
    @Test func aLongTLSHeartbeatIsAnsweredWhole() throws {
        var session = HeartbeatSession(dialect: TLSDialect(), role: .server, encoderSeed: 3, now: at(0))
        let payload = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var request: [UInt8] = []
        var client = TLSDialect().makeEncoder(role: .client, randomSeed: 4)
        client.appendPong(echoing: payload.span.bytes, to: &request)  // a response's shape...
        request[5] = 1                                                // ...made a request
        try session.receive(request.span.bytes, now: at(1)) { _, _ in }
        let control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        var demuxer = Demuxer(TLSDialect().makeDecoder(role: .client, maxFrameSize: nil))
        var echoed: [[UInt8]] = []
        try demuxer.feed(control) { item, bytes in
            if case .pong = item { echoed.append(bytes.withUnsafeBytes { Array($0) }) }
        }
        #expect(echoed == [payload])
        #expect(session.pongsDiscarded == 0)
    }

    @Test func anInOrderServerAnswersEveryPipelinedPing() throws {
        var session = HeartbeatSession(dialect: RESPDialect(answersCommands: true), role: .server,
                                       configuration: HeartbeatConfiguration(pingPolicy: PingPolicy(minimumPeerPingInterval: .zero)),
                                       encoderSeed: 1, now: at(0))
        // 300 unknown commands (each answered -ERR by the encoder) with 50 PINGs among them, in one read.
        var wire: [UInt8] = []
        for index in 0..<350 { wire += Array((index % 7 == 0 ? "PING\r\n" : "GET k\r\n").utf8) }
        try session.receive(wire.span.bytes, now: at(1)) { _, _ in }
        let control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        let lines = String(decoding: control, as: UTF8.self).split(separator: "\r\n")
        #expect(lines.count == 350)
        #expect(lines.filter { $0 == "+PONG" }.count == 50)
        // In order: the k-th answer is +PONG exactly when the k-th command was PING.
        #expect(lines.enumerated().allSatisfy { ($0.element == "+PONG") == ($0.offset % 7 == 0) })
        #expect(session.pongsDiscarded == 0)
        #expect(session.failure == nil)
    }
}
