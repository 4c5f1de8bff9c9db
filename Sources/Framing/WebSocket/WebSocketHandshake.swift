/// The WebSocket opening handshake (RFC 6455 §4): an HTTP/1.1 Upgrade request from the client
/// and a `101 Switching Protocols` answer from the server, each a header block ending at the first
/// CRLFCRLF and bounded at `maxHeaderBlockLength` octets. Builders append to a caller's array;
/// parsers read a borrowed header block and fail with a `WebSocketHandshakeError` that says
/// exactly what was missing or wrong. The handshake happens once per connection, so these
/// functions may allocate (strings for the parsed fields).
public enum WebSocketHandshake {
    /// The GUID appended to the key before hashing it into Sec-WebSocket-Accept (RFC 6455 §1.3).
    public static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// The protocol version this library speaks: Sec-WebSocket-Version (RFC 6455 §4.1, §11.6).
    public static let version = "13"
    /// The largest header block accepted, CRLFCRLF included, in octets.
    public static let maxHeaderBlockLength = 8_192

    /// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base 64 of the SHA-1 of the key (as sent,
    /// its base-64 text) followed by the GUID (RFC 6455 §4.2.2 item 5.4).
    public static func acceptValue(forKey key: String) -> String {
        var hasher = SHA1()
        hasher.update(key)
        hasher.update(acceptGUID)
        let digest = hasher.finalize()
        return Base64.encode(digest.span.bytes)
    }

    /// The length of the header block at the front of `prefix`, CRLFCRLF included; nil when it
    /// has not ended yet. A caller that knows the block is at least `minimumLength` octets long
    /// (a shorter prefix gave nil, and the block cannot end before that prefix's length plus
    /// `octetsToPossibleEnd`) passes it, and only CRLFCRLFs ending there or later are looked for:
    /// gathering a block a few octets at a time then scans each octet once.
    /// - Throws: `.headerBlockTooLarge` once `maxHeaderBlockLength` octets hold no CRLFCRLF.
    public static func headerBlockLength(in prefix: RawSpan, lengthAtLeast minimumLength: Int = 0) throws(WebSocketHandshakeError) -> Int? {
        let limit = min(prefix.byteCount, maxHeaderBlockLength)
        var index = max(3, minimumLength - 1)
        while index < limit {
            // Check the last octet of a candidate CRLFCRLF first: it is rarely LF.
            if prefix.unsafeLoad(fromByteOffset: index, as: UInt8.self) == ASCII.lineFeed,
               prefix.unsafeLoad(fromByteOffset: index - 1, as: UInt8.self) == ASCII.carriageReturn,
               prefix.unsafeLoad(fromByteOffset: index - 2, as: UInt8.self) == ASCII.lineFeed,
               prefix.unsafeLoad(fromByteOffset: index - 3, as: UInt8.self) == ASCII.carriageReturn {
                return index + 1
            }
            index += 1
        }
        guard prefix.byteCount < maxHeaderBlockLength else { throw .headerBlockTooLarge(limit: maxHeaderBlockLength) }
        return nil
    }

    /// The fewest octets after `prefix` that could end a header block: 1 after "\r\n\r", 2 after
    /// "\r\n", 3 after "\r", else 4. For a decoder's `.needMore`, never past the block's end.
    static func octetsToPossibleEnd(of prefix: RawSpan) -> Int {
        let terminator: InlineArray<4, UInt8> = [ASCII.carriageReturn, ASCII.lineFeed, ASCII.carriageReturn, ASCII.lineFeed]
        let count = prefix.byteCount
        for matched in stride(from: min(3, count), to: 0, by: -1) {
            var agrees = true
            for offset in 0..<matched where prefix.unsafeLoad(fromByteOffset: count - matched + offset, as: UInt8.self) != terminator[offset] {
                agrees = false
                break
            }
            if agrees { return 4 - matched }
        }
        return 4
    }

    // MARK: Client

