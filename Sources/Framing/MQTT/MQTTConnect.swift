/// The parts of CONNECT and CONNACK that a heartbeat needs: the version and Keep Alive a client
/// asks for (§3.1.2), and whether the server accepted, with its Server Keep Alive (§3.2.2.3.14).
/// Read from a packet's variable header and payload (the octets after the fixed header).
public enum MQTTConnect {
    /// What a server reads in a CONNECT.
    public struct Request: Hashable, Sendable {
        /// The protocol version, by its protocol level (3 and 4 are answered as 3.1.1).
        public var version: MQTTVersion
        /// The Keep Alive in seconds (§3.1.2.10); 0 turns the keep-alive mechanism off.
        public var keepAlive: UInt16
    }

    /// What a client reads in a CONNACK.
    public struct Acknowledgement: Hashable, Sendable {
        /// The return code (3.1.1 §3.2.2.3) or reason code (5.0 §3.2.2.2): 0 accepts.
        public var code: UInt8
        /// MQTT 5's Server Keep Alive property (§3.2.2.3.14), the Keep Alive the client must use instead of its own; nil when absent.
        public var serverKeepAlive: UInt16?
    }

    /// Reads a CONNECT's variable header: protocol name `MQTT` (or `MQIsdp` with level 3, MQTT
    /// 3.1), protocol level, connect flags (reserved bit 0 clear, [MQTT-3.1.2-3]) and Keep Alive.
    /// - Throws: MALFORMED_PACKET for a header cut short or a reserved flag set; PROTOCOL_ERROR
    ///   for another protocol name; UNSUPPORTED_PROTOCOL_VERSION (0x84) for a level other than 3, 4 or 5.
    public static func parseRequest(_ packet: RawSpan) throws(FramingError.Reason) -> Request {
        var cursor = 0
        guard let nameLength = packet.readBigEndian(width: 2, at: &cursor), nameLength <= 6,
              cursor + Int(nameLength) + 4 <= packet.byteCount else {
            throw MQTTRule.malformedConnect.violation("CONNECT variable header is cut short or its protocol name is longer than 6 octets")
        }
        let name = String(decoding: packet.extracting(cursor..<(cursor + Int(nameLength))).withUnsafeBytes { Array($0) }, as: UTF8.self)
        cursor += Int(nameLength)
        let level = packet.unsafeLoad(fromByteOffset: cursor, as: UInt8.self)
        let flags = packet.unsafeLoad(fromByteOffset: cursor + 1, as: UInt8.self)
        cursor += 2
        guard let keepAlive = packet.readBigEndian(width: 2, at: &cursor) else { preconditionFailure("length checked above") }
        guard name == "MQTT" || (name == "MQIsdp" && level == 3) else {
            throw MQTTRule.protocolName.violation("CONNECT protocol name \"\(name)\" with level \(level); expected \"MQTT\"")
        }
        guard flags & 1 == 0 else { throw MQTTRule.connectReservedFlag.violation("CONNECT flags 0x\(String(flags, radix: 16)) set the reserved bit 0") }
        let version: MQTTVersion
        switch level {
        case 3, 4: version = .v3_1_1
        case 5: version = .v5
        default:
            throw .violation(RuleViolation(MQTTRule.protocolLevel.identifier, "CONNECT protocol level \(level); this server speaks 3, 4 and 5",
                                           code: WireErrorCode(value: 0x84, name: "UNSUPPORTED_PROTOCOL_VERSION")))
        }
        return Request(version: version, keepAlive: UInt16(keepAlive))
    }

    /// Reads a CONNACK answering a CONNECT of `version`: Connect Acknowledge Flags (bits 7–1 clear),
    /// the code, and for MQTT 5 its properties. A 2-octet CONNACK with a non-zero code is read as
    /// a 3.1.1 refusal whatever `version` (a 3.1.1 server refusing an MQTT 5 CONNECT).
    /// - Throws: MALFORMED_PACKET for a CONNACK that breaks the rules of §3.2 (3.1.1 §3.2).
    public static func parseAcknowledgement(_ packet: RawSpan, version: MQTTVersion) throws(FramingError.Reason) -> Acknowledgement {
        guard packet.byteCount >= 2 else { throw MQTTRule.malformedConnack.violation("CONNACK with \(packet.byteCount) octets; at least 2") }
        let flags = packet.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        let code = packet.unsafeLoad(fromByteOffset: 1, as: UInt8.self)
        guard flags & 0xFE == 0 else { throw MQTTRule.malformedConnack.violation("CONNACK flags 0x\(String(flags, radix: 16)) set reserved bits") }
        if version == .v3_1_1 || (packet.byteCount == 2 && code != 0) {
            guard packet.byteCount == 2 else { throw MQTTRule.malformedConnack.violation("an MQTT 3.1.1 CONNACK with \(packet.byteCount) octets; it has 2") }
            return Acknowledgement(code: code, serverKeepAlive: nil)
        }
        var serverKeepAlive: UInt16?
        let properties = try MQTTProperties.propertiesStart(packet, at: 2)
        try MQTTProperties.forEach(in: packet.extracting(properties...)) { identifier, value in
            if identifier == MQTTProperties.serverKeepAlive {
                serverKeepAlive = UInt16(value.unsafeLoad(fromByteOffset: 0, as: UInt8.self)) << 8
                    | UInt16(value.unsafeLoad(fromByteOffset: 1, as: UInt8.self))
            }
        }
        return Acknowledgement(code: code, serverKeepAlive: serverKeepAlive)
    }

