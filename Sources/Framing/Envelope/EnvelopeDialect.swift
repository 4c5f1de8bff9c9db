/// This library's raw-TCP envelope (spec/envelope.md) as a plug-in dialect: a preface each way,
/// then type–length–payload frames; PING/PONG echo an 8-octet payload; GOAWAY closes.
public struct EnvelopeDialect: StreamDialect {
    /// Whether the peer's stream begins with the preface (false: decode from a frame boundary).
    public var expectsPreface: Bool

    /// The envelope; `expectsPreface` false decodes a stream captured after its preface.
    public init(expectsPreface: Bool = true) { self.expectsPreface = expectsPreface }

    public var dialect: Dialect { .envelope }
    public var liveness: LivenessModel { .echo }

    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> EnvelopeFrameDecoder {
        EnvelopeFrameDecoder(maxFrameSize: maxFrameSize ?? EnvelopeFrame.defaultMaxFrameSize, expectPreface: expectsPreface)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> EnvelopeFrameEncoder { EnvelopeFrameEncoder() }

    public var vocabulary: DissectorVocabulary {
        DissectorVocabulary(pingShowsAck: true) { DissectorVocabulary.name($0, in: ["DATA", "PING", "PONG", "GOAWAY"]) }
    }
}

extension StreamDialect where Self == EnvelopeDialect {
    /// The TCP envelope (spec/envelope.md).
    public static var envelope: EnvelopeDialect { EnvelopeDialect() }
}

extension Dialect {
    /// The TCP envelope (spec/envelope.md), named `tcp`.
    public static let envelope = Dialect(name: "tcp")
}

/// What one envelope endpoint sends: its preface, PING/PONG, DATA split at 16,384 octets, GOAWAY.
public struct EnvelopeFrameEncoder: PongWriting {
    /// An encoder.
    public init() {}

    public var closeCodes: CloseCodes {
        CloseCodes(noError: .envelope(.noError), protocolError: .envelope(.protocolError),
                   enhanceYourCalm: .envelope(.enhanceYourCalm), livenessTimeout: .envelope(.livenessTimeout))
    }
    @inlinable
    public var maxHeartbeatLength: Int { EnvelopeFrame.heartbeatLength }
    /// Every receiver accepts 16,384-octet payloads; the spec negotiates nothing larger.
    public var maxDataPayload: Int { EnvelopeFrame.defaultMaxFrameSize }

    public mutating func appendPreface(to buffer: inout [UInt8]) { EnvelopeFrame.appendPreface(to: &buffer) }
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        EnvelopeFrame.appendPing(payload, to: &buffer)
    }
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        // A PING's payload is always 8 octets (the decoder enforces it): one 10-octet write.
        if payload.byteCount == HeartbeatPayload.byteCount {
            return buffer.appendOctets(atMost: maxHeartbeatLength) { writePong(echoing: payload, into: $0) }
        }
        EnvelopeFrame.appendFrame(type: EnvelopeFrame.FrameType.pong, payload: payload, to: &buffer)
    }
    /// The PONG echoing the PING's 8 octets (spec/envelope.md §5.3): 10 octets in two stores.
    /// - Precondition: `payload` is 8 octets (as every PING's is) and `destination` holds 10.
    @inlinable
    public mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int {
        precondition(payload.byteCount == HeartbeatPayload.byteCount && destination.count >= maxHeartbeatLength,
                     "an envelope PONG echoes 8 octets into 10")
        EnvelopeFrame.storeHeartbeat(type: EnvelopeFrame.FrameType.pong, payloadOctets: payload.unsafeLoadUnaligned(as: UInt64.self),
                                     at: destination.baseAddress.unsafelyUnwrapped)
        return maxHeartbeatLength
    }
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        EnvelopeFrame.appendGoAway(code: code.value, reason: reason, to: &buffer)
    }
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        EnvelopeFrame.appendFrame(type: type ?? EnvelopeFrame.FrameType.data, payload: payload, to: &buffer)
    }

    /// DATA is delivered; GOAWAY reports the peer closing; other types are skipped (§5.5).
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        switch frame.type {
        case EnvelopeFrame.FrameType.data:
            return .deliver
        case EnvelopeFrame.FrameType.goAway:
            let goAway = try EnvelopeGoAway(payload: payload)
            return .peerClosing(code: goAway.code, reason: goAway.reason, deliver: false)
        default:
            return .ignored
        }
    }
}

extension EnvelopeFrameDecoder {
    public static var dialect: Dialect { .envelope }

    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .prefaceMismatch: return .envelope(.prefaceError)
        case .unsupportedVersion: return .envelope(.versionError)
        case .frameTooLarge, .heartbeatLength, .malformedGoAway: return .envelope(.frameSizeError)
        default: return .envelope(.protocolError)
        }
    }
}
