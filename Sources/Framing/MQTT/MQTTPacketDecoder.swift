/// Delimits MQTT 3.1.1 and 5.0 control packets in a byte stream (spec/mqtt.md §3): the fixed
/// header's packet type and flags, then the Remaining Length as a Variable Byte Integer of 1 to 4
/// octets, then that many octets. PINGREQ (`C0 00`) is a heartbeat request and PINGRESP
/// (`D0 00`) its answer, both payload-less (the in-order liveness model); every other packet is a
/// business frame whose type is the packet type (1–15), flags the low nibble of the first octet,
/// and octets the Remaining Length's: variable header and payload.
///
/// With a role it also checks direction (a server reads what clients send) and order (a server
/// reads CONNECT first and only once; a client reads CONNACK, or MQTT 5's AUTH, first, and one
/// CONNACK). A capture (nil role) reads either direction in any order.
public struct MQTTPacketDecoder: Sendable {
    /// Our role: a `.server` reads a client's packets, a `.client` a server's; nil reads a capture.
    public let role: ConnectionRole?
    /// The largest Remaining Length accepted, in octets (16...268,435,455); checked as soon as the
    /// fixed header is read, before anything is buffered.
    public let maxFrameSize: Int
    /// Whether the packet that opens the session (CONNECT for a server, CONNACK for a client,
    /// which MQTT 5's AUTH may precede) has been read.
    public private(set) var sawOpeningPacket = false

    /// The default maximum Remaining Length: 1 MiB. MQTT allows up to 268,435,455 (256 MiB);
    /// raise it with `maxFrameSize` where larger messages are expected.
    public static let defaultMaxFrameSize = 1 << 20

    /// A decoder for the packets a peer sends to a `role` endpoint (nil: a capture).
    /// `expectsOpeningPacket` false: the session was opened elsewhere, so CONNECT or CONNACK is
    /// not awaited first (a second one is still refused).
    public init(role: ConnectionRole?, maxFrameSize: Int = MQTTPacketDecoder.defaultMaxFrameSize, expectsOpeningPacket: Bool = true) {
        self.role = role
        self.maxFrameSize = min(max(maxFrameSize, 16), MQTTPacket.maxRemainingLength)
        self.sawOpeningPacket = !expectsOpeningPacket
    }

    /// A packet's fixed header: its first octet and the Remaining Length.
    struct FixedHeader {
        var type: UInt8
        var flags: UInt8
        var headerLength: Int
        var remainingLength: Int
    }

    /// The fixed header at the front of `prefix`, checked; `.needMore` through `need` when cut short.
    func fixedHeader(_ prefix: RawSpan) throws(FramingError.Reason) -> (FixedHeader?, need: Int) {
        guard prefix.byteCount >= 1 else { return (nil, 1) }
        let first = prefix.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        let type = first >> 4, flags = first & 0x0F
        guard type != MQTTPacket.PacketType.reserved else { throw MQTTRule.reservedType.violation("packet type 0 is reserved") }
        if let required = MQTTPacket.requiredFlags(of: type) {
            guard flags == required else {
                throw MQTTRule.fixedHeaderFlags.violation("\(Self.name(type)) with flags \(Self.binary(flags)); they must be \(Self.binary(required))")
            }
        } else if flags & 0b0110 == 0b0110 {
            throw MQTTRule.publishQoS3.violation("PUBLISH with both QoS bits set")
        }
        switch role {
        case .server?:
            guard MQTTPacket.clientSends(type) else { throw MQTTRule.wrongDirection.violation("a client sent \(Self.name(type)), which only a server sends") }
            if !sawOpeningPacket, type != MQTTPacket.PacketType.connect {
                throw MQTTRule.firstPacket.violation("the client's first packet is \(Self.name(type)); it must be CONNECT")
            }
            if sawOpeningPacket, type == MQTTPacket.PacketType.connect { throw MQTTRule.secondOpening.violation("a second CONNECT") }
        case .client?:
            guard MQTTPacket.serverSends(type) else { throw MQTTRule.wrongDirection.violation("a server sent \(Self.name(type)), which only a client sends") }
            if !sawOpeningPacket, type != MQTTPacket.PacketType.connack, type != MQTTPacket.PacketType.auth {
                throw MQTTRule.firstPacket.violation("the server's first packet is \(Self.name(type)); it must be CONNACK")
            }
            if sawOpeningPacket, type == MQTTPacket.PacketType.connack { throw MQTTRule.secondOpening.violation("a second CONNACK") }
        case nil:
            break
        }
        switch MQTTPacket.readVariableByteInteger(prefix, at: 1) {
        case .needMore(let need):
            return (nil, need)
        case .tooLong:
            throw MQTTRule.remainingLengthTooLong.violation("\(Self.name(type)) Remaining Length has a fifth octet")
        case .nonMinimal(let value, let length):
            throw MQTTRule.remainingLengthNonMinimal.violation("\(Self.name(type)) Remaining Length \(value) in \(length) octets; it takes \(MQTTPacket.variableByteIntegerLength(of: value))")
        case .value(let remaining, let length):
            if type == MQTTPacket.PacketType.pingreq || type == MQTTPacket.PacketType.pingresp {
                guard remaining == 0 else { throw MQTTRule.heartbeatLength.violation("\(Self.name(type)) with Remaining Length \(remaining); it must be 0") }
            }
            guard remaining <= maxFrameSize else { throw .frameTooLarge(length: UInt64(remaining), limit: maxFrameSize) }
            return (FixedHeader(type: type, flags: flags, headerLength: 1 + length, remainingLength: remaining), 0)
        }
    }