    /// Appends the client's opening handshake (RFC 6455 §4.1): `GET path HTTP/1.1`, Host,
    /// `Upgrade: websocket`, `Connection: Upgrade`, Sec-WebSocket-Key, `Sec-WebSocket-Version: 13`,
    /// then `headers` (Origin, Sec-WebSocket-Protocol, ...) as given, then the blank line.
    /// - Precondition: `host`, `path` and the fields hold no CR, LF or NUL (no header injection),
    ///   and `path` no space.
    public static func appendRequest(host: String, path: String = "/", key: WebSocketKey,
                                     headers: [WebSocketHeaderField] = [], to buffer: inout [UInt8]) {
        func isClean(_ text: String) -> Bool { !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 } }
        precondition(isClean(host) && isClean(path) && !path.utf8.contains(ASCII.space), "WebSocket request host or path with CR, LF, NUL or (path) a space")
        precondition(headers.allSatisfy { isClean($0.name) && isClean($0.value) }, "WebSocket request header with CR, LF or NUL")
        buffer.append(contentsOf: "GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\n".utf8)
        appendField("Host", host, to: &buffer)
        appendField("Upgrade", "websocket", to: &buffer)
        appendField("Connection", "Upgrade", to: &buffer)
        appendField("Sec-WebSocket-Key", key.base64, to: &buffer)
        appendField("Sec-WebSocket-Version", version, to: &buffer)
        for field in headers { appendField(field.name, field.value, to: &buffer) }
        buffer.append(contentsOf: "\r\n".utf8)
    }

    /// Validates the server's answer to a request sent with `key` (RFC 6455 §4.1, "the client
    /// MUST validate the server's response"): status 101, `Upgrade: websocket`, a Connection
    /// list with `Upgrade`, the Sec-WebSocket-Accept that `key` calls for, no extension (none was
    /// offered) and no subprotocol other than one of `requestedSubprotocols`.
    /// - Throws: `.notSwitchingProtocols(statusLine:)` with the server's status line when it is
    ///   not 101, or the precise case for the first header that is missing or wrong.
    public static func validateResponse(_ block: RawSpan, key: WebSocketKey,
                                        requestedSubprotocols: [String] = []) throws(WebSocketHandshakeError) -> WebSocketUpgradeResponse {
        try parseResponse(block, acceptKey: key.base64, requestedSubprotocols: requestedSubprotocols)
    }

    /// Parses and checks a response header block as `validateResponse` does. With a nil
    /// `acceptKey` — a decoder that did not send the request — Sec-WebSocket-Accept is only checked
    /// to be base 64 of 20 octets (spec/websocket.md §3.3 rule 4).
    public static func parseResponse(_ block: RawSpan, acceptKey: String?,
                                     requestedSubprotocols: [String] = []) throws(WebSocketHandshakeError) -> WebSocketUpgradeResponse {
        let parsed = try HeaderBlock(parsing: block)
        let parts = parsed.startLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, parts[1].allSatisfy(\.isASCIIDigit) else {
            throw .malformedStartLine(parsed.startLine)
        }
        guard parts[0] == "HTTP/1.1", parts[1] == "101" else { throw .notSwitchingProtocols(statusLine: parsed.startLine) }
        let fields = parsed.fields
        try checkUpgradeFields(fields)
        guard let accept = try fields.single("Sec-WebSocket-Accept") else { throw .missingHeader("Sec-WebSocket-Accept") }
        if let acceptKey {
            let expected = acceptValue(forKey: acceptKey)
            guard accept == expected else { throw .acceptMismatch(expected: expected, received: accept) }
        } else {
            var digest: [UInt8] = []
            guard Base64.decode(Array(accept.utf8).span.bytes, appendingTo: &digest), digest.count == SHA1.digestLength else {
                throw .invalidAccept(accept)
            }
        }
        if let extensions = fields.combined("Sec-WebSocket-Extensions") { throw .unrequestedExtension(extensions) }
        let subprotocol = try fields.single("Sec-WebSocket-Protocol")
        if let subprotocol, !requestedSubprotocols.contains(subprotocol) {
            throw .unrequestedSubprotocol(subprotocol)
        }
        return WebSocketUpgradeResponse(statusLine: parsed.startLine, subprotocol: subprotocol, fields: fields)
    }

    // MARK: Server

    /// Parses and validates a client's opening handshake (RFC 6455 §4.2.1): `GET` with
    /// HTTP/1.1 (spec/websocket.md §3.2: no other version exists for it), exactly one Host, an Upgrade list with `websocket`, a Connection list with
    /// `Upgrade` (header names and these tokens are case-insensitive), a Sec-WebSocket-Key that
    /// is base 64 of 16 octets, and `Sec-WebSocket-Version: 13`.
    /// - Throws: the precise case for the first thing missing or wrong; answer it with `appendRejection`.
    public static func parseRequest(_ block: RawSpan) throws(WebSocketHandshakeError) -> WebSocketUpgradeRequest {
        let parsed = try HeaderBlock(parsing: block)
        let parts = parsed.startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty else { throw .malformedStartLine(parsed.startLine) }
        guard parts[0] == "GET" else { throw .methodNotGet(String(parts[0])) }
        guard parts[2] == "HTTP/1.1" else { throw .unsupportedHTTPVersion(String(parts[2])) }
        let fields = parsed.fields
        guard let host = try fields.single("Host") else { throw .missingHeader("Host") }
        try checkUpgradeFields(fields)
        guard let key = try fields.single("Sec-WebSocket-Key") else { throw .missingHeader("Sec-WebSocket-Key") }
        var decoded: [UInt8] = []
        guard Base64.decode(Array(key.utf8).span.bytes, appendingTo: &decoded), decoded.count == 16 else {
            throw .invalidKey(key)
        }
        guard let version = try fields.single("Sec-WebSocket-Version") else { throw .missingHeader("Sec-WebSocket-Version") }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let subprotocols = fields.combined("Sec-WebSocket-Protocol").map(tokens) ?? []
        return WebSocketUpgradeRequest(path: String(parts[1]), host: host, key: key, subprotocols: subprotocols, fields: fields)
    }

    /// Appends the server's `101 Switching Protocols` (RFC 6455 §4.2.2) for `request`:
    /// `Upgrade: websocket`, `Connection: Upgrade`, Sec-WebSocket-Accept, and the chosen
    /// `subprotocol` if any (it must be one the client offered).
    public static func appendAcceptance(of request: WebSocketUpgradeRequest, subprotocol: String? = nil, to buffer: inout [UInt8]) {
        appendAcceptance(key: request.key, subprotocol: subprotocol, to: &buffer)
    }

    /// Appends a `101 Switching Protocols` answering Sec-WebSocket-Key `key` (RFC 6455 §4.2.2).
    public static func appendAcceptance(key: String, subprotocol: String? = nil, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: "HTTP/1.1 101 Switching Protocols\r\n".utf8)
        appendField("Upgrade", "websocket", to: &buffer)
        appendField("Connection", "Upgrade", to: &buffer)
        appendField("Sec-WebSocket-Accept", acceptValue(forKey: key), to: &buffer)
        if let subprotocol { appendField("Sec-WebSocket-Protocol", subprotocol, to: &buffer) }
        buffer.append(contentsOf: "\r\n".utf8)
    }

    /// Appends the answer to a request that failed `parseRequest` (RFC 6455 §4.2.1, §4.4;
    /// spec/websocket.md §3.2): `426 Upgrade Required` with `Sec-WebSocket-Version: 13` for a
    /// version this library does not speak, `431 Request Header Fields Too Large` for a header block
    /// over 8,192 octets, `400 Bad Request` for anything else; each with `Connection: close` and no
    /// body. The server closes the connection after it: no Close frame, it never became a WebSocket.
    public static func appendRejection(_ error: WebSocketHandshakeError, to buffer: inout [UInt8]) {
        appendRejection(status: error.httpStatus, to: &buffer)
    }

    /// Appends a rejection with `status`: 426 (with `Sec-WebSocket-Version: 13`), 431, or any
    /// other 4xx/5xx (sent as `400 Bad Request` unless it is one of these).
    public static func appendRejection(status: Int, to buffer: inout [UInt8]) {
        switch status {
        case 426:
            buffer.append(contentsOf: "HTTP/1.1 426 Upgrade Required\r\n".utf8)
            appendField("Sec-WebSocket-Version", version, to: &buffer)
        case 431:
            buffer.append(contentsOf: "HTTP/1.1 431 Request Header Fields Too Large\r\n".utf8)
        default:
            buffer.append(contentsOf: "HTTP/1.1 400 Bad Request\r\n".utf8)
        }
        appendField("Connection", "close", to: &buffer)
        appendField("Content-Length", "0", to: &buffer)
        buffer.append(contentsOf: "\r\n".utf8)
    }

    // MARK: Shared

    private static func appendField(_ name: String, _ value: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: name.utf8)
        buffer.append(contentsOf: ": ".utf8)
        buffer.append(contentsOf: value.utf8)
        buffer.append(contentsOf: "\r\n".utf8)
    }

    /// Upgrade must list `websocket`, Connection must list `Upgrade` (RFC 6455 §4.1 items 2–3, §4.2.1 items 3–4).
    private static func checkUpgradeFields(_ fields: [WebSocketHeaderField]) throws(WebSocketHandshakeError) {
        guard let upgrade = fields.combined("Upgrade") else { throw .missingHeader("Upgrade") }
        guard tokens(upgrade).contains(where: { $0.lowercased() == "websocket" }) else {
            throw .invalidHeaderValue(name: "Upgrade", value: upgrade)
        }
        guard let connection = fields.combined("Connection") else { throw .missingHeader("Connection") }
        guard tokens(connection).contains(where: { $0.lowercased() == "upgrade" }) else {
            throw .invalidHeaderValue(name: "Connection", value: connection)
        }
    }

    /// The elements of a comma-separated list, whitespace trimmed, empty ones dropped (RFC 9110 §5.6.1).
    private static func tokens(_ list: String) -> [String] {
        list.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
    }
}

