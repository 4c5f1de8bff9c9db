import AllocationCounting
import Foundation
@testable import Framing
import Testing

private func hex(_ digest: InlineArray<20, UInt8>) -> String { digest.span.bytes.hexDescription }

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// SHA-1 against RFC 3174 §7.3's four test vectors.
@Suite struct WebSocketSHA1Tests {
    @Test(arguments: [
        ("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("a", 1_000_000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
        ("01234567012345670123456701234567" + "01234567012345670123456701234567", 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452"),
    ])
    func rfc3174Vectors(text: String, repeats: Int, digest: String) {
        var hasher = SHA1()
        let octets = bytes(text)
        for _ in 0..<repeats { hasher.update(octets.span.bytes) }
        #expect(hex(hasher.finalize()) == digest)
    }

    @Test func emptyInputAndBlockEdges() {
        #expect(hex(SHA1.hash([UInt8]().span.bytes)) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // 55, 56 and 64 octets straddle the padding's length field.
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 55).span.bytes)) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 56).span.bytes)) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 64).span.bytes)) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }
}

/// Base 64 against RFC 4648 §10's vectors, both ways, and non-canonical input refused.
@Suite struct WebSocketBase64Tests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(bytes(plain).span.bytes) == encoded)
        var decoded: [UInt8] = []
        #expect(Base64.decode(bytes(encoded).span.bytes, appendingTo: &decoded))
        #expect(decoded == bytes(plain))
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm=v", "Zg==Zg==", "Zm9v!A==", "Zm 9"])
    func nonCanonicalInputIsRefused(_ text: String) {
        var decoded: [UInt8] = [1]
        #expect(!Base64.decode(bytes(text).span.bytes, appendingTo: &decoded))
        #expect(decoded == [1])
    }
}

