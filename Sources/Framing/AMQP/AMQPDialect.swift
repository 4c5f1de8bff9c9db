/// AMQP 0-9-1 as a plug-in dialect (spec/amqp.md): the protocol header and the connection
/// handshake (Start/StartOk with PLAIN, Tune/TuneOk, Open/OpenOk), then frames. Heartbeat frames
/// are the heartbeats, with the *unilateral* liveness model: each side beats at the negotiated
/// interval, nothing answers a beat, and a peer silent — not one octet — for two intervals is
/// dead (AMQP 0-9-1 §4.2.7). Method, content header and body frames are business frames.
///
/// The heartbeat is negotiated on the wire, so the encoder reports it through
/// `negotiatedHeartbeat`: no beats before Connection.Tune, then the interval both sides agreed
/// (none when it is 0).
public struct AMQPDialect: StreamDialect {
    /// The heartbeat interval we want, in seconds (a client's TuneOk, a server's Tune); 0: none
    /// of our own (a client then takes the server's proposal).
    public var heartbeat: UInt16
    /// The largest frame we accept and propose, header and frame-end included (at least 4096).
    public var frameMax: Int
    /// The highest channel number we allow; 0: no limit of ours.
    public var channelMax: UInt16
    /// The PLAIN credentials our client presents (RabbitMQ's default user is guest/guest,
    /// allowed from loopback only).
    public var username: String
    /// See `username`.
    public var password: String
    /// The virtual host our client opens.
    public var virtualHost: String
    /// Whether the session runs the protocol header and connection handshake; false when frames
    /// start at the first octet (captures, tests, a connection opened elsewhere).
    public var performsHandshake: Bool

    /// AMQP 0-9-1 with a `heartbeat`-second interval (RabbitMQ's default, 60), frame-max 128 KiB,
    /// and a client that logs in as guest/guest on the virtual host `/`.
    public init(heartbeat: UInt16 = 60, frameMax: Int = AMQPFrame.defaultFrameMax, channelMax: UInt16 = 0,
                username: String = "guest", password: String = "guest", virtualHost: String = "/",
                performsHandshake: Bool = true) {
        self.heartbeat = heartbeat
        self.frameMax = Swift.min(Swift.max(frameMax, AMQPFrame.minFrameMax), Int(UInt32.max))
        self.channelMax = channelMax
        self.username = username
        self.password = password
        self.virtualHost = virtualHost
        self.performsHandshake = performsHandshake
    }

    public var dialect: Dialect { .amqp }
    /// Two silent intervals (AMQP 0-9-1 §4.2.7).
    public var liveness: LivenessModel { .unilateral(deadAfterIntervals: 2) }

    /// A server expects the protocol header; a client reads frames and recognises a refusal; a
    /// capture takes a protocol header at its start if there is one. `maxFrameSize` is the
    /// frame-max (nil: `frameMax`).
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> AMQPFrameDecoder {
        let header: AMQPFrameDecoder.HeaderPolicy
        switch role {
        case .server?: header = performsHandshake ? .expect : .none
        case .client?: header = performsHandshake ? .refusal : .none
        case nil: header = .optional
        }
        return AMQPFrameDecoder(maxFrameSize: maxFrameSize ?? frameMax, header: header)
    }

    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> AMQPFrameEncoder {
        AMQPFrameEncoder(role: role, dialect: self)
    }

    /// The proposal our server sends in Connection.Tune, and the limits our client settles for.
    public var tuning: AMQPTuning {
        AMQPTuning(channelMax: channelMax, frameMax: UInt32(frameMax), heartbeat: heartbeat)
    }

    public var vocabulary: DissectorVocabulary {
        DissectorVocabulary(ping: "HEARTBEAT", showsFlagsAndStream: true, heartbeatsCarryPayload: false) { type in
            type == AMQPFrame.protocolHeaderType ? "PROTOCOL-HEADER"
                : DissectorVocabulary.name(type, in: ["", "METHOD", "HEADER", "BODY", "", "", "", "", "HEARTBEAT"])
        }
    }
}