/// 16 random octets, the nonce a client sends as Sec-WebSocket-Key (RFC 6455 §4.1 item 7).
public struct WebSocketKey: Hashable, Sendable {
    /// Octets 0–7, big-endian.
    public var high: UInt64
    /// Octets 8–15, big-endian.
    public var low: UInt64

    /// The key with these octets.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A key drawn from a ChaCha20 keystream keyed by `randomSeed` (expanded with SplitMix64): the
    /// caller brings the randomness (Framing reads no clock and no system random source).
    public init(randomSeed: UInt64) {
        var generator = ChaCha20Generator(seed: randomSeed)
        self.init(high: generator.next64(), low: generator.next64())
    }

    /// The key as sent: base 64 of the 16 octets, 24 characters.
    public var base64: String {
        var octets: [UInt8] = []
        octets.reserveCapacity(16)
        octets.appendBigEndian(high, width: 8)
        octets.appendBigEndian(low, width: 8)
        return Base64.encode(octets.span.bytes)
    }
}

/// One header field of a handshake: its name as sent and its value with surrounding whitespace removed.
public struct WebSocketHeaderField: Hashable, Sendable {
    /// The field name as sent; compare it case-insensitively.
    public var name: String
    /// The field value, leading and trailing spaces and tabs removed.
    public var value: String

