/// Renders a capture as one line per item — human-readable text or JSON lines — for protocol
/// implementers debugging a stream (`hb decode` prints these). The JSON lines are:
///
/// - `{"item":"ping","payload":"<hex>"}` and `{"item":"pong","payload":"<hex>"}`: a heartbeat and
///   its answer (envelope PING/PONG, WebSocket Ping/Pong); for HTTP/2, whose answer is a PING with
///   ACK, `{"item":"ping","ack":false|true,"payload":"<hex>"}`; `{"item":"ping"}`: a QUIC PING
///   or a heartbeat that carries nothing (AMQP, `DissectorVocabulary.heartbeatsCarryPayload` false);
/// - `{"item":"business","type":N,"length":N}`: any other frame; the length is the HTTP/2 or
///   envelope payload length, or the whole QUIC frame's size (an ACK included);
/// - `{"item":"error","code":"<NAME>","offset":N}`: the last line on failure, with the wire's error
///   name, or `TRUNCATED` when the input ends inside a frame.
///
/// Prefaces and QUIC PADDING produce no line.
public struct Dissector: Sendable {
    /// How items are rendered.
    public enum Format: String, Sendable {
        /// One human-readable line per item, and a summary line at the end.
        case text
        /// One JSON object per line.
        case jsonl
    }

    /// The dialect's demuxer (for QUIC, each `feed` is one packet payload).
    public private(set) var demuxer: Demuxer
    /// The rendering.
    public let format: Format
    /// How frames are named.
    public let vocabulary: DissectorVocabulary
    /// Items rendered so far.
    public private(set) var itemCount = 0

    /// A dissector over `demuxer`, naming frames with `vocabulary` (nil: the built-in dialect's,
    /// from `DialectRegistry`).
    public init(_ demuxer: Demuxer, format: Format, vocabulary: DissectorVocabulary? = nil) {
        self.demuxer = demuxer
        self.format = format
        self.vocabulary = vocabulary ?? DialectRegistry.vocabulary(demuxer.dialect)
    }

    /// Renders the items of the next bytes. Returns false after rendering an error (the input is
    /// malformed and nothing more will be read).
    public mutating func feed(_ bytes: RawSpan, _ emit: (String) -> Void) -> Bool {
        let vocabulary = self.vocabulary, format = self.format
        var index = itemCount
        defer { itemCount = index }
        do {
            try demuxer.feed(bytes) { item, frame in
                index += 1
                emit(Self.line(for: item, frame: frame, vocabulary: vocabulary, format: format, index: index))
            }
            return true
        } catch {
            emit(render(error))
            return false
        }
    }

    /// Ends the input: renders `TRUNCATED` if it ended inside a frame (or the text summary).
    /// Returns false if the input was malformed.
    public mutating func finish(_ emit: (String) -> Void) -> Bool {
        do {
            try demuxer.finish()
            if format == .text { emit("\(itemCount) items, \(demuxer.offset) octets") }
            return true
        } catch {
            emit(render(error))
            return false
        }
    }

    /// The line for a failure.
    public func render(_ error: FramingError) -> String {
        let code = error.reason == .truncated ? "TRUNCATED" : error.code.name
        switch format {
        case .jsonl: return "{\"item\":\"error\",\"code\":\"\(code)\",\"offset\":\(error.offset)}"
        case .text: return "error at offset \(error.offset): \(code): \(error.reason)"
        }
    }

