import AllocationCounting
import Framing
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Random RESP2/RESP3 values, built from the RESP specification's grammar, for property tests.
struct RESPValueGenerator {
    var random: SplitMix64
    var maxDepth = 5

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// One value (with attributes, sometimes) and the type octet of the value it annotates.
    mutating func value(depth: Int = 0) -> (octets: [UInt8], type: UInt8) {
        let kinds: [UInt8] = depth >= maxDepth ? Array("+-:$_#,(!=".utf8) : Array("+-:$_#,(!=*%~>|".utf8)
        let kind = kinds[Int.random(in: 0..<kinds.count, using: &random)]
        var out: [UInt8] = [kind]
        func line(_ text: String) { out += bytes(text + "\r\n") }
        switch kind {
        case UInt8(ascii: "+"), UInt8(ascii: "-"): line(word())
        case UInt8(ascii: ":"): line(String(Int64.random(in: .min ... .max, using: &random)))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            if kind == UInt8(ascii: "$"), Int.random(in: 0..<8, using: &random) == 0 { line("-1"); break }
            var data = random.bytes(Int.random(in: 0...40, using: &random))
            if kind == UInt8(ascii: "=") { data = bytes("txt:") + data }
            line(String(data.count))
            out += data + bytes("\r\n")
        case UInt8(ascii: "_"): line("")
        case UInt8(ascii: "#"): line(Bool.random(using: &random) ? "t" : "f")
        case UInt8(ascii: ","): line(["1.5", "-0.25e-3", "inf", "-inf", "nan", "42", "3E+7"][Int.random(in: 0..<7, using: &random)])
        case UInt8(ascii: "("): line(String(UInt64.random(in: 0 ... .max, using: &random)) + String(UInt64.random(in: 0 ... .max, using: &random)))
        default:
            if kind == UInt8(ascii: "*"), Int.random(in: 0..<8, using: &random) == 0 { line("-1"); break }
            let count = Int.random(in: 0...4, using: &random)
            line(String(count))
            let elements = kind == UInt8(ascii: "%") || kind == UInt8(ascii: "|") ? 2 * count : count
            for _ in 0..<elements { out += value(depth: depth + 1).octets }
            if kind == UInt8(ascii: "|") {
                // An attribute precedes the value it annotates; together they are one value.
                let annotated = value(depth: depth + 1)
                return (out + annotated.octets, annotated.type)
            }
        }
        return (out, kind)
    }

    private mutating func word() -> String {
        String((0..<Int.random(in: 0...12, using: &random)).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &random))) })
    }
}

/// The RESP decoder and encoder (spec/resp.md) beyond the vectors.
@Suite struct RESPCodecTests {
    /// Random values, concatenated and cut into random chunks, come out one item each, whole.
    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func randomValuesAreDelimitedHoweverTheyAreCut(seed: UInt64) {
        var generator = RESPValueGenerator(seed: seed)
        var stream: [UInt8] = []
        var expected: [Received] = []
        for _ in 0..<50 {
            let (octets, type) = generator.value()
            stream += octets
            expected.append(Received(.business(BusinessFrame(type: UInt64(type), length: octets.count)), octets))
        }
        var demuxer = Demuxer(RESPDialect(), role: .client)
        let whole = demux(&demuxer, [stream])
        #expect(whole.error == nil)
        #expect(whole.items == expected)
        var chunker = SplitMix64(seed: seed &+ 100)
        var cut = Demuxer(RESPDialect(), role: .client)
        let chunked = demux(&cut, chunker.chunks(of: stream))
        #expect(chunked.items == whole.items && chunked.error == nil)
    }

