import AllocationCounting
import Framing
import Heartbeat
import Testing

/// The sans-IO session: bytes in, heartbeat frames and outputs out.
@Suite struct SessionTests {
    /// Takes all pending control octets as written at `now`, returning them.
    func takeControl<D>(_ session: inout HeartbeatSession<D>, now: Timestamp) -> [UInt8] {
        let bytes = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        session.controlBytesWritten(bytes.count, now: now)
        return bytes
    }

    func outputs<D>(_ session: inout HeartbeatSession<D>) -> [HeartbeatSessionOutput] {
        var all: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { all.append(output) }
        return all
    }

    /// What a peer sees in `bytes` (envelope, no preface expected).
    func items(_ bytes: [UInt8], dialect: Dialect = .envelope, preface: Bool = false) throws -> [DemuxedItem] {
        var demuxer = dialect == .envelope ? Demuxer(EnvelopeFrameDecoder(expectPreface: preface)) : Demuxer(HTTP2FrameDecoder(preface: preface ? .required : .none))
        var items: [DemuxedItem] = []
        try demuxer.feed(bytes) { item, _ in items.append(item) }
        return items
    }

    @Test func envelopeSessionSendsItsPrefaceAnswersPingsAndTimesItsOwn() throws {
        var session = HeartbeatSession(dialect: .envelope, role: .client, configuration: fixedConfiguration(), encoderSeed: 1, now: at(0))
        #expect(try items(takeControl(&session, now: at(0)), preface: true) == [])  // the preface alone
        // The peer's preface and a ping: a pong with the same payload is queued.
        var inbound: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &inbound)
        EnvelopeFrame.appendPing(HeartbeatPayload(rawValue: 77), to: &inbound)
        EnvelopeFrame.appendFrame(payload: [UInt8](repeating: 5, count: 10).span.bytes, to: &inbound)
        var delivered: [Int] = []
        try session.receive(inbound.span.bytes, now: at(1)) { frame, payload in delivered.append(payload.byteCount) }
        #expect(delivered == [10])
        #expect(try items(takeControl(&session, now: at(1))) == [.pong(HeartbeatPayload(rawValue: 77))])
        // Our ping falls due; its pong gives an RTT measured from the write.
        session.tick(now: at(30))
        let ping = try items(takeControl(&session, now: at(30.5)))
        guard case .ping(let payload)? = ping.first else { Issue.record("no ping: \(ping)"); return }
        var pong: [UInt8] = []
        EnvelopeFrame.appendPong(payload, to: &pong)
        try session.receive(pong.span.bytes, now: at(30.7)) { _, _ in }
        let samples = outputs(&session).compactMap { output -> Duration? in
            if case .event(let event) = output, case .rttSample(let rtt) = event.kind { return rtt.latest }
            return nil
        }
        #expect(samples == [.milliseconds(200)])
    }

    @Test func peerGoAwayAndFramingErrorsAreReported() throws {
        var session = HeartbeatSession(dialect: .envelope, role: .server, encoderSeed: 1, now: at(0))
        var inbound: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &inbound)
        EnvelopeFrame.appendFrame(type: 0x2a, payload: [UInt8](repeating: 1, count: 3).span.bytes, to: &inbound)  // unknown: skipped
        EnvelopeFrame.appendGoAway(.livenessTimeout, reason: "bye", to: &inbound)
        var delivered = 0
        try session.receive(inbound.span.bytes, now: at(1)) { _, _ in delivered += 1 }
        #expect(delivered == 0)
        #expect(outputs(&session).contains(.peerGoAway(code: EnvelopeErrorCode.livenessTimeout.rawValue, reason: "bye")))
        let error = #expect(throws: FramingError.self) {
            try session.receive([0x01, 0x03, 0, 0, 0].span.bytes, now: at(2)) { _, _ in }
        }
        #expect(error?.code == .envelope(.frameSizeError))
    }

    @Test func http2SessionManagesSettingsWhenAsked() throws {
        var session = HeartbeatSession(dialect: .http2, role: .client, encoderSeed: 1, now: at(0))
        let opening = takeControl(&session, now: at(0))
        #expect(Array(opening.prefix(24)) == Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
        #expect(try items(Array(opening.dropFirst(24)), dialect: .http2) == [.business(BusinessFrame(type: 4, length: 0))])
        var inbound: [UInt8] = []
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.settings, streamID: 0, payload: [0, 3, 0, 0, 0, 100].span.bytes, to: &inbound)
        var delivered = 0
        try session.receive(inbound.span.bytes, now: at(1)) { _, _ in delivered += 1 }
        #expect(delivered == 0)  // consumed: the session is the HTTP/2 endpoint
        #expect(try items(takeControl(&session, now: at(1)), dialect: .http2) == [.business(BusinessFrame(type: 4, flags: 1, length: 0))])
    }

    @Test func slowPartialFrameClosesWithEnhanceYourCalm() throws {
        var configuration = fixedConfiguration()
        configuration.slowFrameTimeout = .seconds(5)
        var session = HeartbeatSession(dialect: HTTP2Dialect(managesSettings: false), role: .client, configuration: configuration, encoderSeed: 1, now: at(0))
        var header: [UInt8] = []
        HTTP2Frame.appendHeader(length: 1000, type: HTTP2Frame.FrameType.data, flags: 0, streamID: 1, to: &header)
        try session.receive(header.span.bytes, now: at(1)) { _, _ in }  // a frame begun, never finished
        session.tick(now: at(6.5))
        #expect(outputs(&session).contains(.closeRequested(.slowFrame)))
        let goAway = try items(takeControl(&session, now: at(6.5)), dialect: .http2)
        #expect(goAway.count == 1)
        #expect(goAway.first.map { if case .business(let frame) = $0 { frame.type == 7 } else { false } } == true)
    }

    @Test(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
    func steadyStateAllocatesNothing() throws {
        var session = HeartbeatSession(dialect: HTTP2Dialect(managesSettings: false), role: .client, configuration: fixedConfiguration(), encoderSeed: 1, now: at(0))
        _ = takeControl(&session, now: at(0))
        var wire: [UInt8] = []
        wire.reserveCapacity(64)
        var written: [UInt8] = []
        written.reserveCapacity(64)
        var now = 0.0
        var peer = Demuxer(HTTP2FrameDecoder())
        func round() throws {
            // The peer pings us; we answer. Our own ping falls due; the peer answers.
            now += 30
            wire.removeAll(keepingCapacity: true)
            HTTP2Frame.appendPing(HeartbeatPayload(rawValue: UInt64(now)), ack: false, to: &wire)
            try session.receive(wire.span.bytes, now: at(now)) { _, _ in }
            session.tick(now: at(now))
            written.removeAll(keepingCapacity: true)
            session.withPendingControlBytes { bytes in bytes.withUnsafeBytes { written.append(contentsOf: $0) } }
            session.controlBytesWritten(written.count, now: at(now))
            // Find our PING among what was written (a pong too) and answer it.
            var ours: HeartbeatPayload?
            try peer.feed(written.span.bytes) { item, _ in if case .ping(let payload) = item { ours = payload } }
            wire.removeAll(keepingCapacity: true)
            HTTP2Frame.appendPing(ours ?? HeartbeatPayload(rawValue: 0), ack: true, to: &wire)
            try session.receive(wire.span.bytes, now: at(now + 0.01)) { _, _ in }
            while session.pollOutput() != nil {}
        }
        try round()
        let count = try allocations { for _ in 0..<10_000 { try round() } }
        #expect(count == 0, "\(count) allocations in 10,000 session round trips")
        #expect(session.engine.counters.rttSamples == 10_001)
        #expect(session.engine.counters.pongsSent == 10_001)
    }
}