extension StreamDialect where Self == AMQPDialect {
    /// AMQP 0-9-1 with a 60-second heartbeat, as a guest client of the virtual host `/`.
    public static var amqp: AMQPDialect { AMQPDialect() }
}

extension Dialect {
    /// AMQP 0-9-1, named `amqp`.
    public static let amqp = Dialect(name: "amqp")
}

/// What one AMQP 0-9-1 endpoint sends: the protocol header and its side of the connection
/// handshake, heartbeat frames, the application's frames and Connection.Close; and its answers
/// to the peer's handshake methods and Connection.Close (spec/amqp.md §4).
///
/// `isOpen` is false until Connection.OpenOk (sent by a server, received by a client): a session
/// holds business writes and beats until then. Heartbeat frames themselves are written whenever
/// asked, even after a Close (AMQP 0-9-1 §4.2.7: heartbeating continues until the socket closes),
/// without allocating once 8 octets are reserved.
public struct AMQPFrameEncoder: PongWriting {
    /// Where the connection handshake stands.
    public enum Phase: Hashable, Sendable {
        /// Client: the protocol header is sent, Connection.Start awaited. Server: the protocol header awaited.
        case awaitingStart
        /// Server: Start sent, StartOk awaited.
        case awaitingStartOk
        /// Client: StartOk sent, Tune awaited.
        case awaitingTune
        /// Server: Tune sent, TuneOk awaited.
        case awaitingTuneOk
        /// Server: TuneOk read, Open awaited.
        case awaitingOpen
        /// Client: TuneOk and Open sent, OpenOk awaited.
        case awaitingOpenOk
        /// The connection is open.
        case open
    }

    /// Which end this is.
    public let role: ConnectionRole
    /// The settings: credentials, our heartbeat and limits.
    public let dialect: AMQPDialect
    /// Where the handshake stands.
    public private(set) var phase: Phase
    /// The limits and heartbeat settled by Tune/TuneOk; nil before.
    public private(set) var tuning: AMQPTuning?
    /// The server's `product` property (Connection.Start), for people; empty until then.
    public private(set) var peerProduct = ""
    /// Whether we sent Connection.Close: nothing but heartbeats and CloseOk is sent after it.
    public private(set) var sentClose = false

    /// An encoder for `role` speaking `dialect`.
    public init(role: ConnectionRole, dialect: AMQPDialect = AMQPDialect()) {
        self.role = role
        self.dialect = dialect
        self.phase = dialect.performsHandshake ? .awaitingStart : .open
    }

    public var isOpen: Bool { phase == .open }

