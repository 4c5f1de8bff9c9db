/// AMQP 0-9-1 framing (AMQP 0-9-1 §2.3.5, §4.2.3): after the 8-octet protocol header, every frame
/// is a 7-octet header — type (1 octet), channel (16 bits), size (32 bits), big-endian — then
/// `size` payload octets and the frame-end octet 0xCE. The constants and writers here are shared
/// by the decoder, the encoder and the tests (spec/amqp.md).
public enum AMQPFrame {
    /// The frame types of AMQP 0-9-1 (§4.2.3; the `frame-method` ... `frame-heartbeat` constants).
    public enum FrameType {
        /// A method frame: class id, method id, arguments (§4.2.4).
        public static let method: UInt8 = 1
        /// A content header frame (§4.2.6.1).
        public static let header: UInt8 = 2
        /// A content body frame (§4.2.6.2).
        public static let body: UInt8 = 3
        /// A heartbeat frame (§4.2.7): channel 0, no payload.
        public static let heartbeat: UInt8 = 8

        /// Whether `type` is one of the four frame types of AMQP 0-9-1.
        @inlinable
        public static func isDefined(_ type: UInt8) -> Bool {
            type == method || type == header || type == body || type == heartbeat
        }
    }

    /// The protocol header a client sends first (§4.2.2): `AMQP`, 0, then the version 0-9-1.
    public static let protocolHeader: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]
    /// The octet that ends every frame (§4.2.3, `frame-end`).
    public static let frameEnd: UInt8 = 0xCE
    /// Octets before the payload: type, channel, size.
    public static let headerLength = 7
    /// Octets a frame adds to its payload: the header and the frame-end (frame-max counts them).
    public static let overhead = 8
    /// `frame-min-size` (§4.2.3; the connection.tune rule "minimum"): the smallest frame-max, and
    /// the frame size every peer accepts before tuning. RabbitMQ 4.1 raised its own floor to 8192.
    public static let minFrameMax = 4096
    /// The frame-max this library proposes and accepts by default: RabbitMQ's default (128 KiB).
    public static let defaultFrameMax = 131_072
    /// The business-frame type under which a decoder hands over the peer's protocol header (8
    /// octets, for a server's encoder to answer with Connection.Start); not a wire frame type.
    public static let protocolHeaderType: UInt64 = 0x100
    /// A method frame's class id and method id, 4 octets (§4.2.4).
    public static let methodIDLength = 4
    /// A content header's class id, weight, body size and property flags (§4.2.6.1): its shortest.
    public static let minContentHeaderLength = 14

    /// Appends the heartbeat frame `08 0000 00000000 CE` (§4.2.7), without allocating once
    /// `buffer` has 8 octets of room.
    @inlinable
    public static func appendHeartbeat(to buffer: inout [UInt8]) {
        buffer.append(FrameType.heartbeat)
        buffer.appendBigEndian(0, width: 6)
        buffer.append(frameEnd)
    }

    /// Appends one frame of `type` on `channel` carrying `payload`.
    public static func appendFrame(type: UInt8, channel: UInt16, payload: RawSpan, to buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + overhead + payload.byteCount)
        buffer.append(type)
        buffer.appendBigEndian(UInt64(channel), width: 2)
        buffer.appendBigEndian(UInt64(payload.byteCount), width: 4)
        buffer.append(payload)
        buffer.append(frameEnd)
    }

    /// Appends one method frame on `channel`: class id, method id, then what `arguments` appends.
    static func appendMethod(channel: UInt16, classID: UInt16, methodID: UInt16, to buffer: inout [UInt8],
                             _ arguments: (inout [UInt8]) -> Void) {
        buffer.append(FrameType.method)
        buffer.appendBigEndian(UInt64(channel), width: 2)
        let sizeAt = buffer.count
        buffer.appendBigEndian(0, width: 4)
        buffer.appendBigEndian(UInt64(classID), width: 2)
        buffer.appendBigEndian(UInt64(methodID), width: 2)
        arguments(&buffer)
        let size = UInt32(buffer.count - sizeAt - 4)
        for index in 0..<4 { buffer[sizeAt + index] = UInt8(truncatingIfNeeded: size >> UInt32(24 - 8 * index)) }
        buffer.append(frameEnd)
    }

    /// The `type` argument of `StreamFrameEncoder.appendData` that writes frames of `frameType`
    /// (1 method, 2 header, 3 body) on `channel`: the frame type in the low octet, the channel in
    /// the next 16 bits.
    @inlinable
    public static func dataType(frameType: UInt8, channel: UInt16) -> UInt64 {
        UInt64(channel) << 8 | UInt64(frameType)
    }
}

/// The reply codes of AMQP 0-9-1 (§1.2, the `reply-success` ... `internal-error` constants), sent
/// in Connection.Close.
public enum AMQPReplyCode: UInt16, Hashable, Sendable, CaseIterable {
    case replySuccess = 200
    case contentTooLarge = 311
    case noRoute = 312
    case noConsumers = 313
    case connectionForced = 320
    case invalidPath = 402
    case accessRefused = 403
    case notFound = 404
    case resourceLocked = 405
    case preconditionFailed = 406
    case frameError = 501
    case syntaxError = 502
    case commandInvalid = 503
    case channelError = 504
    case unexpectedFrame = 505
    case resourceError = 506
    case notAllowed = 530
    case notImplemented = 540
    case internalError = 541

    /// The code's name as the specification spells it, upper-cased: `FRAME_ERROR`.
    public var name: String {
        switch self {
        case .replySuccess: return "REPLY_SUCCESS"
        case .contentTooLarge: return "CONTENT_TOO_LARGE"
        case .noRoute: return "NO_ROUTE"
        case .noConsumers: return "NO_CONSUMERS"
        case .connectionForced: return "CONNECTION_FORCED"
        case .invalidPath: return "INVALID_PATH"
        case .accessRefused: return "ACCESS_REFUSED"
        case .notFound: return "NOT_FOUND"
        case .resourceLocked: return "RESOURCE_LOCKED"
        case .preconditionFailed: return "PRECONDITION_FAILED"
        case .frameError: return "FRAME_ERROR"
        case .syntaxError: return "SYNTAX_ERROR"
        case .commandInvalid: return "COMMAND_INVALID"
        case .channelError: return "CHANNEL_ERROR"
        case .unexpectedFrame: return "UNEXPECTED_FRAME"
        case .resourceError: return "RESOURCE_ERROR"
        case .notAllowed: return "NOT_ALLOWED"
        case .notImplemented: return "NOT_IMPLEMENTED"
        case .internalError: return "INTERNAL_ERROR"
        }
    }
}

extension WireErrorCode {
    /// An AMQP 0-9-1 reply code (§1.2).
    public static func amqp(_ code: AMQPReplyCode) -> WireErrorCode {
        WireErrorCode(value: UInt64(code.rawValue), name: code.name)
    }

    /// Our liveness timeout in AMQP: no reply code, because nothing is sent — a peer that hears
    /// nothing for two heartbeat intervals closes the socket without the Connection.Close/Close-Ok
    /// handshake (AMQP 0-9-1 §4.2.7). `AMQPFrameEncoder.appendClose` appends nothing for it.
    public static let amqpHeartbeatTimeout = WireErrorCode(value: 0, name: "HEARTBEAT_TIMEOUT")
}