    @Test func nestingDeeperThanTheLimitFails() {
        let nested = String(repeating: "*1\r\n", count: 4) + ":1\r\n"
        var shallow = Demuxer(RESPDialect(maxDepth: 3), role: .client)
        let failed = demux(&shallow, [bytes(nested)])
        #expect(failed.error?.reason.identifier == "resp-depth")
        var deep = Demuxer(RESPDialect(maxDepth: 4), role: .client)
        #expect(demux(&deep, [bytes(nested)]).items.count == 1)
        // Attributes count as a level too.
        var attributed = Demuxer(RESPDialect(maxDepth: 1), role: .client)
        #expect(demux(&attributed, [bytes("*1\r\n|1\r\n+a\r\n+b\r\n:1\r\n")]).error?.reason.identifier == "resp-depth")
    }

    /// A declared length or count that cannot fit fails as its header is read; nothing is buffered.
    @Test(arguments: ["$1048577\r\n", "!99999999999999999999999999\r\n", "*349526\r\n", "%174763\r\n", "*2\r\n$1048570\r\n",
                      "|174763\r\n", "~1\r\n*349525\r\n"])
    func hugeDeclaredLengthsAreRejectedBeforeBuffering(_ header: String) {
        var demuxer = Demuxer(RESPDialect(), role: .client)
        var failure: FramingError?
        do { try demuxer.feed(bytes(header)) { _, _ in } } catch { failure = error }
        #expect(failure?.reason.identifier == "frame-too-large", "\(header)")
        #expect(failure?.code.name == "PROTOCOL_ERROR")
        #expect(demuxer.bufferedByteCount == 0)
    }

    /// A line that never ends is refused once it can no longer fit: at most one maximum-size value
    /// is ever buffered.
    @Test func anEndlessLineIsRefusedAtTheLimit() {
        let maxFrameSize = 4096
        var demuxer = Demuxer(RESPDialect(), role: .client, maxFrameSize: maxFrameSize)
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        var failure: FramingError?
        var fed = 1
        do {
            try demuxer.feed([0x2B]) { _, _ in }
            while fed < 10 * maxFrameSize {
                try demuxer.feed(chunk) { _, _ in }
                fed += chunk.count
                #expect(demuxer.bufferedByteCount <= maxFrameSize)
            }
        } catch {
            failure = error
        }
        #expect(failure?.reason.identifier == "frame-too-large")
        #expect(fed <= maxFrameSize + chunk.count)
    }

    /// A large nested value fed one octet at a time: the scan resumes where it stopped, so this
    /// completes (a rescan per octet would take minutes).
    @Test func aLargeNestedValueArrivesOctetByOctet() throws {
        var value = bytes("*20000\r\n")
        for index in 0..<20_000 { value += bytes(index % 2 == 0 ? "+OK\r\n" : "*1\r\n:12\r\n") }
        var demuxer = Demuxer(RESPDialect(), role: .client)
        var items: [Received] = []
        for octet in value { try demuxer.feed([octet]) { item, bytes in items.append(Received(item, bytes)) } }
        try demuxer.finish()
        #expect(items == [Received(.business(BusinessFrame(type: 42, length: value.count)), value)])
    }

    @Test func theRoleDecidesWhatIsAHeartbeat() {
        let ping = RESPFrame.encodedBarePing
        let pong = bytes("+PONG\r\n")
        var server = Demuxer(RESPDialect(), role: .server)
        #expect(demux(&server, [ping + pong]).items.map(\.item) == [.ping(.empty), .business(BusinessFrame(type: 43, length: 7))])
        var client = Demuxer(RESPDialect(), role: .client)
        #expect(demux(&client, [ping + pong]).items.map(\.item) == [.business(BusinessFrame(type: 42, length: 14)), .pong(.empty)])
        var capture = Demuxer(RESPDialect(), role: nil)
        #expect(demux(&capture, [ping + pong]).items.map(\.item) == [.ping(.empty), .pong(.empty)])
    }