    /// A header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A client's opening handshake that passed validation (RFC 6455 §4.2.1).
public struct WebSocketUpgradeRequest: Hashable, Sendable {
    /// The request target, e.g. `/chat`.
    public var path: String
    /// The Host field.
    public var host: String
    /// Sec-WebSocket-Key as sent (base 64 of 16 octets).
    public var key: String
    /// The subprotocols offered in Sec-WebSocket-Protocol, in order of preference.
    public var subprotocols: [String]
    /// Every header field, in order.
    public var fields: [WebSocketHeaderField]
}

/// A server's `101 Switching Protocols` that passed validation (RFC 6455 §4.1).
public struct WebSocketUpgradeResponse: Hashable, Sendable {
    /// The status line, e.g. `HTTP/1.1 101 Switching Protocols`.
    public var statusLine: String
    /// The subprotocol the server chose, if any.
    public var subprotocol: String?
    /// Every header field, in order.
    public var fields: [WebSocketHeaderField]
}

/// Why an opening handshake failed (RFC 6455 §4): one case per rule, with what was received.
public enum WebSocketHandshakeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No CRLFCRLF within the first `limit` octets.
    case headerBlockTooLarge(limit: Int)
    /// The request line or status line is not three space-separated parts, or not HTTP/1.x.
    case malformedStartLine(String)
    /// A header line that is not `name: value` (line 1 is the first after the start line), or a
    /// bare CR or LF, or an obsolete line folding (RFC 9112 §5.2).
    case malformedHeaderField(line: Int)
    /// The request's method is not GET (RFC 6455 §4.2.1 item 1).
    case methodNotGet(String)
    /// The request's HTTP version is not HTTP/1.1, the only one an Upgrade request can use
    /// (RFC 6455 §4.2.1 item 1; spec/websocket.md §3.2).
    case unsupportedHTTPVersion(String)
    /// A required header field is absent.
    case missingHeader(String)
    /// A header field that may appear once appears more than once (RFC 6455 §11.3).
    case duplicateHeader(String)
    /// A header field has a value that breaks the handshake (Upgrade without `websocket`,
    /// Connection without `Upgrade`).
    case invalidHeaderValue(name: String, value: String)
    /// Sec-WebSocket-Key is not base 64 of 16 octets (RFC 6455 §4.2.1 item 5).
    case invalidKey(String)
    /// Sec-WebSocket-Version is not 13 (RFC 6455 §4.2.1 item 6); answer with 426 (§4.4).
    case unsupportedVersion(String)
    /// The server answered with a status other than 101: its status line (RFC 6455 §4.1).
    case notSwitchingProtocols(statusLine: String)
    /// Sec-WebSocket-Accept is not the value the key calls for (RFC 6455 §4.1 item 4).
    case acceptMismatch(expected: String, received: String)
    /// Sec-WebSocket-Accept is not base 64 of a 20-octet SHA-1 digest (checked when the key is unknown).
    case invalidAccept(String)
    /// The server named an extension the client did not offer (RFC 6455 §4.1 item 5).
    case unrequestedExtension(String)
    /// The server chose a subprotocol the client did not offer (RFC 6455 §4.1 item 6).
    case unrequestedSubprotocol(String)