/// ChaCha20's block function against RFC 8439 §2.3.2's test vector.
@Suite struct WebSocketChaCha20Tests {
    @Test func rfc8439Section2_3_2BlockFunction() {
        var key: InlineArray<8, UInt32> = .init(repeating: 0)
        for index in 0..<8 {
            let base = UInt32(index * 4)
            key[index] = base | (base + 1) << 8 | (base + 2) << 16 | (base + 3) << 24   // octets 00 01 .. 1f, little-endian words
        }
        let nonce: InlineArray<3, UInt32> = [0x0900_0000, 0x4a00_0000, 0x0000_0000]  // 00 00 00 09 00 00 00 4a 00 00 00 00
        let block = ChaCha20Generator.block(key: key, counter: 1, nonce: nonce)
        var serialized: [UInt8] = []
        for index in 0..<16 {
            for shift in stride(from: 0, to: 32, by: 8) { serialized.append(UInt8(truncatingIfNeeded: block[index] >> UInt32(shift))) }
        }
        #expect(serialized == octets("""
            10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4 c7 d1 f4 c7 33 c0 68 03 04 22 aa 9a c3 d4 6c 4e
            d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2 b5 12 9c d1 de 16 4e b9 cb d0 83 e8 a2 50 3c 4e
            """))
        var generator = ChaCha20Generator(key: key, nonce: nonce, counter: 1)
        #expect(generator.next() == block[0] && generator.next() == block[1])
    }

    @Test func maskingKeysDifferPerFrameAndPerSeed() {
        var first = WebSocketFrameEncoder(role: .client, randomSeed: 1, performsHandshake: false)
        var second = WebSocketFrameEncoder(role: .client, randomSeed: 2, performsHandshake: false)
        var keys: Set<UInt32> = []
        for _ in 0..<100 {
            var frame: [UInt8] = []
            first.appendData([UInt8]().span.bytes, type: nil, to: &frame)
            second.appendData([UInt8]().span.bytes, type: nil, to: &frame)
            keys.insert(UInt32(frame[2]) << 24 | UInt32(frame[3]) << 16 | UInt32(frame[4]) << 8 | UInt32(frame[5]))
            keys.insert(UInt32(frame[8]) << 24 | UInt32(frame[9]) << 16 | UInt32(frame[10]) << 8 | UInt32(frame[11]))
        }
        #expect(keys.count == 200)
    }
}

/// The opening handshake (RFC 6455 §4), with RFC 6455 §1.3's example.
@Suite struct WebSocketHandshakeTests {
    static let rfcKey = "dGhlIHNhbXBsZSBub25jZQ=="
    static let rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func request(_ lines: [String]) -> [UInt8] {
        bytes(lines.map { $0 + "\r\n" }.joined() + "\r\n")
    }

    static let goodRequestLines = [
        "GET /chat HTTP/1.1", "Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: \(rfcKey)", "Origin: http://example.com", "Sec-WebSocket-Version: 13",
    ]

    @Test func rfc6455Section1_3AcceptValue() {
        #expect(WebSocketHandshake.acceptValue(forKey: Self.rfcKey) == Self.rfcAccept)
    }

    @Test func keyFromSeedIsBase64Of16Octets() throws {
        let key = WebSocketKey(randomSeed: 42)
        #expect(key.base64.utf8.count == 24)
        #expect(key != WebSocketKey(randomSeed: 43))
        #expect(key == WebSocketKey(randomSeed: 42))
        #expect(WebSocketKey(high: 0x7468_6520_7361_6d70, low: 0x6c65_206e_6f6e_6365).base64 == Self.rfcKey)
    }

    @Test func clientRequestIsAcceptedByServerAndAnswerVerifies() throws {
        let key = WebSocketKey(randomSeed: 7)
        var request: [UInt8] = []
        WebSocketHandshake.appendRequest(host: "example.com:8080", path: "/ws?x=1", key: key, to: &request)
        #expect(String(decoding: request, as: UTF8.self).hasPrefix("GET /ws?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "))
        #expect(try WebSocketHandshake.headerBlockLength(in: request.span.bytes) == request.count)
        let parsed = try WebSocketHandshake.parseRequest(request.span.bytes)
        #expect(parsed.path == "/ws?x=1" && parsed.host == "example.com:8080" && parsed.key == key.base64)
        var response: [UInt8] = []
        WebSocketHandshake.appendAcceptance(of: parsed, to: &response)
        let accepted = try WebSocketHandshake.validateResponse(response.span.bytes, key: key)
        #expect(accepted.statusLine == "HTTP/1.1 101 Switching Protocols")
        #expect(throws: WebSocketHandshakeError.acceptMismatch(expected: WebSocketHandshake.acceptValue(forKey: WebSocketKey(randomSeed: 8).base64),
                                                               received: WebSocketHandshake.acceptValue(forKey: key.base64))) {
            try WebSocketHandshake.validateResponse(response.span.bytes, key: WebSocketKey(randomSeed: 8))
        }
    }

    @Test func rfcExampleRequestAndResponse() throws {
        let request = Self.request(Self.goodRequestLines + ["Sec-WebSocket-Protocol: chat, superchat"])
        let parsed = try WebSocketHandshake.parseRequest(request.span.bytes)
        #expect(parsed.subprotocols == ["chat", "superchat"])
        var response: [UInt8] = []
        WebSocketHandshake.appendAcceptance(key: parsed.key, to: &response)
        #expect(String(decoding: response, as: UTF8.self) ==
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(Self.rfcAccept)\r\n\r\n")
    }

    @Test func headerNamesAndTokensAreCaseInsensitive() throws {
        let request = Self.request([
            "GET / HTTP/1.1", "hOsT: a", "UPGRADE: WebSocket", "connection: keep-alive, UPGRADE",
            "sec-websocket-key:\t\(Self.rfcKey)  ", "SEC-WEBSOCKET-VERSION: 13",
        ])
        #expect(try WebSocketHandshake.parseRequest(request.span.bytes).key == Self.rfcKey)
    }

    static func replacing(_ prefix: String, with line: String?) -> [UInt8] {
        request(goodRequestLines.compactMap { $0.hasPrefix(prefix) ? line : $0 })
    }

    @Test func badRequestsFailPrecisely() {
        let cases: [([UInt8], WebSocketHandshakeError)] = [
            (Self.replacing("GET", with: "POST /chat HTTP/1.1"), .methodNotGet("POST")),
            (Self.replacing("GET", with: "GET /chat HTTP/1.0"), .unsupportedHTTPVersion("HTTP/1.0")),
            (Self.replacing("GET", with: "GET  /chat HTTP/1.1"), .malformedStartLine("GET  /chat HTTP/1.1")),
            (Self.replacing("Host", with: nil), .missingHeader("Host")),
            (Self.replacing("Upgrade", with: nil), .missingHeader("Upgrade")),
            (Self.replacing("Upgrade", with: "Upgrade: h2c"), .invalidHeaderValue(name: "Upgrade", value: "h2c")),
            (Self.replacing("Connection", with: "Connection: keep-alive"), .invalidHeaderValue(name: "Connection", value: "keep-alive")),
            (Self.replacing("Sec-WebSocket-Key", with: nil), .missingHeader("Sec-WebSocket-Key")),
            (Self.replacing("Sec-WebSocket-Key", with: "Sec-WebSocket-Key: Zm9vYmFy"), .invalidKey("Zm9vYmFy")),
            (Self.replacing("Sec-WebSocket-Version", with: "Sec-WebSocket-Version: 8"), .unsupportedVersion("8")),
            (Self.replacing("Sec-WebSocket-Version", with: nil), .missingHeader("Sec-WebSocket-Version")),
            (Self.replacing("Origin", with: "Sec-WebSocket-Key: \(Self.rfcKey)"), .duplicateHeader("Sec-WebSocket-Key")),
            (Self.replacing("Origin", with: "Origin : x"), .malformedHeaderField(line: 5)),
            (Self.replacing("Origin", with: " folded"), .malformedHeaderField(line: 5)),
            (Self.replacing("Origin", with: "Origin: a\nb"), .malformedHeaderField(line: 5)),
        ]
        for (request, expected) in cases {
            #expect(throws: expected) { try WebSocketHandshake.parseRequest(request.span.bytes) }
        }
    }

    @Test func rejectionsSayWhy() {
        var buffer: [UInt8] = []
        WebSocketHandshake.appendRejection(.unsupportedVersion("8"), to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) ==
            "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        buffer = []
        WebSocketHandshake.appendRejection(.missingHeader("Host"), to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        buffer = []
        WebSocketHandshake.appendRejection(.headerBlockTooLarge(limit: 8192), to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self).hasPrefix("HTTP/1.1 431 "))
    }

    static let goodResponseLines = [
        "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Accept: \(rfcAccept)",
    ]

    @Test func badResponsesFailPrecisely() throws {
        let key = WebSocketKey(high: 0x7468_6520_7361_6d70, low: 0x6c65_206e_6f6e_6365)
        func response(_ prefix: String, _ line: String?) -> [UInt8] {
            Self.request(Self.goodResponseLines.compactMap { $0.hasPrefix(prefix) ? line : $0 })
        }
        #expect(try WebSocketHandshake.validateResponse(Self.request(Self.goodResponseLines).span.bytes, key: key).subprotocol == nil)
        let cases: [([UInt8], WebSocketHandshakeError)] = [
            (response("HTTP", "HTTP/1.1 403 Forbidden"), .notSwitchingProtocols(statusLine: "HTTP/1.1 403 Forbidden")),
            (response("HTTP", "HTTP/1.0 101 Switching Protocols"), .notSwitchingProtocols(statusLine: "HTTP/1.0 101 Switching Protocols")),
            (response("HTTP", "HTTP/1.1 1O1 Switching"), .malformedStartLine("HTTP/1.1 1O1 Switching")),
            (response("Upgrade", nil), .missingHeader("Upgrade")),
            (response("Connection", "Connection: close"), .invalidHeaderValue(name: "Connection", value: "close")),
            (response("Sec-WebSocket-Accept", nil), .missingHeader("Sec-WebSocket-Accept")),
            (response("Sec-WebSocket-Accept", "Sec-WebSocket-Accept: s3pPLMBiTxaK9YQxgsQ1kG+xOo="),
             .acceptMismatch(expected: Self.rfcAccept, received: "s3pPLMBiTxaK9YQxgsQ1kG+xOo=")),
            (Self.request(Self.goodResponseLines + ["Sec-WebSocket-Extensions: permessage-deflate"]), .unrequestedExtension("permessage-deflate")),
            (Self.request(Self.goodResponseLines + ["Sec-WebSocket-Protocol: chat"]), .unrequestedSubprotocol("chat")),
        ]
        for (block, expected) in cases {
            #expect(throws: expected) { try WebSocketHandshake.validateResponse(block.span.bytes, key: key) }
        }
        // Without the key (a decoder that did not send the request), only the accept's form is checked.
        #expect(throws: WebSocketHandshakeError.invalidAccept("abc")) {
            try WebSocketHandshake.parseResponse(response("Sec-WebSocket-Accept", "Sec-WebSocket-Accept: abc").span.bytes, acceptKey: nil)
        }
    }

    @Test func headerBlockIsBoundedAt8192() throws {
        var block = bytes("GET / HTTP/1.1\r\nX: ")
        block += [UInt8](repeating: 0x61, count: 8192 - block.count - 4)
        block += bytes("\r\n\r\n")
        #expect(block.count == 8192)
        let withFrame = block + [0x81]
        let cut = Array(block.dropLast())
        #expect(try WebSocketHandshake.headerBlockLength(in: withFrame.span.bytes) == 8192)
        #expect(try WebSocketHandshake.headerBlockLength(in: cut.span.bytes) == nil)
        var tooLong = block
        tooLong.insert(0x61, at: 20)
        #expect(throws: WebSocketHandshakeError.headerBlockTooLarge(limit: 8192)) {
            try WebSocketHandshake.headerBlockLength(in: tooLong.span.bytes)
        }
    }

    /// With a known minimum length, only a CRLFCRLF ending there or later is looked for: the
    /// octets before were scanned when a shorter prefix was asked about.
    @Test func headerBlockScanResumesAtTheKnownLength() throws {
        let block = bytes("GET / HTTP/1.1\r\n\r\nHost: h\r\n\r\n")
        #expect(try WebSocketHandshake.headerBlockLength(in: block.span.bytes) == 18)
        #expect(try WebSocketHandshake.headerBlockLength(in: block.span.bytes, lengthAtLeast: 18) == 18)
        #expect(try WebSocketHandshake.headerBlockLength(in: block.span.bytes, lengthAtLeast: 19) == block.count)
        #expect(try WebSocketHandshake.headerBlockLength(in: block.span.bytes, lengthAtLeast: block.count) == block.count)
        #expect(try WebSocketHandshake.headerBlockLength(in: Array(block.dropLast()).span.bytes, lengthAtLeast: 19) == nil)
    }

    /// A largest-size request dripped one octet at a time (each octet scanned once), and then cut
    /// into chunks of every size from 1 to 9: the same handshake item and frame as fed whole.
    @Test func largestRequestDrippedOctetByOctet() throws {
        var request: [UInt8] = []
        WebSocketHandshake.appendRequest(host: "h", key: WebSocketKey(randomSeed: 1), to: &request)
        let padding = WebSocketHandshake.maxHeaderBlockLength - request.count - "X-Pad: \r\n".utf8.count
        request = []
        WebSocketHandshake.appendRequest(host: "h", key: WebSocketKey(randomSeed: 1),
                                         headers: [WebSocketHeaderField(name: "X-Pad", value: String(repeating: "a", count: padding))], to: &request)
        #expect(request.count == WebSocketHandshake.maxHeaderBlockLength)
        var encoder = WebSocketFrameEncoder(role: .client, randomSeed: 2, performsHandshake: false)
        var stream = request
        encoder.appendPing(HeartbeatPayload(rawValue: 7), to: &stream)
        for policy in [WebSocketFrameDecoder.HandshakePolicy.expectRequest, .optional] {
            let decoder = WebSocketFrameDecoder(role: .server, handshake: policy)
            let whole = decodeWS(decoder, stream)
            #expect(whole.error == nil && whole.items.count == 2)
            #expect(whole.items.last?.item == .ping(HeartbeatPayload(rawValue: 7)))
            for size in 1...9 {
                let chunks = stride(from: 0, to: stream.count, by: size).map { Array(stream[$0..<min($0 + size, stream.count)]) }
                let dripped = decodeWS(decoder, stream, chunks: chunks)
                #expect(dripped.error == nil && dripped.items == whole.items, "chunks of \(size)")
            }
        }
    }
}

// MARK: - Frames

private func octets(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// An item with a copy of the octets handed over with it (unmasked by the decoder).
private struct WSItem: Equatable, CustomStringConvertible {
    var item: DemuxedItem
    var payload: [UInt8]

    init(_ item: DemuxedItem, _ payload: [UInt8]) {
        self.item = item
        self.payload = payload
    }

    var description: String { "\(item) \(payload.count) octets" }
}

/// Decodes `stream`, cut into `chunks` (whole by default), through `StreamDemuxer`.
private func decodeWS(_ decoder: WebSocketFrameDecoder, _ stream: [UInt8], chunks: [[UInt8]]? = nil) -> (items: [WSItem], error: FramingError?) {
    var demuxer = StreamDemuxer(decoder)
    var items: [WSItem] = []
    do {
        for chunk in chunks ?? [stream] {
            try demuxer.feed(chunk) { item, bytes in items.append(WSItem(item, bytes.withUnsafeBytes { Array($0) })) }
        }
        try demuxer.finish()
        return (items, nil)
    } catch {
        return (items, error)
    }
}

/// The frames `WebSocketFrameEncoder.appendData` writes for one message: fragments of at most
/// 65,536 octets, the first of `type`, FIN on the last.
private func expectedMessage(_ data: [UInt8], type: UInt64 = 2) -> [WSItem] {
    var items: [WSItem] = []
    var start = 0
    repeat {
        let end = start + min(65_536, data.count - start)
        let frame = BusinessFrame(type: start == 0 ? type : 0, flags: end == data.count ? 0x80 : 0, length: end - start)
        items.append(WSItem(.business(frame), Array(data[start..<end])))
        start = end
    } while start < data.count
    return items
}

/// RFC 6455 §5.7's examples, decoded and encoded.
@Suite struct WebSocketExampleTests {
    static let hello = bytes("Hello")

    @Test func singleFrameUnmaskedText() {
        let (items, error) = decodeWS(WebSocketFrameDecoder(role: .client), octets("81 05 48 65 6c 6c 6f"))
        #expect(error == nil)
        #expect(items == [WSItem(.business(BusinessFrame(type: 1, flags: 0x80, length: 5)), Self.hello)])
    }

    @Test func singleFrameMaskedText() {
        let wire = octets("81 85 37 fa 21 3d 7f 9f 4d 51 58")
        let (items, error) = decodeWS(WebSocketFrameDecoder(role: .server), wire)
        #expect(error == nil)
        #expect(items == [WSItem(.business(BusinessFrame(type: 1, flags: 0x80, length: 5)), Self.hello)])
        var encoded: [UInt8] = []
        WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.text, payload: Self.hello.span.bytes, maskingKey: 0x37fa213d, to: &encoded)
        #expect(encoded == wire)
    }

    @Test func fragmentedUnmaskedText() {
        let (items, error) = decodeWS(WebSocketFrameDecoder(role: .client), octets("01 03 48 65 6c 80 02 6c 6f"))
        #expect(error == nil)
        #expect(items == [WSItem(.business(BusinessFrame(type: 1, flags: 0, length: 3)), bytes("Hel")),
                          WSItem(.business(BusinessFrame(type: 0, flags: 0x80, length: 2)), bytes("lo"))])
    }

    @Test func unmaskedPingAndMaskedPong() {
        let ping = decodeWS(WebSocketFrameDecoder(role: .client), octets("89 05 48 65 6c 6c 6f"))
        #expect(ping.error == nil)
        #expect(ping.items == [WSItem(.ping(HeartbeatPayload(prefixOf: Self.hello.span.bytes)), Self.hello)])
        let wire = octets("8a 85 37 fa 21 3d 7f 9f 4d 51 58")
        let pong = decodeWS(WebSocketFrameDecoder(role: .server), wire)
        #expect(pong.error == nil)
        // The decoder unmasks the heartbeat payload itself; the octets are unmasked with the header's key.
        #expect(pong.items == [WSItem(.pong(HeartbeatPayload(prefixOf: Self.hello.span.bytes)), Self.hello)])
        var encoded: [UInt8] = []
        WebSocketFrame.appendPong(payload: Self.hello.span.bytes, maskingKey: 0x37fa213d, to: &encoded)
        #expect(encoded == wire)
    }

    @Test func binary256And64KiBUseTheExtendedLengths() {
        for (count, header) in [(256, "82 7e 01 00"), (65_536, "82 7f 00 00 00 00 00 01 00 00")] {
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var encoded: [UInt8] = []
            WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.binary, payload: payload.span.bytes, maskingKey: nil, to: &encoded)
            #expect(Array(encoded.prefix(octets(header).count)) == octets(header))
            let (items, error) = decodeWS(WebSocketFrameDecoder(role: .client), encoded)
            #expect(error == nil)
            #expect(items == [WSItem(.business(BusinessFrame(type: 2, flags: 0x80, length: count)), payload)])
        }
    }
}

/// Every framing rule: the reason, its close code, and the offset of the offending frame.
@Suite struct WebSocketRuleTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var role: ConnectionRole?
        var hex: String
        var reason: String
        var code: UInt64
        var offset: Int
        var items: Int
        var maxFrameSize = WebSocketFrame.defaultMaxFrameSize
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "rsv1", role: .client, hex: "c1 00", reason: "ws-reserved-bits", code: 1002, offset: 0, items: 0),
        Case(name: "rsv3 after a frame", role: .client, hex: "82 00 92 00", reason: "ws-reserved-bits", code: 1002, offset: 2, items: 1),
        Case(name: "rsv before opcode", role: .client, hex: "f3 00", reason: "ws-reserved-bits", code: 1002, offset: 0, items: 0),
        Case(name: "opcode 0x3", role: .client, hex: "83 00", reason: "ws-reserved-opcode", code: 1002, offset: 0, items: 0),
        Case(name: "opcode 0x7", role: .client, hex: "87 00", reason: "ws-reserved-opcode", code: 1002, offset: 0, items: 0),
        Case(name: "opcode 0xb", role: .client, hex: "8b 00", reason: "ws-reserved-opcode", code: 1002, offset: 0, items: 0),
        Case(name: "opcode 0xf", role: .client, hex: "8f 00", reason: "ws-reserved-opcode", code: 1002, offset: 0, items: 0),
        Case(name: "ping without FIN", role: .client, hex: "09 00", reason: "ws-fragmented-control", code: 1002, offset: 0, items: 0),
        Case(name: "close without FIN inside a message", role: .client, hex: "01 01 61 08 00", reason: "ws-fragmented-control", code: 1002, offset: 3, items: 1),
        Case(name: "continuation first", role: .client, hex: "80 00", reason: "ws-unexpected-continuation", code: 1002, offset: 0, items: 0),
        Case(name: "continuation after final", role: .client, hex: "02 01 61 80 01 62 80 00", reason: "ws-unexpected-continuation", code: 1002, offset: 6, items: 2),
        Case(name: "text inside a message, after a ping", role: .client, hex: "02 01 61 89 00 81 00", reason: "ws-message-interrupted", code: 1002, offset: 5, items: 2),
        Case(name: "unmasked client frame", role: .server, hex: "82 00", reason: "ws-unmasked-client-frame", code: 1002, offset: 0, items: 0),
        Case(name: "unmasked oversized client ping", role: .server, hex: "89 7e 00 c8", reason: "ws-unmasked-client-frame", code: 1002, offset: 0, items: 0),
        Case(name: "masked server frame", role: .client, hex: "82 80 00 00 00 00", reason: "ws-masked-server-frame", code: 1002, offset: 0, items: 0),
        Case(name: "ping of 126", role: .client, hex: "89 7e 00 7e", reason: "ws-control-too-long", code: 1002, offset: 0, items: 0),
        Case(name: "close with a 64-bit length", role: .server, hex: "88 ff", reason: "ws-control-too-long", code: 1002, offset: 0, items: 0),
        Case(name: "16-bit length 125", role: .client, hex: "82 7e 00 7d", reason: "ws-non-minimal-length", code: 1002, offset: 0, items: 0),
        Case(name: "16-bit length 0", role: .client, hex: "82 7e 00 00", reason: "ws-non-minimal-length", code: 1002, offset: 0, items: 0),
        Case(name: "64-bit length 65535", role: .client, hex: "82 7f 00 00 00 00 00 00 ff ff", reason: "ws-non-minimal-length", code: 1002, offset: 0, items: 0),
        Case(name: "64-bit length 5, masked", role: .server, hex: "82 ff 00 00 00 00 00 00 00 05", reason: "ws-non-minimal-length", code: 1002, offset: 0, items: 0),
        Case(name: "64-bit length top bit", role: .client, hex: "82 7f 80 00 00 00 00 00 00 00", reason: "ws-length-high-bit", code: 1002, offset: 0, items: 0),
        Case(name: "65537 over the default", role: .client, hex: "82 7f 00 00 00 00 00 01 00 01", reason: "frame-too-large", code: 1009, offset: 0, items: 0),
        Case(name: "2^62 over the default", role: .client, hex: "82 7f 40 00 00 00 00 00 00 00", reason: "frame-too-large", code: 1009, offset: 0, items: 0),
        Case(name: "1001 over 1000, after a ping", role: .server, hex: "89 80 01 02 03 04 82 fe 03 e9", reason: "frame-too-large", code: 1009, offset: 6, items: 1, maxFrameSize: 1000),
        Case(name: "close of 1", role: .client, hex: "88 01 03", reason: "ws-close-length", code: 1002, offset: 0, items: 0),
        Case(name: "close code 999", role: .client, hex: "88 02 03 e7", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 1004", role: .client, hex: "88 02 03 ec", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 1005", role: .client, hex: "88 02 03 ed", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 1006", role: .client, hex: "88 02 03 ee", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 1015", role: .client, hex: "88 02 03 f7", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 2999", role: .client, hex: "88 02 0b b7", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "close code 5000", role: .client, hex: "88 02 13 88", reason: "ws-close-code", code: 1002, offset: 0, items: 0),
        Case(name: "masked close code 0 after a ping", role: .server, hex: "89 80 00 00 00 00 88 82 12 34 56 78 12 34", reason: "ws-close-code", code: 1002, offset: 6, items: 1),
        Case(name: "close reason 0xff", role: .client, hex: "88 03 03 e8 ff", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "close reason overlong", role: .client, hex: "88 04 03 e8 c0 af", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "close reason surrogate", role: .client, hex: "88 05 03 e8 ed a0 80", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "close reason above U+10FFFF", role: .client, hex: "88 06 03 e8 f4 90 80 80", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "close reason cut off", role: .client, hex: "88 04 03 e8 e2 82", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "masked close reason not UTF-8", role: .server, hex: "88 83 00 00 00 01 03 e8 fe", reason: "ws-close-reason-utf8", code: 1007, offset: 0, items: 0),
        Case(name: "truncated header", role: .client, hex: "82", reason: "truncated", code: 1002, offset: 0, items: 0),
        Case(name: "truncated masking key", role: .server, hex: "82 85 01 02", reason: "truncated", code: 1002, offset: 0, items: 0),
        Case(name: "truncated payload", role: .client, hex: "89 00 82 05 61 62", reason: "truncated", code: 1002, offset: 2, items: 1),
    ]

    @Test(arguments: cases)
    func ruleFailsPreciselyWholeSplitAndBytewise(_ rule: Case) throws {
        let stream = octets(rule.hex)
        let decoder = WebSocketFrameDecoder(role: rule.role, maxFrameSize: rule.maxFrameSize)
        let whole = decodeWS(decoder, stream)
        let error = try #require(whole.error, "\(rule.name) passed")
        #expect(error.reason.identifier == rule.reason, "\(rule.name): \(error)")
        #expect(error.code.value == rule.code, "\(rule.name): \(error)")
        #expect(error.offset == rule.offset, "\(rule.name): \(error)")
        #expect(error.dialect == .webSocket)
        #expect(whole.items.count == rule.items, "\(rule.name)")
        let bytewise = decodeWS(decoder, stream, chunks: stream.map { [$0] })
        #expect(bytewise.error == error && bytewise.items == whole.items, "\(rule.name) one octet at a time")
        for split in 0...stream.count {
            let halves = decodeWS(decoder, stream, chunks: [Array(stream[..<split]), Array(stream[split...])])
            #expect(halves.error == error && halves.items == whole.items, "\(rule.name) split at \(split)")
        }
    }

    @Test func codeNames() {
        #expect(WireErrorCode.webSocket(.protocolError).name == "PROTOCOL_ERROR")
        #expect(WireErrorCode.webSocket(.invalidFramePayloadData).name == "INVALID_FRAME_PAYLOAD_DATA")
        #expect(WireErrorCode.webSocket(.policyViolation).name == "POLICY_VIOLATION")
        #expect(WireErrorCode.webSocket(.messageTooBig) == WireErrorCode(value: 1009, name: "MESSAGE_TOO_BIG"))
        #expect(WireErrorCode.webSocket(.internalError).name == "INTERNAL_ERROR")
        #expect(WireErrorCode.webSocket(.normalClosure).name == "NORMAL_CLOSURE")
    }

    @Test func controlFramesBetweenFragmentsAndValidCloses() {
        let stream = octets("02 01 61  89 00  8a 02 01 02  88 00  80 01 62  88 02 03 e8  88 02 0f a0  88 02 13 87  88 05 03 e9 c3 a9 21")
        let (items, error) = decodeWS(WebSocketFrameDecoder(role: .client), stream)
        #expect(error == nil)
        #expect(items.map(\.item) == [
            .business(BusinessFrame(type: 2, flags: 0, length: 1)), .ping(HeartbeatPayload(prefixOf: [UInt8]().span.bytes)),
            .pong(HeartbeatPayload(prefixOf: [UInt8]([1, 2]).span.bytes)), .business(BusinessFrame(type: 8, flags: 0x80, length: 0)),
            .business(BusinessFrame(type: 0, flags: 0x80, length: 1)), .business(BusinessFrame(type: 8, flags: 0x80, length: 2)),
            .business(BusinessFrame(type: 8, flags: 0x80, length: 2)), .business(BusinessFrame(type: 8, flags: 0x80, length: 2)),
            .business(BusinessFrame(type: 8, flags: 0x80, length: 5)),
        ])
    }

    @Test func maxFrameSizeIsAtLeast125AndConfigurable() {
        #expect(WebSocketFrameDecoder(role: .client, maxFrameSize: 3).maxFrameSize == 125)
        #expect(WebSocketFrameDecoder(role: .client, maxFrameSize: 1 << 20).maxFrameLength == 14 + (1 << 20))
        let exactly1000 = [0x82, 0x7e, 0x03, 0xe8] + [UInt8](repeating: 0x61, count: 1000)
        #expect(decodeWS(WebSocketFrameDecoder(role: .client, maxFrameSize: 1000), exactly1000).error == nil)
    }
}

/// Encoder → decoder round trips, both roles, and the demuxer's chunking invariance.
@Suite struct WebSocketRoundTripTests {
    /// A client's frames (masked, fresh key each) read by a server's decoder, and a server's read
    /// by a client's: every item comes back with its octets, however the stream is cut.
    @Test(arguments: [ConnectionRole.client, .server], 0..<12 as Range<UInt64>)
    func framesRoundTrip(sender: ConnectionRole, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var encoder = WebSocketDialect(performsHandshake: false).makeEncoder(role: sender, randomSeed: seed)
        let receiver: ConnectionRole = sender == .client ? .server : .client
        let decoder = WebSocketDialect(performsHandshake: false).makeDecoder(role: receiver, maxFrameSize: nil)
        var stream: [UInt8] = []
        var expected: [WSItem] = []
        let sizes = [0, 1, 7, 8, 9, 125, 126, 127, 65_535, 65_536]
        for _ in 0..<Int.random(in: 1...24, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let payload = HeartbeatPayload(rawValue: random.next())
                encoder.appendPing(payload, to: &stream)
                expected.append(WSItem(.ping(payload), payload.withOctets { Array($0.withUnsafeBytes { Array($0) }) }))
            case 1:
                let octets = random.bytes(Int.random(in: 0...125, using: &random))
                encoder.appendPong(echoing: octets.span.bytes, to: &stream)
                expected.append(WSItem(.pong(HeartbeatPayload(prefixOf: octets.span.bytes)), octets))
            default:
                let size = Bool.random(using: &random) ? sizes.randomElement(using: &random)! : Int.random(in: 0...70_000, using: &random)
                let data = random.bytes(size)
                let type: UInt64 = Bool.random(using: &random) ? 1 : 2
                encoder.appendData(data.span.bytes, type: type, to: &stream)
                expected += expectedMessage(data, type: type)
            }
        }
        let whole = decodeWS(decoder, stream)
        #expect(whole.error == nil)
        #expect(whole.items == expected)
        let chunked = decodeWS(decoder, stream, chunks: random.chunks(of: stream))
        #expect(chunked.error == nil && chunked.items == expected)
    }

    /// A write is one message: a long one goes out as fragments of at most 65,536 octets, each
    /// masked with its own key, and a server (whose default limit is 65,536) reads it back.
    @Test func longMessageIsFragmented() throws {
        var encoder = WebSocketFrameEncoder(role: .client, randomSeed: 9, performsHandshake: false)
        #expect(encoder.maxDataPayload == Int.max)
        let message = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 3) }
        var stream: [UInt8] = []
        encoder.appendData(message.span.bytes, type: 1, to: &stream)
        #expect(stream.count == 14 + 14 + 8 + 150_000)   // 64-bit lengths, then a 16-bit one; masking keys
        let (items, error) = decodeWS(WebSocketFrameDecoder(role: .server), stream)
        #expect(error == nil)
        #expect(items == expectedMessage(message, type: 1))
        #expect(items.map(\.item) == [.business(BusinessFrame(type: 1, flags: 0, length: 65_536)),
                                       .business(BusinessFrame(type: 0, flags: 0, length: 65_536)),
                                       .business(BusinessFrame(type: 0, flags: 0x80, length: 18_928))])
        let keys = [10, 10 + 14 + 65_536, 4 + 2 * (14 + 65_536)].map { stream[$0..<($0 + 4)] }
        #expect(Set(keys.map { Array($0) }).count == 3)
    }

    /// `appendData` is total: a type that no data frame has (a control opcode, a continuation,
    /// anything past 0xF) goes out as a binary message rather than trapping.
    @Test(arguments: [UInt64(0), 2, 3, 8, 9, 10, 0x101, UInt64.max])
    func otherTypesAreSentAsBinary(type: UInt64) {
        var encoder = WebSocketFrameEncoder(role: .server, randomSeed: 1, performsHandshake: false)
        var stream: [UInt8] = []
        encoder.appendData([UInt8]([1, 2, 3]).span.bytes, type: type, to: &stream)
        #expect(stream == [0x82, 3, 1, 2, 3])
    }

    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536])
    func everyLengthEncodingOneOctetAtATime(size: Int) {
        for role in [ConnectionRole.client, .server] {
            var stream: [UInt8] = []
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
            let key: UInt32? = role == .server ? 0xA1B2_C3D4 : nil
            WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.binary, payload: payload.span.bytes, maskingKey: key, to: &stream)
            WebSocketFrame.appendHeartbeat(opcode: WebSocketFrame.Opcode.ping, HeartbeatPayload(rawValue: 0x0102_0304_0506_0708), maskingKey: key, to: &stream)
            #expect(stream.count == WebSocketFrame.headerLength(payloadLength: size, masked: key != nil) + size + (key == nil ? 10 : 14))
            let decoder = WebSocketFrameDecoder(role: role, maxFrameSize: 65_536)
            let whole = decodeWS(decoder, stream)
            #expect(whole.error == nil)
            #expect(whole.items == [WSItem(.business(BusinessFrame(type: 2, flags: 0x80, length: size)), payload),
                                    WSItem(.ping(HeartbeatPayload(rawValue: 0x0102_0304_0506_0708)), [1, 2, 3, 4, 5, 6, 7, 8])])
            let bytewise = decodeWS(decoder, stream, chunks: stream.map { [$0] })
            #expect(bytewise.error == nil && bytewise.items == whole.items)
        }
    }

    @Test func maskingIsItsOwnInverseAtEveryAlignment() {
        let payload = (0..<67).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        for count in 0...payload.count {
            let slice = Array(payload[..<count])
            var masked: [UInt8] = [0xEE]   // an odd start, so the 8-octet stores are unaligned
            WebSocketFrame.appendMasked(slice.span.bytes, maskingKey: 0x37FA_213D, to: &masked)
            #expect(masked.count == count + 1)
            for index in 0..<count {
                let keyOctet: UInt8 = [0x37, 0xFA, 0x21, 0x3D][index % 4]
                #expect(masked[index + 1] == slice[index] ^ keyOctet)
            }
            var unmasked = Array(masked.dropFirst())
            WebSocketFrame.unmask(&unmasked, maskingKey: 0x37FA_213D)
            #expect(unmasked == slice)
        }
    }

    @Test func closeReasonIsTruncatedAtACharacterBoundary() throws {
        let reason = String(repeating: "a", count: 122) + "é" + "tail"   // "é" would straddle octet 123
        for key: UInt32? in [nil, 0x1234_5678] {
            var frame: [UInt8] = []
            WebSocketFrame.appendClose(code: 1001, reason: reason, maskingKey: key, to: &frame)
            let parsed = WebSocketFrameHeader(parsing: frame.span.bytes)
            let header = try #require(parsed)
            #expect(header.payloadLength == 2 + 122)
            let close = WebSocketClose(payload: frame.span.bytes.extracting(header.headerLength...), maskingKey: header.maskingKey ?? 0)
            #expect(close.code == 1001 && close.reason == String(repeating: "a", count: 122))
            let decoded = decodeWS(WebSocketFrameDecoder(role: key == nil ? .client : .server), frame)
            #expect(decoded.error == nil)
        }
        var empty: [UInt8] = []
        WebSocketFrame.appendClose(code: nil, reason: "ignored", maskingKey: nil, to: &empty)
        #expect(empty == [0x88, 0x00])
    }
}

private func payload(of item: DemuxedItem) -> HeartbeatPayload {
    switch item {
    case .ping(let payload), .pong(let payload): return payload
    default: return .empty
    }
}

/// Hostile input: valid streams with random octets changed, in every role and handshake policy,
/// decode the same — items and error at the same offset — whole, in random chunks and one octet
/// at a time, and never trap.
@Suite struct WebSocketMutationTests {
    @Test(arguments: 0..<300 as Range<UInt64>)
    func mutatedStreamsDecodeTheSameHoweverCut(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let sender: ConnectionRole = seed % 2 == 0 ? .client : .server
        var encoder = WebSocketFrameEncoder(role: sender, randomSeed: seed, performsHandshake: false)
        var stream: [UInt8] = []
        if seed % 3 == 0 {
            if sender == .client {
                WebSocketHandshake.appendRequest(host: "h", key: WebSocketKey(randomSeed: seed), to: &stream)
            } else {
                WebSocketHandshake.appendAcceptance(key: WebSocketKey(randomSeed: seed).base64, to: &stream)
            }
        }
        for _ in 0..<Int.random(in: 1...12, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: encoder.appendPing(HeartbeatPayload(rawValue: random.next()), to: &stream)
            case 1: encoder.appendPong(echoing: random.bytes(Int.random(in: 0...125, using: &random)).span.bytes, to: &stream)
            case 2: encoder.appendData(random.bytes(Int.random(in: 0...300, using: &random)).span.bytes, type: 1, to: &stream)
            default:
                var close: [UInt8] = []
                WebSocketFrame.appendClose(code: 1000, reason: "é", maskingKey: sender == .client ? UInt32(truncatingIfNeeded: random.next()) : nil, to: &close)
                stream += close
            }
        }
        for _ in 0..<Int.random(in: 1...4, using: &random) where !stream.isEmpty {
            stream[Int.random(in: 0..<stream.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
        }
        let receiver: ConnectionRole? = [sender == .client ? ConnectionRole.server : .client, nil][Int(seed / 2 % 2)]
        let policies: [WebSocketFrameDecoder.HandshakePolicy] = [.none, .optional, sender == .client ? .expectRequest : .expectResponse]
        for policy in policies {
            let decoder = WebSocketFrameDecoder(role: receiver, maxFrameSize: 200, handshake: policy)
            let whole = decodeWS(decoder, stream)
            let chunked = decodeWS(decoder, stream, chunks: random.chunks(of: stream))
            let bytewise = decodeWS(decoder, stream, chunks: stream.map { [$0] })
            #expect(chunked.items == whole.items && chunked.error == whole.error, "seed \(seed) \(policy) chunked")
            #expect(bytewise.items == whole.items && bytewise.error == whole.error, "seed \(seed) \(policy) bytewise")
        }
    }
}

/// The handshake through the demuxer, and the encoder's answers (RFC 6455 §4, §5.5.1).
@Suite struct WebSocketSessionTests {
    /// A client and a server encoder/decoder pair run the opening handshake, exchange a ping and
    /// pong, and close, each feeding what the other wrote.
    @Test func handshakePingPongAndClose() throws {
        let dialect = WebSocketDialect(host: "example.com", path: "/live")
        var client = dialect.makeEncoder(role: .client, randomSeed: 1)
        var server = dialect.makeEncoder(role: .server, randomSeed: 2)
        var serverReads = StreamDemuxer(dialect.makeDecoder(role: .server, maxFrameSize: nil))
        var clientReads = StreamDemuxer(dialect.makeDecoder(role: .client, maxFrameSize: nil))

        var toServer: [UInt8] = []
        client.appendPreface(to: &toServer)
        client.appendPing(HeartbeatPayload(rawValue: 7), to: &toServer)   // not before the 101
        var toClient: [UInt8] = []
        server.appendPing(HeartbeatPayload(rawValue: 7), to: &toClient)   // not before the 101
        #expect(toClient.isEmpty)
        var failure: FramingError.Reason?
        // The server reads the request one octet at a time and answers it.
        for octet in toServer {
            try serverReads.feed([octet]) { item, bytes in
                guard case .business(let frame) = item else { Issue.record("\(item) before the handshake"); return }
                do throws(FramingError.Reason) {
                    #expect(try server.inbound(frame, payload: bytes, reply: &toClient) == .consumed)
                } catch { failure = error }
            }
        }
        #expect(failure == nil && server.isOpen)
        #expect(String(decoding: toClient.prefix(34), as: UTF8.self) == "HTTP/1.1 101 Switching Protocols\r\n")
        // The client checks the 101, then pings; the server pongs; the client reads the pong.
        try clientReads.feed(toClient) { item, bytes in
            guard case .business(let frame) = item else { Issue.record("\(item) before the handshake"); return }
            var reply: [UInt8] = []
            do throws(FramingError.Reason) {
                #expect(try client.inbound(frame, payload: bytes, reply: &reply) == .consumed)
            } catch { failure = error }
            #expect(reply.isEmpty)
        }
        #expect(failure == nil && client.isOpen)
        let ping = HeartbeatPayload(sequence: 1, timestampMilliseconds: 3000)
        toServer = []
        client.appendPing(ping, to: &toServer)
        #expect(toServer.count == WebSocketFrame.maxHeartbeatLength && toServer[1] == 0x88)   // masked, 8 octets
        toClient = []
        try serverReads.feed(toServer) { item, bytes in
            #expect(item == .ping(ping))
            payload(of: item).withOctets { server.appendPong(echoing: $0, to: &toClient) }
        }
        #expect(toClient == octets("8a 08 00 00 00 01 00 00 0b b8"))
        try clientReads.feed(toClient) { item, _ in #expect(item == .pong(ping)) }

        // The client closes; the server echoes the code and reports the peer closing.
        var close: [UInt8] = []
        client.appendClose(code: client.closeCodes.noError, reason: "bye", to: &close)
        #expect(client.sentClose)
        var echo: [UInt8] = []
        try serverReads.feed(close) { item, bytes in
            guard case .business(let frame) = item else { Issue.record("not a Close: \(item)"); return }
            do throws(FramingError.Reason) {
                #expect(try server.inbound(frame, payload: bytes, reply: &echo) == .peerClosing(code: 1000, reason: "bye", deliver: false))
            } catch { failure = error }
        }
        #expect(echo == [0x88, 0x02, 0x03, 0xE8])
        // Nothing after our Close.
        var after: [UInt8] = []
        server.appendPing(HeartbeatPayload(rawValue: 1), to: &after)
        server.appendPong(echoing: [UInt8]().span.bytes, to: &after)
        #expect(after.isEmpty)
    }

    @Test func clientRejectsAWrongAccept() throws {
        let dialect = WebSocketDialect()
        var client = dialect.makeEncoder(role: .client, randomSeed: 1)
        var request: [UInt8] = []
        client.appendPreface(to: &request)
        var response: [UInt8] = []
        WebSocketHandshake.appendAcceptance(key: WebSocketKey(randomSeed: 99).base64, to: &response)
        var reads = StreamDemuxer(dialect.makeDecoder(role: .client, maxFrameSize: nil))
        var thrown: FramingError.Reason?
        try reads.feed(response) { item, bytes in
            guard case .business(let frame) = item else { return }
            var reply: [UInt8] = []
            do throws(FramingError.Reason) { _ = try client.inbound(frame, payload: bytes, reply: &reply) } catch { thrown = error }
        }
        let reason = try #require(thrown)
        #expect(reason.identifier == "ws-handshake-accept")
        #expect(reason.ruleCode?.name == "HANDSHAKE_ERROR")
        #expect(!client.isOpen)
    }

    @Test func serverAnswersABadRequestWithHTTP() throws {
        let dialect = WebSocketDialect()
        var server = dialect.makeEncoder(role: .server, randomSeed: 1)
        var reads = StreamDemuxer(dialect.makeDecoder(role: .server, maxFrameSize: nil))
        let request = WebSocketHandshakeTests.replacing("Sec-WebSocket-Version", with: "Sec-WebSocket-Version: 8")
        let error = #expect(throws: FramingError.self) { try reads.feed(request) { _, _ in } }
        #expect(error?.reason.identifier == "ws-handshake-version")
        #expect(error?.offset == 0)
        var answer: [UInt8] = []
        server.appendClose(code: try #require(error).code, reason: "", to: &answer)
        #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"))
    }

    @Test func optionalHandshakeInACapture() {
        let request = WebSocketHandshakeTests.request(WebSocketHandshakeTests.goodRequestLines)
        let frames = octets("81 85 37 fa 21 3d 7f 9f 4d 51 58")
        let decoder = WebSocketDialect().makeDecoder(role: nil, maxFrameSize: nil)
        let withHandshake = decodeWS(decoder, request + frames, chunks: (request + frames).map { [$0] })
        #expect(withHandshake.error == nil)
        #expect(withHandshake.items.map(\.item) == [.business(BusinessFrame(type: WebSocketFrame.handshakeType, length: request.count)),
                                                    .business(BusinessFrame(type: 1, flags: 0x80, length: 5))])
        #expect(withHandshake.items.first?.payload == request)
        let framesOnly = decodeWS(decoder, frames, chunks: frames.map { [$0] })
        #expect(framesOnly.error == nil && framesOnly.items.map(\.item) == [.business(BusinessFrame(type: 1, flags: 0x80, length: 5))])
    }
}

/// `withItemBytes`: the demuxer hook that hands over unmasked octets.
@Suite struct WebSocketUnmaskingHookTests {
    /// Drives the decoder by hand over whole frames, as a demuxer with the hook would.
    fileprivate static func items(_ stream: [UInt8], role: ConnectionRole) throws -> [WSItem] {
        var decoder = WebSocketFrameDecoder(role: role)
        var items: [WSItem] = []
        var index = 0
        while index < stream.count {
            let rest = stream.span.bytes.extracting(index...)
            guard case .frame(let length) = try decoder.boundary(of: rest) else { Issue.record("cut short"); break }
            let frame = rest.extracting(0..<length)
            let decoded = try decoder.decode(frame: frame)
            if let item = decoded.item {
                decoder.withItemBytes(of: frame, decoded) { bytes in items.append(WSItem(item, bytes.withUnsafeBytes { Array($0) })) }
            }
            index += length
        }
        return items
    }

    @Test func longMaskedPingAndDataComeOutUnmasked() throws {
        let long = (1...100).map { UInt8($0) }
        var stream: [UInt8] = []
        WebSocketFrame.appendPing(payload: long.span.bytes, maskingKey: 0xDEAD_BEEF, to: &stream)
        WebSocketFrame.appendFrame(opcode: WebSocketFrame.Opcode.text, payload: bytes("Hello").span.bytes, maskingKey: 0x37FA_213D, to: &stream)
        WebSocketFrame.appendPong(payload: long.span.bytes, maskingKey: 0, to: &stream)
        let items = try Self.items(stream, role: .server)
        #expect(items.map(\.payload) == [long, bytes("Hello"), long])
        #expect(items.first?.item == .ping(HeartbeatPayload(prefixOf: long.span.bytes)))
        #expect(items[1].item == .business(BusinessFrame(type: 1, flags: 0x80, length: 5)))
    }
}

/// Heartbeats cost no allocation to encode or decode, in either role (masked or not).
@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct WebSocketAllocationTests {
    static let roundTrips = 10_000

    @Test(arguments: [ConnectionRole.client, .server])
    func pingPongRoundTripsAllocateNothing(sender: ConnectionRole) throws {
        let dialect = WebSocketDialect(performsHandshake: false)
        var encoder = dialect.makeEncoder(role: sender, randomSeed: 5)
        var demuxer = StreamDemuxer(dialect.makeDecoder(role: sender == .client ? .server : .client, maxFrameSize: nil))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2 * encoder.maxHeartbeatLength)
        var pings = 0
        var pongs = 0
        var mismatches = 0
        // Warm up: type metadata is instantiated lazily, once per process.
        encoder.appendPing(HeartbeatPayload(rawValue: 0), to: &buffer)
        try demuxer.feed(buffer) { _, _ in }
        let count = try allocations {
            for index in 0..<Self.roundTrips {
                let sequence = UInt32(truncatingIfNeeded: index)
                let payload = HeartbeatPayload(sequence: sequence, timestampMilliseconds: sequence &* 7)
                buffer.removeAll(keepingCapacity: true)
                encoder.appendPing(payload, to: &buffer)
                payload.withOctets { encoder.appendPong(echoing: $0, to: &buffer) }
                try demuxer.feed(buffer) { item, _ in
                    switch item {
                    case .ping(let received): pings += 1; mismatches += received == payload ? 0 : 1
                    case .pong(let received): pongs += 1; mismatches += received == payload ? 0 : 1
                    default: mismatches += 1
                    }
                }
            }
        }
        #expect(count == 0, "\(count) allocations in \(Self.roundTrips) WebSocket round trips")
        #expect(pings == Self.roundTrips && pongs == Self.roundTrips && mismatches == 0)
    }

    @Test func maskingIntoReservedCapacityAllocatesNothing() {
        let payload = [UInt8](repeating: 0x5A, count: 65_536)
        var output: [UInt8] = []
        output.reserveCapacity(WebSocketFrame.maxHeaderLength + payload.count)
        WebSocketFrame.appendFrame(opcode: 2, payload: payload.span.bytes, maskingKey: 1, to: &output)
        let count = allocations {
            // An Int range: a debug build iterates other ranges through unspecialized generics, which allocate.
            for index in 0..<100 {
                output.removeAll(keepingCapacity: true)
                let key = UInt32(truncatingIfNeeded: index) &* 0x9E37_79B9
                WebSocketFrame.appendFrame(opcode: 2, payload: payload.span.bytes, maskingKey: key, to: &output)
            }
        }
        #expect(count == 0)
    }
}

