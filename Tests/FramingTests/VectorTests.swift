import Foundation
import Framing
import Testing

/// Runs every vector in spec/vectors/ through the demuxer: whole, and for the stream dialects
/// split at every octet boundary and fed one octet at a time.
@Suite struct VectorTests {
    static let vectorsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("spec/vectors")

    static func load(_ file: String) -> [Vector] {
        do {
            let data = try Data(contentsOf: vectorsDirectory.appendingPathComponent(file))
            return try JSONDecoder().decode(VectorFile.self, from: data).vectors
        } catch {
            Issue.record("cannot read \(file): \(error)")
            return []
        }
    }

    static let envelope = load("envelope.json")
    static let http2 = load("http2.json")
    static let quic = load("quic.json")
    static let webSocket = load("websocket.json")
    static let tls = load("tls.json")
    static let resp = load("resp.json")
    static let lines = load("lines.json")

    @Test func everyDialectHasVectors() {
        #expect(Self.envelope.count >= 20)
        #expect(Self.http2.count >= 20)
        #expect(Self.quic.count >= 20)
        #expect(Self.webSocket.count >= 40)
        #expect(Self.resp.count >= 25)
        #expect(Self.lines.count >= 25)
        #expect(Self.envelope.count + Self.http2.count + Self.quic.count >= 60)
    }

    @Test(arguments: envelope + http2 + webSocket + resp + lines)
    func streamVectorWholeSplitAndBytewise(_ vector: Vector) throws {
        let input = try #require(Bytes(hex: vector.input ?? ""), "bad hex in \(vector.name)")
        let expected = Outcome(items: vector.items, error: vector.error)
        let whole = run(vector, chunks: [input.bytes])
        #expect(whole == expected, "\(vector.name) whole: \(vector.description)")
        guard whole == expected else { return }
        let octets = input.bytes
        // Every split point of a short input; of a long one (a 64 KiB frame), those near its ends
        // and every 997th, to keep the run short.
        let count = octets.count
        let splits = count <= 2048 ? Array(0...count)
            : Array(0...64) + Array(stride(from: 65, to: count - 64, by: 997)) + Array((count - 64)...count)
        for split in splits {
            let outcome = run(vector, chunks: [Array(octets[..<split]), Array(octets[split...])])
            if outcome != expected {
                Issue.record("\(vector.name) split at \(split): \(outcome) != \(expected)")
                return
            }
        }
        let bytewise = run(vector, chunks: octets.map { [$0] })
        #expect(bytewise == expected, "\(vector.name) one octet at a time")
    }

    @Test(arguments: quic)
    func quicVector(_ vector: Vector) throws {
        let packets = try (vector.packets ?? []).map { try #require(Bytes(hex: $0)).bytes }
        #expect(run(vector, chunks: packets) == Outcome(items: vector.items, error: vector.error), "\(vector.name): \(vector.description)")
    }

    @Test func varintVectors() throws {
        for vector in Self.load("varint.json") {
            let input = try #require(Bytes(hex: vector.input ?? ""))
            var cursor = 0
            let read = Varint.read(input.bytes.span.bytes, at: &cursor)
            if let value = vector.value {
                #expect(read?.value == value, "\(vector.name)")
                #expect(read?.encodedLength == vector.length, "\(vector.name)")
                #expect(read?.isMinimal == vector.minimal, "\(vector.name)")
                var encoded: [UInt8] = []
                Varint.append(value, length: vector.length, to: &encoded)
                #expect(encoded == input.bytes, "\(vector.name) re-encoded")
            } else {
                #expect(read == nil, "\(vector.name) is cut short")
            }
        }
    }

    func run(_ vector: Vector, chunks: [[UInt8]]) -> Outcome {
        var demuxer = vector.makeDemuxer()
        var items: [VectorItem] = []
        do {
            for chunk in chunks {
                try demuxer.feed(chunk) { item, bytes in
                    // A WebSocket opening handshake is handed over for the encoder to answer; the
                    // vectors, like the prefaces, list no item for it.
                    if case .business(let frame) = item, vector.dialect == "websocket", frame.type == WebSocketFrame.handshakeType { return }
                    items.append(VectorItem(item, bytes))
                }
            }
            try demuxer.finish()
            return Outcome(items: items, error: nil)
        } catch {
            return Outcome(items: items, error: VectorError(error))
        }
    }
}

struct Outcome: Equatable, CustomStringConvertible {
    var items: [VectorItem]
    var error: VectorError?
    var description: String { "\(items.map(\.description)) error: \(error.map { "\($0)" } ?? "none")" }
}

struct VectorFile: Decodable {
    var vectors: [Vector]
}

struct Vector: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var dialect: String
    var description: String
    var input: String?
    var packets: [String]?
    var items: [VectorItem]
    var error: VectorError?
    var options: Options?
    // varint.json
    var value: UInt64?
    var length: Int?
    var minimal: Bool?

