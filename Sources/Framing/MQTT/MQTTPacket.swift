/// MQTT 3.1.1 (OASIS, 2014) and MQTT 5.0 (OASIS, 2019) control packets as far as this library
/// needs them: the fixed header (§2.1 of 3.1.1, §2.1 of 5.0), the Variable Byte Integer that
/// carries the Remaining Length, the per-type flag rules, and the CONNECT, CONNACK, PINGREQ,
/// PINGRESP and DISCONNECT packets that open, keep alive and close a session. Section numbers
/// below are MQTT 5.0's unless they say 3.1.1; the two versions agree on everything here except
/// where noted (spec/mqtt.md).
public enum MQTTPacket {
    /// The control packet types (MQTT 5.0 §2.1.2; 3.1.1 §2.2.1, where 15 is reserved and AUTH
    /// does not exist).
    public enum PacketType {
        /// Reserved: never valid on the wire.
        public static let reserved: UInt8 = 0
        /// Client to server: the connection request.
        public static let connect: UInt8 = 1
        /// Server to client: the connection acknowledgement.
        public static let connack: UInt8 = 2
        /// Either way: an application message.
        public static let publish: UInt8 = 3
        /// Either way: QoS 1 publish acknowledgement.
        public static let puback: UInt8 = 4
        /// Either way: QoS 2 publish received.
        public static let pubrec: UInt8 = 5
        /// Either way: QoS 2 publish release.
        public static let pubrel: UInt8 = 6
        /// Either way: QoS 2 publish complete.
        public static let pubcomp: UInt8 = 7
        /// Client to server: subscribe request.
        public static let subscribe: UInt8 = 8
        /// Server to client: subscribe acknowledgement.
        public static let suback: UInt8 = 9
        /// Client to server: unsubscribe request.
        public static let unsubscribe: UInt8 = 10
        /// Server to client: unsubscribe acknowledgement.
        public static let unsuback: UInt8 = 11
        /// Client to server: the heartbeat request.
        public static let pingreq: UInt8 = 12
        /// Server to client: the heartbeat answer.
        public static let pingresp: UInt8 = 13
        /// Client to server (and, in MQTT 5, server to client): disconnect notification.
        public static let disconnect: UInt8 = 14
        /// Either way, MQTT 5 only: authentication exchange.
        public static let auth: UInt8 = 15

        /// The names, indexed by type, as the standard spells them.
        public static let names = ["RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
                                   "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"]
    }

    /// The largest Remaining Length a Variable Byte Integer carries: 268,435,455 (§1.5.5).
    public static let maxRemainingLength = 268_435_455

    /// The most octets of a fixed header: the first octet and a 4-octet Remaining Length.
    public static let maxFixedHeaderLength = 5

    /// PINGREQ, `C0 00` (§3.12).
    public static let pingRequest: InlineArray<2, UInt8> = [0xC0, 0x00]
    /// PINGRESP, `D0 00` (§3.13).
    public static let pingResponse: InlineArray<2, UInt8> = [0xD0, 0x00]

    /// The flags a packet of `type` must carry (§2.1.3: 0010 for PUBREL, SUBSCRIBE and
    /// UNSUBSCRIBE, 0000 for the others), or nil for PUBLISH, whose flags are DUP, QoS and RETAIN.
    @inlinable
    public static func requiredFlags(of type: UInt8) -> UInt8? {
        switch type {
        case PacketType.publish: return nil
        case PacketType.pubrel, PacketType.subscribe, PacketType.unsubscribe: return 0b0010
        default: return 0
        }
    }

    /// Whether a server may receive packets of `type` from a client (CONNECT, PUBLISH and its
    /// acknowledgements, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH).
    @inlinable
    public static func clientSends(_ type: UInt8) -> Bool {
        (0b1101_0101_1111_1010 as UInt16) >> UInt16(type) & 1 == 1
    }

    /// Whether a client may receive packets of `type` from a server (CONNACK, PUBLISH and its
    /// acknowledgements, SUBACK, UNSUBACK, PINGRESP, and MQTT 5's DISCONNECT and AUTH).
    @inlinable
    public static func serverSends(_ type: UInt8) -> Bool {
        (0b1110_1010_1111_1100 as UInt16) >> UInt16(type) & 1 == 1
    }

    // MARK: Variable Byte Integer (§1.5.5; 3.1.1 §2.2.3)

    /// What reading a Variable Byte Integer found.
    public enum VariableByteInteger: Hashable, Sendable {
        /// The value and how many octets (1–4) it took.
        case value(Int, length: Int)
        /// The octets end inside it: at least this many octets are needed in all.
        case needMore(Int)
        /// A fourth octet has its continuation bit set: the integer would take five or more.
        case tooLong
        /// The value took more octets than it needs (its last octet is 0), which MQTT 5 §1.5.5
        /// forbids ([MQTT-1.5.5-1]).
        case nonMinimal(Int, length: Int)
    }

    /// Reads the Variable Byte Integer that starts at `offset` of `bytes`.
    @inlinable
    public static func readVariableByteInteger(_ bytes: RawSpan, at offset: Int) -> VariableByteInteger {
        var value = 0
        for index in 0..<4 {
            guard offset + index < bytes.byteCount else { return .needMore(offset + index + 1) }
            let octet = bytes.unsafeLoad(fromByteOffset: offset + index, as: UInt8.self)
            value |= Int(octet & 0x7F) << (7 * index)
            if octet & 0x80 == 0 {
                return index > 0 && octet == 0 ? .nonMinimal(value, length: index + 1) : .value(value, length: index + 1)
            }
        }
        return .tooLong
    }

