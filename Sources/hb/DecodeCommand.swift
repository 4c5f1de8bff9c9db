import Framing
import Glibc

/// `hb decode`: dissects a byte capture into heartbeat and business items.
enum DecodeCommand {
    static let usage = """
        usage: hb decode --dialect tcp|http2|quic [--format text|jsonl] [--max-frame-size N] [--no-preface] [FILE|-]

        Dissects a capture (FILE, or standard input when FILE is - or absent) into items, one per line:
          tcp    the TCP envelope (spec/envelope.md); the capture starts with the preface unless --no-preface
          http2  HTTP/2 frames (RFC 9113); a client preface at the start is skipped
          quic   one QUIC packet payload (RFC 9000 frames)

        --format jsonl prints one JSON object per item:
          {"item":"ping","ack":false,"payload":"<hex>"}   envelope PING, HTTP/2 PING (ack true for PING ACK)
          {"item":"pong","payload":"<hex>"}               envelope PONG
          {"item":"ping"}                                 QUIC PING
          {"item":"business","type":N,"length":N}         any other frame (QUIC: length of the whole frame)
          {"item":"error","code":"<NAME>","offset":N}     last line on failure (TRUNCATED if the input ends in a frame)

        Exit status: 0 decoded, 1 malformed input or I/O error, 2 usage.
        """

    enum Format: String {
        case text
        case jsonl
    }

    static func run(_ arguments: [String]) -> Int32 {
        let dialect: Dialect
        let format: Format
        let maxFrameSize: Int?
        let path: String?
        let preface: Bool
        do throws(UsageError) {
            let parsed = try Arguments(arguments, valueOptions: ["--dialect", "--format", "--max-frame-size"],
                                       flagOptions: ["--help", "-h", "--no-preface"])
            if parsed.flag("--help") || parsed.flag("-h") {
                say(usage)
                return ExitStatus.success
            }
            dialect = try parseDialect(parsed.value("--dialect"), allowQUIC: true)
            format = try parsed.value("--format", default: .text) { Format(rawValue: $0) }
            maxFrameSize = try parsed.value("--max-frame-size", default: nil) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
            preface = !parsed.flag("--no-preface")
            guard parsed.positionals.count <= 1 else { throw UsageError("at most one input file") }
            path = parsed.positionals.first
        } catch {
            complain("hb decode: \(error.message)\n\n\(usage)")
            return ExitStatus.usage
        }
        let descriptor: CInt
        if let path, path != "-" {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                complain("hb decode: cannot open \(path): \(String(cString: strerror(errno)))")
                return ExitStatus.failure
            }
        } else {
            descriptor = STDIN_FILENO
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        var decoder = Decoder(dialect: dialect, format: format, maxFrameSize: maxFrameSize, preface: preface, emit: say)
        return decoder.decode(from: descriptor)
    }

    /// Decodes bytes into lines; separated from the file handling so tests can call it directly.
    struct Decoder {
        let dialect: Dialect
        let format: Format
        var demuxer: Demuxer
        let emit: (String) -> Void
        private var count = 0

        init(dialect: Dialect, format: Format, maxFrameSize: Int?, preface: Bool = true, emit: @escaping (String) -> Void) {
            self.dialect = dialect
            self.format = format
            self.emit = emit
            switch dialect {
            case .envelope:
                demuxer = Demuxer(EnvelopeFrameDecoder(maxFrameSize: maxFrameSize ?? EnvelopeFrame.defaultMaxFrameSize, expectPreface: preface))
            case .http2:
                demuxer = Demuxer(HTTP2FrameDecoder(maxFrameSize: maxFrameSize ?? HTTP2Frame.defaultMaxFrameSize, preface: .optional))
            case .quic:
                demuxer = Demuxer(QUICPacketDemuxer())
            }
        }

        /// Reads `descriptor` to its end: in chunks for the stream dialects (the demuxer holds at
        /// most one frame), whole for QUIC (the input is one packet).
        mutating func decode(from descriptor: CInt) -> Int32 {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var packet: [UInt8] = []
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    complain("hb decode: read: \(String(cString: strerror(errno)))")
                    return ExitStatus.failure
                }
                if count == 0 { break }
                if dialect == .quic {
                    packet += buffer[..<count]
                    guard packet.count <= 16 << 20 else {
                        complain("hb decode: a QUIC packet payload larger than 16 MiB is not a packet")
                        return ExitStatus.failure
                    }
                } else if !feed(buffer.span.bytes.extracting(0..<count)) {
                    return ExitStatus.failure
                }
            }
            if dialect == .quic, !feed(packet.span.bytes) { return ExitStatus.failure }
            return finish()
        }

        /// Feeds bytes; false after reporting an error.
        mutating func feed(_ bytes: RawSpan) -> Bool {
            var lines: [String] = []
            let dialect = self.dialect, format = self.format
            var index = count
            do {
                try demuxer.feed(bytes) { item, frame in
                    index += 1
                    lines.append(Self.line(for: item, frame: frame, dialect: dialect, format: format, index: index))
                }
                count = index
                lines.forEach(emit)
                return true
            } catch {
                lines.forEach(emit)
                report(error)
                return false
            }
        }

        /// Ends the input; the exit status.
        mutating func finish() -> Int32 {
            do {
                try demuxer.finish()
                if format == .text { emit("\(count) items, \(demuxer.offset) octets") }
                return ExitStatus.success
            } catch {
                report(error)
                return ExitStatus.failure
            }
        }

        private func report(_ error: FramingError) {
            let code = error.reason == .truncated ? "TRUNCATED" : error.code.name
            switch format {
            case .jsonl: emit("{\"item\":\"error\",\"code\":\(jsonString(code)),\"offset\":\(error.offset)}")
            case .text: emit("error at offset \(error.offset): \(code): \(error.reason)")
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
}