    struct Options: Decodable, Sendable {
        var maxFrameSize: Int?
        var preface: String?
        /// WebSocket: the receiver's role (default client) and whether the stream opens with the handshake.
        var role: String?
        var handshake: Bool?
        /// RESP: the echo-mode PING message prefix (absent: the in-order mode).
        var pingMessage: String?
        /// RESP: the deepest nesting accepted.
        var maxDepth: Int?
    }

    var testDescription: String { name }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        dialect = try container.decodeIfPresent(String.self, forKey: .dialect) ?? "varint"
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? name
        input = try container.decodeIfPresent(String.self, forKey: .input)
        packets = try container.decodeIfPresent([String].self, forKey: .packets)
        items = try container.decodeIfPresent([VectorItem].self, forKey: .items) ?? []
        error = try container.decodeIfPresent(VectorError.self, forKey: .error)
        options = try container.decodeIfPresent(Options.self, forKey: .options)
        value = try container.decodeIfPresent(UInt64.self, forKey: .value)
        length = try container.decodeIfPresent(Int.self, forKey: .length)
        minimal = try container.decodeIfPresent(Bool.self, forKey: .minimal)
    }

    enum CodingKeys: String, CodingKey {
        case name, dialect, description, input, packets, items, error, options, value, length, minimal
    }

    func makeDemuxer() -> Demuxer {
        switch dialect {
        case "envelope":
            return Demuxer(EnvelopeFrameDecoder(maxFrameSize: options?.maxFrameSize ?? EnvelopeFrame.defaultMaxFrameSize,
                                                expectPreface: options?.preface != "none"))
        case "http2":
            let preface: HTTP2FrameDecoder.PrefacePolicy
            switch options?.preface {
            case "required": preface = .required
            case "optional": preface = .optional
            default: preface = .none
            }
            return Demuxer(HTTP2FrameDecoder(maxFrameSize: options?.maxFrameSize ?? HTTP2Frame.defaultMaxFrameSize, preface: preface))
        case "websocket":
            let role: ConnectionRole = options?.role == "server" ? .server : .client
            let dialect = WebSocketDialect(performsHandshake: options?.handshake ?? false)
            return Demuxer(dialect, role: role, maxFrameSize: options?.maxFrameSize)
        case "tls":
            return Demuxer(TLSDialect(), maxFrameSize: options?.maxFrameSize)
        case "amqp":
            let role: ConnectionRole? = options?.role == "server" ? .server : options?.role == "client" ? .client : nil
            return Demuxer(AMQPDialect(), role: role, maxFrameSize: options?.maxFrameSize)
        case "resp":
            // The receiver's role; absent: a capture of either direction.
            let role: ConnectionRole? = options?.role == "server" ? .server : options?.role == "client" ? .client : nil
            let dialect = RESPDialect(pingMessage: options?.pingMessage, maxDepth: options?.maxDepth ?? RESPFrame.defaultMaxDepth)
            return Demuxer(dialect, role: role, maxFrameSize: options?.maxFrameSize)
        case "lines":
            return Demuxer(LinesDialect(), maxFrameSize: options?.maxFrameSize)
        default:
            return Demuxer(QUICPacketDemuxer())
        }
    }
}

/// An item as the vectors spell it (spec/vectors/README.md).
struct VectorItem: Decodable, Equatable, Sendable, CustomStringConvertible {
    var item: String
    var payload: String?
    var type: UInt64?
    /// Octets handed over (decoded from the vector's hex once, so that comparisons are cheap).
    var data: [UInt8]?
    var flags: UInt8?
    var stream: UInt32?
    var largest: UInt64?
    var delay: UInt64?
    var ranges: [[UInt64]]?
    var ecn: [UInt64]?

    init(item: String) { self.item = item }

