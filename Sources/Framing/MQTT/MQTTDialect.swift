/// MQTT 3.1.1 and 5.0 as a plug-in dialect (spec/mqtt.md): control packets delimited by their
/// fixed header; PINGREQ and PINGRESP are the heartbeats, with the in-order liveness model (a
/// PINGRESP carries nothing and answers the oldest unanswered PINGREQ).
///
/// A client opens the session with CONNECT (Clean Session, `keepAlive`, `clientID`) and is open
/// once the server's CONNACK accepts it; it pings, and must ping within the Keep Alive: give its
/// session a `pingInterval` of at most `keepAlive` seconds (an MQTT 5 server's shorter Server Keep
/// Alive shortens it through `negotiatedHeartbeat`), and keep its `trafficCountsAsLiveness` false
/// (the default): the Keep Alive counts what the client sends, so PUBLISHes it receives must not
/// postpone its PINGREQs. A server answers CONNECT with an accepting
/// CONNACK, answers every PINGREQ with a PINGRESP in order, never pings, and declares a client
/// dead after 1.5 × its Keep Alive of silence (MQTT 5.0 §3.1.2.10; 3.1.1 §3.1.2.10).
public struct MQTTDialect: StreamDialect {
    /// The protocol version a client asks for in its CONNECT; a server answers in the version of
    /// the CONNECT it reads.
    public var version: MQTTVersion
    /// The Keep Alive a client sends in its CONNECT, in seconds (0: no keep-alive rule on the server).
    public var keepAlive: UInt16
    /// A client's Client Identifier; nil draws `hb` and 16 hexadecimal digits from the encoder's seed.
    public var clientID: String?
    /// Whether the session runs CONNECT/CONNACK: false when it happened elsewhere and packets
    /// flow from the first octet (for captures and tests; the encoder is open at once).
    public var performsConnect: Bool

    /// MQTT `version` (3.1.1 by default), a client asking for a Keep Alive of `keepAlive` seconds.
    public init(version: MQTTVersion = .v3_1_1, keepAlive: UInt16 = 60, clientID: String? = nil, performsConnect: Bool = true) {
        self.version = version
        self.keepAlive = keepAlive
        self.clientID = clientID
        self.performsConnect = performsConnect
    }

    public var dialect: Dialect { .mqtt }
    public var liveness: LivenessModel { .inOrder }

    /// A server reads a client's packets (CONNECT first), a client a server's (CONNACK first); a
    /// capture (nil role) either direction in any order. `maxFrameSize` bounds the Remaining Length.
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> MQTTPacketDecoder {
        MQTTPacketDecoder(role: role, maxFrameSize: maxFrameSize ?? MQTTPacketDecoder.defaultMaxFrameSize,
                          expectsOpeningPacket: performsConnect)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> MQTTPacketEncoder {
        MQTTPacketEncoder(role: role, version: version, keepAlive: keepAlive, clientID: clientID, randomSeed: randomSeed,
                          performsConnect: performsConnect)
    }

    public var vocabulary: DissectorVocabulary {
        var vocabulary = DissectorVocabulary(ping: "PINGREQ", pong: "PINGRESP") { DissectorVocabulary.name($0, in: MQTTPacket.PacketType.names) }
        vocabulary.heartbeatsCarryPayload = false
        return vocabulary
    }

    /// This dialect with a Keep Alive that a session pinging every `pingInterval` keeps: the
    /// interval rounded up to whole seconds, and at least 1 (clamped to 65,535).
    public func keepingAlive(every pingInterval: Duration) -> MQTTDialect {
        var dialect = self
        let (seconds, attoseconds) = pingInterval.components
        let whole = seconds + (attoseconds > 0 ? 1 : 0)
        dialect.keepAlive = UInt16(clamping: max(whole, 1))
        return dialect
    }
}

extension StreamDialect where Self == MQTTDialect {
    /// MQTT 3.1.1 with a 60-second Keep Alive.
    public static var mqtt: MQTTDialect { MQTTDialect() }
}

extension Dialect {
    /// MQTT 3.1.1 and 5.0, named `mqtt`.
    public static let mqtt = Dialect(name: "mqtt")
}

/// What one MQTT endpoint sends: a client's CONNECT, a server's CONNACK, PINGREQ and PINGRESP,
/// the application's packets, and DISCONNECT; and its reading of the peer's CONNECT, CONNACK and
/// DISCONNECT.
///
/// Until the session is open (`isOpen`: a client has read an accepting CONNACK, a server a
/// CONNECT) pings, pongs and data append nothing. The encoder writes PINGREQ and PINGRESP whatever
/// its role when asked; a server is kept from pinging by its `negotiatedHeartbeat`. Nothing here
/// allocates once open: a ping or a pong is two octets appended.
public struct MQTTPacketEncoder: PongWriting {
    /// Which end this is.
    public let role: ConnectionRole
    /// A client's version; a server's, once it has read CONNECT, is the client's.
    public private(set) var version: MQTTVersion
    /// A client's Keep Alive in seconds, as sent in its CONNECT.
    public let keepAlive: UInt16
    /// A client's Client Identifier, as sent in its CONNECT.
    public let clientID: String
    /// See `MQTTDialect.performsConnect`.
    public let performsConnect: Bool
    /// Whether the session is open: CONNACK accepted (client), CONNECT read (server).
    public private(set) var isOpen: Bool
    /// Whether we sent DISCONNECT or read the peer's: nothing is sent after it.
    public private(set) var sentClose = false
    /// A server: the Keep Alive of the client's CONNECT, in seconds; nil before it.
    public private(set) var clientKeepAlive: UInt16?
    /// A client: the Server Keep Alive of an MQTT 5 CONNACK, in seconds; nil when absent.
    public private(set) var serverKeepAlive: UInt16?

