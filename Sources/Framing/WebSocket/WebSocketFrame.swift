/// WebSocket framing constants and encoders (RFC 6455 §5). Every encoder appends to a
/// caller-provided array: with its capacity reserved once, encoding never allocates. A masking
/// key, when given, is applied while the payload is appended — one pass over the payload, no
/// intermediate copy (RFC 6455 §5.3).
///
/// Masking keys are `UInt32` values whose big-endian octets are the key as it appears on the
/// wire: octet 0 (the most significant) masks payload octets 0, 4, 8, ...
public enum WebSocketFrame {
    /// Opcodes (RFC 6455 §5.2, §11.8). 0x3–0x7 and 0xB–0xF are reserved.
    public enum Opcode {
        /// A continuation frame of a fragmented message (RFC 6455 §5.4).
        public static let continuation: UInt8 = 0x0
        /// The first frame of a text message: UTF-8 (RFC 6455 §5.6).
        public static let text: UInt8 = 0x1
        /// The first frame of a binary message (RFC 6455 §5.6).
        public static let binary: UInt8 = 0x2
        /// Close: an optional 2-octet status code and a UTF-8 reason (RFC 6455 §5.5.1).
        public static let close: UInt8 = 0x8
        /// Ping: the heartbeat request, up to 125 octets of application data (RFC 6455 §5.5.2).
        public static let ping: UInt8 = 0x9
        /// Pong: echoes the application data of the Ping it answers (RFC 6455 §5.5.3).
        public static let pong: UInt8 = 0xA

        /// Whether `opcode` is a control frame's: the high bit of the 4-bit opcode is set (RFC 6455 §5.5).
        @inlinable
        public static func isControl(_ opcode: UInt8) -> Bool { opcode & 0x8 != 0 }