extension SessionTests {
    @Test func aMillionPingsFromAPeerThatNeverReadsKeepOurMemoryBounded() throws {
        var configuration = fixedConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)  // no policer: only the bound protects us
        var session = HeartbeatSession(dialect: HTTP2Dialect(managesSettings: false), role: .server, configuration: configuration, encoderSeed: 1, now: at(0))
        var preface: [UInt8] = []
        HTTP2Frame.appendClientPreface(to: &preface)
        try session.receive(preface.span.bytes, now: at(0)) { _, _ in }
        var flood: [UInt8] = []
        for index in 0..<1000 { HTTP2Frame.appendPing(HeartbeatPayload(rawValue: UInt64(index)), ack: false, to: &flood) }
        var largest = 0
        for round in 0..<1000 {  // 10^6 PINGs in 1,000 reads; our pongs are never written
            try session.receive(flood.span.bytes, now: at(Double(round) * 0.001)) { _, _ in }
            largest = max(largest, session.withPendingControlBytes { $0.byteCount })
            while session.pollOutput() != nil {}
        }
        #expect(session.engine.counters.pingsReceived == 1_000_000)
        #expect(largest <= HeartbeatSession<HTTP2Dialect>.maxPendingControlBytes + session.encoder.maxHeartbeatLength)
        // Coalesced in the engine (at most maxPendingPongs wait per read) or discarded at the bound.
        #expect(session.engine.counters.pongsDropped + session.pongsDiscarded > 990_000)
        #expect(session.pongsDiscarded > 0)
    }

    @Test func aMillionPingFloodIsClosedByThePolicer() throws {
        var session = HeartbeatSession(dialect: .envelope, role: .server, encoderSeed: 1, now: at(0))
        var flood: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &flood)
        for index in 0..<1_000_000 { EnvelopeFrame.appendPing(HeartbeatPayload(rawValue: UInt64(index)), to: &flood) }
        try session.receive(flood.span.bytes, now: at(1)) { _, _ in }
        var outputs: [HeartbeatSessionOutput] = []
        while let output = session.pollOutput() { outputs.append(output) }
        #expect(outputs.contains(.closeRequested(.tooManyPings)))
        #expect(session.engine.state == .closed)
        // The GOAWAY ENHANCE_YOUR_CALM "too_many_pings" is queued behind at most a few pongs.
        let control = session.withPendingControlBytes { $0.withUnsafeBytes { Array($0) } }
        #expect(control.count < 200)
        var demuxer = Demuxer(EnvelopeFrameDecoder(expectPreface: false))
        var goAway: EnvelopeGoAway?
        try demuxer.feed(Array(control.dropFirst(EnvelopeFrame.prefaceLength))) { item, bytes in
            if case .business(let frame) = item, frame.type == EnvelopeFrame.FrameType.goAway { goAway = try? EnvelopeGoAway(payload: bytes) }
        }
        #expect(goAway?.errorCode == .enhanceYourCalm)
        #expect(goAway?.reason == "too_many_pings")
    }
}
