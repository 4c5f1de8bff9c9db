/// Decodes what one AMQP 0-9-1 peer sends (spec/amqp.md §3): the protocol header where one is
/// expected, then frames. Heartbeat frames are pings with an empty payload; method, content header
/// and body frames are business frames whose type is the frame type, whose `streamID` is the
/// channel and whose octets are the payload.
///
/// Checks, each as soon as the octets it needs are in (so an oversized frame is never buffered):
/// the frame type (1, 2, 3 or 8, else 501 FRAME_ERROR), a heartbeat's channel (0) and size (0),
/// the size against `maxFrameSize` (the frame-max, header and frame-end included), a method
/// frame's room for its class and method ids and a content header's 14 fixed octets; then, on
/// the whole frame, the frame-end octet (0xCE, else 501) and a Connection method's channel (0,
/// else 503 COMMAND_INVALID).
public struct AMQPFrameDecoder: Sendable {
    /// How the stream begins (AMQP 0-9-1 §4.2.2).
    public enum HeaderPolicy: Hashable, Sendable {
        /// Frames from the first octet.
        case none
        /// The client's protocol header `AMQP 0 0 9 1` first (a server reading a client).
        case expect
        /// Frames, unless the server refused our version: then it answers with its own protocol
        /// header and closes (a client reading a server), which fails with `amqp-version-refused`.
        case refusal
        /// A capture: a protocol header at the start (its first octet, `A`, is no frame type) is
        /// taken and handed over; frames otherwise.
        case optional
    }

    /// The largest frame accepted, header and frame-end included (the negotiated frame-max),
    /// clamped to 4096...2^32 − 1.
    public let maxFrameSize: Int
    /// How the stream begins.
    public let headerPolicy: HeaderPolicy
    /// Whether the stream's first octet is still to be decoded.
    public private(set) var atStreamStart = true

    /// A decoder for frames of at most `maxFrameSize` octets (the frame-max).
    public init(maxFrameSize: Int = AMQPFrame.defaultFrameMax, header: HeaderPolicy = .none) {
        self.maxFrameSize = Swift.min(Swift.max(maxFrameSize, AMQPFrame.minFrameMax), Int(UInt32.max))
        self.headerPolicy = header
    }

    /// The longest payload: frame-max less the 8 octets of header and frame-end (AMQP 0-9-1 §4.2.3;
    /// RabbitMQ's `frame_too_large` is the same rule).
    public var maxPayloadSize: Int { maxFrameSize - AMQPFrame.overhead }

    // MARK: Boundary

    func frameBoundary(of prefix: RawSpan) throws(AMQPFailure) -> FrameBoundary {
        guard prefix.byteCount >= 1 else { return .needMore(1) }
        let type = prefix.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        if atStreamStart, headerPolicy != .none, headerPolicy == .expect || type == AMQPFrame.protocolHeader[0] {
            return try headerBoundary(of: prefix)
        }
        guard AMQPFrame.FrameType.isDefined(type) else {
            throw .rule(.unknownFrameType, "unknown frame type \(type) (0x\(String(type, radix: 16)))")
        }
        var cursor = 1
        // A heartbeat's channel is checked as soon as it is in, so ask for it first.
        guard let channel = prefix.readBigEndian(width: 2, at: &cursor) else {
            return .needMore(type == AMQPFrame.FrameType.heartbeat ? 3 : AMQPFrame.headerLength)
        }
        if type == AMQPFrame.FrameType.heartbeat, channel != 0 {
            throw .rule(.heartbeatChannel, "heartbeat frame on channel \(channel); heartbeats use channel 0")
        }
        guard let size = prefix.readBigEndian(width: 4, at: &cursor) else { return .needMore(AMQPFrame.headerLength) }
        switch type {
        case AMQPFrame.FrameType.heartbeat where size != 0:
            throw .rule(.heartbeatSize, "heartbeat frame with a \(size)-octet payload; heartbeats carry none")
        case _ where size > UInt64(maxPayloadSize):
            throw .frameTooLarge(length: size, limit: maxPayloadSize)
        case AMQPFrame.FrameType.method where size < UInt64(AMQPFrame.methodIDLength):
            throw .rule(.methodTooShort, "method frame of \(size) octets; its class and method ids take 4")
        case AMQPFrame.FrameType.header where size < UInt64(AMQPFrame.minContentHeaderLength):
            throw .rule(.contentHeaderTooShort, "content header frame of \(size) octets; its fixed fields take 14")
        default:
            return .frame(length: AMQPFrame.overhead + Int(size))
        }
    }

    /// The protocol header's 8 octets, checked as they arrive.
    private func headerBoundary(of prefix: RawSpan) throws(AMQPFailure) -> FrameBoundary {
        let header = AMQPFrame.protocolHeader
        for index in 0..<Swift.min(4, prefix.byteCount) where prefix.unsafeLoad(fromByteOffset: index, as: UInt8.self) != header[index] {
            if headerPolicy == .expect { throw .prefaceMismatch(at: index) }
            // `A` then something else: no header, and no frame starts with `A`.
            throw .rule(.unknownFrameType, "unknown frame type 65 (0x41)")
        }
        // One octet at a time until `AMQP` is certain, so that a differing octet fails however
        // the stream is cut; then the version octets together.
        guard prefix.byteCount >= 4 else { return .needMore(prefix.byteCount + 1) }
        guard prefix.byteCount >= header.count else { return .needMore(header.count) }
        let version = (4..<8).map { prefix.unsafeLoad(fromByteOffset: $0, as: UInt8.self) }
        let spelled = "AMQP \(version.map(String.init).joined(separator: "-"))"
        if headerPolicy == .refusal {
            throw .rule(.versionRefused, "the server refused AMQP 0-9-1: it answered with its own protocol header, \(spelled)")
        }
        guard version == Array(header[4...]) else {
            throw .rule(.unsupportedVersion, "the protocol header asks for \(spelled); this implementation speaks AMQP 0-0-9-1")
        }
        return .frame(length: header.count)
    }

