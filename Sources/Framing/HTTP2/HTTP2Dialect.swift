/// HTTP/2 (RFC 9113) as a plug-in dialect: PING (type 0x6, stream 0, 8 octets) is the heartbeat,
/// its ACK the pong; every other frame is the application's, which writes whole frames itself.
public struct HTTP2Dialect: StreamDialect {
    /// Whether the session acts as a minimal HTTP/2 endpoint: the client sends the connection
    /// preface, both send an empty SETTINGS and acknowledge the peer's SETTINGS (which are then not
    /// delivered). Leave it off when a real HTTP/2 stack above does that itself.
    public var managesSettings: Bool

    /// HTTP/2; `managesSettings` as described there.
    public init(managesSettings: Bool = true) { self.managesSettings = managesSettings }

    public var dialect: Dialect { .http2 }
    public var liveness: LivenessModel { .echo }

    /// A server requires the client preface; a client expects none; a capture skips it if present.
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> HTTP2FrameDecoder {
        let preface: HTTP2FrameDecoder.PrefacePolicy
        switch role {
        case .server?: preface = .required
        case .client?: preface = .none
        case nil: preface = .optional
        }
        return HTTP2FrameDecoder(maxFrameSize: maxFrameSize ?? HTTP2Frame.defaultMaxFrameSize, preface: preface)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> HTTP2FrameEncoder {
        HTTP2FrameEncoder(role: role, managesSettings: managesSettings)
    }

    public var vocabulary: DissectorVocabulary {
        DissectorVocabulary(pong: "PING ACK", pongIsAcknowledgedPing: true, showsFlagsAndStream: true) {
            DissectorVocabulary.name($0, in: ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE",
                                              "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"])
        }
    }
}

extension StreamDialect where Self == HTTP2Dialect {
    /// HTTP/2 as a minimal endpoint that manages SETTINGS (see `HTTP2Dialect.managesSettings`).
    public static var http2: HTTP2Dialect { HTTP2Dialect() }
}

extension Dialect {
    /// HTTP/2 (RFC 9113), named `http2`.
    public static let http2 = Dialect(name: "http2")
}

/// What one HTTP/2 endpoint sends for liveness: PING, PING ACK, GOAWAY; with `managesSettings`,
/// the preface, an empty SETTINGS and SETTINGS acknowledgements.
public struct HTTP2FrameEncoder: PongWriting {
    /// Which end this is: only a client sends the connection preface.
    public let role: ConnectionRole
    /// See `HTTP2Dialect.managesSettings`.
    public let managesSettings: Bool

    /// An encoder for `role`.
    public init(role: ConnectionRole, managesSettings: Bool) {
        self.role = role
        self.managesSettings = managesSettings
    }

    /// gRPC's codes: ENHANCE_YOUR_CALM for abuse, NO_ERROR when the peer stopped answering.
    public var closeCodes: CloseCodes {
        CloseCodes(noError: .http2(.noError), protocolError: .http2(.protocolError),
                   enhanceYourCalm: .http2(.enhanceYourCalm), livenessTimeout: .http2(.noError))
    }
    @inlinable
    public var maxHeartbeatLength: Int { HTTP2Frame.headerLength + HeartbeatPayload.byteCount }
    /// The application writes whole HTTP/2 frames: they pass as they are.
    public var maxDataPayload: Int { Int.max }

    public mutating func appendPreface(to buffer: inout [UInt8]) {
        guard managesSettings else { return }
        if role == .client { HTTP2Frame.appendClientPreface(to: &buffer) }
        HTTP2Frame.appendHeader(length: 0, type: HTTP2Frame.FrameType.settings, flags: 0, streamID: 0, to: &buffer)
    }
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        HTTP2Frame.appendPing(payload, ack: false, to: &buffer)
    }
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        // A PING's payload is always 8 octets (the decoder enforces it): one 17-octet write.
        if payload.byteCount == HeartbeatPayload.byteCount {
            return buffer.appendOctets(atMost: maxHeartbeatLength) { writePong(echoing: payload, into: $0) }
        }
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.ping, flags: HTTP2Frame.Flags.ack, streamID: 0, payload: payload, to: &buffer)
    }
    /// The PING ACK (RFC 9113 §6.7) echoing the PING's 8 octets: 17 octets in three stores.
    /// - Precondition: `payload` is 8 octets (as every PING's is) and `destination` holds 17.
    @inlinable
    public mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int {
        precondition(payload.byteCount == HeartbeatPayload.byteCount && destination.count >= maxHeartbeatLength,
                     "an HTTP/2 PING ACK echoes 8 octets into 17")
        HTTP2Frame.storePing(payloadOctets: payload.unsafeLoadUnaligned(as: UInt64.self), ack: true, at: destination.baseAddress.unsafelyUnwrapped)
        return maxHeartbeatLength
    }
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        HTTP2Frame.appendGoAway(lastStreamID: 0, code: HTTP2ErrorCode(rawValue: UInt32(truncatingIfNeeded: code.value)) ?? .internalError,
                                debugData: reason, to: &buffer)
    }
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        buffer.append(payload)
    }

    /// SETTINGS are acknowledged and consumed when managed (they are not business traffic); GOAWAY reports the peer closing and is
    /// delivered too; everything else is delivered.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        switch frame.type {
        case UInt64(HTTP2Frame.FrameType.settings) where managesSettings:
            if frame.flags & HTTP2Frame.Flags.ack == 0 {
                HTTP2Frame.appendHeader(length: 0, type: HTTP2Frame.FrameType.settings, flags: HTTP2Frame.Flags.ack,
                                        streamID: 0, to: &reply)
            }
            return .consumed
        case UInt64(HTTP2Frame.FrameType.goAway):
            guard let goAway = try? HTTP2GoAway(payload: payload) else { return .deliver }
            return .peerClosing(code: UInt64(goAway.errorCode), reason: goAway.debugData, deliver: true)
        default:
            return .deliver
        }
    }
}

extension HTTP2FrameDecoder {
    public static var dialect: Dialect { .http2 }

    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .frameTooLarge, .heartbeatLength: return .http2(.frameSizeError)
        default: return .http2(.protocolError)
        }
    }
}
