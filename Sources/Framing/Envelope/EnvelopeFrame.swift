/// The TCP envelope's constants and encoders (spec/envelope.md). Every encoder appends to a
/// caller-provided array: with its capacity reserved once, encoding never allocates.
public enum EnvelopeFrame {
    /// The envelope version this implementation speaks, carried in the preface's last octet.
    public static let version: UInt8 = 1

    /// The 7-octet magic that opens every envelope connection: 0x89 'H' 'B' CR LF 0x1A LF
    /// (spec/envelope.md §3). The high first octet and the line endings catch peers that speak
    /// TLS, HTTP or a text protocol, and paths that mangle bytes.
    public static let magic: InlineArray<7, UInt8> = [0x89, 0x48, 0x42, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Length of the preface in octets: the magic and one version octet.
    public static let prefaceLength = 8

    /// Frame types (spec/envelope.md §5). A receiver passes frames of any other type on as
    /// business data and the application ignores them, so the format can grow.
    public enum FrameType {
        /// Application bytes.
        public static let data: UInt64 = 0x00
        /// A heartbeat request with an 8-octet payload.
        public static let ping: UInt64 = 0x01
        /// The answer to a PING, echoing its payload.
        public static let pong: UInt64 = 0x02
        /// The last frame a sender sends: an error code and a reason.
        public static let goAway: UInt64 = 0x03
    }

    /// The default and minimum guaranteed maximum payload size, in octets, that every receiver accepts.
    public static let defaultMaxFrameSize = 16_384
    /// Bounds of a configurable maximum payload size, in octets.
    public static let maxFrameSizeRange = 64...16_777_215

    /// Appends the connection preface: the magic and the version.
    public static func appendPreface(to buffer: inout [UInt8], version: UInt8 = EnvelopeFrame.version) {
        for index in magic.indices { buffer.append(magic[index]) }
        buffer.append(version)
    }

    /// Appends a frame header: the type and the payload length as variable-length integers.
    /// Write `length` payload octets after it (or hand them to `writev` without copying).
    public static func appendHeader(type: UInt64, length: Int, to buffer: inout [UInt8]) {
        Varint.append(type, to: &buffer)
        Varint.append(UInt64(length), to: &buffer)
    }

    /// Appends a PING frame carrying `payload`.
    public static func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        appendHeartbeat(type: FrameType.ping, payload, to: &buffer)
    }

    /// Appends a PONG frame echoing `payload`.
    public static func appendPong(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        appendHeartbeat(type: FrameType.pong, payload, to: &buffer)
    }

    /// PING and PONG: a one-octet type, a one-octet length (8) and the payload, in one write.
    static func appendHeartbeat(type: UInt64, _ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        buffer.appendOctets(count: heartbeatLength) { out in
            storeHeartbeat(type: type, payloadOctets: payload.rawValue.bigEndian, at: out)
        }
    }

    /// Octets of a PING or PONG frame: type, length, 8-octet payload.
    @usableFromInline
    static var heartbeatLength: Int { 2 + HeartbeatPayload.byteCount }

    /// Writes a PING or PONG frame at `out` with two stores; `payloadOctets` are the payload's 8
    /// octets as they lie in memory (a `HeartbeatPayload`'s `rawValue.bigEndian`).
    @usableFromInline @inline(__always)
    static func storeHeartbeat(type: UInt64, payloadOctets: UInt64, at out: UnsafeMutableRawPointer) {
        let head = UInt16(truncatingIfNeeded: type) << 8 | UInt16(HeartbeatPayload.byteCount)
        out.storeBytes(of: head.bigEndian, as: UInt16.self)
        out.storeBytes(of: payloadOctets, toByteOffset: 2, as: UInt64.self)
    }

    /// Appends a frame of `type` with `payload`: DATA for business bytes, or any extension type.
    public static func appendFrame(type: UInt64 = FrameType.data, payload: RawSpan, to buffer: inout [UInt8]) {
        appendHeader(type: type, length: payload.byteCount, to: &buffer)
        buffer.append(payload)
    }

    /// Appends a GOAWAY frame: `code` and a UTF-8 `reason` for people (spec/envelope.md §5.4).
    public static func appendGoAway(_ code: EnvelopeErrorCode, reason: String, to buffer: inout [UInt8]) {
        appendGoAway(code: code.rawValue, reason: reason, to: &buffer)
    }

    /// Appends a GOAWAY frame with a raw error code (codes this version does not name included).
    public static func appendGoAway(code: UInt64, reason: String, to buffer: inout [UInt8]) {
        var reason = reason
        reason.withUTF8 { utf8 in
            appendHeader(type: FrameType.goAway, length: Varint.minimalLength(of: code) + utf8.count, to: &buffer)
            Varint.append(code, to: &buffer)
            buffer.append(contentsOf: utf8)
        }
    }
}

/// The content of an envelope GOAWAY frame (spec/envelope.md §5.4).
public struct EnvelopeGoAway: Hashable, Sendable {
    /// The error code; see `EnvelopeErrorCode` for the codes this version names.
    public var code: UInt64
    /// The reason for people, decoded as UTF-8 with invalid sequences replaced.
    public var reason: String

    /// The named error code, if this version knows it.
    public var errorCode: EnvelopeErrorCode? { EnvelopeErrorCode(rawValue: code) }

    /// Decodes a GOAWAY frame's payload.
    /// - Throws: `.malformedGoAway` when the payload cannot hold its error code.
    public init(payload: RawSpan) throws(FramingError.Reason) {
        let code = try Self.readCode(payload)
        self.code = code.value
        self.reason = payload.extracting(code.encodedLength...).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