    /// An encoder for `role`; `randomSeed` draws the Client Identifier when `clientID` is nil.
    public init(role: ConnectionRole, version: MQTTVersion = .v3_1_1, keepAlive: UInt16 = 60, clientID: String? = nil,
                randomSeed: UInt64, performsConnect: Bool = true) {
        self.role = role
        self.version = version
        self.keepAlive = keepAlive
        self.performsConnect = performsConnect
        if let clientID {
            self.clientID = clientID
        } else {
            var random = SplitMix64(seed: randomSeed)
            let digits = String(random.next(), radix: 16)
            self.clientID = "hb" + String(repeating: "0", count: 16 - digits.count) + digits
        }
        self.isOpen = !performsConnect
    }

    /// NORMAL_DISCONNECTION, PROTOCOL_ERROR, MESSAGE_RATE_TOO_HIGH for a ping flood, and for a
    /// dead peer KEEP_ALIVE_TIMEOUT from a server or UNSPECIFIED_ERROR from a client (0x8D is
    /// sent by servers only, §3.14.2.1) (MQTT 5 reason codes, §2.4).
    public var closeCodes: CloseCodes {
        CloseCodes(noError: .mqttNormalDisconnection, protocolError: .mqttProtocolError,
                   enhanceYourCalm: .mqttMessageRateTooHigh,
                   livenessTimeout: role == .server ? .mqttKeepAliveTimeout : .mqttUnspecifiedError)
    }

