@testable import Framing
import Testing

private func hex(_ digest: InlineArray<20, UInt8>) -> String {
    var text = ""
    for index in digest.indices {
        let digits = String(digest[index], radix: 16)
        text += digits.count == 1 ? "0" + digits : digits
    }
    return text
}

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
}
