import AllocationCounting
@testable import Framing
import Testing

/// spec/vectors/amqp.json: whole, split at every octet boundary, one octet at a time.
@Suite struct AMQPVectorTests {
    static let vectors = VectorTests.load("amqp.json")

    @Test func thereAreEnoughVectors() {
        #expect(Self.vectors.count >= 25)
    }

    @Test(arguments: vectors)
    func vector(_ vector: Vector) throws {
        try VectorTests().streamVectorWholeSplitAndBytewise(vector)
    }
}

/// Every item of `bytes` as `decoder` reads it, with its octets, and the error that stopped it.
private func demux(_ bytes: [UInt8], _ decoder: AMQPFrameDecoder) -> (items: [(DemuxedItem, [UInt8])], error: FramingError?) {
    var demuxer = StreamDemuxer(decoder)
    var items: [(DemuxedItem, [UInt8])] = []
    do {
        try demuxer.feed(bytes) { item, octets in items.append((item, octets.withUnsafeBytes { Array($0) })) }
        try demuxer.finish()
        return (items, nil)
    } catch {
        return (items, error)
    }
}

/// The AMQP codec: frames, Connection methods and field tables, both ways.
@Suite struct AMQPCodecTests {
    @Test func theHeartbeatFrameIsEightOctets() {
        var buffer: [UInt8] = []
        var encoder = AMQPFrameEncoder(role: .client)
        encoder.appendPing(HeartbeatPayload(rawValue: 42), to: &buffer)
        #expect(buffer == [0x08, 0, 0, 0, 0, 0, 0, 0xCE])
        #expect(encoder.maxHeartbeatLength == buffer.count)
        let ping = buffer
        encoder.appendPong(echoing: ping.span.bytes, to: &buffer)
        #expect(buffer.count == 8, "nothing answers a heartbeat")
    }

