/// The RESP wire vocabulary (Redis serialization protocol, RESP2 and RESP3; spec/resp.md): the
/// type octets that open every value, and the encoders for the few values this library writes —
/// `PING` commands, `+PONG`, bulk-string echoes and `-ERR` lines.
public enum RESPFrame {
    /// The first octet of each RESP value (spec/resp.md §2).
    public enum TypeOctet {
        /// `+` simple string.
        public static let simpleString: UInt8 = 0x2B
        /// `-` simple error.
        public static let simpleError: UInt8 = 0x2D
        /// `:` integer.
        public static let integer: UInt8 = 0x3A
        /// `$` bulk string (`$-1`: the RESP2 null bulk string).
        public static let bulkString: UInt8 = 0x24
        /// `*` array (`*-1`: the RESP2 null array).
        public static let array: UInt8 = 0x2A
        /// `_` null (RESP3).
        public static let null: UInt8 = 0x5F
        /// `#` boolean (RESP3).
        public static let boolean: UInt8 = 0x23
        /// `,` double (RESP3).
        public static let double: UInt8 = 0x2C
        /// `(` big number (RESP3).
        public static let bigNumber: UInt8 = 0x28
        /// `!` bulk error (RESP3).
        public static let bulkError: UInt8 = 0x21
        /// `=` verbatim string (RESP3): a bulk string whose first four octets are `xxx:`.
        public static let verbatimString: UInt8 = 0x3D
        /// `%` map (RESP3): a count of key–value pairs.
        public static let map: UInt8 = 0x25
        /// `~` set (RESP3).
        public static let set: UInt8 = 0x7E
        /// `>` push (RESP3): out-of-band data, e.g. a Pub/Sub message.
        public static let push: UInt8 = 0x3E
        /// `|` attribute (RESP3): key–value pairs annotating the value that follows them.
        public static let attribute: UInt8 = 0x7C

        /// Whether `octet` opens a RESP value; a line opening with any other octet is an inline
        /// command (a server's view) or a protocol error (a client's).
        @inlinable
        public static func isTypeOctet(_ octet: UInt8) -> Bool {
            switch octet {
            case 0x2B, 0x2D, 0x3A, 0x24, 0x2A, 0x5F, 0x23, 0x2C, 0x28, 0x21, 0x3D, 0x25, 0x7E, 0x3E, 0x7C: return true
            default: return false
            }
        }
    }

    /// `BusinessFrame.type` of an inline command (a line that opens with no type octet).
    public static let inlineCommandType: UInt64 = 0

    /// The fewest octets any RESP value takes (`+\r\n`, `_\r\n`): what bounds an aggregate's count
    /// before its elements are buffered.
    public static let minimumValueLength = 3

    /// The default largest value, in octets, a decoder accepts: 1 MiB (Redis allows 512 MB bulk
    /// strings; raise `maxFrameSize` for such replies).
    public static let defaultMaxFrameSize = 1 << 20

    /// The default deepest nesting of aggregates (and attributes) a decoder accepts.
    public static let defaultMaxDepth = 32

    /// The deepest nesting any decoder accepts (its scan keeps one counter per level, inline).
    public static let maxDepthLimit = 64

    /// The message prefix of an echo-mode PING (`RESPDialect(pingMessage:)` default).
    public static let defaultPingMessage = "hb-"

    /// `*1\r\n$4\r\nPING\r\n`: a bare PING command, answered `+PONG` (14 octets).
    static let bareFullPing: [UInt8] = Array("*1\r\n$4\r\nPING\r\n".utf8)
    /// The octets of an echo-mode PING before its message length.
    static let echoPingHead: [UInt8] = Array("*2\r\n$4\r\nPING\r\n$".utf8)
    /// `-ERR `.
    static let errorHead: [UInt8] = Array("-ERR ".utf8)
    /// `-ERR unknown command\r\n`: a server's answer to a command it does not run.
    static let unknownCommand: [UInt8] = Array("-ERR unknown command\r\n".utf8)
    /// `+PONG\r\n`.
    static let simplePong: [UInt8] = Array("+PONG\r\n".utf8)

    /// Appends `value` (≥ 0) in decimal ASCII, without allocating.
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0, "RESP lengths are not negative")
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(0x30 + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends `$<n>\r\n<octets>\r\n`.
    static func appendBulkString(_ octets: RawSpan, to buffer: inout [UInt8]) {
        buffer.append(TypeOctet.bulkString)
        appendDecimal(octets.byteCount, to: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
        buffer.append(octets)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends an echo-mode PING: `*2\r\n$4\r\nPING\r\n$<n>\r\n<prefix><8 payload octets>\r\n`
    /// (a bulk string is binary-safe; Redis echoes it octet for octet).
    static func appendEchoPing(prefix: [UInt8], _ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: echoPingHead)
        appendDecimal(prefix.count + HeartbeatPayload.byteCount, to: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
        buffer.append(contentsOf: prefix)
        payload.append(to: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends `-ERR <text>\r\n`, with any CR or LF in `text` replaced by a space (a simple error
    /// holds neither).
    static func appendError(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: errorHead)
        for octet in text.utf8 { buffer.append(octet == 0x0D || octet == 0x0A ? 0x20 : octet) }
        buffer.append(0x0D)
        buffer.append(0x0A)
    }
}
