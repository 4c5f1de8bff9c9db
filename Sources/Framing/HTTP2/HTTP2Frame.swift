/// HTTP/2 framing constants and encoders (RFC 9113 §4, §6). Every encoder appends to a
/// caller-provided array: with its capacity reserved once, encoding never allocates.
public enum HTTP2Frame {
    /// Length of every frame header, in octets (RFC 9113 §4.1).
    public static let headerLength = 9

    /// The client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4).
    public static let clientPreface: InlineArray<24, UInt8> = [
        0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32,
        0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
    ]

    /// Frame types (RFC 9113 §6, §11.2).
    public enum FrameType {
        /// DATA (RFC 9113 §6.1).
        public static let data: UInt8 = 0x0
        /// HEADERS (RFC 9113 §6.2).
        public static let headers: UInt8 = 0x1
        /// PRIORITY (RFC 9113 §6.3).
        public static let priority: UInt8 = 0x2
        /// RST_STREAM (RFC 9113 §6.4).
        public static let rstStream: UInt8 = 0x3
        /// SETTINGS (RFC 9113 §6.5).
        public static let settings: UInt8 = 0x4
        /// PUSH_PROMISE (RFC 9113 §6.6).
        public static let pushPromise: UInt8 = 0x5
        /// PING (RFC 9113 §6.7).
        public static let ping: UInt8 = 0x6
        /// GOAWAY (RFC 9113 §6.8).
        public static let goAway: UInt8 = 0x7
        /// WINDOW_UPDATE (RFC 9113 §6.9).
        public static let windowUpdate: UInt8 = 0x8
        /// CONTINUATION (RFC 9113 §6.10).
        public static let continuation: UInt8 = 0x9
    }

    /// Flags that this library reads (RFC 9113 §6).
    public enum Flags {
        /// PING, SETTINGS: this frame answers the peer's.
        public static let ack: UInt8 = 0x1
        /// DATA, HEADERS: the last frame the sender sends on the stream.
        public static let endStream: UInt8 = 0x1
        /// HEADERS, PUSH_PROMISE, CONTINUATION: the header block ends with this frame.
        public static let endHeaders: UInt8 = 0x4
    }

    /// SETTINGS_MAX_FRAME_SIZE's initial value and the bounds it may be set within (RFC 9113 §6.5.2).
    public static let defaultMaxFrameSize = 16_384
    /// The values SETTINGS_MAX_FRAME_SIZE may take.
    public static let maxFrameSizeRange = 16_384...16_777_215

    /// Appends the client connection preface.
    public static func appendClientPreface(to buffer: inout [UInt8]) {
        for index in clientPreface.indices { buffer.append(clientPreface[index]) }
    }