    @Test func framesOfEveryTypeRoundTripWithTheirChannel() {
        var encoder = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        var stream: [UInt8] = []
        let payloads: [(UInt8, UInt16, [UInt8])] = [(1, 1, [0, 20, 0, 10, 0]), (2, 1, Array(repeating: 0, count: 14)), (3, 7, Array("body".utf8)), (3, 65535, [])]
        for (type, channel, payload) in payloads {
            encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: type, channel: channel), to: &stream)
        }
        let (items, error) = demux(stream, AMQPFrameDecoder())
        #expect(error == nil)
        #expect(items.count == payloads.count)
        for ((item, octets), (type, channel, payload)) in zip(items, payloads) {
            #expect(item == .business(BusinessFrame(type: UInt64(type), streamID: UInt32(channel), length: payload.count)))
            #expect(octets == payload)
        }
    }

    @Test func aLongBodyIsSplitAtTheFrameMax() {
        var encoder = AMQPFrameEncoder(role: .server, dialect: AMQPDialect(frameMax: 4096, performsHandshake: false))
        let body = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        var stream: [UInt8] = []
        encoder.appendData(body.span.bytes, type: AMQPFrame.dataType(frameType: 3, channel: 1), to: &stream)
        let (items, error) = demux(stream, AMQPFrameDecoder(maxFrameSize: 4096))
        #expect(error == nil)
        #expect(items.map { $0.1.count } == [4088, 4088, 1824])
        #expect(items.flatMap(\.1) == body)
    }

    @Test func dataWithoutATypeIsWholeFramesAsTheyAre() {
        var encoder = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        let frames: [UInt8] = [0x08, 0, 0, 0, 0, 0, 0, 0xCE]
        var stream: [UInt8] = []
        encoder.appendData(frames.span.bytes, type: nil, to: &stream)
        #expect(stream == frames)
    }

    @Test func connectionMethodsRoundTrip() throws {
        let methods: [AMQPConnectionMethod] = [
            .start(versionMajor: 0, versionMinor: 9, product: "RabbitMQ", mechanisms: "AMQPLAIN PLAIN", locales: "en_US"),
            .startOk(mechanism: "PLAIN", response: [0] + Array("guest".utf8) + [0] + Array("guest".utf8), locale: "en_US"),
            .tune(AMQPTuning(channelMax: 2047, frameMax: 131_072, heartbeat: 60)),
            .tuneOk(AMQPTuning(channelMax: 0, frameMax: 4096, heartbeat: 1)),
            .open(virtualHost: "/"),
            .openOk,
            .close(replyCode: 320, replyText: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'", classID: 0, methodID: 0),
            .closeOk,
        ]
        for method in methods {
            var frame: [UInt8] = []
            method.append(to: &frame)
            let (items, error) = demux(frame, AMQPFrameDecoder())
            #expect(error == nil)
            let payload = try #require(items.first?.1)
            #expect(try AMQPConnectionMethod(payload: payload.span.bytes) == method)
        }
    }

    @Test func aShortStringIsCutAtACharacterBoundary() throws {
        var frame: [UInt8] = []
        let text = String(repeating: "é", count: 200)   // 400 octets
        AMQPConnectionMethod.close(replyCode: 200, replyText: text, classID: 0, methodID: 0).append(to: &frame)
        let payload = Array(frame[7..<(frame.count - 1)])
        guard case .close(_, let read, _, _)? = try AMQPConnectionMethod(payload: payload.span.bytes) else {
            Issue.record("not a Close")
            return
        }
        #expect(read == String(repeating: "é", count: 127))
    }

    @Test func methodsOfOtherClassesAreNotConnectionMethods() throws {
        let channelOpen: [UInt8] = [0, 20, 0, 10, 0]
        #expect(try AMQPConnectionMethod(payload: channelOpen.span.bytes) == nil)
    }

    @Test(arguments: [
        ("a table longer than the frame", [0, 10, 0, 11, 0, 0, 1, 0]),
        ("an unknown field type", [0, 10, 0, 11, 0, 0, 0, 3, 1, 0x61, 0x51]),
        ("a longstr past the end", [0, 10, 0, 11, 0, 0, 0, 0, 5, 0x50, 0x4c, 0x41, 0x49, 0x4e, 0, 0, 0, 9]),
        ("a Tune cut short", [0, 10, 0, 30, 0, 1, 0, 0]),
        ("a Close without its ids", [0, 10, 0, 50, 0, 200, 0]),
    ] as [(String, [UInt8])])
    func malformedArgumentsAreSyntaxErrors(_ name: String, _ payload: [UInt8]) {
        #expect(throws: AMQPSyntaxError.self, "\(name)") { try AMQPConnectionMethod(payload: payload.span.bytes) }
    }

    @Test func nestedTablesAreBoundedInDepth() {
        // A table holding a table holding ... 40 deep: each level `F` + length.
        var value: [UInt8] = []
        for _ in 0..<40 {
            var entry: [UInt8] = [1, 0x6e, UInt8(ascii: "F")]
            entry.appendBigEndian(UInt64(value.count), width: 4)
            entry += value
            value = entry
        }
        var payload: [UInt8] = [0, 10, 0, 11]
        payload.appendBigEndian(UInt64(value.count), width: 4)
        payload += value + [5] + Array("PLAIN".utf8) + [0, 0, 0, 0, 0]
        #expect(throws: AMQPSyntaxError.self) { try AMQPConnectionMethod(payload: payload.span.bytes) }
    }

    @Test func everyFieldTypeIsWalked() throws {
        var table: [UInt8] = []
        func entry(_ type: Character, _ value: [UInt8]) {
            table += [1, UInt8(ascii: "k"), UInt8(ascii: type.unicodeScalars.first!)] + value
        }
        entry("t", [1]); entry("b", [0xFF]); entry("B", [1]); entry("s", [0, 1]); entry("u", [0, 1]); entry("U", [0, 1])
        entry("I", [0, 0, 0, 1]); entry("i", [0, 0, 0, 1]); entry("f", [0, 0, 0, 0]); entry("D", [2, 0, 0, 0, 1])
        entry("l", Array(repeating: 0, count: 8)); entry("L", Array(repeating: 0, count: 8))
        entry("d", Array(repeating: 0, count: 8)); entry("T", Array(repeating: 0, count: 8)); entry("V", [])
        entry("S", [0, 0, 0, 2, 0x68, 0x69]); entry("x", [0, 0, 0, 1, 0xFF])
        entry("A", [0, 0, 0, 3, UInt8(ascii: "b"), 7, UInt8(ascii: "V")]); entry("F", [0, 0, 0, 0])
        var payload: [UInt8] = [0, 10, 0, 10, 0, 9]
        payload.appendBigEndian(UInt64(table.count), width: 4)
        payload += table + [0, 0, 0, 5] + Array("PLAIN".utf8) + [0, 0, 0, 5] + Array("en_US".utf8)
        #expect(try AMQPConnectionMethod(payload: payload.span.bytes)
                == .start(versionMajor: 0, versionMinor: 9, product: "", mechanisms: "PLAIN", locales: "en_US"))
    }

    @Test func theNegotiatedHeartbeatIsTheSmallerNonZero() {
        func heartbeat(_ server: UInt16, _ ours: UInt16) -> UInt16 {
            AMQPTuning.negotiated(proposal: AMQPTuning(channelMax: 0, frameMax: 0, heartbeat: server),
                                  ours: AMQPTuning(channelMax: 0, frameMax: 0, heartbeat: ours)).heartbeat
        }
        #expect(heartbeat(60, 1) == 1)
        #expect(heartbeat(5, 30) == 5)
        #expect(heartbeat(0, 10) == 10)
        #expect(heartbeat(60, 0) == 60)
        #expect(heartbeat(0, 0) == 0)
        let settled = AMQPTuning.negotiated(proposal: AMQPTuning(channelMax: 2047, frameMax: 131_072, heartbeat: 60),
                                            ours: AMQPTuning(channelMax: 0, frameMax: 8192, heartbeat: 0))
        #expect(settled == AMQPTuning(channelMax: 2047, frameMax: 8192, heartbeat: 60))
    }

    @Test func theFrameMaxIsClampedToTheSpecMinimum() {
        #expect(AMQPFrameDecoder(maxFrameSize: 10).maxFrameSize == AMQPFrame.minFrameMax)
        #expect(AMQPFrameDecoder(maxFrameSize: Int.max).maxFrameSize == Int(UInt32.max))
        #expect(AMQPDialect(frameMax: 1).frameMax == 4096)
    }

    @Test func theDecoderRejectsAnOversizedFrameFromItsHeaderAlone() {
        var demuxer = StreamDemuxer(AMQPFrameDecoder())
        let header: [UInt8] = [3, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF]
        #expect(throws: FramingError.self) { try demuxer.feed(header) { _, _ in } }
        #expect(demuxer.bufferedByteCount == 0)
        #expect(demuxer.failure?.code == .amqp(.frameError))
    }

    @Test func aServerRefusingOurVersionIsReportedClearly() {
        let (_, error) = demux(Array("AMQP".utf8) + [0, 1, 0, 0], AMQPDialect().makeDecoder(role: .client, maxFrameSize: nil))
        #expect(error?.reason.identifier == "amqp-version-refused")
        let described = "\(error?.reason ?? .truncated)"
        #expect(described.contains("AMQP 0-1-0-0"))
    }

    @Test func theCodesAreTheSpecsNames() {
        #expect(WireErrorCode.amqp(.frameError) == WireErrorCode(value: 501, name: "FRAME_ERROR"))
        #expect(FramingError.Reason.frameTooLarge(length: 1, limit: 0).code(in: .amqp) == .amqp(.frameError))
        #expect(DialectRegistry.dialect(named: "amqp") == .amqp)
        #expect(DialectRegistry.closeCodes(.amqp)?.noError == .amqp(.replySuccess))
        for rule in AMQPRule.allCases { #expect(rule.identifier.hasPrefix("amqp-")) }
    }

    @Test func theDissectorPrintsHeartbeatsWithoutPayload() {
        var dissector = Dissector(Demuxer(dialect: .amqp), format: .jsonl)
        var lines: [String] = []
        var bytes = AMQPFrame.protocolHeader
        AMQPFrame.appendHeartbeat(to: &bytes)
        let body: [UInt8] = [1, 2, 3]
        AMQPFrame.appendFrame(type: 3, channel: 1, payload: body.span.bytes, to: &bytes)
        bytes += [8, 0, 1]
        #expect(!dissector.feed(bytes.span.bytes) { lines.append($0) })
        #expect(lines == [#"{"item":"business","type":256,"length":8}"#, #"{"item":"ping"}"#,
                          #"{"item":"business","type":3,"length":3}"#, #"{"item":"error","code":"FRAME_ERROR","offset":27}"#])
    }
}

