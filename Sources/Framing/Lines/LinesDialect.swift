/// Plain text lines as a plug-in dialect (spec/lines.md): every line ends with LF, optionally
/// preceded by CR; the line `PING` is a heartbeat request, the line `PONG` its answer, with the
/// in-order liveness model (a `PONG` answers the oldest unanswered `PING`); every other line is a
/// business frame of type 0. Both ends speak alike, so the role changes nothing.
public struct LinesDialect: StreamDialect {
    /// A text-lines dialect.
    public init() {}

    public var dialect: Dialect { .lines }
    public var liveness: LivenessModel { .inOrder }

    /// A decoder accepting lines of at most `maxFrameSize` octets, terminator excluded (nil:
    /// `LinesFrameDecoder.defaultMaxLineLength`). The role changes nothing.
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> LinesFrameDecoder {
        LinesFrameDecoder(maxLineLength: maxFrameSize ?? LinesFrameDecoder.defaultMaxLineLength)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> LinesFrameEncoder {
        LinesFrameEncoder()
    }

    /// Lines named `LINE`; `PING` and `PONG` carry nothing to show.
    public var vocabulary: DissectorVocabulary {
        var vocabulary = DissectorVocabulary { _ in "LINE" }
        vocabulary.heartbeatsCarryPayload = false
        return vocabulary
    }
}

extension StreamDialect where Self == LinesDialect {
    /// Plain text lines: `PING` / `PONG`, everything else business.
    public static var lines: LinesDialect { LinesDialect() }
}

extension Dialect {
    /// Plain text lines (spec/lines.md), named `lines`.
    public static let lines = Dialect(name: "lines")
}

extension WireErrorCode {
    /// The codes a text-lines connection fails with. The dialect has no close frame, so they
    /// never go on the wire: they name the failure locally (`hb decode`, events).
    public enum Lines {
        /// A graceful close.
        public static let noError = WireErrorCode(value: 0, name: "NO_ERROR")
        /// No text-lines rule other than the length exists; the generic failure.
        public static let protocolError = WireErrorCode(value: 1, name: "PROTOCOL_ERROR")
        /// A line longer than the maximum (spec/lines.md §3).
        public static let lineTooLong = WireErrorCode(value: 2, name: "LINE_TOO_LONG")
        /// The peer floods us with pings.
        public static let enhanceYourCalm = WireErrorCode(value: 3, name: "ENHANCE_YOUR_CALM")
        /// We declared the peer dead.
        public static let livenessTimeout = WireErrorCode(value: 4, name: "LIVENESS_TIMEOUT")
    }
}

/// What one text-lines endpoint sends: `PING\n`, `PONG\n`, and the application's lines. Nothing
/// here allocates once the buffer has room.
public struct LinesFrameEncoder: PongWriting {
    /// An encoder; both ends write alike.
    public init() {}

    /// Local names only (the dialect has no close frame): see `WireErrorCode.Lines`.
    public var closeCodes: CloseCodes {
        CloseCodes(noError: WireErrorCode.Lines.noError, protocolError: WireErrorCode.Lines.protocolError,
                   enhanceYourCalm: WireErrorCode.Lines.enhanceYourCalm, livenessTimeout: WireErrorCode.Lines.livenessTimeout)
    }

    /// `PING\n` and `PONG\n`: 5 octets.
    public var maxHeartbeatLength: Int { 5 }

    /// Unbounded: one write is one line (split, it would become several lines, and a piece could
    /// read as `PING`). A line longer than the peer's limit (8,192 octets by default here) is
    /// refused by the peer, not cut by us.
    public var maxDataPayload: Int { Int.max }

    /// `PING\n`; the payload is ignored (in-order liveness: pings carry nothing).
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: LinesFrameDecoder.pingLine)
    }

    /// `PONG\n`; a text-lines ping carries nothing to echo.
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        buffer.appendOctets(atMost: maxHeartbeatLength) { writePong(echoing: payload, into: $0) }
    }

    /// `PONG\n`, copied in.
    public mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int {
        precondition(destination.count >= maxHeartbeatLength, "a PONG line takes 5 octets")
        let line = LinesFrameDecoder.pongLine
        for index in line.indices { destination[index] = line[index] }
        return line.count
    }

    /// Nothing: text lines have no close frame; the connection just ends.
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {}

    /// `payload` followed by LF. A payload holding LF octets is several lines on the wire, and a
    /// payload `PING` or `PONG` is a heartbeat there: the application's lines must be neither.
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        buffer.append(payload)
        buffer.append(0x0A)
    }

    /// Every line the peer sends is the application's.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        .deliver
    }
}
