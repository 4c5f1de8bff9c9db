import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOEmbedded
import Testing

/// A dialect under test, and how its business frames look to an application.
struct DialectCase: CustomTestStringConvertible, Sendable {
    var name: String
    var dialect: any StreamDialect
    /// What the application writes to send `payload` (HTTP/2 applications write whole frames).
    var message: @Sendable ([UInt8]) -> [UInt8] = { $0 }
    /// The business frame type the peer delivers `message(payload)` as.
    var deliveredType: UInt64
    var testDescription: String { name }

    static let all: [DialectCase] = [
        DialectCase(name: "envelope", dialect: EnvelopeDialect(), deliveredType: EnvelopeFrame.FrameType.data),
        DialectCase(name: "http2", dialect: HTTP2Dialect(), message: { payload in
            var frame: [UInt8] = []
            payload.withUnsafeBytes { Framing.HTTP2Frame.appendFrame(type: Framing.HTTP2Frame.FrameType.data, streamID: 1, payload: $0.bytes, to: &frame) }
            return frame
        }, deliveredType: UInt64(Framing.HTTP2Frame.FrameType.data)),
        DialectCase(name: "ws", dialect: WebSocketDialect(), deliveredType: UInt64(WebSocketFrame.Opcode.binary)),
    ]
}

@Suite struct NIOHeartbeatHandlerTests {
    @Test(arguments: DialectCase.all)
    func pingsAreAnsweredAndBusinessFlowsBothWays(_ testCase: DialectCase) throws {
        func run<D: StreamDialect>(_ dialect: D) throws {
            var harness = try ClientHarness(dialect: dialect)
            let (channel, recorder) = (harness.channel, harness.recorder)
            defer { _ = try? channel.finish() }

            let hello = Array("hello over \(testCase.name)".utf8)
            channel.writeAndFlush(HeartbeatNIOWrite(channel.allocator.buffer(bytes: testCase.message(hello))), promise: nil)
            for _ in 0..<5 { try harness.step(.seconds(1)) }
            #expect(recorder.rttSamples.count >= 4)
            #expect(harness.handler.state == .idle)
            #expect(channel.isActive)
            var peer = harness.peer
            #expect(peer.delivered.contains { $0.frame.type == testCase.deliveredType && $0.payload == testCase.message(hello).suffix(hello.count) })

            // The peer's business frame comes down the pipeline with its header.
            let reply = Array("reply".utf8)
            try peer.send(peer.encode(testCase.message(reply)), to: channel)
            let received = try #require(recorder.business.last)
            #expect(received.frame.type == testCase.deliveredType)
            #expect(Array(received.payload.readableBytesView) == reply)
            #expect(recorder.errors.isEmpty)
        }
        try run(testCase.dialect)
    }

    @Test(arguments: DialectCase.all)
    func aSilentPeerIsDeclaredDeadAndGetsTheDialectsCloseFrame(_ testCase: DialectCase) throws {
        func run<D: StreamDialect>(_ dialect: D) throws {
            var harness = try ClientHarness(dialect: dialect)
            let (channel, recorder) = (harness.channel, harness.recorder)
            defer { _ = try? channel.finish() }
            harness.peer.answers = false  // it reads, but never answers again
            for _ in 0..<4 where channel.isActive { try harness.step(.milliseconds(500)) }
            let peer = harness.peer
            #expect(!channel.isActive)
            #expect(recorder.events.contains { if case .peerDead = $0.output { return true } else { return false } })
            #expect(recorder.errors.contains { if case .peerDead = $0 as? HeartbeatNIOError { return true } else { return false } })
            let closeCode = peer.session.closeCodes.livenessTimeout.value
            #expect(peer.outputs.contains { if case .peerGoAway(closeCode, _) = $0 { return true } else { return false } })
        }
        try run(testCase.dialect)
    }

