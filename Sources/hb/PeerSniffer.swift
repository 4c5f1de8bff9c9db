import Framing
import Synchronization

/// A protocol recognised from the first octets a peer sent, for `hb probe` to say in words what
/// answered when it was not the dialect it expected.
struct SniffedProtocol: Hashable, Sendable {
    /// For people: "HTTP/1.x", "TLS", "the TCP envelope", ...
    let name: String
    /// The `--dialect` name that speaks it, if `hb` has one: a peer recognised as the dialect
    /// that was expected is not reported as another protocol.
    let dialectName: String?
    /// What was seen, e.g. `the status line "HTTP/1.1 400 Bad Request"`.
    let detail: String
}

/// Recognises a peer's protocol from the first octets it sent: a handful of fixed openings,
/// checked in order, over at most `PeerSniffer.maxOctets` octets.
enum PeerSniffer {
    /// How many of the peer's first octets are kept and looked at.
    static let maxOctets = 64

    /// The protocol whose opening `octets` are, or nil when none is recognised.
    static func sniff(_ octets: [UInt8]) -> SniffedProtocol? {
        let octets = Array(octets.prefix(maxOctets))
        guard !octets.isEmpty else { return nil }
        let magic = (0..<EnvelopeFrame.magic.count).map { EnvelopeFrame.magic[$0] }
        if octets.count >= 3, octets.starts(with: magic.prefix(octets.count)) {
            let version = octets.count > magic.count ? ", version \(octets[magic.count])" : ""
            return SniffedProtocol(name: "the TCP envelope", dialectName: Dialect.envelope.name, detail: "the envelope preface\(version)")
        }
        if octets.starts(with: Array("HTTP/1.".utf8)) || octets.starts(with: Array("HTTP/2 ".utf8)) {
            return SniffedProtocol(name: "HTTP/1.x", dialectName: nil, detail: "the status line \(quotedLine(octets))")
        }
        if octets.starts(with: Array("PRI * HTTP/2.0".utf8)) {
            return SniffedProtocol(name: "HTTP/2", dialectName: Dialect.http2.name, detail: "a client connection preface")
        }
        if octets.starts(with: Array("SSH-".utf8)) {
            return SniffedProtocol(name: "SSH", dialectName: nil, detail: "the banner \(quotedLine(octets))")
        }
        if octets.starts(with: Array("AMQP".utf8)), octets.count >= 8 {
            return SniffedProtocol(name: "AMQP", dialectName: "amqp",
                                   detail: "a protocol header for version \(octets[5])-\(octets[6])-\(octets[7])")
        }
        if let tls = sniffTLS(octets) { return tls }
        if let http2 = sniffHTTP2Frame(octets) { return http2 }
        if let first = octets.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+"), octets.contains(UInt8(ascii: "\r")) {
            return SniffedProtocol(name: "Redis RESP", dialectName: "resp", detail: "a reply \(quotedLine(octets))")
        }
        return nil
    }

    /// A TLS record (RFC 8446 §5.1): content type 20–23, legacy version 3.x, a length of at most
    /// 2^14 + 2048; an alert's level and description when the record is an alert.
    static func sniffTLS(_ octets: [UInt8]) -> SniffedProtocol? {
        guard octets.count >= 5, (20...23).contains(octets[0]), octets[1] == 3, octets[2] <= 4 else { return nil }
        let length = Int(octets[3]) << 8 | Int(octets[4])
        guard length <= (1 << 14) + 2048 else { return nil }
        switch octets[0] {
        case 21:
            guard octets.count >= 7 else { return SniffedProtocol(name: "TLS", dialectName: "tls", detail: "an alert record") }
            let level = octets[5] == 2 ? "fatal" : octets[5] == 1 ? "warning" : "level \(octets[5])"
            return SniffedProtocol(name: "TLS", dialectName: "tls", detail: "a \(level) alert: \(tlsAlertName(octets[6]))")
        case 22:
            let message = octets.count >= 6 ? tlsHandshakeName(octets[5]) : "a message"
            return SniffedProtocol(name: "TLS", dialectName: "tls", detail: "a handshake record (\(message))")
        default:
            return SniffedProtocol(name: "TLS", dialectName: "tls", detail: "a record of content type \(octets[0])")
        }
    }

    /// An HTTP/2 frame header (RFC 9113 §4.1) of a type servers send first: SETTINGS (what every
    /// server's preface begins with, §3.4) or GOAWAY, on stream 0.
    static func sniffHTTP2Frame(_ octets: [UInt8]) -> SniffedProtocol? {
        guard octets.count >= 9, octets[5] & 0x7f == 0, octets[6] == 0, octets[7] == 0, octets[8] == 0 else { return nil }
        let length = Int(octets[0]) << 16 | Int(octets[1]) << 8 | Int(octets[2])
        switch octets[3] {
        case HTTP2Frame.FrameType.settings where length % 6 == 0 && length <= 16_384:
            return SniffedProtocol(name: "HTTP/2", dialectName: Dialect.http2.name, detail: "a SETTINGS frame, as a server's preface begins")
        case HTTP2Frame.FrameType.goAway where length >= 8 && length <= 16_384:
            return SniffedProtocol(name: "HTTP/2", dialectName: Dialect.http2.name, detail: "a GOAWAY frame")
        default:
            return nil
        }
    }

    /// The first line of `octets`, printable ASCII only, quoted.
    static func quotedLine(_ octets: [UInt8]) -> String {
        let line = octets.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        return jsonString(String(decoding: line.map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self))
    }

    /// RFC 8446 §6 alert descriptions (the ones a peer that does not speak plaintext sends).
    static func tlsAlertName(_ code: UInt8) -> String {
        switch code {
        case 0: return "close_notify"
        case 10: return "unexpected_message"
        case 20: return "bad_record_mac"
        case 22: return "record_overflow"
        case 40: return "handshake_failure"
        case 47: return "illegal_parameter"
        case 50: return "decode_error"
        case 70: return "protocol_version"
        case 80: return "internal_error"
        case 109: return "missing_extension"
        case 112: return "unrecognized_name"
        default: return "description \(code)"
        }
    }

    /// RFC 8446 §4 handshake message types a server may send first.
    static func tlsHandshakeName(_ type: UInt8) -> String {
        switch type {
        case 1: return "ClientHello"
        case 2: return "ServerHello"
        case 0: return "HelloRequest"
        default: return "message type \(type)"
        }
    }

    /// What to say when `expected` failed and the peer's first octets were `octets`: the protocol
    /// that answered and a sentence naming it, or nil when it is not recognised or is `expected` itself.
    static func explain(_ octets: [UInt8], expected: CommandLineDialect) -> (sniffed: SniffedProtocol, message: String)? {
        guard let sniffed = sniff(octets) else { return nil }
        if let name = sniffed.dialectName, name == expected.dialect.name || expected.aliases.contains(name) { return nil }
        return (sniffed, "the peer speaks \(sniffed.name), not the expected \(expected.title): it sent \(sniffed.detail)")
    }
}

