/// Why a byte stream or packet could not be demultiplexed: a precise reason, the dialect, and the
/// byte offset of the offending frame, with the wire's own error code to close the connection with.
public struct FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What exactly was wrong.
    public var reason: Reason
    /// The dialect being decoded.
    public var dialect: Dialect
    /// Offset, in octets from the first octet fed to the demuxer, of the start of the offending
    /// frame (or of the preface).
    public var offset: Int

    /// The code to send in the dialect's close frame (HTTP/2 GOAWAY, QUIC CONNECTION_CLOSE,
    /// envelope GOAWAY, WebSocket Close).
    public var code: WireErrorCode

    /// Creates an error; `offset` is the start of the offending frame and `code` what the dialect
    /// maps `reason` to.
    public init(_ reason: Reason, dialect: Dialect, code: WireErrorCode, offset: Int) {
        self.reason = reason
        self.dialect = dialect
        self.code = code
        self.offset = offset
    }

    /// Creates an error of one of the built-in dialects, its code mapped by that dialect (see
    /// `DialectRegistry`); a dialect the registry does not know gets the reason's own code or
    /// `INTERNAL_ERROR`.
    public init(_ reason: Reason, dialect: Dialect, offset: Int) {
        self.init(reason, dialect: dialect, code: reason.code(in: dialect), offset: offset)
    }

    /// One line a person can act on: the code, what was wrong, and where.
    public var description: String {
        "\(dialect) \(code.name) at offset \(offset): \(reason)"
    }

    /// Each way a frame can break its dialect's rules.
    public enum Reason: Error, Hashable, Sendable, CustomStringConvertible {
        /// The stream did not begin with the dialect's connection preface; `offset` is the first
        /// octet that differs.
        case prefaceMismatch(at: Int)
        /// The envelope preface announced a version this implementation does not speak.
        case unsupportedVersion(UInt8)
        /// A frame's declared payload length exceeds the configured maximum frame size.
        case frameTooLarge(length: UInt64, limit: Int)
        /// A heartbeat frame (HTTP/2 PING, envelope PING or PONG) whose payload is not 8 octets.
        case heartbeatLength(frameType: UInt64, length: UInt64)
        /// An HTTP/2 PING on a stream other than 0 (RFC 9113 §6.7).
        case pingOnStream(UInt32)
        /// A frame other than CONTINUATION on the same stream arrived inside a header block
        /// (RFC 9113 §6.10).
        case headerBlockInterrupted(stream: UInt32, frameType: UInt8, frameStream: UInt32)
        /// A CONTINUATION frame arrived with no header block open (RFC 9113 §6.10).
        case unexpectedContinuation(stream: UInt32)
        /// A frame type encoded in more octets than needed (RFC 9000 §12.4; spec/envelope.md §4).
        case nonMinimalFrameType(UInt64)
        /// A QUIC frame type this implementation does not know (RFC 9000 §12.4).
        case unknownFrameType(UInt64)
        /// A QUIC frame ends past the end of its packet (RFC 9000 §12.4).
        case frameTruncated(frameType: UInt64)
        /// A QUIC ACK range reaches below packet number 0 (RFC 9000 §19.3.1).
        case ackRangeUnderflow
        /// A QUIC STREAM or CRYPTO frame whose offset plus length exceeds 2^62 − 1 (RFC 9000 §19.6, §19.8).
        case streamOffsetOverflow(frameType: UInt64)
        /// A QUIC NEW_TOKEN frame with an empty token (RFC 9000 §19.7).
        case emptyToken
        /// A QUIC MAX_STREAMS or STREAMS_BLOCKED count above 2^60 (RFC 9000 §19.11, §19.14).
        case streamCountTooLarge(frameType: UInt64, count: UInt64)
        /// A QUIC NEW_CONNECTION_ID whose length is outside 1...20 (RFC 9000 §19.15).
        case connectionIDLength(Int)
        /// A QUIC NEW_CONNECTION_ID whose Retire Prior To exceeds its sequence number (RFC 9000 §19.15).
        case retirePriorToTooLarge(retirePriorTo: UInt64, sequence: UInt64)
        /// An envelope GOAWAY too short to hold its error code (spec/envelope.md §5.4).
        case malformedGoAway
        /// The input ended inside a frame (or inside the preface).
        case truncated
        /// A rule of one dialect that the cases above do not name, with its own identifier and
        /// wire code: how a dialect in its own folder, or outside this package, states its rules.
        case violation(RuleViolation)

        /// The code a `violation` carries; nil for the shared cases, which each dialect maps.
        public var ruleCode: WireErrorCode? {
            if case .violation(let violation) = self { return violation.code }
            return nil
        }

        /// A stable kebab-case name for the reason, as the test vectors spell it (spec/vectors/README.md).
        public var identifier: String {
            switch self {
            case .prefaceMismatch: return "preface-mismatch"
            case .unsupportedVersion: return "unsupported-version"
            case .frameTooLarge: return "frame-too-large"
            case .heartbeatLength: return "heartbeat-length"
            case .pingOnStream: return "ping-on-stream"
            case .headerBlockInterrupted: return "header-block-interrupted"
            case .unexpectedContinuation: return "unexpected-continuation"
            case .nonMinimalFrameType: return "non-minimal-frame-type"
            case .unknownFrameType: return "unknown-frame-type"
            case .frameTruncated: return "frame-truncated"
            case .ackRangeUnderflow: return "ack-range-underflow"
            case .streamOffsetOverflow: return "stream-offset-overflow"
            case .emptyToken: return "empty-token"
            case .streamCountTooLarge: return "stream-count-too-large"
            case .connectionIDLength: return "connection-id-length"
            case .retirePriorToTooLarge: return "retire-prior-to-too-large"
            case .malformedGoAway: return "malformed-goaway"
            case .truncated: return "truncated"
            case .violation(let violation): return violation.identifier
            }
        }

        public var description: String {
            switch self {
            case .prefaceMismatch(let at):
                return "the connection preface differs at octet \(at): the peer does not speak this protocol"
            case .unsupportedVersion(let version):
                return "the peer speaks envelope version \(version); this implementation speaks version \(EnvelopeFrame.version)"
            case .frameTooLarge(let length, let limit):
                return "frame payload of \(length) octets exceeds the maximum frame size of \(limit)"
            case .heartbeatLength(let type, let length):
                return "heartbeat frame of type 0x\(String(type, radix: 16)) has \(length) payload octets; it must have exactly 8"
            case .pingOnStream(let stream):
                return "PING frame on stream \(stream); PING must use stream 0"
            case .headerBlockInterrupted(let stream, let type, let frameStream):
                return "frame of type 0x\(String(type, radix: 16)) on stream \(frameStream) inside the header block of stream \(stream); only CONTINUATION on stream \(stream) may follow"
            case .unexpectedContinuation(let stream):
                return "CONTINUATION on stream \(stream) without an open header block"
            case .nonMinimalFrameType(let type):
                return "frame type 0x\(String(type, radix: 16)) is not encoded in the shortest form"
            case .unknownFrameType(let type):
                return "unknown frame type 0x\(String(type, radix: 16))"
            case .frameTruncated(let type):
                return "frame of type 0x\(String(type, radix: 16)) runs past the end of the packet"
            case .ackRangeUnderflow:
                return "ACK range extends below packet number 0"
            case .streamOffsetOverflow(let type):
                return "frame of type 0x\(String(type, radix: 16)) reaches past stream offset 2^62-1"
            case .emptyToken:
                return "NEW_TOKEN frame with an empty token"
            case .streamCountTooLarge(let type, let count):
                return "frame of type 0x\(String(type, radix: 16)) allows \(count) streams; the maximum is 2^60"
            case .connectionIDLength(let length):
                return "NEW_CONNECTION_ID with a \(length)-octet connection ID; it must be 1 to 20 octets"
            case .retirePriorToTooLarge(let retire, let sequence):
                return "NEW_CONNECTION_ID retires up to \(retire), beyond its own sequence number \(sequence)"
            case .malformedGoAway:
                return "GOAWAY payload is too short to hold its error code"
            case .truncated:
                return "the input ended inside a frame"
            case .violation(let violation):
                return violation.detail
            }
        }
    }
}

/// A broken rule of one dialect, named by the dialect itself (see `FramingError.Reason.violation`).
public struct RuleViolation: Hashable, Sendable {
    /// A stable kebab-case name, as the dialect's test vectors spell it (e.g. `ws-reserved-bits`).
    public var identifier: String
    /// One sentence for people: what was wrong.
    public var detail: String
    /// The code to close the connection with, in the dialect's code space.
    public var code: WireErrorCode

    /// A violation of the rule `identifier`, closed with `code`.
    public init(_ identifier: String, _ detail: String, code: WireErrorCode) {
        self.identifier = identifier
        self.detail = detail
        self.code = code
    }
}
