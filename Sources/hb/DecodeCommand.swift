import Framing
import Glibc

/// `hb decode`: dissects a byte capture into heartbeat and business items.
enum DecodeCommand {
    static let usage = """
        usage: hb decode --dialect tcp|http2|quic|ws|tls|mqtt|amqp|resp|lines [--format text|jsonl] [--max-frame-size N] [--no-preface]
                         [--role client|server] [FILE|-]

        Dissects a capture (FILE, or standard input when FILE is - or absent) into items, one per line:
          tcp    the TCP envelope (spec/envelope.md); the capture starts with the preface unless --no-preface
          http2  HTTP/2 frames (RFC 9113); a client preface at the start is skipped
          quic   one QUIC packet payload (RFC 9000 frames)
          ws     WebSocket frames (RFC 6455); an opening handshake at the start is skipped
          tls    plaintext TLS records (RFC 5246 §6.2) with RFC 6520 heartbeats (spec/tls.md); malformed
                 heartbeats (Heartbleed) are discarded silently and print nothing
          mqtt   MQTT 3.1.1 / 5.0 control packets (spec/mqtt.md), either direction unless --role
          amqp   AMQP 0-9-1 frames; a protocol header at the start is item type 256 (spec/amqp.md)
          resp   Redis RESP2/RESP3 values (spec/resp.md): commands and replies, PING/+PONG as heartbeats
          lines  text lines (spec/lines.md): PING and PONG lines as heartbeats, other lines type 0
        --role says whose view the capture is: what a client reads (the default: a server's stream,
        unmasked) or what a server reads (a client's stream: masked WebSocket frames, HTTP/2 preface).
        RESP without --role reads both directions; --role client reads replies, server commands.

        --format jsonl prints one JSON object per item:
          {"item":"ping","ack":false,"payload":"<hex>"}   envelope PING, HTTP/2 PING (ack true for PING ACK)
          {"item":"pong","payload":"<hex>"}               envelope PONG
          {"item":"ping","payload":"<hex>"}               WebSocket Ping ({"item":"pong",...}: Pong)
          {"item":"ping"}                                 QUIC PING, MQTT PINGREQ ({"item":"pong"}: PINGRESP), AMQP heartbeat; RESP PING,
                                                          text-lines PING ({"item":"pong"}: +PONG, PONG)
          {"item":"ping","payload":"<hex>"}               RESP PING <message> (a capture has no prefix of ours: the
                                                          bulk-string echo prints as business type 36)
          {"item":"business","type":N,"length":N}         any other frame (QUIC: length of the whole frame; MQTT: packet type, Remaining Length;
                                                          RESP: type octet, whole value; lines: type 0, content length)
          {"item":"error","code":"<NAME>","offset":N}     last line on failure (TRUNCATED if the input ends in a frame)

        Exit status: 0 decoded, 1 malformed input or I/O error, 2 usage.
        """

    static func run(_ arguments: [String]) -> Int32 {
        let parsed = parseCommand("decode", arguments, usage: usage, valueOptions: ["--dialect", "--format", "--max-frame-size", "--role"],
                                  flagOptions: ["--no-preface"]) { (parsed) throws(UsageError) in
            guard parsed.positionals.count <= 1 else { throw UsageError("at most one input file") }
            return (try parseDialect(parsed.value("--dialect"), allowQUIC: true),
                    try parsed.value("--format", default: Dissector.Format.text) { Dissector.Format(rawValue: $0) },
                    try parsed.value("--max-frame-size", default: Int?.none) { Int($0).flatMap { $0 > 0 ? $0 : nil } },
                    !parsed.flag("--no-preface"),
                    try parsed.value("--role", default: ConnectionRole?.none, parseRole),
                    parsed.positionals.first)
        }
        guard case .run(let (dialect, format, maxFrameSize, preface, role, path)) = parsed else { return parsed.exitStatus }
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
        var dissector = dissector(dialect: dialect.dialect, format: format, maxFrameSize: maxFrameSize, preface: preface, role: role)
        return decode(from: descriptor, &dissector)
    }

    /// `client` or `server`.
    static func parseRole(_ text: String) -> ConnectionRole?? {
        switch text {
        case "client": return .some(.client)
        case "server": return .some(.server)
        default: return nil
        }
    }

    /// The dissector for the command's options: by default a capture of either direction, the
    /// preface or handshake optional where the dialect can tell (the envelope's unless `preface` is
    /// false); with a `role`, what that end reads.
    static func dissector(dialect: Dialect, format: Dissector.Format, maxFrameSize: Int?, preface: Bool = true,
                          role: ConnectionRole? = nil) -> Dissector {
        guard dialect != .envelope || preface else {
            return Dissector(Demuxer(EnvelopeDialect(expectsPreface: false), role: role, maxFrameSize: maxFrameSize), format: format)
        }
        return Dissector(Demuxer(dialect: dialect, maxFrameSize: maxFrameSize, role: role), format: format)
    }

    /// Reads `descriptor` to its end through `dissector`: in chunks for the stream dialects (the
    /// demuxer holds at most one frame), whole for QUIC (the input is one packet). The exit status.
    static func decode(from descriptor: CInt, _ dissector: inout Dissector) -> Int32 {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var packet: [UInt8] = []
        let isPacket = !dissector.demuxer.isStream
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                complain("hb decode: read: \(String(cString: strerror(errno)))")
                return ExitStatus.failure
            }
            if count == 0 { break }
            if isPacket {
                packet += buffer[..<count]
                guard packet.count <= 16 << 20 else {
                    complain("hb decode: a QUIC packet payload larger than 16 MiB is not a packet")
                    return ExitStatus.failure
                }
            } else if !dissector.feed(buffer.span.bytes.extracting(0..<count), say) {
                return ExitStatus.failure
            }
        }
        if isPacket, !dissector.feed(packet.span.bytes, say) { return ExitStatus.failure }
        return dissector.finish(say) ? ExitStatus.success : ExitStatus.failure
    }
}