    @Test func encoderWritesCommandsAndAnswers() throws {
        let payload = HeartbeatPayload(sequence: 1, timestampMilliseconds: 0x2a2a)
        var client = RESPFrameEncoder(role: .client)
        var buffer: [UInt8] = []
        client.appendPing(payload, to: &buffer)
        #expect(buffer == bytes("*1\r\n$4\r\nPING\r\n"))
        #expect(client.maxHeartbeatLength >= buffer.count)
        #expect(client.negotiatedHeartbeat == nil)
        buffer = []
        client.appendClose(code: WireErrorCode.RESP.protocolError, reason: "bye", to: &buffer)
        #expect(buffer.isEmpty)

        var echo = RESPFrameEncoder(role: .client, pingMessage: "hb-")
        buffer = []
        echo.appendPing(payload, to: &buffer)
        #expect(buffer == bytes("*2\r\n$4\r\nPING\r\n$11\r\nhb-") + [0, 0, 0, 1, 0, 0, 0x2a, 0x2a] + bytes("\r\n"))
        #expect(echo.maxHeartbeatLength == buffer.count)

        var server = RESPFrameEncoder(role: .server, answersCommands: true, serverIdleTimeout: .seconds(300))
        #expect(server.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: .seconds(300)))
        buffer = []
        server.appendPing(payload, to: &buffer)
        #expect(buffer.isEmpty)
        let nothing: [UInt8] = [], hello = bytes("hello")
        server.appendPong(echoing: nothing.span.bytes, to: &buffer)
        server.appendPong(echoing: hello.span.bytes, to: &buffer)
        var reply: [UInt8] = []
        let disposition = try server.inbound(BusinessFrame(type: 42, length: 0), payload: nothing.span.bytes, reply: &reply)
        #expect(disposition == .deliver)
        server.appendClose(code: WireErrorCode.RESP.protocolError, reason: "Protocol error:\r\nbad", to: &buffer)
        #expect(buffer == bytes("+PONG\r\n$5\r\nhello\r\n-ERR Protocol error:  bad\r\n"))
        #expect(reply == bytes("-ERR unknown command\r\n"))
    }

    /// What our client writes, our server reads; what our server answers, our client reads.
    @Test(arguments: [nil, "hb-"] as [String?])
    func clientAndServerUnderstandEachOther(pingMessage: String?) throws {
        let payload = HeartbeatPayload(sequence: 9, timestampMilliseconds: 77)
        let dialect = RESPDialect(pingMessage: pingMessage)
        var client = dialect.makeEncoder(role: .client, randomSeed: 1)
        var toServer: [UInt8] = []
        client.appendPing(payload, to: &toServer)
        var serverSide = Demuxer(dialect, role: .server)
        let received = demux(&serverSide, [toServer])
        let message = bytes("hb-") + [0, 0, 0, 9, 0, 0, 0, 77]
        let expectedPing: HeartbeatPayload = pingMessage == nil ? .empty : HeartbeatPayload(prefixOf: message.span.bytes)
        #expect(received.items.map(\.item) == [.ping(expectedPing)])
        var server = dialect.makeEncoder(role: .server, randomSeed: 2)
        var toClient: [UInt8] = []
        let echoed = received.items[0].bytes
        server.appendPong(echoing: echoed.span.bytes, to: &toClient)
        var clientSide = Demuxer(dialect, role: .client)
        #expect(demux(&clientSide, [toClient]).items.map(\.item) == [.pong(pingMessage == nil ? .empty : payload)])
    }

    @Test func registryAndDissectorKnowRESP() {
        #expect(DialectRegistry.dialect(named: "resp") == .resp)
        #expect(DialectRegistry.closeCodes(.resp)?.protocolError.name == "PROTOCOL_ERROR")
        #expect(DialectRegistry.vocabulary(.resp).frameName(42) == "ARRAY")
        var dissector = Dissector(Demuxer(dialect: .resp), format: .jsonl)
        var lines: [String] = []
        let input = RESPFrame.encodedBarePing + bytes("+PONG\r\n:1\r\n$5\r\nab")
        _ = dissector.feed(input.span.bytes) { lines.append($0) }
        _ = dissector.finish { lines.append($0) }
        #expect(lines == ["{\"item\":\"ping\"}", "{\"item\":\"pong\"}", "{\"item\":\"business\",\"type\":58,\"length\":4}",
                          "{\"item\":\"error\",\"code\":\"TRUNCATED\",\"offset\":25}"])
    }
}

