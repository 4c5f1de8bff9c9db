/// HTTP/2 error codes (RFC 9113 §7), sent in RST_STREAM and GOAWAY frames.
public enum HTTP2ErrorCode: UInt32, Hashable, Sendable, CaseIterable {
    case noError = 0x0
    case protocolError = 0x1
    case internalError = 0x2
    case flowControlError = 0x3
    case settingsTimeout = 0x4
    case streamClosed = 0x5
    case frameSizeError = 0x6
    case refusedStream = 0x7
    case cancel = 0x8
    case compressionError = 0x9
    case connectError = 0xa
    case enhanceYourCalm = 0xb
    case inadequateSecurity = 0xc
    case http11Required = 0xd

    /// The code's name as the RFC spells it, e.g. `FRAME_SIZE_ERROR`.
    public var name: String {
        switch self {
        case .noError: return "NO_ERROR"
        case .protocolError: return "PROTOCOL_ERROR"
        case .internalError: return "INTERNAL_ERROR"
        case .flowControlError: return "FLOW_CONTROL_ERROR"
        case .settingsTimeout: return "SETTINGS_TIMEOUT"
        case .streamClosed: return "STREAM_CLOSED"
        case .frameSizeError: return "FRAME_SIZE_ERROR"
        case .refusedStream: return "REFUSED_STREAM"
        case .cancel: return "CANCEL"
        case .compressionError: return "COMPRESSION_ERROR"
        case .connectError: return "CONNECT_ERROR"
        case .enhanceYourCalm: return "ENHANCE_YOUR_CALM"
        case .inadequateSecurity: return "INADEQUATE_SECURITY"
        case .http11Required: return "HTTP_1_1_REQUIRED"
        }
    }
}

/// QUIC transport error codes (RFC 9000 §20.1), sent in CONNECTION_CLOSE frames of type 0x1c.
/// (CRYPTO_ERROR, 0x0100–0x01ff, carries a TLS alert and is not produced by this library.)
public enum QUICTransportErrorCode: UInt64, Hashable, Sendable, CaseIterable {
    case noError = 0x00
    case internalError = 0x01
    case connectionRefused = 0x02
    case flowControlError = 0x03
    case streamLimitError = 0x04
    case streamStateError = 0x05
    case finalSizeError = 0x06
    case frameEncodingError = 0x07
    case transportParameterError = 0x08
    case connectionIDLimitError = 0x09
    case protocolViolation = 0x0a
    case invalidToken = 0x0b
    case applicationError = 0x0c
    case cryptoBufferExceeded = 0x0d
    case keyUpdateError = 0x0e
    case aeadLimitReached = 0x0f
    case noViablePath = 0x10

    /// The code's name as the RFC spells it, e.g. `FRAME_ENCODING_ERROR`.
    public var name: String {
        switch self {
        case .noError: return "NO_ERROR"
        case .internalError: return "INTERNAL_ERROR"
        case .connectionRefused: return "CONNECTION_REFUSED"
        case .flowControlError: return "FLOW_CONTROL_ERROR"
        case .streamLimitError: return "STREAM_LIMIT_ERROR"
        case .streamStateError: return "STREAM_STATE_ERROR"
        case .finalSizeError: return "FINAL_SIZE_ERROR"
        case .frameEncodingError: return "FRAME_ENCODING_ERROR"
        case .transportParameterError: return "TRANSPORT_PARAMETER_ERROR"
        case .connectionIDLimitError: return "CONNECTION_ID_LIMIT_ERROR"
        case .protocolViolation: return "PROTOCOL_VIOLATION"
        case .invalidToken: return "INVALID_TOKEN"
        case .applicationError: return "APPLICATION_ERROR"
        case .cryptoBufferExceeded: return "CRYPTO_BUFFER_EXCEEDED"
        case .keyUpdateError: return "KEY_UPDATE_ERROR"
        case .aeadLimitReached: return "AEAD_LIMIT_REACHED"
        case .noViablePath: return "NO_VIABLE_PATH"
        }
    }
}

/// Error codes of the TCP envelope (spec/envelope.md §7), sent in its GOAWAY frame.
public enum EnvelopeErrorCode: UInt64, Hashable, Sendable, CaseIterable {
    /// Graceful close: no error.
    case noError = 0x0
    /// The peer broke a rule of the envelope not covered by a more specific code.
    case protocolError = 0x1
    /// The sender hit an internal failure unrelated to the peer's behaviour.
    case internalError = 0x2
    /// A frame was longer than the receiver's maximum, or a PING, PONG or GOAWAY had a bad length.
    case frameSizeError = 0x3
    /// The connection did not begin with the envelope's magic: the peer speaks something else.
    case prefaceError = 0x4
    /// The peer's preface announced a version this endpoint does not speak.
    case versionError = 0x5
    /// The peer generated excessive load, e.g. pings faster than the agreed minimum interval.
    case enhanceYourCalm = 0x6
    /// The sender declared the peer dead: heartbeats went unanswered.
    case livenessTimeout = 0x7

    /// The code's name as spec/envelope.md spells it, e.g. `FRAME_SIZE_ERROR`.
    public var name: String {
        switch self {
        case .noError: return "NO_ERROR"
        case .protocolError: return "PROTOCOL_ERROR"
        case .internalError: return "INTERNAL_ERROR"
        case .frameSizeError: return "FRAME_SIZE_ERROR"
        case .prefaceError: return "PREFACE_ERROR"
        case .versionError: return "VERSION_ERROR"
        case .enhanceYourCalm: return "ENHANCE_YOUR_CALM"
        case .livenessTimeout: return "LIVENESS_TIMEOUT"
        }
    }
}

/// An error code in one dialect's own code space, ready to be sent in that dialect's close frame
/// (HTTP/2 GOAWAY, QUIC CONNECTION_CLOSE, the envelope's GOAWAY, a WebSocket Close): the number on
/// the wire and the name its specification gives it. Open, so that a dialect defined outside this
/// package brings its own codes.
public struct WireErrorCode: Hashable, Sendable, CustomStringConvertible {
    /// The numeric code as sent on the wire.
    public var value: UInt64
    /// The code's name as its specification spells it, e.g. `PROTOCOL_VIOLATION`.
    public var name: String

    /// A code with its wire value and specified name.
    @inlinable
    public init(value: UInt64, name: String) {
        self.value = value
        self.name = name
    }

    /// An envelope code (spec/envelope.md §7).
    public static func envelope(_ code: EnvelopeErrorCode) -> WireErrorCode {
        WireErrorCode(value: code.rawValue, name: code.name)
    }

    /// An HTTP/2 code (RFC 9113 §7).
    public static func http2(_ code: HTTP2ErrorCode) -> WireErrorCode {
        WireErrorCode(value: UInt64(code.rawValue), name: code.name)
    }

    /// A QUIC transport code (RFC 9000 §20.1).
    public static func quic(_ code: QUICTransportErrorCode) -> WireErrorCode {
        WireErrorCode(value: code.rawValue, name: code.name)
    }

    /// `NAME (0xN)`.
    public var description: String { "\(name) (0x\(String(value, radix: 16)))" }
}