    /// The heartbeat schedule the wire settled: no beats until the handshake tuned the connection
    /// (and the peer dead after `NegotiatedHeartbeat.handshakeTimeout` of silence meanwhile), then the negotiated interval and twice it (AMQP 0-9-1
    /// §4.2.7), or neither when the negotiated heartbeat is 0. Nil — the session's own schedule —
    /// when this encoder runs no handshake.
    public var negotiatedHeartbeat: NegotiatedHeartbeat? {
        guard dialect.performsHandshake else { return nil }
        guard let tuning else { return .awaitingHandshake }
        let seconds = tuning.heartbeat
        guard seconds > 0 else { return NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil) }
        return NegotiatedHeartbeat(pingInterval: .seconds(Int(seconds)), peerSilenceLimit: .seconds(2 * Int(seconds)))
    }

    /// REPLY_SUCCESS (200), FRAME_ERROR (501) for a broken framing rule, NOT_ALLOWED (530) for
    /// abuse, and for a liveness timeout no Close at all (`WireErrorCode.amqpHeartbeatTimeout`;
    /// spec/amqp.md §6).
    public var closeCodes: CloseCodes {
        CloseCodes(noError: .amqp(.replySuccess), protocolError: .amqp(.frameError), enhanceYourCalm: .amqp(.notAllowed),
                   livenessTimeout: .amqpHeartbeatTimeout)
    }

    /// The heartbeat frame's 8 octets.
    public var maxHeartbeatLength: Int { AMQPFrame.overhead }

    /// No limit: `appendData` splits a payload into frames of at most the negotiated frame-max itself.
    public var maxDataPayload: Int { Int.max }

    /// The largest payload of one frame we write: the settled frame-max (ours before tuning) less 8.
    public var maxFramePayload: Int {
        let frameMax = tuning.map { $0.frameMax == 0 ? dialect.frameMax : Int($0.frameMax) } ?? dialect.frameMax
        return Swift.max(frameMax, AMQPFrame.minFrameMax) - AMQPFrame.overhead
    }

    /// A client's protocol header (AMQP 0-9-1 §4.2.2); a server sends nothing first.
    public mutating func appendPreface(to buffer: inout [UInt8]) {
        guard dialect.performsHandshake, role == .client else { return }
        buffer.append(contentsOf: AMQPFrame.protocolHeader)
    }

    /// A heartbeat frame; the payload is ours only (nothing carries it on the wire).
    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        AMQPFrame.appendHeartbeat(to: &buffer)
    }

    /// Nothing: no frame answers an AMQP heartbeat (the unilateral model never asks for one).
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {}

    /// Nothing (see `appendPong(echoing:to:)`): 0 octets.
    public mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int { 0 }

    /// Connection.Close with `code` (a reply code; 541 INTERNAL_ERROR if it is none) and `reason`
    /// (cut to 255 octets), class and method ids 0. Nothing for `amqpHeartbeatTimeout` (§4.2.7) or
    /// for a client before the server's Start; before the client's protocol header is accepted, a
    /// server writes its own protocol header instead, as AMQP 0-9-1 §4.2.2 says to refuse one.
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        guard !sentClose, code != .amqpHeartbeatTimeout else { return }
        if dialect.performsHandshake, phase == .awaitingStart {
            guard role == .server else { return }
            sentClose = true
            buffer.append(contentsOf: AMQPFrame.protocolHeader)
            return
        }
        sentClose = true
        let known = code.value <= UInt64(UInt16.max) && AMQPReplyCode(rawValue: UInt16(code.value)) != nil
        let replyCode = known ? UInt16(code.value) : AMQPReplyCode.internalError.rawValue
        AMQPConnectionMethod.close(replyCode: replyCode, replyText: reason, classID: 0, methodID: 0).append(to: &buffer)
    }

    /// With `type` nil (or a type whose low octet is not 1, 2 or 3), `payload` is whole AMQP
    /// frames the application encoded itself, appended as they are. Otherwise the low octet is the
    /// frame type and the next 16 bits the channel (`AMQPFrame.dataType(frameType:channel:)`):
    /// `payload` goes out in frames of that type: a body split at `maxFramePayload`; a method or a
    /// content header always as one frame (they cannot be split, §4.2.6), so one longer than the
    /// settled frame-max is refused by the peer with 501 FRAME_ERROR rather than cut here. Nothing
    /// before the connection is open or after our Close.
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        guard isOpen, !sentClose else { return }
        guard let type, (1...3).contains(type & 0xFF) else {
            buffer.append(payload)
            return
        }
        let channel = UInt16(truncatingIfNeeded: type >> 8)
        let pieceLength = type & 0xFF == UInt64(AMQPFrame.FrameType.body) ? maxFramePayload : Int.max
        var start = 0
        repeat {
            let end = start + Swift.min(pieceLength, payload.byteCount - start)
            AMQPFrame.appendFrame(type: UInt8(type & 0xFF), channel: channel, payload: payload.extracting(start..<end), to: &buffer)
            start = end
        } while start < payload.byteCount
    }

    /// Runs our side of the connection handshake on the peer's protocol header and Connection
    /// methods (consumed), answers Connection.Close with CloseOk and reports it; every other
    /// frame is delivered once the connection is open.
    /// - Throws: 502 SYNTAX_ERROR for arguments that do not parse, 503 COMMAND_INVALID for a frame
    ///   the handshake does not expect, 403 ACCESS_REFUSED for a mechanism other than PLAIN, 530
    ///   NOT_ALLOWED for a TuneOk whose frame-max exceeds ours, 540 NOT_IMPLEMENTED for a Start of
    ///   another version.
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        do {
            return try handle(frame, payload: payload, reply: &reply)
        } catch {
            throw error.reason
        }
    }

    private mutating func handle(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(AMQPFailure) -> InboundDisposition {
        if frame.type == AMQPFrame.protocolHeaderType {
            guard role == .server, phase == .awaitingStart else { return .ignored }
            phase = .awaitingStartOk
            AMQPConnectionMethod.start(versionMajor: 0, versionMinor: 9, product: "swift-heartbeat", mechanisms: "PLAIN",
                                       locales: "en_US").append(to: &reply)
            return .consumed
        }
        let method: AMQPConnectionMethod?
        if frame.type == UInt64(AMQPFrame.FrameType.method), frame.streamID == 0 {
            do { method = try AMQPConnectionMethod(payload: payload) } catch { throw .rule(.methodSyntax, error.detail) }
        } else {
            method = nil
        }
        if case .close(let code, let text, _, _)? = method {
            AMQPConnectionMethod.closeOk.append(to: &reply)
            return .peerClosing(code: UInt64(code), reason: text, deliver: false)
        }
        if phase == .open {
            if method == .closeOk { return .consumed }
            return .deliver
        }
        guard let method else {
            throw .rule(.unexpectedMethod, "a frame of type \(frame.type) on channel \(frame.streamID) before the connection is open")
        }
        switch (phase, method) {
        case (.awaitingStart, .start(let major, let minor, let product, let mechanisms, _)) where role == .client:
            guard major == 0, minor == 9 else {
                throw .rule(.unsupportedVersion, "Connection.Start offers AMQP \(major)-\(minor); this implementation speaks 0-9")
            }
            guard mechanisms.split(separator: " ").contains("PLAIN") else {
                throw .rule(.mechanism, "the server offers the mechanisms \"\(mechanisms)\"; this implementation speaks PLAIN")
            }
            peerProduct = product
            let response = [0] + Array(dialect.username.utf8) + [0] + Array(dialect.password.utf8)
            AMQPConnectionMethod.startOk(mechanism: "PLAIN", response: response, locale: "en_US").append(to: &reply)
            phase = .awaitingTune
        case (.awaitingStartOk, .startOk(let mechanism, _, _)):
            guard mechanism == "PLAIN" else {
                throw .rule(.mechanism, "the client chose the mechanism \"\(mechanism)\"; this server offers PLAIN")
            }
            AMQPConnectionMethod.tune(dialect.tuning).append(to: &reply)
            phase = .awaitingTuneOk
        case (.awaitingTune, .tune(let proposal)):
            let settled = AMQPTuning.negotiated(proposal: proposal, ours: dialect.tuning)
            tuning = settled
            AMQPConnectionMethod.tuneOk(settled).append(to: &reply)
            AMQPConnectionMethod.open(virtualHost: dialect.virtualHost).append(to: &reply)
            phase = .awaitingOpenOk
        case (.awaitingTuneOk, .tuneOk(let settled)):
            guard settled.frameMax >= UInt32(AMQPFrame.minFrameMax), settled.frameMax <= UInt32(dialect.frameMax) else {
                throw .rule(.tuneFrameMax, "Connection.TuneOk settles frame-max \(settled.frameMax); this server proposed \(dialect.frameMax)")
            }
            tuning = settled
            phase = .awaitingOpen
        case (.awaitingOpen, .open):
            AMQPConnectionMethod.openOk.append(to: &reply)
            phase = .open
        case (.awaitingOpenOk, .openOk):
            phase = .open
        default:
            throw .rule(.unexpectedMethod, "\(method.name) while \(phase) as a \(role)")
        }
        return .consumed
    }
}