    /// Appends a 9-octet frame header. Write `length` payload octets after it, or hand them to
    /// `writev` without copying.
    public static func appendHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, to buffer: inout [UInt8]) {
        precondition(length >= 0 && length <= maxFrameSizeRange.upperBound, "HTTP/2 frame length \(length) does not fit 24 bits")
        buffer.appendOctets(count: headerLength) { out in
            storeHeader(length: length, type: type, flags: flags, streamID: streamID, at: out)
        }
    }

    /// Writes a 9-octet frame header at `out` with two stores.
    @usableFromInline @inline(__always)
    static func storeHeader(length: Int, type: UInt8, flags: UInt8, streamID: UInt32, at out: UnsafeMutableRawPointer) {
        let stream = streamID & 0x7fff_ffff
        let first = UInt64(truncatingIfNeeded: length) << 40 | UInt64(type) << 32 | UInt64(flags) << 24 | UInt64(stream >> 8)
        out.storeBytes(of: first.bigEndian, as: UInt64.self)
        out.storeBytes(of: UInt8(truncatingIfNeeded: stream), toByteOffset: 8, as: UInt8.self)
    }

    /// Appends a PING frame (RFC 9113 §6.7): stream 0, 8-octet payload; `ack` marks the answer.
    /// The 17 octets are written with three stores after one capacity check.
    public static func appendPing(_ payload: HeartbeatPayload, ack: Bool, to buffer: inout [UInt8]) {
        buffer.appendOctets(count: headerLength + HeartbeatPayload.byteCount) { out in
            storePing(payloadOctets: payload.rawValue.bigEndian, ack: ack, at: out)
        }
    }

    /// Writes a 17-octet PING frame at `out` with three stores; `payloadOctets` are the payload's
    /// 8 octets as they lie in memory (a `HeartbeatPayload`'s `rawValue.bigEndian`).
    @usableFromInline @inline(__always)
    static func storePing(payloadOctets: UInt64, ack: Bool, at out: UnsafeMutableRawPointer) {
        storeHeader(length: HeartbeatPayload.byteCount, type: FrameType.ping, flags: ack ? Flags.ack : 0, streamID: 0, at: out)
        out.storeBytes(of: payloadOctets, toByteOffset: headerLength, as: UInt64.self)
    }

    /// Appends a whole frame of any type: DATA, SETTINGS, an extension type, ...
    public static func appendFrame(type: UInt8, flags: UInt8 = 0, streamID: UInt32, payload: RawSpan, to buffer: inout [UInt8]) {
        appendHeader(length: payload.byteCount, type: type, flags: flags, streamID: streamID, to: &buffer)
        buffer.append(payload)
    }

    /// Appends a GOAWAY frame (RFC 9113 §6.8) with the last stream the sender processed, an error
    /// code and debug data (gRPC sends "too_many_pings" with ENHANCE_YOUR_CALM).
    public static func appendGoAway(lastStreamID: UInt32, code: HTTP2ErrorCode, debugData: String, to buffer: inout [UInt8]) {
        var debugData = debugData
        debugData.withUTF8 { utf8 in
            appendHeader(length: 8 + utf8.count, type: FrameType.goAway, flags: 0, streamID: 0, to: &buffer)
            buffer.appendBigEndian(UInt64(lastStreamID & 0x7fff_ffff), width: 4)
            buffer.appendBigEndian(UInt64(code.rawValue), width: 4)
            buffer.append(contentsOf: utf8)
        }
    }
}

/// A parsed 9-octet HTTP/2 frame header (RFC 9113 §4.1).
public struct HTTP2FrameHeader: Hashable, Sendable {
    /// Payload length in octets (24 bits).
    public var length: Int
    /// Frame type.
    public var type: UInt8
    /// Frame flags.
    public var flags: UInt8
    /// Stream identifier with the reserved bit cleared (RFC 9113 §4.1: ignored on receipt).
    public var streamID: UInt32

    /// Reads a header from the first 9 octets of `bytes`; nil when fewer are present.
    public init?(parsing bytes: RawSpan) {
        guard bytes.byteCount >= HTTP2Frame.headerLength else { return nil }
        self.init(unchecked: bytes)
    }

    /// Reads the header of `bytes`, which holds at least 9 octets, with two loads.
    @inline(__always)
    init(unchecked bytes: RawSpan) {
        let first = UInt64(bigEndian: bytes.unsafeLoadUnaligned(as: UInt64.self))
        self.length = Int(truncatingIfNeeded: first >> 40)
        self.type = UInt8(truncatingIfNeeded: first >> 32)
        self.flags = UInt8(truncatingIfNeeded: first >> 24)
        self.streamID = (UInt32(truncatingIfNeeded: first) << 8 | UInt32(bytes.unsafeLoad(fromByteOffset: 8, as: UInt8.self))) & 0x7fff_ffff
    }
}

/// The content of an HTTP/2 GOAWAY frame (RFC 9113 §6.8).
public struct HTTP2GoAway: Hashable, Sendable {
    /// The last stream the sender processed (reserved bit cleared).
    public var lastStreamID: UInt32
    /// The error code; `HTTP2ErrorCode(rawValue:)` names the RFC's.
    public var errorCode: UInt32
    /// Additional debug data, decoded as UTF-8 with invalid sequences replaced.
    public var debugData: String

    /// Decodes a GOAWAY payload.
    /// - Throws: `.malformedGoAway` when the payload is shorter than 8 octets.
    public init(payload: RawSpan) throws(FramingError.Reason) {
        var cursor = 0
        guard let last = payload.readBigEndian(width: 4, at: &cursor), let code = payload.readBigEndian(width: 4, at: &cursor) else {
            throw .malformedGoAway
        }
        lastStreamID = UInt32(truncatingIfNeeded: last) & 0x7fff_ffff
        errorCode = UInt32(truncatingIfNeeded: code)
        debugData = payload.extracting(cursor...).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