    enum CodingKeys: String, CodingKey {
        case item, payload, type, data, flags, stream, largest, delay, ranges, ecn
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        item = try container.decode(String.self, forKey: .item)
        payload = try container.decodeIfPresent(String.self, forKey: .payload)
        type = try container.decodeIfPresent(UInt64.self, forKey: .type)
        if let hex = try container.decodeIfPresent(String.self, forKey: .data) {
            guard let bytes = Bytes(hex: hex) else {
                throw DecodingError.dataCorruptedError(forKey: .data, in: container, debugDescription: "bad hex")
            }
            data = bytes.bytes
        }
        flags = try container.decodeIfPresent(UInt8.self, forKey: .flags)
        stream = try container.decodeIfPresent(UInt32.self, forKey: .stream)
        largest = try container.decodeIfPresent(UInt64.self, forKey: .largest)
        delay = try container.decodeIfPresent(UInt64.self, forKey: .delay)
        ranges = try container.decodeIfPresent([[UInt64]].self, forKey: .ranges)
        ecn = try container.decodeIfPresent([UInt64].self, forKey: .ecn)
    }

    init(_ demuxed: DemuxedItem, _ bytes: RawSpan) {
        switch demuxed {
        case .ping(let payload), .pong(let payload):
            // The octets handed over are the whole payload (WebSocket's may exceed 8 octets);
            // the decoded payload must agree with them.
            self.init(item: demuxed == .ping(payload) ? "ping" : "pong")
            let whole = Bytes(bytes).hex
            self.payload = payload.isWhole && payload.description != whole ? "mismatch \(payload) vs \(whole)" : whole
        case .quicPing:
            self.init(item: "quic-ping")
        case .quicAck(let ack):
            self.init(item: "quic-ack")
            largest = ack.largestAcknowledged
            delay = ack.ackDelay
            var ranges: [[UInt64]] = []
            ack.forEachRange(in: bytes) { ranges.append([$0.lowerBound, $0.upperBound]) }
            self.ranges = ranges
            ecn = ack.ecnCounts.map { [$0.ect0, $0.ect1, $0.ce] }
        case .business(let frame):
            self.init(item: "business")
            type = frame.type
            data = Bytes(bytes).bytes
            if frame.length != bytes.byteCount { type = .max }  // a mismatch the comparison will show
            // HTTP/2 vectors state flags and stream; the others leave them out.
            flags = frame.flags
            stream = frame.streamID
        }
    }

    static func == (lhs: VectorItem, rhs: VectorItem) -> Bool {
        // Flags and stream are compared when the vector states them.
        func optionalMatch<T: Equatable>(_ a: T?, _ b: T?) -> Bool { a == nil || b == nil || a == b }
        return lhs.item == rhs.item && lhs.payload == rhs.payload && lhs.type == rhs.type && lhs.data == rhs.data
            && optionalMatch(lhs.flags, rhs.flags) && optionalMatch(lhs.stream, rhs.stream)
            && lhs.largest == rhs.largest && lhs.delay == rhs.delay && lhs.ranges == rhs.ranges && lhs.ecn == rhs.ecn
    }

    var description: String {
        var parts = [item]
        if let payload { parts.append("payload=\(payload)") }
        if let type { parts.append("type=\(type)") }
        if let flags, flags != 0 { parts.append("flags=\(flags)") }
        if let stream, stream != 0 { parts.append("stream=\(stream)") }
        if let data { parts.append("data=\(Bytes(Array(data.prefix(16))).hex)\(data.count > 16 ? "…(\(data.count))" : "")") }
        if let largest { parts.append("largest=\(largest) delay=\(delay ?? 0) ranges=\(ranges ?? []) ecn=\(ecn ?? [])") }
        return parts.joined(separator: " ")
    }
}

struct VectorError: Decodable, Equatable, Sendable, CustomStringConvertible {
    var code: String
    var offset: Int
    var reason: String

    init(_ error: any Error) {
        guard let error = error as? FramingError else {
            self.init(code: "NOT A FRAMING ERROR", offset: -1, reason: "\(error)")
            return
        }
        self.init(code: error.reason == .truncated ? "TRUNCATED" : error.code.name, offset: error.offset, reason: error.reason.identifier)
    }

    init(code: String, offset: Int, reason: String) {
        self.code = code
        self.offset = offset
        self.reason = reason
    }

    var description: String { "\(code)@\(offset) (\(reason))" }
}

/// Octets with a hexadecimal spelling, for vectors and messages.
struct Bytes: Equatable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ span: RawSpan) { bytes = span.withUnsafeBytes { Array($0) } }

    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