/// The client and server encoders' handshake, frame by frame.
@Suite struct AMQPHandshakeTests {
    /// The method frames in `bytes`, parsed.
    static func methods(_ bytes: [UInt8]) throws -> [AMQPConnectionMethod] {
        let (items, error) = demux(bytes, AMQPFrameDecoder())
        #expect(error == nil)
        return try items.compactMap { item, payload in try AMQPConnectionMethod(payload: payload.span.bytes) }
    }

    static func method(_ method: AMQPConnectionMethod) -> (BusinessFrame, [UInt8]) {
        var frame: [UInt8] = []
        method.append(to: &frame)
        let payload = Array(frame[7..<(frame.count - 1)])
        return (BusinessFrame(type: 1, length: payload.count), payload)
    }

    @Test func theClientLogsInTunesAndOpens() throws {
        var client = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(heartbeat: 1, frameMax: 65_536, username: "u", password: "p", virtualHost: "v"))
        var out: [UInt8] = []
        client.appendPreface(to: &out)
        #expect(out == AMQPFrame.protocolHeader)
        #expect(client.negotiatedHeartbeat == .awaitingHandshake)
        #expect(!client.isOpen)
        out = []
        let (startFrame, start) = Self.method(.start(versionMajor: 0, versionMinor: 9, product: "RabbitMQ", mechanisms: "AMQPLAIN PLAIN", locales: "en_US"))
        #expect(try client.inbound(startFrame, payload: start.span.bytes, reply: &out) == .consumed)
        #expect(try Self.methods(out) == [.startOk(mechanism: "PLAIN", response: [0, 0x75, 0, 0x70], locale: "en_US")])
        #expect(client.peerProduct == "RabbitMQ")
        out = []
        let (tuneFrame, tune) = Self.method(.tune(AMQPTuning(channelMax: 2047, frameMax: 131_072, heartbeat: 60)))
        #expect(try client.inbound(tuneFrame, payload: tune.span.bytes, reply: &out) == .consumed)
        #expect(try Self.methods(out) == [.tuneOk(AMQPTuning(channelMax: 2047, frameMax: 65_536, heartbeat: 1)), .open(virtualHost: "v")])
        #expect(client.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: .seconds(1), peerSilenceLimit: .seconds(2)))
        #expect(!client.isOpen)
        out = []
        let (openOkFrame, openOk) = Self.method(.openOk)
        #expect(try client.inbound(openOkFrame, payload: openOk.span.bytes, reply: &out) == .consumed)
        #expect(out.isEmpty && client.isOpen)
        // Open: other frames are the application's.
        #expect(try client.inbound(BusinessFrame(type: 3, streamID: 1, length: 0), payload: [UInt8]().span.bytes, reply: &out) == .deliver)
    }

    @Test func theServerAnswersAClientStepByStep() throws {
        var server = AMQPFrameEncoder(role: .server, dialect: AMQPDialect(heartbeat: 5))
        var out: [UInt8] = []
        server.appendPreface(to: &out)
        #expect(out.isEmpty)
        let header = BusinessFrame(type: AMQPFrame.protocolHeaderType, length: 8)
        let octets = AMQPFrame.protocolHeader
        #expect(try server.inbound(header, payload: octets.span.bytes, reply: &out) == .consumed)
        #expect(try Self.methods(out) == [.start(versionMajor: 0, versionMinor: 9, product: "swift-heartbeat", mechanisms: "PLAIN", locales: "en_US")])
        out = []
        let (startOkFrame, startOk) = Self.method(.startOk(mechanism: "PLAIN", response: [0, 1, 0, 2], locale: "en_US"))
        #expect(try server.inbound(startOkFrame, payload: startOk.span.bytes, reply: &out) == .consumed)
        #expect(try Self.methods(out) == [.tune(AMQPTuning(channelMax: 0, frameMax: 131_072, heartbeat: 5))])
        out = []
        let (tuneOkFrame, tuneOk) = Self.method(.tuneOk(AMQPTuning(channelMax: 0, frameMax: 131_072, heartbeat: 3)))
        #expect(try server.inbound(tuneOkFrame, payload: tuneOk.span.bytes, reply: &out) == .consumed)
        #expect(server.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: .seconds(3), peerSilenceLimit: .seconds(6)))
        let (openFrame, open) = Self.method(.open(virtualHost: "/"))
        #expect(try server.inbound(openFrame, payload: open.span.bytes, reply: &out) == .consumed)
        #expect(try Self.methods(out) == [.openOk])
        #expect(server.isOpen)
    }

    @Test func thePeersCloseIsAnsweredAndReported() throws {
        var client = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        var out: [UInt8] = []
        let (closeFrame, close) = Self.method(.close(replyCode: 320, replyText: "shutdown", classID: 0, methodID: 0))
        #expect(try client.inbound(closeFrame, payload: close.span.bytes, reply: &out) == .peerClosing(code: 320, reason: "shutdown", deliver: false))
        #expect(try Self.methods(out) == [.closeOk])
    }

    @Test func ourCloseCarriesAReplyCodeAndTheTimeoutSendsNothing() throws {
        var client = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        var out: [UInt8] = []
        client.appendClose(code: client.closeCodes.livenessTimeout, reason: "silent", to: &out)
        #expect(out.isEmpty)
        client.appendClose(code: client.closeCodes.protocolError, reason: "bad frame", to: &out)
        #expect(try Self.methods(out) == [.close(replyCode: 501, replyText: "bad frame", classID: 0, methodID: 0)])
        out = []
        client.appendClose(code: .amqp(.replySuccess), reason: "", to: &out)
        #expect(out.isEmpty, "one Close only")
        AMQPFrame.appendHeartbeat(to: &out)
        client.appendPing(.empty, to: &out)
        #expect(out.count == 16, "heartbeats go on after a Close (§4.2.7)")

        var unknown = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        out = []
        unknown.appendClose(code: WireErrorCode(value: 0x1_0000, name: "X"), reason: "", to: &out)
        #expect(try Self.methods(out) == [.close(replyCode: 541, replyText: "", classID: 0, methodID: 0)])
    }

    @Test func aServerRefusesABadHeaderWithItsOwn() {
        var server = AMQPFrameEncoder(role: .server)
        var out: [UInt8] = []
        server.appendClose(code: .amqp(.notImplemented), reason: "version", to: &out)
        #expect(out == AMQPFrame.protocolHeader)
        var client = AMQPFrameEncoder(role: .client)
        out = []
        client.appendClose(code: .amqp(.frameError), reason: "", to: &out)
        #expect(out.isEmpty, "no Close before the server's Start")
    }

    @Test func handshakeViolationsCarryTheirReplyCodes() throws {
        func failure(_ encoder: AMQPFrameEncoder, _ method: AMQPConnectionMethod) -> String? {
            var encoder = encoder
            var out: [UInt8] = []
            let (frame, payload) = Self.method(method)
            do {
                _ = try encoder.inbound(frame, payload: payload.span.bytes, reply: &out)
                return nil
            } catch {
                return "\(error.identifier) \(error.code(in: .amqp).value)"
            }
        }
        let client = AMQPFrameEncoder(role: .client)
        #expect(failure(client, .openOk) == "amqp-unexpected-method 503")
        #expect(failure(client, .start(versionMajor: 0, versionMinor: 8, product: "", mechanisms: "PLAIN", locales: "")) == "amqp-unsupported-version 540")
        #expect(failure(client, .start(versionMajor: 0, versionMinor: 9, product: "", mechanisms: "EXTERNAL", locales: "")) == "amqp-mechanism 403")
        var server = AMQPFrameEncoder(role: .server, dialect: AMQPDialect(frameMax: 8192))
        var out: [UInt8] = []
        let header = AMQPFrame.protocolHeader
        _ = try server.inbound(BusinessFrame(type: AMQPFrame.protocolHeaderType, length: 8), payload: header.span.bytes, reply: &out)
        #expect(failure(server, .startOk(mechanism: "AMQPLAIN", response: [], locale: "")) == "amqp-mechanism 403")
        let (frame, payload) = Self.method(.startOk(mechanism: "PLAIN", response: [], locale: ""))
        _ = try server.inbound(frame, payload: payload.span.bytes, reply: &out)
        #expect(failure(server, .tuneOk(AMQPTuning(channelMax: 0, frameMax: 16_384, heartbeat: 0))) == "amqp-tune-frame-max 530")
        // Below the spec's minimum frame-max of 4096 (§4.2.3) is refused too.
        #expect(failure(server, .tuneOk(AMQPTuning(channelMax: 0, frameMax: 4095, heartbeat: 0))) == "amqp-tune-frame-max 530")
        var syntax = AMQPFrameEncoder(role: .client)
        #expect(throws: FramingError.Reason.self) {
            _ = try syntax.inbound(BusinessFrame(type: 1, length: 5), payload: [0, 10, 0, 30, 0].span.bytes, reply: &out)
        }
    }
}

