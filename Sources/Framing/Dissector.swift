/// Renders a capture as one line per item — human-readable text or JSON lines — for protocol
/// implementers debugging a stream (`hb decode` prints these). The JSON lines are:
///
/// - `{"item":"ping","ack":false,"payload":"<hex>"}`: an envelope PING or HTTP/2 PING
///   (`"ack":true` for an HTTP/2 PING ACK); `{"item":"pong","payload":"<hex>"}`: an envelope PONG;
///   `{"item":"ping"}`: a QUIC PING;
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
    /// Items rendered so far.
    public private(set) var itemCount = 0

    /// A dissector over `demuxer`.
    public init(_ demuxer: Demuxer, format: Format) {
        self.demuxer = demuxer
        self.format = format
    }

    /// Renders the items of the next bytes. Returns false after rendering an error (the input is
    /// malformed and nothing more will be read).
    public mutating func feed(_ bytes: RawSpan, _ emit: (String) -> Void) -> Bool {
        let dialect = demuxer.dialect, format = self.format
        var index = itemCount
        defer { itemCount = index }
        do {
            try demuxer.feed(bytes) { item, frame in
                index += 1
                emit(Self.line(for: item, frame: frame, dialect: dialect, format: format, index: index))
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

    static func line(for item: DemuxedItem, frame: RawSpan, dialect: Dialect, format: Format, index: Int) -> String {
        switch format {
        case .jsonl:
            switch item {
            case .ping(let payload):
                return "{\"item\":\"ping\",\"ack\":false,\"payload\":\"\(payload)\"}"
            case .pong(let payload) where dialect == .http2:
                return "{\"item\":\"ping\",\"ack\":true,\"payload\":\"\(payload)\"}"
            case .pong(let payload):
                return "{\"item\":\"pong\",\"payload\":\"\(payload)\"}"
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
            case .ping(let payload):
                return prefix + "PING payload=\(payload) (sequence \(payload.sequence), \(payload.timestampMilliseconds) ms)"
            case .pong(let payload):
                return prefix + (dialect == .http2 ? "PING ACK" : "PONG") + " payload=\(payload) (sequence \(payload.sequence))"
            case .quicPing:
                return prefix + "QUIC PING"
            case .quicAck(let ack):
                var ranges: [String] = []
                ack.forEachRange(in: frame) { ranges.append("\($0.lowerBound)-\($0.upperBound)") }
                let ecn = ack.ecnCounts.map { " ecn=\($0.ect0)/\($0.ect1)/\($0.ce)" } ?? ""
                return prefix + "QUIC ACK largest=\(ack.largestAcknowledged) delay=\(ack.ackDelay) ranges=\(ranges.joined(separator: ","))\(ecn)"
            case .business(let business):
                let name = frameName(business.type, dialect: dialect)
                let http2 = dialect == .http2 ? " flags=0x\(String(business.flags, radix: 16)) stream=\(business.streamID)" : ""
                return prefix + "\(name) type=0x\(String(business.type, radix: 16))\(http2) length=\(business.length)"
            }
        }
    }

    static func frameName(_ type: UInt64, dialect: Dialect) -> String {
        switch dialect {
        case .envelope:
            let names = ["DATA", "PING", "PONG", "GOAWAY"]
            return type < UInt64(names.count) ? names[Int(type)] : "UNKNOWN"
        case .http2:
            let names = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
                         "WINDOW_UPDATE", "CONTINUATION"]
            return type < UInt64(names.count) ? names[Int(type)] : "UNKNOWN"
        case .quic:
            switch type {
            case 0x04: return "RESET_STREAM"
            case 0x05: return "STOP_SENDING"
            case 0x06: return "CRYPTO"
            case 0x07: return "NEW_TOKEN"
            case 0x08...0x0f: return "STREAM"
            case 0x10: return "MAX_DATA"
            case 0x11: return "MAX_STREAM_DATA"
            case 0x12, 0x13: return "MAX_STREAMS"
            case 0x14: return "DATA_BLOCKED"
            case 0x15: return "STREAM_DATA_BLOCKED"
            case 0x16, 0x17: return "STREAMS_BLOCKED"
            case 0x18: return "NEW_CONNECTION_ID"
            case 0x19: return "RETIRE_CONNECTION_ID"
            case 0x1a: return "PATH_CHALLENGE"
            case 0x1b: return "PATH_RESPONSE"
            case 0x1c, 0x1d: return "CONNECTION_CLOSE"
            case 0x1e: return "HANDSHAKE_DONE"
            case 0x30, 0x31: return "DATAGRAM"
            default: return "UNKNOWN"
            }
        }
    }
}