    /// The reason identifier spec/websocket.md §8 gives this failure (`ws-handshake-syntax`,
    /// `ws-handshake-key`, ...), as a decoder or encoder reports it in a `RuleViolation`.
    public var identifier: String {
        switch self {
        case .headerBlockTooLarge: return "ws-handshake-too-large"
        case .malformedStartLine, .malformedHeaderField: return "ws-handshake-syntax"
        case .methodNotGet, .unsupportedHTTPVersion: return "ws-handshake-request"
        case .missingHeader(let name), .duplicateHeader(let name):
            switch name {
            case "Host": return "ws-handshake-request"
            case "Sec-WebSocket-Key": return "ws-handshake-key"
            case "Sec-WebSocket-Version": return "ws-handshake-version"
            case "Sec-WebSocket-Accept": return "ws-handshake-accept"
            case "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions": return "ws-handshake-extension"
            default: return "ws-handshake-upgrade"
            }
        case .invalidHeaderValue: return "ws-handshake-upgrade"
        case .invalidKey: return "ws-handshake-key"
        case .unsupportedVersion: return "ws-handshake-version"
        case .notSwitchingProtocols: return "ws-handshake-status"
        case .acceptMismatch, .invalidAccept: return "ws-handshake-accept"
        case .unrequestedExtension, .unrequestedSubprotocol: return "ws-handshake-extension"
        }
    }