/// Encoding and decoding a heartbeat, and demuxing a chunk of frames, allocate nothing.
@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct AMQPAllocationTests {
    @Test func heartbeatsAndSplitFramesAllocateNothingOnceWarm() throws {
        var encoder = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        var demuxer = StreamDemuxer(AMQPDialect().makeDecoder(role: .server, maxFrameSize: nil))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        buffer += AMQPFrame.protocolHeader
        var beats = 0, others = 0
        try demuxer.feed(buffer) { _, _ in }
        var frames = StreamDemuxer(AMQPFrameDecoder())
        let body: [UInt8] = Array(repeating: 0xab, count: 1000)
        var stream: [UInt8] = []
        for _ in 0..<100 {
            AMQPFrame.appendHeartbeat(to: &stream)
            AMQPFrame.appendFrame(type: 3, channel: 1, payload: body.span.bytes, to: &stream)
        }
        func round() throws {
            buffer.removeAll(keepingCapacity: true)
            encoder.appendPing(.empty, to: &buffer)
            try demuxer.feed(buffer) { item, _ in if item == .ping(.empty) { beats += 1 } else { others += 1 } }
        }
        try round()
        try frames.feed(stream.span.bytes.extracting(0..<2000)) { _, _ in }
        let count = try allocations {
            for _ in 0..<10_000 { try round() }
            var index = 2000
            while index < stream.count {
                let end = min(index + 333, stream.count)
                try frames.feed(stream.span.bytes.extracting(index..<end)) { _, _ in }
                index = end
            }
        }
        #expect(count == 0)
        #expect(beats == 10_001 && others == 0)
    }
}