        /// Whether `opcode` is one RFC 6455 defines (0x0–0x2, 0x8–0xA); the rest are reserved (§5.2).
        @inlinable
        public static func isDefined(_ opcode: UInt8) -> Bool { opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA) }
    }

    /// Bits of the first and second header octets (RFC 6455 §5.2).
    public enum Flags {
        /// First octet: this is the final fragment of a message.
        public static let fin: UInt8 = 0x80
        /// First octet: RSV1, RSV2, RSV3; must be 0 unless an extension defines them.
        public static let reserved: UInt8 = 0x70
        /// Second octet: the payload is masked and a 4-octet masking key follows the length.
        public static let mask: UInt8 = 0x80
    }

    /// The `BusinessFrame.type` under which a decoder reports an HTTP opening-handshake header
    /// block (RFC 6455 §4): outside the 4-bit opcode space, so it never collides with a frame.
    public static let handshakeType: UInt64 = 0x100

    /// The largest payload of a control frame, in octets (RFC 6455 §5.5).
    public static let maxControlPayload = 125
    /// The largest reason in a Close frame, in octets: the control payload minus the 2-octet code.
    public static let maxCloseReasonLength = maxControlPayload - 2
    /// The default largest data-frame payload a decoder accepts, in octets (configurable).
    public static let defaultMaxFrameSize = 65_536
    /// The longest frame header: 2 octets, a 64-bit extended length, a masking key (RFC 6455 §5.2).
    public static let maxHeaderLength = 14
    /// The longest control frame: 2 header octets, a masking key and 125 payload octets.
    public static let maxControlFrameLength = 2 + 4 + maxControlPayload
    /// The longest ping or pong carrying this library's own 8-octet heartbeat payload: 2 header
    /// octets, a masking key, and the payload. Enough for our pings, not for every pong: echoing a
    /// peer's ping of up to 125 octets takes up to `maxControlFrameLength` (131), which is what the
    /// encoder's `maxHeartbeatLength` reports and what must be reserved for encoding never to allocate.
    public static let maxHeartbeatLength = 2 + 4 + HeartbeatPayload.byteCount

    /// Octets of the header of a frame with `payloadLength` payload octets (RFC 6455 §5.2): the
    /// shortest length encoding, plus 4 when masked.
    @inlinable
    public static func headerLength(payloadLength: Int, masked: Bool) -> Int {
        let lengthOctets = payloadLength < 126 ? 0 : payloadLength <= 0xFFFF ? 2 : 8
        return 2 + lengthOctets + (masked ? 4 : 0)
    }

    /// Appends a frame header with the shortest length encoding (RFC 6455 §5.2). Write
    /// `payloadLength` payload octets after it, masked with `maskingKey` if one is given.
    public static func appendHeader(opcode: UInt8, fin: Bool = true, payloadLength: Int, maskingKey: UInt32?, to buffer: inout [UInt8]) {
        precondition(opcode <= 0xF, "WebSocket opcode \(opcode) does not fit 4 bits")
        precondition(payloadLength >= 0, "negative WebSocket payload length")
        buffer.append((fin ? Flags.fin : 0) | opcode)
        let maskBit = maskingKey == nil ? 0 : Flags.mask
        if payloadLength < 126 {
            buffer.append(maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            buffer.append(maskBit | 126)
            buffer.appendBigEndian(UInt64(payloadLength), width: 2)
        } else {
            buffer.append(maskBit | 127)
            buffer.appendBigEndian(UInt64(payloadLength), width: 8)
        }
        if let maskingKey { buffer.appendBigEndian(UInt64(maskingKey), width: 4) }
    }

    /// Appends a whole frame (RFC 6455 §5.2). With a `maskingKey` (a client must mask every frame,
    /// §5.3) the payload is XORed as it is appended: one pass, no intermediate copy.
    public static func appendFrame(opcode: UInt8, fin: Bool = true, payload: RawSpan, maskingKey: UInt32?, to buffer: inout [UInt8]) {
        appendHeader(opcode: opcode, fin: fin, payloadLength: payload.byteCount, maskingKey: maskingKey, to: &buffer)
        if let maskingKey {
            appendMasked(payload, maskingKey: maskingKey, to: &buffer)
        } else {
            buffer.append(payload)
        }
    }

    /// Appends a Ping (RFC 6455 §5.5.2) carrying `payload` (at most 125 octets).
    public static func appendPing(payload: RawSpan, maskingKey: UInt32?, to buffer: inout [UInt8]) {
        precondition(payload.byteCount <= maxControlPayload, "WebSocket Ping payload of \(payload.byteCount) octets exceeds 125")
        appendFrame(opcode: Opcode.ping, payload: payload, maskingKey: maskingKey, to: &buffer)
    }

    /// Appends a Pong (RFC 6455 §5.5.3) echoing `payload` (at most 125 octets), the application
    /// data of the Ping it answers, unmasked.
    public static func appendPong(payload: RawSpan, maskingKey: UInt32?, to buffer: inout [UInt8]) {
        precondition(payload.byteCount <= maxControlPayload, "WebSocket Pong payload of \(payload.byteCount) octets exceeds 125")
        appendFrame(opcode: Opcode.pong, payload: payload, maskingKey: maskingKey, to: &buffer)
    }

    /// Appends a Ping or Pong carrying this library's 8-octet heartbeat payload; never more than
    /// `maxHeartbeatLength` octets.
    public static func appendHeartbeat(opcode: UInt8, _ payload: HeartbeatPayload, maskingKey: UInt32?, to buffer: inout [UInt8]) {
        precondition(opcode == Opcode.ping || opcode == Opcode.pong, "not a heartbeat opcode: \(opcode)")
        appendHeader(opcode: opcode, payloadLength: HeartbeatPayload.byteCount, maskingKey: maskingKey, to: &buffer)
        let key = maskingKey.map { UInt64($0) << 32 | UInt64($0) } ?? 0
        buffer.appendBigEndian(payload.rawValue ^ key, width: HeartbeatPayload.byteCount)
    }

    /// Appends a Close frame (RFC 6455 §5.5.1): the 2-octet status `code` and `reason` as UTF-8,
    /// truncated to 123 octets at a character boundary so that the frame stays a valid control
    /// frame with a valid UTF-8 reason. A nil `code` sends an empty Close (status 1005 for the
    /// receiver, §7.1.5), and `reason` is then ignored.
    public static func appendClose(code: UInt16?, reason: String = "", maskingKey: UInt32?, to buffer: inout [UInt8]) {
        guard let code else {
            appendHeader(opcode: Opcode.close, payloadLength: 0, maskingKey: maskingKey, to: &buffer)
            return
        }
        var reason = reason
        reason.withUTF8 { utf8 in
            let reasonLength = truncatedUTF8Length(utf8, limit: maxCloseReasonLength)
            appendHeader(opcode: Opcode.close, payloadLength: 2 + reasonLength, maskingKey: maskingKey, to: &buffer)
            // The code and reason are masked as one payload: the reason starts at payload offset 2.
            let key = maskingKey ?? 0
            buffer.appendBigEndian(UInt64(code ^ UInt16(truncatingIfNeeded: key >> 16)), width: 2)
            let reasonSpan = utf8.span.bytes.extracting(0..<reasonLength)
            if key == 0 {
                buffer.append(reasonSpan)
            } else {
                appendMasked(reasonSpan, maskingKey: key.rotatedLeftOctets(2), to: &buffer)
            }
        }
    }

    /// The length of the longest prefix of `utf8` of at most `limit` octets that ends at a
    /// scalar boundary (never inside a multi-octet sequence).
    static func truncatedUTF8Length(_ utf8: UnsafeBufferPointer<UInt8>, limit: Int) -> Int {
        guard utf8.count > limit else { return utf8.count }
        var length = limit
        // Continuation octets are 0b10xxxxxx: back up to the start of the cut sequence.
        while length > 0 && utf8[length] & 0xC0 == 0x80 { length -= 1 }
        return length
    }

    /// Appends `payload` XORed with `maskingKey`, key octet 0 on payload octet 0 (RFC 6455 §5.3).
    /// Applying it again unmasks. One pass: octets are XORed 8 at a time, four words per
    /// iteration, as they are written into `buffer`'s spare capacity, which grows only if too
    /// small: ~0.43 instructions per octet, about the time of a plain copy (see `WebSocketFrameDecoder`).
    public static func appendMasked(_ payload: RawSpan, maskingKey: UInt32, to buffer: inout [UInt8]) {
        let count = payload.byteCount
        guard count > 0 else { return }
        // The key repeated to 8 octets, laid out in memory in wire order.
        let pattern = (UInt64(maskingKey) << 32 | UInt64(maskingKey)).bigEndian
        payload.withUnsafeBytes { source in
            buffer.append(addingCapacity: count) { (output: inout OutputSpan<UInt8>) in
                output.withUnsafeMutableBufferPointer { destination, initialized in
                    let target = UnsafeMutableRawBufferPointer(destination)
                    xorMask(from: source, into: target, count: count, pattern: pattern, maskingKey: maskingKey)
                    initialized = count
                }
            }
        }
    }

    /// Unmasks `bytes` in place (RFC 6455 §5.3): for a receiver that owns a mutable copy of a
    /// masked payload. Masking and unmasking are the same XOR.
    public static func unmask(_ bytes: inout [UInt8], maskingKey: UInt32) {
        let pattern = (UInt64(maskingKey) << 32 | UInt64(maskingKey)).bigEndian
        bytes.withUnsafeMutableBytes { target in
            xorMask(from: UnsafeRawBufferPointer(target), into: target, count: target.count, pattern: pattern, maskingKey: maskingKey)
        }
    }

    /// `target[i] = source[i] ^ key[i mod 4]` for `i < count` (`source` and `target` may be the
    /// same memory). Unsafe pointers, where a profile said so: four unaligned 8-octet words per
    /// iteration run at copy speed (38 GB/s here), one octet at a time through a bounds-checked
    /// span at 1.6 GB/s. The caller guarantees both buffers hold `count` octets.
    @inline(__always)
    private static func xorMask(from source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer,
                                count: Int, pattern: UInt64, maskingKey: UInt32) {
        precondition(source.count >= count && target.count >= count)
        var index = 0
        while index + 32 <= count {
            let word0 = source.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ pattern
            let word1 = source.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self) ^ pattern
            let word2 = source.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self) ^ pattern
            let word3 = source.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self) ^ pattern
            target.storeBytes(of: word0, toByteOffset: index, as: UInt64.self)
            target.storeBytes(of: word1, toByteOffset: index + 8, as: UInt64.self)
            target.storeBytes(of: word2, toByteOffset: index + 16, as: UInt64.self)
            target.storeBytes(of: word3, toByteOffset: index + 24, as: UInt64.self)
            index += 32
        }
        while index + 8 <= count {
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ pattern
            target.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            target[index] = source[index] ^ UInt8(truncatingIfNeeded: maskingKey >> UInt32(24 - (index & 3) * 8))
            index += 1
        }
    }

    /// The first `min(count, 8)` octets of `payload`, unmasked with `maskingKey` (0 for none),
    /// big-endian in the high octets of the result: a heartbeat payload's `rawValue`.
    static func unmaskedPrefix(_ payload: RawSpan, maskingKey: UInt32) -> UInt64 {
        let count = min(payload.byteCount, 8)
        let value = HeartbeatPayload(prefixOf: payload).rawValue
        let key = UInt64(maskingKey) << 32 | UInt64(maskingKey)
        let used: UInt64 = count == 0 ? 0 : ~0 << UInt64(64 - count * 8)
        return (value ^ key) & used
    }
}