    static func line(for item: DemuxedItem, frame: RawSpan, vocabulary: DissectorVocabulary, format: Format, index: Int) -> String {
        switch format {
        case .jsonl:
            let ack = vocabulary.pongIsAcknowledgedPing
            switch item {
            case .ping where !vocabulary.heartbeatsCarryPayload:
                return "{\"item\":\"ping\"}"
            case .pong where !vocabulary.heartbeatsCarryPayload:
                return "{\"item\":\"pong\"}"
            case .ping(let payload) where payload.byteCount == 0 && vocabulary.omitsEmptyPayload:
                return "{\"item\":\"ping\"}"
            case .pong(let payload) where payload.byteCount == 0 && vocabulary.omitsEmptyPayload:
                return "{\"item\":\"pong\"}"
            case .ping(let payload):
                return ack || vocabulary.pingShowsAck ? "{\"item\":\"ping\",\"ack\":false,\"payload\":\"\(hex(payload, frame))\"}"
                    : "{\"item\":\"ping\",\"payload\":\"\(hex(payload, frame))\"}"
            case .pong(let payload):
                return ack ? "{\"item\":\"ping\",\"ack\":true,\"payload\":\"\(hex(payload, frame))\"}"
                    : "{\"item\":\"pong\",\"payload\":\"\(hex(payload, frame))\"}"
            case .quicPing:
                return "{\"item\":\"ping\"}"
            case .quicAck(let ack):
                let type = ack.ecnCounts == nil ? QUICFrameParser.FrameType.ack : QUICFrameParser.FrameType.ackECN
                return "{\"item\":\"business\",\"type\":\(type),\"length\":\(frame.byteCount)}"
            case .business(let business):
                return "{\"item\":\"business\",\"type\":\(business.type),\"length\":\(business.length)}"
            }
        case .text:
            let prefix = "#\(index) "
            switch item {
            case .ping where !vocabulary.heartbeatsCarryPayload:
                return prefix + vocabulary.ping
            case .pong where !vocabulary.heartbeatsCarryPayload:
                return prefix + vocabulary.pong
            case .ping(let payload):
                let layout = payload.byteCount == HeartbeatPayload.byteCount
                    ? " (sequence \(payload.sequence), \(payload.timestampMilliseconds) ms)" : " (\(payload.byteCount) octets)"
                return prefix + "\(vocabulary.ping) payload=\(hex(payload, frame))" + layout
            case .pong(let payload):
                let layout = payload.byteCount == HeartbeatPayload.byteCount
                    ? " (sequence \(payload.sequence))" : " (\(payload.byteCount) octets)"
                return prefix + "\(vocabulary.pong) payload=\(hex(payload, frame))" + layout
            case .quicPing:
                return prefix + "QUIC PING"
            case .quicAck(let ack):
                var ranges: [String] = []
                ack.forEachRange(in: frame) { ranges.append("\($0.lowerBound)-\($0.upperBound)") }
                let ecn = ack.ecnCounts.map { " ecn=\($0.ect0)/\($0.ect1)/\($0.ce)" } ?? ""
                return prefix + "QUIC ACK largest=\(ack.largestAcknowledged) delay=\(ack.ackDelay) ranges=\(ranges.joined(separator: ","))\(ecn)"
            case .business(let business):
                let name = vocabulary.frameName(business.type)
                let header = vocabulary.showsFlagsAndStream ? " flags=0x\(String(business.flags, radix: 16)) stream=\(business.streamID)" : ""
                return prefix + "\(name) type=0x\(String(business.type, radix: 16))\(header) length=\(business.length)"
            }
        }
    }

    /// The heartbeat's whole payload as hex: from the octets handed over with it.
    private static func hex(_ payload: HeartbeatPayload, _ frame: RawSpan) -> String {
        payload.isWhole ? payload.description : frame.hexDescription
    }
}

/// How a dissector names a dialect's frames for people: brought by each dialect (a stream
/// dialect's `vocabulary`, `QUICPacketDemuxer.vocabulary`), so the dissector holds no list of them.
public struct DissectorVocabulary: Sendable {
    /// The text name of a heartbeat request (`PING`).
    public var ping: String
    /// The text name of its answer (`PONG`, `PING ACK`).
    public var pong: String
    /// Whether the answer is the request with an ACK flag (HTTP/2): JSON lines then render both
    /// as `"item":"ping"` with an `"ack"` field, as the wire has them.
    public var pongIsAcknowledgedPing: Bool
    /// Whether a ping's JSON line carries `"ack":false` although its answer is another frame type
    /// (the envelope's lines, kept as they were first published).
    public var pingShowsAck: Bool
    /// Whether business frames show HTTP/2-style flags and stream fields in text.
    public var showsFlagsAndStream: Bool
    /// The name of a business frame type (`DATA`, `HEADERS`, `UNKNOWN`).
    public var frameName: @Sendable (UInt64) -> String
    /// Whether heartbeats carry a payload to show; false for payload-less ones (MQTT PINGREQ and
    /// PINGRESP, the AMQP heartbeat frame), whose JSON lines are `{"item":"ping"}` and `{"item":"pong"}`.
    public var heartbeatsCarryPayload = true
    /// Whether a heartbeat whose payload is empty prints without one, while the others show
    /// theirs (RESP: a bare `PING` and `+PONG` print `{"item":"ping"}` and `{"item":"pong"}`,
    /// `PING <message>` its payload).
    public var omitsEmptyPayload = false

    /// A vocabulary.
    public init(ping: String = "PING", pong: String = "PONG", pongIsAcknowledgedPing: Bool = false,
                pingShowsAck: Bool = false, showsFlagsAndStream: Bool = false, heartbeatsCarryPayload: Bool = true,
                frameName: @escaping @Sendable (UInt64) -> String = { _ in "FRAME" }) {
        self.heartbeatsCarryPayload = heartbeatsCarryPayload
        self.ping = ping
        self.pong = pong
        self.pongIsAcknowledgedPing = pongIsAcknowledgedPing
        self.pingShowsAck = pingShowsAck
        self.showsFlagsAndStream = showsFlagsAndStream
        self.frameName = frameName
    }

    /// The name at `type` in `names`, or `UNKNOWN`.
    public static func name(_ type: UInt64, in names: [String]) -> String {
        type < UInt64(names.count) ? names[Int(type)] : "UNKNOWN"
    }
}