    // MARK: Decode

    mutating func decodeFrame(_ frame: RawSpan) throws(AMQPFailure) -> DecodedFrame {
        defer { atStreamStart = false }
        let type = frame.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        if atStreamStart, type == AMQPFrame.protocolHeader[0] {
            return DecodedFrame(item: .business(BusinessFrame(type: AMQPFrame.protocolHeaderType, length: frame.byteCount)),
                                bytes: 0..<frame.byteCount)
        }
        let end = frame.unsafeLoad(fromByteOffset: frame.byteCount - 1, as: UInt8.self)
        guard end == AMQPFrame.frameEnd else {
            throw .rule(.frameEnd, "frame-end octet 0x\(String(end, radix: 16)) at octet \(frame.byteCount - 1) of the frame; it must be 0xce")
        }
        let payload = AMQPFrame.headerLength..<(frame.byteCount - 1)
        if type == AMQPFrame.FrameType.heartbeat {
            return DecodedFrame(item: .ping(.empty), bytes: payload)
        }
        var cursor = 1
        let channel = UInt16(truncatingIfNeeded: frame.readBigEndian(width: 2, at: &cursor) ?? 0)
        if type == AMQPFrame.FrameType.method, channel != 0 {
            cursor = AMQPFrame.headerLength
            if frame.readBigEndian(width: 2, at: &cursor) == UInt64(AMQPConnectionMethod.classID) {
                throw .rule(.connectionMethodChannel, "Connection method on channel \(channel); the Connection class uses channel 0")
            }
        }
        return DecodedFrame(item: .business(BusinessFrame(type: UInt64(type), streamID: UInt32(channel), length: payload.count)),
                            bytes: payload)
    }
}

extension AMQPFrameDecoder: StreamFrameDecoder {
    public static var dialect: Dialect { .amqp }

    /// 501 FRAME_ERROR for the shared reasons (an oversized frame, a stream that is not AMQP);
    /// the decoder's own rules carry their codes in `.violation`.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        .amqp(.frameError)
    }

    /// The frame-max.
    public var maxFrameLength: Int { maxFrameSize }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        do { return try frameBoundary(of: prefix) } catch { throw error.reason }
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        do { return try decodeFrame(frame) } catch { throw error.reason }
    }
}

/// An AMQP framing failure: one of the rules of spec/amqp.md §3, a frame over the frame-max, or a
/// stream that does not begin with the protocol header.
enum AMQPFailure: Error, Hashable {
    case rule(AMQPRule, String)
    case frameTooLarge(length: UInt64, limit: Int)
    case prefaceMismatch(at: Int)

    /// As the seam spells it.
    var reason: FramingError.Reason {
        switch self {
        case .rule(let rule, let detail): return .violation(RuleViolation(rule.identifier, detail, code: .amqp(rule.replyCode)))
        case .frameTooLarge(let length, let limit): return .frameTooLarge(length: length, limit: limit)
        case .prefaceMismatch(let at): return .prefaceMismatch(at: at)
        }
    }
}

/// The rules of spec/amqp.md, each with its reason identifier and reply code.
enum AMQPRule: Hashable, Sendable, CaseIterable {
    case unknownFrameType, heartbeatChannel, heartbeatSize, methodTooShort, contentHeaderTooShort, frameEnd
    case connectionMethodChannel, unsupportedVersion, versionRefused
    /// Found by the encoder, on a delimited frame.
    case methodSyntax, unexpectedMethod, mechanism, tuneFrameMax

    /// The reason identifier (`RuleViolation.identifier`).
    var identifier: String {
        switch self {
        case .unknownFrameType: return "amqp-unknown-frame-type"
        case .heartbeatChannel: return "amqp-heartbeat-channel"
        case .heartbeatSize: return "amqp-heartbeat-size"
        case .methodTooShort: return "amqp-method-too-short"
        case .contentHeaderTooShort: return "amqp-content-header-too-short"
        case .frameEnd: return "amqp-frame-end"
        case .connectionMethodChannel: return "amqp-connection-method-channel"
        case .unsupportedVersion: return "amqp-unsupported-version"
        case .versionRefused: return "amqp-version-refused"
        case .methodSyntax: return "amqp-method-syntax"
        case .unexpectedMethod: return "amqp-unexpected-method"
        case .mechanism: return "amqp-mechanism"
        case .tuneFrameMax: return "amqp-tune-frame-max"
        }
    }

    /// The reply code the connection is closed with (spec/amqp.md §6).
    var replyCode: AMQPReplyCode {
        switch self {
        case .unknownFrameType, .heartbeatChannel, .heartbeatSize, .methodTooShort, .contentHeaderTooShort, .frameEnd: return .frameError
        case .connectionMethodChannel, .unexpectedMethod: return .commandInvalid
        case .unsupportedVersion, .versionRefused: return .notImplemented
        case .methodSyntax: return .syntaxError
        case .mechanism: return .accessRefused
        case .tuneFrameMax: return .notAllowed
        }
    }
}