extension UInt32 {
    /// The key for a payload that starts `octets` into a masked payload (RFC 6455 §5.3: octet i is
    /// masked with key octet i mod 4).
    @inlinable
    func rotatedLeftOctets(_ octets: Int) -> UInt32 {
        let bits = UInt32((octets & 3) * 8)
        return bits == 0 ? self : self << bits | self >> (32 - bits)
    }
}

/// Close status codes (RFC 6455 §7.4.1, IANA "WebSocket Close Code Number Registry").
public enum WebSocketCloseCode: UInt16, Hashable, Sendable, CaseIterable {
    /// The purpose of the connection was fulfilled.
    case normalClosure = 1000
    /// The endpoint is going away: a server shutting down, a page navigated away from.
    case goingAway = 1001
    /// The peer broke the protocol.
    case protocolError = 1002
    /// The peer sent a kind of data this endpoint cannot accept (binary to a text-only endpoint).
    case unsupportedData = 1003
    /// Never sent: reported when a Close carried no code (RFC 6455 §7.1.5).
    case noStatusReceived = 1005
    /// Never sent: the connection closed without a Close frame (RFC 6455 §7.1.5).
    case abnormalClosure = 1006
    /// A message's data did not match its type (text that is not UTF-8).
    case invalidFramePayloadData = 1007
    /// The peer broke a policy (here: a ping flood, a frame left incomplete too long).
    case policyViolation = 1008
    /// A frame or message is too big to process.
    case messageTooBig = 1009
    /// (Client) the server did not negotiate an extension the client requires.
    case mandatoryExtension = 1010
    /// An unexpected condition (here also: the peer stopped answering heartbeats).
    case internalError = 1011
    /// The service is restarting (IANA registry).
    case serviceRestart = 1012
    /// The service is overloaded; try again later (IANA registry).
    case tryAgainLater = 1013
    /// A gateway received an invalid response upstream (IANA registry).
    case badGateway = 1014
    /// Never sent: the TLS handshake failed (RFC 6455 §7.4.1).
    case tlsHandshake = 1015