    /// A server never pings (MQTT §3.12: PINGREQ is client to server). Until it has read CONNECT it
    /// allows `NegotiatedHeartbeat.handshakeTimeout` of silence (§3.1.4); once it has read CONNECT
    /// with a Keep Alive K > 0, it declares the client dead after 1.5 × K seconds without an octet
    /// (§3.1.2.10; K = 0: no rule). A client keeps its configuration's schedule unless an MQTT 5
    /// CONNACK's Server Keep Alive is shorter than its own Keep Alive: then it pings at that.
    public var negotiatedHeartbeat: NegotiatedHeartbeat? {
        switch role {
        case .server:
            // Before CONNECT: a client that never sends it is dropped after the handshake timeout.
            guard let keepAlive = clientKeepAlive else { return .awaitingHandshake }
            guard keepAlive > 0 else { return NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil) }
            return NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: .milliseconds(1500 * Int(keepAlive)))
        case .client:
            guard let server = serverKeepAlive, server > 0, keepAlive == 0 || server < keepAlive else { return nil }
            return NegotiatedHeartbeat(pingInterval: .seconds(Int(server)), peerSilenceLimit: nil)
        }
    }

    /// PINGREQ and PINGRESP take two octets.
    public var maxHeartbeatLength: Int { 2 }

    /// The largest Remaining Length: 268,435,455 octets (§1.5.5).
    public var maxDataPayload: Int { MQTTPacket.maxRemainingLength }

    /// A client's CONNECT; a server sends nothing first.
    public mutating func appendPreface(to buffer: inout [UInt8]) {
        guard performsConnect, role == .client else { return }
        MQTTPacket.appendConnect(version: version, keepAlive: keepAlive, clientID: clientID, to: &buffer)
    }

    /// PINGREQ `C0 00`; the payload is ignored (the in-order model).
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        buffer.append(MQTTPacket.pingRequest[0])
        buffer.append(MQTTPacket.pingRequest[1])
    }

    /// PINGRESP `D0 00`: it echoes nothing.
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        buffer.appendOctets(atMost: maxHeartbeatLength) { writePong(echoing: payload, into: $0) }
    }

    /// PINGRESP `D0 00` in one store; nothing before the connection is open or after DISCONNECT.
    public mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int {
        guard isOpen, !sentClose else { return 0 }
        precondition(destination.count >= maxHeartbeatLength, "a PINGRESP takes 2 octets")
        let packet = UInt16(MQTTPacket.pingResponse[0]) << 8 | UInt16(MQTTPacket.pingResponse[1])
        destination.baseAddress.unsafelyUnwrapped.storeBytes(of: packet.bigEndian, as: UInt16.self)
        return maxHeartbeatLength
    }

    /// DISCONNECT: a client's `E0 00` (3.1.1) or `E0 01 RC` (5, `code.value` as the reason code
    /// when it fits an octet, else 0x80 Unspecified error); an MQTT 5 server's once open. An MQTT
    /// 3.1.1 server sends nothing (DISCONNECT is client to server there, §3.14), nor does a server
    /// before CONNECT. The reason text is not sent.
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        guard !sentClose else { return }
        sentClose = true
        if role == .server, !isOpen || version == .v3_1_1 { return }
        MQTTPacket.appendDisconnect(version: version, reasonCode: code.value <= 0xFF ? UInt8(code.value) : 0x80, to: &buffer)
    }

    /// One packet: the fixed header, then `payload` as its variable header and payload. `type` is
    /// a packet type 1–15 (sent with the flags §2.1.3 requires, PUBLISH with flags 0: QoS 0, no
    /// DUP, no RETAIN), or a whole first octet 16–255 (type << 4 | flags, e.g. 0x32 for a QoS 1
    /// PUBLISH); nil, 0 and larger values send a QoS 0 PUBLISH (0x30).
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        let first: UInt8
        switch type {
        case let type? where (1...15).contains(type):
            first = UInt8(type) << 4 | (MQTTPacket.requiredFlags(of: UInt8(type)) ?? 0)
        case let type? where (16...255).contains(type):
            first = UInt8(type)
        default:
            first = MQTTPacket.PacketType.publish << 4
        }
        MQTTPacket.appendFixedHeader(first, remainingLength: min(payload.byteCount, MQTTPacket.maxRemainingLength), to: &buffer)
        buffer.append(payload.extracting(0..<min(payload.byteCount, MQTTPacket.maxRemainingLength)))
    }

    /// A server answers CONNECT with an accepting CONNACK in the client's version (or refuses an
    /// unknown protocol level with return code 1 and fails); a client checks CONNACK (a refusal
    /// fails the session: "CONNACK refused: not authorized (5)"). Both are consumed. DISCONNECT is
    /// the peer closing (MQTT 5's reason code, else 0); everything else is delivered.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        switch UInt8(truncatingIfNeeded: frame.type) {
        case MQTTPacket.PacketType.connect where role == .server && performsConnect:
            let request: MQTTConnect.Request
            do {
                request = try MQTTConnect.parseRequest(payload)
            } catch {
                if error.identifier == MQTTRule.protocolLevel.identifier {
                    MQTTPacket.appendConnectAcknowledgement(version: .v3_1_1, code: 0x01, to: &reply)
                }
                sentClose = true
                throw error
            }
            version = request.version
            clientKeepAlive = request.keepAlive
            MQTTPacket.appendConnectAcknowledgement(version: version, to: &reply)
            isOpen = true
            return .consumed
        case MQTTPacket.PacketType.connack where role == .client && performsConnect:
            let acknowledgement = try MQTTConnect.parseAcknowledgement(payload, version: version)
            guard acknowledgement.code == 0 else {
                sentClose = true
                throw MQTTRule.connackRefused.violation(
                    "CONNACK refused: \(MQTTConnect.refusalDescription(acknowledgement.code)) (\(acknowledgement.code))")
            }
            serverKeepAlive = acknowledgement.serverKeepAlive
            isOpen = true
            return .consumed
        case MQTTPacket.PacketType.disconnect:
            sentClose = true
            let code = payload.byteCount > 0 ? payload.unsafeLoad(fromByteOffset: 0, as: UInt8.self) : 0
            return .peerClosing(code: UInt64(code), reason: "", deliver: false)
        default:
            return .deliver
        }
    }
}