extension RESPFrame {
    /// `*1\r\n$4\r\nPING\r\n`.
    static var encodedBarePing: [UInt8] {
        var buffer: [UInt8] = []
        var encoder = RESPFrameEncoder(role: .client)
        encoder.appendPing(.empty, to: &buffer)
        return buffer
    }
}

/// The text-lines decoder and encoder (spec/lines.md) beyond the vectors.
@Suite struct LinesCodecTests {
    @Test func encoderWritesLines() {
        var encoder = LinesFrameEncoder()
        var buffer: [UInt8] = []
        encoder.appendPing(HeartbeatPayload(rawValue: 5), to: &buffer)
        let nothing: [UInt8] = [], hello = bytes("hello")
        encoder.appendPong(echoing: nothing.span.bytes, to: &buffer)
        encoder.appendData(hello.span.bytes, type: nil, to: &buffer)
        encoder.appendClose(code: WireErrorCode.Lines.noError, reason: "", to: &buffer)
        #expect(buffer == bytes("PING\nPONG\nhello\n"))
        #expect(encoder.maxHeartbeatLength == 5)
        var demuxer = Demuxer(LinesDialect())
        #expect(demux(&demuxer, [buffer]).items == [Received(.ping(.empty), []), Received(.pong(.empty), []),
                                                     Received(.business(BusinessFrame(type: 0, length: 5)), bytes("hello"))])
    }

    /// A line that never ends is refused at the limit; the buffer never holds more than a line.
    @Test func anEndlessLineIsLineTooLong() {
        var demuxer = Demuxer(LinesDialect(), maxFrameSize: 100)
        var failure: FramingError?
        do {
            for _ in 0..<1000 {
                try demuxer.feed([UInt8](repeating: 0x61, count: 7)) { _, _ in }
                #expect(demuxer.bufferedByteCount <= 102)
            }
        } catch {
            failure = error
        }
        #expect(failure?.code.name == "LINE_TOO_LONG")
        #expect(failure?.offset == 0)
    }

    /// A maximum-length line fed one octet at a time is scanned once (the scan resumes).
    @Test func aLongLineArrivesOctetByOctet() throws {
        let line = [UInt8](repeating: 0x78, count: 200_000) + [0x0D, 0x0A]
        var demuxer = Demuxer(LinesDialect(), maxFrameSize: 200_000)
        var lengths: [Int] = []
        for octet in line { try demuxer.feed([octet]) { _, bytes in lengths.append(bytes.byteCount) } }
        #expect(lengths == [200_000])
    }

    @Test func randomLinesAreDelimitedHoweverTheyAreCut() {
        var random = SplitMix64(seed: 5)
        var stream: [UInt8] = []
        var expected: [Received] = []
        for _ in 0..<300 {
            var content = random.bytes(Int.random(in: 0...30, using: &random)).map { $0 == 0x0A ? 0x20 : $0 }
            if content.last == 0x0D { content.removeLast() }
            stream += content + (Bool.random(using: &random) ? [0x0D, 0x0A] : [0x0A])
            let item: DemuxedItem = content == bytes("PING") ? .ping(.empty) : content == bytes("PONG") ? .pong(.empty)
                : .business(BusinessFrame(type: 0, length: content.count))
            expected.append(Received(item, item.isHeartbeat ? [] : content))
        }
        var demuxer = Demuxer(LinesDialect())
        #expect(demux(&demuxer, random.chunks(of: stream)).items == expected)
        #expect(DialectRegistry.dialect(named: "lines") == .lines)
        #expect(DialectRegistry.closeCodes(.lines)?.protocolError.name == "PROTOCOL_ERROR")
    }
}