    /// The code's name as the IANA registry spells it, upper-cased, e.g. `MESSAGE_TOO_BIG`.
    public var name: String {
        switch self {
        case .normalClosure: return "NORMAL_CLOSURE"
        case .goingAway: return "GOING_AWAY"
        case .protocolError: return "PROTOCOL_ERROR"
        case .unsupportedData: return "UNSUPPORTED_DATA"
        case .noStatusReceived: return "NO_STATUS_RECEIVED"
        case .abnormalClosure: return "ABNORMAL_CLOSURE"
        case .invalidFramePayloadData: return "INVALID_FRAME_PAYLOAD_DATA"
        case .policyViolation: return "POLICY_VIOLATION"
        case .messageTooBig: return "MESSAGE_TOO_BIG"
        case .mandatoryExtension: return "MANDATORY_EXTENSION"
        case .internalError: return "INTERNAL_ERROR"
        case .serviceRestart: return "SERVICE_RESTART"
        case .tryAgainLater: return "TRY_AGAIN_LATER"
        case .badGateway: return "BAD_GATEWAY"
        case .tlsHandshake: return "TLS_HANDSHAKE"
        }
    }

    /// Whether a Close frame may carry `code` (RFC 6455 §7.4): 1000–1003 and 1007–1014 from the
    /// registry, 3000–4999 for libraries, frameworks and applications. 1004–1006 and 1015 are
    /// reserved or never sent; 0–999, 1016–2999 and 5000+ are not to be used.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}

/// A parsed WebSocket frame header (RFC 6455 §5.2).
public struct WebSocketFrameHeader: Hashable, Sendable {
    /// The first octet's high nibble: FIN and RSV1–3.
    public var flags: UInt8
    /// The 4-bit opcode.
    public var opcode: UInt8
    /// The masking key, when the MASK bit is set.
    public var maskingKey: UInt32?
    /// The payload length, as declared.
    public var payloadLength: UInt64
    /// Octets of the header: 2, plus 2 or 8 for an extended length, plus 4 for a masking key.
    public var headerLength: Int

    /// Whether this is the final fragment of its message.
    public var fin: Bool { flags & WebSocketFrame.Flags.fin != 0 }
    /// Whether the payload is masked.
    public var isMasked: Bool { maskingKey != nil }

    /// Reads a header from the front of `bytes`; nil when the octets end before it does.
    /// Lengths are returned as declared: the minimal-encoding rule is the decoder's to check.
    public init?(parsing bytes: RawSpan) {
        var cursor = 0
        guard let first = bytes.readUInt8(at: &cursor), let second = bytes.readUInt8(at: &cursor) else { return nil }
        let shortLength = second & 0x7F
        var length = UInt64(shortLength)
        if shortLength == 126 {
            guard let extended = bytes.readBigEndian(width: 2, at: &cursor) else { return nil }
            length = extended
        } else if shortLength == 127 {
            guard let extended = bytes.readBigEndian(width: 8, at: &cursor) else { return nil }
            length = extended
        }
        var key: UInt32?
        if second & WebSocketFrame.Flags.mask != 0 {
            guard let raw = bytes.readBigEndian(width: 4, at: &cursor) else { return nil }
            key = UInt32(truncatingIfNeeded: raw)
        }
        flags = first & 0xF0
        opcode = first & 0x0F
        maskingKey = key
        payloadLength = length
        headerLength = cursor
    }
}