    @Test func aPingFloodIsPolicedWithEnhanceYourCalm() throws {
        var configuration = HeartbeatConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .seconds(1), maxPingStrikes: 2)
        let handler = NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .server, configuration: configuration)
        let (channel, recorder) = try embeddedChannel(handler)
        defer { _ = try? channel.finish() }
        var peer = Peer(dialect: EnvelopeDialect(), role: .client, now: Timestamp(channel.embeddedEventLoop.now))
        try peer.pump(channel)
        for sequence in 0..<6 where channel.isActive {
            var ping: [UInt8] = []
            EnvelopeFrame.appendPing(HeartbeatPayload(sequence: UInt32(sequence), timestampMilliseconds: 0), to: &ping)
            try peer.send(ping, to: channel)
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(10))
            try peer.pump(channel)
        }
        #expect(!channel.isActive)
        #expect(recorder.errors.contains { $0 as? HeartbeatNIOError == .closedByPolicy(.tooManyPings) })
        let calm = peer.session.closeCodes.enhanceYourCalm.value
        #expect(peer.outputs.contains { if case .peerGoAway(calm, "too_many_pings") = $0 { return true } else { return false } })
    }

    @Test func thePeersPingIsAnsweredAndCountedInAnEventWithNoOutput() throws {
        let harness = try ClientHarness(dialect: EnvelopeDialect())
        defer { _ = try? harness.channel.finish() }
        harness.recorder.events.removeAll()
        let payload = HeartbeatPayload(sequence: 9, timestampMilliseconds: 0)
        var ping: [UInt8] = []
        EnvelopeFrame.appendPing(payload, to: &ping)
        try harness.peer.send(ping, to: harness.channel)
        let event = try #require(harness.recorder.events.last)
        #expect(event.output == nil)
        #expect(event.counters.pingsReceived == 1)
        var pong: [UInt8] = []
        EnvelopeFrame.appendPong(payload, to: &pong)
        #expect(try harness.channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == pong)
    }

    @Test func aHeartbeatGoesAheadOfBusinessWritesNotYetFlushed() throws {
        let handler = NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client, configuration: quickConfiguration())
        let (channel, _) = try embeddedChannel(handler)
        defer { _ = try? channel.finish() }
        _ = try channel.readOutbound(as: ByteBuffer.self)  // the preface
        channel.write(HeartbeatNIOWrite(channel.allocator.buffer(bytes: [1, 2, 3])), promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let ping = try #require(try channel.readOutbound(as: ByteBuffer.self))
        var expected: [UInt8] = []
        EnvelopeFrame.appendHeader(type: EnvelopeFrame.FrameType.ping, length: HeartbeatPayload.byteCount, to: &expected)
        #expect(Array(ping.readableBytesView.prefix(expected.count)) == expected)
        #expect(ping.readableBytes == expected.count + HeartbeatPayload.byteCount)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.flush()
        var data: [UInt8] = []
        [UInt8]([1, 2, 3]).withUnsafeBytes { EnvelopeFrame.appendFrame(payload: $0.bytes, to: &data) }
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == data)
    }

    @Test func businessPayloadsInOneReadAreSlicesOfThatBuffer() throws {
        let handler = NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client, configuration: quickConfiguration())
        let (channel, recorder) = try embeddedChannel(handler)
        defer { _ = try? channel.finish() }
        var bytes: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &bytes)
        let payload = [UInt8](repeating: 0xAB, count: 1000)
        payload.withUnsafeBytes { EnvelopeFrame.appendFrame(payload: $0.bytes, to: &bytes) }
        let read = channel.allocator.buffer(bytes: bytes)
        try channel.writeInbound(read)
        let delivered = try #require(recorder.business.first)
        #expect(Array(delivered.payload.readableBytesView) == payload)
        let readRange = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) ..< UInt(bitPattern: $0.baseAddress! + $0.count) }
        let payloadStart = delivered.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(readRange.contains(payloadStart))
    }

    @Test func aFramingErrorSendsTheCloseFrameWithItsCodeAndCloses() throws {
        let handler = NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client, configuration: quickConfiguration())
        let (channel, recorder) = try embeddedChannel(handler)
        defer { _ = try? channel.finish() }
        var peer = Peer(dialect: EnvelopeDialect(), role: .server, now: Timestamp(channel.embeddedEventLoop.now))
        // An HTTP/1.1 answer where the envelope's preface belongs (spec/envelope.md §4).
        try peer.send(Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8), to: channel)
        #expect(!channel.isActive)
        let error = try #require(recorder.errors.first as? FramingError)
        try peer.pump(channel)
        #expect(peer.outputs.contains { if case .peerGoAway(error.code.value, _) = $0 { return true } else { return false } })
    }

    @Test func closingFromTheApplicationSendsTheGracefulCloseFrame() throws {
        let handler = NIOHeartbeatHandler(dialect: EnvelopeDialect(), role: .client, configuration: quickConfiguration())
        let (channel, _) = try embeddedChannel(handler)
        var peer = Peer(dialect: EnvelopeDialect(), role: .server, now: Timestamp(channel.embeddedEventLoop.now))
        try peer.pump(channel)
        try channel.close().wait()
        try peer.pump(channel)
        let noError = peer.session.closeCodes.noError.value
        #expect(peer.outputs.contains { if case .peerGoAway(noError, _) = $0 { return true } else { return false } })
    }

    @Test func aDialectChosenAtRunTimeRuns() throws {
        let stream = try #require(DialectRegistry.streamDialect(.envelope))
        let handler = makeHeartbeatHandler(dialect: stream, role: .client, configuration: quickConfiguration())
        let (channel, recorder) = try embeddedChannel(handler)
        defer { _ = try? channel.finish() }
        var peer = Peer(dialect: EnvelopeDialect(), role: .server, now: Timestamp(channel.embeddedEventLoop.now))
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            try peer.pump(channel)
        }
        #expect(recorder.rttSamples.count == 3)
    }
}