    /// Appends `value` (0...268,435,455) as a Variable Byte Integer in the fewest octets.
    @inlinable
    public static func appendVariableByteInteger(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0 && value <= maxRemainingLength, "\(value) does not fit a Variable Byte Integer")
        var rest = value
        repeat {
            let octet = UInt8(rest & 0x7F)
            rest >>= 7
            buffer.append(rest > 0 ? octet | 0x80 : octet)
        } while rest > 0
    }

    /// How many octets `value` takes as a Variable Byte Integer.
    @inlinable
    public static func variableByteIntegerLength(of value: Int) -> Int {
        value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4
    }

    /// Appends a fixed header: `first` (type << 4 | flags) and the Remaining Length.
    @inlinable
    public static func appendFixedHeader(_ first: UInt8, remainingLength: Int, to buffer: inout [UInt8]) {
        buffer.append(first)
        appendVariableByteInteger(remainingLength, to: &buffer)
    }

    // MARK: Session packets

    /// Appends a CONNECT (§3.1; 3.1.1 §3.1) with protocol name `MQTT`, protocol level
    /// `version.level`, Clean Session (Clean Start) set and no will, user name or password, the
    /// Keep Alive in seconds, an empty property list for MQTT 5, and `clientID` (at most 65,535
    /// octets of UTF-8; cut at the last whole character before that if longer).
    public static func appendConnect(version: MQTTVersion, keepAlive: UInt16, clientID: String, to buffer: inout [UInt8]) {
        let identifier = clientID.utf8Prefix(maxOctets: Int(UInt16.max))
        let properties = version == .v5 ? 1 : 0
        let remaining = 2 + 4 + 1 + 1 + 2 + properties + 2 + identifier.count
        appendFixedHeader(PacketType.connect << 4, remainingLength: remaining, to: &buffer)
        buffer.append(contentsOf: [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54])  // "MQTT"
        buffer.append(version.level)
        buffer.append(0b0000_0010)                                        // Clean Session / Clean Start
        buffer.appendBigEndian(UInt64(keepAlive), width: 2)
        if version == .v5 { buffer.append(0) }                            // no properties
        buffer.appendBigEndian(UInt64(identifier.count), width: 2)
        buffer.append(contentsOf: identifier)
    }

    /// Appends an accepting CONNACK (§3.2; 3.1.1 §3.2): no session present, return or reason code
    /// 0, and for MQTT 5 an empty property list.
    public static func appendConnectAcknowledgement(version: MQTTVersion, code: UInt8 = 0, to buffer: inout [UInt8]) {
        if version == .v5 {
            buffer.append(contentsOf: [PacketType.connack << 4, 3, 0, code, 0])
        } else {
            buffer.append(contentsOf: [PacketType.connack << 4, 2, 0, code])
        }
    }

    /// Appends a DISCONNECT: `E0 00` in MQTT 3.1.1 (§3.14), `E0 01 RC` with the reason code in
    /// MQTT 5 (§3.14.2.1; the property list is omitted, as a Remaining Length under 2 allows).
    public static func appendDisconnect(version: MQTTVersion, reasonCode: UInt8, to buffer: inout [UInt8]) {
        if version == .v5 {
            buffer.append(contentsOf: [PacketType.disconnect << 4, 1, reasonCode])
        } else {
            buffer.append(contentsOf: [PacketType.disconnect << 4, 0])
        }
    }
}

/// The protocol versions this library speaks, by their CONNECT protocol level.
public enum MQTTVersion: UInt8, Hashable, Sendable, CaseIterable {
    /// MQTT 3.1.1: protocol level 4.
    case v3_1_1 = 4
    /// MQTT 5.0: protocol level 5.
    case v5 = 5

    /// The CONNECT Protocol Level octet (§3.1.2.2).
    public var level: UInt8 { rawValue }
}

/// An MQTT reason code (MQTT 5.0 §2.4) as a close code: the value and the name the standard gives
/// it, upper-cased with underscores (`MALFORMED_PACKET`).
extension WireErrorCode {
    /// MQTT 5 reason code 0x00, Normal disconnection.
    public static let mqttNormalDisconnection = WireErrorCode(value: 0x00, name: "NORMAL_DISCONNECTION")
    /// MQTT 5 reason code 0x81, Malformed Packet: a packet that cannot be parsed by the rules (§4.13).
    public static let mqttMalformedPacket = WireErrorCode(value: 0x81, name: "MALFORMED_PACKET")
    /// MQTT 5 reason code 0x82, Protocol Error: a well-formed packet not allowed here (§4.13).
    public static let mqttProtocolError = WireErrorCode(value: 0x82, name: "PROTOCOL_ERROR")
    /// MQTT 5 reason code 0x8D, Keep Alive timeout (§3.1.2.10).
    public static let mqttKeepAliveTimeout = WireErrorCode(value: 0x8D, name: "KEEP_ALIVE_TIMEOUT")
    /// MQTT 5 reason code 0x80, Unspecified error: what a client's DISCONNECT carries when it gives
    /// up on a silent server (0x8D is the server's code only, §3.14.2.1).
    public static let mqttUnspecifiedError = WireErrorCode(value: 0x80, name: "UNSPECIFIED_ERROR")
    /// MQTT 5 reason code 0x95, Packet too large (§3.1.2.11.4).
    public static let mqttPacketTooLarge = WireErrorCode(value: 0x95, name: "PACKET_TOO_LARGE")
    /// MQTT 5 reason code 0x96, Message rate too high: what a ping flood is closed with.
    public static let mqttMessageRateTooHigh = WireErrorCode(value: 0x96, name: "MESSAGE_RATE_TOO_HIGH")
}