    private static func name(_ type: UInt8) -> String { MQTTPacket.PacketType.names[Int(type)] }

    private static func binary(_ flags: UInt8) -> String {
        let digits = String(flags, radix: 2)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

extension MQTTPacketDecoder: StreamFrameDecoder {
    public static var dialect: Dialect { .mqtt }

    /// PACKET_TOO_LARGE (0x95) for a Remaining Length over the limit; MALFORMED_PACKET (0x81)
    /// otherwise. The decoder's own rules carry their codes in `.violation`.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        switch reason {
        case .frameTooLarge: return .mqttPacketTooLarge
        default: return .mqttMalformedPacket
        }
    }

    /// The fixed header and at most `maxFrameSize` octets.
    public var maxFrameLength: Int { MQTTPacket.maxFixedHeaderLength + maxFrameSize }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        let (header, need) = try fixedHeader(prefix)
        guard let header else { return .needMore(need) }
        return .frame(length: header.headerLength + header.remainingLength)
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        guard let header = try fixedHeader(frame).0, header.headerLength + header.remainingLength == frame.byteCount else {
            preconditionFailure("decode(frame:) called on octets that boundary(of:) did not delimit")
        }
        if role == nil || header.type == MQTTPacket.PacketType.connect || header.type == MQTTPacket.PacketType.connack {
            sawOpeningPacket = true
        }
        let body = header.headerLength..<frame.byteCount
        switch header.type {
        case MQTTPacket.PacketType.pingreq: return DecodedFrame(item: .ping(.empty), bytes: body)
        case MQTTPacket.PacketType.pingresp: return DecodedFrame(item: .pong(.empty), bytes: body)
        default:
            return DecodedFrame(item: .business(BusinessFrame(type: UInt64(header.type), flags: header.flags, length: header.remainingLength)),
                                bytes: body)
        }
    }
}

/// The MQTT rules this library enforces, each with the reason identifier the vectors spell it
/// with and its reason code (spec/mqtt.md §7).
enum MQTTRule: Hashable, Sendable, CaseIterable {
    case reservedType, fixedHeaderFlags, publishQoS3, remainingLengthTooLong, remainingLengthNonMinimal, heartbeatLength
    case wrongDirection, firstPacket, secondOpening
    case malformedConnect, protocolName, connectReservedFlag, protocolLevel, malformedConnack, malformedProperties, connackRefused

    /// The reason identifier (`RuleViolation.identifier`).
    var identifier: String {
        switch self {
        case .reservedType: return "mqtt-reserved-packet-type"
        case .fixedHeaderFlags: return "mqtt-fixed-header-flags"
        case .publishQoS3: return "mqtt-publish-qos-3"
        case .remainingLengthTooLong: return "mqtt-remaining-length-too-long"
        case .remainingLengthNonMinimal: return "mqtt-remaining-length-non-minimal"
        case .heartbeatLength: return "mqtt-ping-length"
        case .wrongDirection: return "mqtt-wrong-direction"
        case .firstPacket: return "mqtt-first-packet"
        case .secondOpening: return "mqtt-second-opening"
        case .malformedConnect: return "mqtt-malformed-connect"
        case .protocolName: return "mqtt-protocol-name"
        case .connectReservedFlag: return "mqtt-connect-reserved-flag"
        case .protocolLevel: return "mqtt-protocol-level"
        case .malformedConnack: return "mqtt-malformed-connack"
        case .malformedProperties: return "mqtt-malformed-properties"
        case .connackRefused: return "mqtt-connack-refused"
        }
    }

    /// MALFORMED_PACKET for a packet that cannot be parsed, PROTOCOL_ERROR for one that is not
    /// allowed where it came (MQTT 5 §4.13); a refused CONNACK closes normally (the server is closing).
    var code: WireErrorCode {
        switch self {
        case .wrongDirection, .firstPacket, .secondOpening, .protocolName: return .mqttProtocolError
        case .protocolLevel: return WireErrorCode(value: 0x84, name: "UNSUPPORTED_PROTOCOL_VERSION")
        case .connackRefused: return .mqttNormalDisconnection
        default: return .mqttMalformedPacket
        }
    }

    /// This rule broken, as the seam spells it.
    func violation(_ detail: String) -> FramingError.Reason {
        .violation(RuleViolation(identifier, detail, code: code))
    }
}