    /// What a refusing CONNACK's code means, as the standard words it: 3.1.1 return codes 1–5
    /// (§3.2.2.3), MQTT 5 reason codes 0x80 and up (§3.2.2.2).
    public static func refusalDescription(_ code: UInt8) -> String {
        switch code {
        case 0x01: return "unacceptable protocol version"
        case 0x02: return "identifier rejected"
        case 0x03: return "server unavailable"
        case 0x04: return "bad user name or password"
        case 0x05, 0x87: return "not authorized"
        case 0x80: return "unspecified error"
        case 0x81: return "malformed packet"
        case 0x82: return "protocol error"
        case 0x83: return "implementation specific error"
        case 0x84: return "unsupported protocol version"
        case 0x85: return "client identifier not valid"
        case 0x86: return "bad user name or password"
        case 0x88: return "server unavailable"
        case 0x89: return "server busy"
        case 0x8A: return "banned"
        case 0x8C: return "bad authentication method"
        case 0x90: return "topic name invalid"
        case 0x95: return "packet too large"
        case 0x97: return "quota exceeded"
        case 0x99: return "payload format invalid"
        case 0x9A: return "retain not supported"
        case 0x9B: return "QoS not supported"
        case 0x9C: return "use another server"
        case 0x9D: return "server moved"
        case 0x9F: return "connection rate exceeded"
        default: return "unknown code"
        }
    }
}

/// MQTT 5 properties (§2.2.2): an identifier and a value whose form the identifier fixes.
enum MQTTProperties {
    /// Server Keep Alive, a Two Byte Integer (§3.2.2.3.14).
    static let serverKeepAlive: UInt8 = 0x13

    /// Where the property list whose Variable Byte Integer length is at `offset` of `packet`
    /// starts; it must end with the packet.
    static func propertiesStart(_ packet: RawSpan, at offset: Int) throws(FramingError.Reason) -> Int {
        guard case .value(let length, let width) = MQTTPacket.readVariableByteInteger(packet, at: offset),
              offset + width + length == packet.byteCount else {
            throw MQTTRule.malformedProperties.violation("the property length does not match the packet")
        }
        return offset + width
    }

    /// Calls `body` with each property's identifier and value octets.
    /// - Throws: MALFORMED_PACKET for an unknown identifier or a value that overruns the list.
    static func forEach(in properties: RawSpan, _ body: (UInt8, RawSpan) -> Void) throws(FramingError.Reason) {
        var cursor = 0
        while cursor < properties.byteCount {
            let identifier = properties.unsafeLoad(fromByteOffset: cursor, as: UInt8.self)
            cursor += 1
            let start = cursor
            let ok: Bool
            switch identifier {
            case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A:              // Byte
                ok = properties.skip(1, at: &cursor)
            case 0x13, 0x21, 0x22, 0x23:                                      // Two Byte Integer
                ok = properties.skip(2, at: &cursor)
            case 0x02, 0x11, 0x18, 0x27:                                      // Four Byte Integer
                ok = properties.skip(4, at: &cursor)
            case 0x0B:                                                        // Variable Byte Integer
                if case .value(_, let width) = MQTTPacket.readVariableByteInteger(properties, at: cursor) {
                    cursor += width
                    ok = true
                } else {
                    ok = false
                }
            case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F, 0x09, 0x16:        // UTF-8 string, binary data
                ok = skipPrefixed(properties, at: &cursor)
            case 0x26:                                                        // UTF-8 string pair
                ok = skipPrefixed(properties, at: &cursor) && skipPrefixed(properties, at: &cursor)
            default:
                throw MQTTRule.malformedProperties.violation("unknown property identifier 0x\(String(identifier, radix: 16))")
            }
            guard ok else { throw MQTTRule.malformedProperties.violation("property 0x\(String(identifier, radix: 16)) overruns the property list") }
            body(identifier, properties.extracting(start..<cursor))
        }
    }

    /// Skips a 2-octet length and that many octets.
    private static func skipPrefixed(_ bytes: RawSpan, at cursor: inout Int) -> Bool {
        var end = cursor
        guard let length = bytes.readBigEndian(width: 2, at: &end), bytes.skip(length, at: &end) else { return false }
        cursor = end
        return true
    }
}