    public var description: String {
        switch self {
        case .headerBlockTooLarge(let limit):
            return "the handshake header block does not end within \(limit) octets"
        case .malformedStartLine(let line):
            return "malformed start line \"\(line)\""
        case .malformedHeaderField(let line):
            return "malformed header field on line \(line) of the header block"
        case .methodNotGet(let method):
            return "the opening handshake must be a GET request, not \(method)"
        case .unsupportedHTTPVersion(let version):
            return "the opening handshake must be HTTP/1.1, not \(version)"
        case .missingHeader(let name):
            return "the \(name) header field is missing"
        case .duplicateHeader(let name):
            return "the \(name) header field appears more than once"
        case .invalidHeaderValue(let name, let value):
            return "the \(name) header field has the value \"\(value)\""
        case .invalidKey(let key):
            return "Sec-WebSocket-Key \"\(key)\" is not base 64 of 16 octets"
        case .unsupportedVersion(let version):
            return "Sec-WebSocket-Version \(version) is not supported; this server speaks version 13"
        case .notSwitchingProtocols(let statusLine):
            return "the server did not switch protocols: \"\(statusLine)\""
        case .acceptMismatch(let expected, let received):
            return "Sec-WebSocket-Accept is \"\(received)\", the key calls for \"\(expected)\""
        case .invalidAccept(let value):
            return "Sec-WebSocket-Accept \"\(value)\" is not base 64 of a 20-octet digest"
        case .unrequestedExtension(let value):
            return "the server accepted extensions that were not offered: \(value)"
        case .unrequestedSubprotocol(let value):
            return "the server chose subprotocol \"\(value)\", which was not offered"
        }
    }
}

// MARK: - Header block parsing

enum ASCII {
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
}

/// A start line and header fields split out of a header block that ends with CRLFCRLF.
private struct HeaderBlock {
    var startLine: String
    var fields: [WebSocketHeaderField]

    init(parsing block: RawSpan) throws(WebSocketHandshakeError) {
        guard block.byteCount <= WebSocketHandshake.maxHeaderBlockLength else {
            throw .headerBlockTooLarge(limit: WebSocketHandshake.maxHeaderBlockLength)
        }
        let octets = block.withUnsafeBytes { Array($0) }
        guard octets.count >= 4, octets.suffix(4).elementsEqual([ASCII.carriageReturn, ASCII.lineFeed, ASCII.carriageReturn, ASCII.lineFeed]) else {
            throw .malformedHeaderField(line: 0)
        }
        // Lines end with CRLF; the block's last two lines are the last field's and the empty one.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < octets.count - 2 {
            let octet = octets[index]
            if octet == ASCII.carriageReturn, octets[index + 1] == ASCII.lineFeed {
                lines.append(octets[start..<index])
                index += 2
                start = index
                continue
            }
            if octet == ASCII.carriageReturn || octet == ASCII.lineFeed { throw .malformedHeaderField(line: lines.count) }
            index += 1
        }
        guard let first = lines.first, !first.isEmpty else { throw .malformedStartLine("") }
        startLine = String(decoding: first, as: UTF8.self)
        fields = []
        for (number, line) in lines.enumerated().dropFirst() {
            guard let colon = line.firstIndex(of: ASCII.colon), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(Self.isTokenCharacter) else {
                throw .malformedHeaderField(line: number)
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            var value = line[(colon + 1)...]
            while let octet = value.first, octet == ASCII.space || octet == ASCII.tab { value = value.dropFirst() }
            while let octet = value.last, octet == ASCII.space || octet == ASCII.tab { value = value.dropLast() }
            fields.append(WebSocketHeaderField(name: name, value: String(decoding: value, as: UTF8.self)))
        }
    }

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenCharacter(_ octet: UInt8) -> Bool {
        switch octet {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }
}

extension [WebSocketHeaderField] {
    /// The value of the field `name` (case-insensitive); nil when absent.
    /// - Throws: `.duplicateHeader` when it appears more than once.
    func single(_ name: String) throws(WebSocketHandshakeError) -> String? {
        var found: String?
        for field in self where field.name.equalsIgnoringASCIICase(name) {
            guard found == nil else { throw .duplicateHeader(name) }
            found = field.value
        }
        return found
    }

    /// The values of every field `name` (case-insensitive) joined with ", " (RFC 9110 §5.3); nil when absent.
    func combined(_ name: String) -> String? {
        let values = filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }
}

extension String {
    func equalsIgnoringASCIICase(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { Self.asciiLower($0) == Self.asciiLower($1) }
    }

    private static func asciiLower(_ octet: UInt8) -> UInt8 {
        (0x41...0x5A).contains(octet) ? octet | 0x20 : octet
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let character = result.first, character == " " || character == "\t" { result = result.dropFirst() }
        while let character = result.last, character == " " || character == "\t" { result = result.dropLast() }
        return result
    }
}
