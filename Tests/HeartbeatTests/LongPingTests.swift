import Framing
import Heartbeat
import Testing

/// A peer's pings longer than 8 octets (WebSocket allows 125) are echoed octet for octet, each by
/// its own pong, even when they begin alike and the engine drops some pongs at its bound.
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

    @Test func eachLongPingGetsItsOwnPongWhenTheEngineDropsTheOldest() throws {
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
        // The engine keeps the newest four pongs; each echoes its own ping.
        #expect(answered == Array(payloads.suffix(4)))
        #expect(session.engine.counters.pongsDropped == 2)
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