/// The first octets a connection received, kept by `SniffingDialect`'s decoder for the sniffer.
final class FirstOctets: Sendable {
    private let octets = Mutex<[UInt8]>([])
    private let decoded = Atomic<Bool>(false)

    /// The octets kept so far (at most `PeerSniffer.maxOctets`).
    var value: [UInt8] { octets.withLock { $0 } }

    /// Whether a frame (a preface included) decoded: the peer speaks the dialect.
    var decodedAFrame: Bool { decoded.load(ordering: .relaxed) }

    /// Notes that a frame decoded.
    func markDecoded() { decoded.store(true, ordering: .relaxed) }

    /// Keeps the start of `prefix` (the stream from its first octet) if it is longer than what is kept.
    func record(_ prefix: RawSpan) {
        let count = min(prefix.byteCount, PeerSniffer.maxOctets)
        octets.withLock { kept in
            guard count > kept.count else { return }
            kept = (0..<count).map { prefix.unsafeLoad(fromByteOffset: $0, as: UInt8.self) }
        }
    }
}

/// `base`, with a decoder that keeps the peer's first octets in `firstOctets` until its first
/// frame decodes: `hb probe`'s way to see what answered when the framing fails.
struct SniffingDialect<Base: StreamDialect>: StreamDialect {
    let base: Base
    let firstOctets: FirstOctets

    var dialect: Dialect { base.dialect }
    var liveness: LivenessModel { base.liveness }
    var vocabulary: DissectorVocabulary { base.vocabulary }

    func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> SniffingDecoder<Base.Decoder> {
        SniffingDecoder(base: base.makeDecoder(role: role, maxFrameSize: maxFrameSize), firstOctets: firstOctets)
    }

    func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> Base.Encoder {
        base.makeEncoder(role: role, randomSeed: randomSeed)
    }
}

/// A decoder that shows the stream's start to a `FirstOctets` before its first frame, then only forwards.
struct SniffingDecoder<Base: StreamFrameDecoder>: StreamFrameDecoder {
    var base: Base
    let firstOctets: FirstOctets
    /// Whether a frame was decoded: the stream's start has been seen and the octets are the dialect's.
    var decodedOne = false

    static var dialect: Dialect { Base.dialect }
    static func wireCode(for reason: FramingError.Reason) -> WireErrorCode { Base.wireCode(for: reason) }
    var maxFrameLength: Int { base.maxFrameLength }

    func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        if !decodedOne { firstOctets.record(prefix) }
        return try base.boundary(of: prefix)
    }

    func boundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        if !decodedOne { firstOctets.record(prefix) }
        return try base.boundary(of: prefix, lengthAtLeast: minimumLength)
    }

    /// Forwarded, so a decoder that resumes its scan (RESP) keeps its linear cost here too.
    mutating func resumeBoundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        if !decodedOne { firstOctets.record(prefix) }
        return try base.resumeBoundary(of: prefix, lengthAtLeast: minimumLength)
    }

    mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        guard !decodedOne else { return try base.decode(frame: frame) }
        firstOctets.record(frame)
        let decoded = try base.decode(frame: frame)
        decodedOne = true
        firstOctets.markDecoded()
        return decoded
    }

    mutating func withItemBytes<R, E: Error>(of frame: RawSpan, _ decoded: DecodedFrame,
                                             _ body: (RawSpan) throws(E) -> R) throws(E) -> R {
        try base.withItemBytes(of: frame, decoded, body)
    }
}

/// `stream` wrapped so that its connection keeps the peer's first octets in `firstOctets`.
func sniffing(_ stream: some StreamDialect, into firstOctets: FirstOctets) -> any StreamDialect {
    SniffingDialect(base: stream, firstOctets: firstOctets)
}