/// Length-prefixed strings are cut at a character boundary, and AMQP never splits a method.
@Suite struct FieldEncodingTests {
    @Test func aUTF8PrefixEndsOnACharacterBoundary() {
        let text = String(repeating: "é", count: 200)  // 400 octets, 2 per character
        #expect("abc".utf8Prefix(maxOctets: 8) == Array("abc".utf8))
        #expect(text.utf8Prefix(maxOctets: 255).count == 254)
        #expect(String(validating: text.utf8Prefix(maxOctets: 255), as: UTF8.self) != nil)
        var shortstr: [UInt8] = []
        AMQPFields.appendShortString(text, to: &shortstr)
        #expect(shortstr.first == 254 && shortstr.count == 255)
    }

    @Test func aMethodLongerThanFrameMaxGoesOutAsOneFrameAndABodyIsSplit() throws {
        var encoder = AMQPFrameEncoder(role: .client, dialect: AMQPDialect(performsHandshake: false))
        let payload = [UInt8](repeating: 7, count: 200_000)
        var method: [UInt8] = []
        encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: 1, channel: 1), to: &method)
        #expect(method.count == payload.count + AMQPFrame.overhead)
        var body: [UInt8] = []
        encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: AMQPFrame.FrameType.body, channel: 1), to: &body)
        #expect(body.count > payload.count + AMQPFrame.overhead)
    }
}