/// The RESP and text-lines hot paths allocate nothing: echo-mode round trips both ways, inline
/// PINGs, and nested values gathered across chunks once the buffer is warm.
@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct RESPAndLinesAllocationTests {
    @Test func echoModeRoundTripsAllocateNothing() throws {
        let dialect = RESPDialect(pingMessage: "hb-")
        var client = dialect.makeEncoder(role: .client, randomSeed: 1)
        var server = dialect.makeEncoder(role: .server, randomSeed: 2)
        var serverSide = StreamDemuxer(dialect.makeDecoder(role: .server, maxFrameSize: nil))
        var clientSide = StreamDemuxer(dialect.makeDecoder(role: .client, maxFrameSize: nil))
        var toServer: [UInt8] = [], toClient: [UInt8] = []
        toServer.reserveCapacity(64)
        toClient.reserveCapacity(64)
        var pongs = 0, mismatches = 0
        func roundTrip(_ index: Int) throws {
            let payload = HeartbeatPayload(sequence: UInt32(truncatingIfNeeded: index), timestampMilliseconds: 3)
            toServer.removeAll(keepingCapacity: true)
            toClient.removeAll(keepingCapacity: true)
            client.appendPing(payload, to: &toServer)
            // An inline PING too: answered +PONG.
            toServer.append(contentsOf: RESPTestBytes.inlinePing)
            try serverSide.feed(toServer) { item, message in
                if case .ping = item { server.appendPong(echoing: message, to: &toClient) } else { mismatches += 1 }
            }
            try clientSide.feed(toClient) { item, _ in
                switch item {
                case .pong(let received) where received == payload: pongs += 1
                case .business(let frame) where frame.type == 43: break
                default: mismatches += 1
                }
            }
        }
        try roundTrip(0)
        let count = try allocations { for index in 1...10_000 { try roundTrip(index) } }
        #expect(count == 0)
        #expect(pongs == 10_001 && mismatches == 0)
    }

    @Test func nestedValuesSplitAcrossChunksAllocateNothingOnceWarm() throws {
        var value: [UInt8] = Array("*3\r\n%1\r\n+key\r\n$10\r\n0123456789\r\n*2\r\n:1\r\n,2.5\r\n|1\r\n+a\r\n+b\r\n#t\r\n".utf8)
        value += Array("PING\r\n".utf8)
        var stream: [UInt8] = []
        for _ in 0..<400 { stream += value }
        var demuxer = StreamDemuxer(RESPDialect().makeDecoder(role: nil, maxFrameSize: nil))
        // Warm up with the same cuts: the buffer grows to the largest value once.
        let warmUp = 1000
        for start in stride(from: 0, to: warmUp, by: 7) { try demuxer.feed(stream.span.bytes.extracting(start..<(start + 7))) { _, _ in } }
        var items = 0
        let count = try allocations {
            var index = warmUp + 1
            while index < stream.count {
                let end = min(index + 7, stream.count)
                try demuxer.feed(stream.span.bytes.extracting(index..<end)) { _, _ in items += 1 }
                index = end
            }
        }
        #expect(count == 0)
        #expect(items > 700)
    }

    @Test func linesSplitAcrossChunksAllocateNothingOnceWarm() throws {
        var stream: [UInt8] = []
        for _ in 0..<500 { stream += Array("PING\nsome business line\r\nPONG\r\n".utf8) }
        var demuxer = StreamDemuxer(LinesDialect().makeDecoder(role: nil, maxFrameSize: nil))
        for start in stride(from: 0, to: 100, by: 5) { try demuxer.feed(stream.span.bytes.extracting(start..<(start + 5))) { _, _ in } }
        var items = 0
        let count = try allocations {
            var index = 100
            while index < stream.count {
                let end = min(index + 5, stream.count)
                try demuxer.feed(stream.span.bytes.extracting(index..<end)) { _, _ in items += 1 }
                index = end
            }
        }
        #expect(count == 0)
        #expect(items > 1400)
    }
}

enum RESPTestBytes {
    static let inlinePing: [UInt8] = Array("ping\r\n".utf8)
}
