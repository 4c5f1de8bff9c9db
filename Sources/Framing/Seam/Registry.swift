/// The built-in dialects, for choosing one by name at run time (the command line's `--dialect`).
/// The one place that lists them: adding a built-in dialect adds a line to each `switch` here.
public enum DialectRegistry {
    /// Every built-in dialect, in the order the command line lists them.
    public static let builtIn: [Dialect] = [
        .envelope, .http2, .quic, .webSocket,
        .tls,
        .mqtt,
        .amqp,
        .resp,
        .lines,
    ]

    /// The built-in dialect named `name` (`tcp`, `http2`, `quic`, `ws`), or nil.
    public static func dialect(named name: String) -> Dialect? {
        builtIn.first { $0.name == name }
    }

    /// The stream dialect behind a built-in `dialect`, with its defaults; nil for QUIC (packets)
    /// and for dialects the registry does not know.
    public static func streamDialect(_ dialect: Dialect) -> (any StreamDialect)? {
        switch dialect {
        case .envelope: return EnvelopeDialect()
        case .http2: return HTTP2Dialect()
        case .webSocket: return WebSocketDialect()
        case .tls: return TLSDialect()
        case .mqtt: return MQTTDialect()
        case .amqp: return AMQPDialect()
        case .resp: return RESPDialect()
        case .lines: return LinesDialect()
        default: return nil
        }
    }

    /// A demuxer for a capture in a built-in dialect, as `role` reads it (nil: the dialect's
    /// capture default, either direction except for WebSocket); see `Demuxer.init(dialect:maxFrameSize:role:)`. A WebSocket capture may start with the
    /// opening handshake or with frames, whatever the role, and is read as a client reads a
    /// server (unmasked frames) unless `role` says otherwise.
    public static func demuxer(for dialect: Dialect, role: ConnectionRole?, maxFrameSize: Int?) -> Demuxer {
        if dialect == .webSocket {
            return Demuxer(WebSocketFrameDecoder(role: role ?? .client, maxFrameSize: maxFrameSize ?? WebSocketFrame.defaultMaxFrameSize,
                                                 handshake: .optional))
        }
        if let stream = streamDialect(dialect) { return Demuxer(stream, role: role, maxFrameSize: maxFrameSize) }
        precondition(dialect == .quic, "\(dialect) is not a built-in dialect")
        return Demuxer(QUICPacketDemuxer())
    }

    /// The code a built-in dialect closes with for `reason`; nil for unknown dialects.
    public static func wireCode(for reason: FramingError.Reason, in dialect: Dialect) -> WireErrorCode? {
        if dialect == .quic { return QUICPacketDemuxer.wireCode(for: reason) }
        guard let stream = streamDialect(dialect) else { return nil }
        return wireCode(for: reason, of: stream)
    }

    /// The codes a built-in dialect closes with; nil for unknown dialects.
    public static func closeCodes(_ dialect: Dialect) -> CloseCodes? {
        if dialect == .quic { return QUICPacketDemuxer.closeCodes }
        guard let stream = streamDialect(dialect) else { return nil }
        return closeCodes(of: stream)
    }

    private static func closeCodes<D: StreamDialect>(of stream: D) -> CloseCodes {
        stream.makeEncoder(role: .client, randomSeed: 0).closeCodes
    }

    /// How a built-in dialect's frames are named; generic names for unknown dialects.
    public static func vocabulary(_ dialect: Dialect) -> DissectorVocabulary {
        if dialect == .quic { return QUICPacketDemuxer.vocabulary }
        return streamDialect(dialect)?.vocabulary ?? DissectorVocabulary()
    }

    private static func wireCode<D: StreamDialect>(for reason: FramingError.Reason, of stream: D) -> WireErrorCode {
        D.Decoder.wireCode(for: reason)
    }
}

extension Dialect {
    /// The built-in dialects (see `DialectRegistry`).
    public static var builtIn: [Dialect] { DialectRegistry.builtIn }

    /// The built-in dialects (see `DialectRegistry`).
    public static var allCases: [Dialect] { DialectRegistry.builtIn }
}

extension DialectRegistry {
    /// The stream dialect behind a built-in `dialect` configured to write frames at once, with no
    /// opening handshake: for encoding frames into a capture or a test stream.
    public static func framesOnlyDialect(_ dialect: Dialect) -> (any StreamDialect)? {
        if dialect == .mqtt { return MQTTDialect(performsConnect: false) }
        return dialect == .webSocket ? WebSocketDialect(performsHandshake: false) : streamDialect(dialect)
    }
}

extension Dialect {
    /// Appends a heartbeat request in a built-in dialect chosen at run time, as a server writes it
    /// after any opening handshake (a WebSocket Ping unmasked, as `Demuxer(dialect:)` reads), or as
    /// a client does where servers never ping (a RESP `PING`). A convenience for captures and
    /// tests, with a dynamic call (and, for dialects with large encoders, an allocation) per use;
    /// code that knows its dialect uses its encoder. QUIC appends a PING frame.
    public func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard let stream = DialectRegistry.framesOnlyDialect(self) else {
            if self == .quic { QUICFrame.ping.append(to: &buffer) }
            return
        }
        Self.appendPing(payload, stream, to: &buffer)
    }

    /// Appends the answer to a ping carrying `payload` in a built-in dialect chosen at run time.
    /// QUIC has no answer frame (the stack acknowledges the packet): nothing is appended.
    public func appendPong(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard let stream = DialectRegistry.framesOnlyDialect(self) else { return }
        Self.appendPong(payload, stream, to: &buffer)
    }

    /// The most octets `appendPing` or `appendPong` appends for a built-in dialect.
    public var maxHeartbeatLength: Int {
        guard let stream = DialectRegistry.framesOnlyDialect(self) else { return 1 }
        return Self.maxHeartbeatLength(stream)
    }

    private static func appendPing<D: StreamDialect>(_ payload: HeartbeatPayload, _ stream: D, to buffer: inout [UInt8]) {
        let start = buffer.count
        var encoder = stream.makeEncoder(role: .server, randomSeed: payload.rawValue)
        encoder.appendPing(payload, to: &buffer)
        // A dialect whose servers never ping (RESP): its client's ping.
        guard buffer.count == start else { return }
        var client = stream.makeEncoder(role: .client, randomSeed: payload.rawValue)
        client.appendPing(payload, to: &buffer)
    }

    private static func appendPong<D: StreamDialect>(_ payload: HeartbeatPayload, _ stream: D, to buffer: inout [UInt8]) {
        var encoder = stream.makeEncoder(role: .server, randomSeed: payload.rawValue)
        payload.withOctets { encoder.appendPong(echoing: $0, to: &buffer) }
    }

    private static func maxHeartbeatLength<D: StreamDialect>(_ stream: D) -> Int {
        stream.makeEncoder(role: .client, randomSeed: 0).maxHeartbeatLength
    }
}

extension FramingError.Reason {
    /// The code this reason closes with in a built-in `dialect` (a `.violation` carries its own).
    public func code(in dialect: Dialect) -> WireErrorCode {
        ruleCode ?? DialectRegistry.wireCode(for: self, in: dialect) ?? WireErrorCode(value: 0x2, name: "INTERNAL_ERROR")
    }
}
