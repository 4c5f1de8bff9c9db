/// The values a Connection.Tune proposes and a Connection.TuneOk settles (AMQP 0-9-1 §1.4.2.5–6).
public struct AMQPTuning: Hashable, Sendable {
    /// The highest channel number; 0: no limit of the sender's own.
    public var channelMax: UInt16
    /// The largest frame, header and frame-end included, in octets; 0: no limit of the sender's own.
    public var frameMax: UInt32
    /// The heartbeat interval in seconds; 0: no heartbeat.
    public var heartbeat: UInt16

    /// A tuning.
    public init(channelMax: UInt16, frameMax: UInt32, heartbeat: UInt16) {
        self.channelMax = channelMax
        self.frameMax = frameMax
        self.heartbeat = heartbeat
    }

    /// What a client answers a server's `proposal` with when it would itself allow `ours`
    /// (AMQP 0-9-1 §1.4.2.6): each limit the smaller of the two, 0 (no limit) giving way to the
    /// other; the heartbeat the smaller non-zero of the two, 0 only if both are 0.
    public static func negotiated(proposal: AMQPTuning, ours: AMQPTuning) -> AMQPTuning {
        func smallerNonZero<T: FixedWidthInteger>(_ a: T, _ b: T) -> T { a == 0 ? b : (b == 0 ? a : Swift.min(a, b)) }
        return AMQPTuning(channelMax: smallerNonZero(proposal.channelMax, ours.channelMax),
                          frameMax: smallerNonZero(proposal.frameMax, ours.frameMax),
                          heartbeat: smallerNonZero(proposal.heartbeat, ours.heartbeat))
    }
}

/// The methods of the Connection class (class id 10, AMQP 0-9-1 §1.4.2) that open and close a
/// connection, with the arguments this library reads or writes. Tables are checked and skipped;
/// Secure/SecureOk (SASL challenges other than PLAIN's) are not supported.
public enum AMQPConnectionMethod: Hashable, Sendable {
    /// Connection.Start (10, 10): the server's version, properties, mechanisms and locales.
    case start(versionMajor: UInt8, versionMinor: UInt8, product: String, mechanisms: String, locales: String)
    /// Connection.StartOk (10, 11): the client's mechanism, its response, its locale.
    case startOk(mechanism: String, response: [UInt8], locale: String)
    /// Connection.Tune (10, 30): the server's proposal.
    case tune(AMQPTuning)
    /// Connection.TuneOk (10, 31): the client's settlement.
    case tuneOk(AMQPTuning)
    /// Connection.Open (10, 40): the virtual host.
    case open(virtualHost: String)
    /// Connection.OpenOk (10, 41).
    case openOk
    /// Connection.Close (10, 50): why, and which method caused it (0, 0 when none did).
    case close(replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16)
    /// Connection.CloseOk (10, 51).
    case closeOk
    /// Another Connection method (Secure, SecureOk, RabbitMQ's Blocked, Unblocked, UpdateSecret...).
    case other(methodID: UInt16)

    /// The Connection class id.
    public static let classID: UInt16 = 10

    /// The method in a method frame's payload, or nil when it belongs to another class.
    /// - Throws: `AMQPSyntaxError` when its arguments do not parse (502 SYNTAX_ERROR).
    public init?(payload: RawSpan) throws(AMQPSyntaxError) {
        var cursor = 0
        guard try AMQPFields.short(payload, &cursor, "the class id") == Self.classID else { return nil }
        let methodID = try AMQPFields.short(payload, &cursor, "the method id")
        switch methodID {
        case 10:
            let major = try AMQPFields.octet(payload, &cursor, "version-major")
            let minor = try AMQPFields.octet(payload, &cursor, "version-minor")
            var product = ""
            try AMQPFields.table(payload, &cursor, "server-properties") { name, type, value in
                if type == UInt8(ascii: "S"), AMQPFields.string(name) == "product" { product = AMQPFields.string(value) }
            }
            let mechanisms = try AMQPFields.longString(payload, &cursor, "mechanisms")
            let locales = try AMQPFields.longString(payload, &cursor, "locales")
            self = .start(versionMajor: major, versionMinor: minor, product: product,
                          mechanisms: AMQPFields.string(payload.extracting(mechanisms)), locales: AMQPFields.string(payload.extracting(locales)))
        case 11:
            try AMQPFields.table(payload, &cursor, "client-properties")
            let mechanism = try AMQPFields.shortString(payload, &cursor, "mechanism")
            let response = try AMQPFields.longString(payload, &cursor, "response")
            let locale = try AMQPFields.shortString(payload, &cursor, "locale")
            self = .startOk(mechanism: AMQPFields.string(payload.extracting(mechanism)),
                            response: payload.extracting(response).withUnsafeBytes { Array($0) },
                            locale: AMQPFields.string(payload.extracting(locale)))
        case 30, 31:
            let tuning = AMQPTuning(channelMax: try AMQPFields.short(payload, &cursor, "channel-max"),
                                    frameMax: try AMQPFields.long(payload, &cursor, "frame-max"),
                                    heartbeat: try AMQPFields.short(payload, &cursor, "heartbeat"))
            self = methodID == 30 ? .tune(tuning) : .tuneOk(tuning)
        case 40:
            self = .open(virtualHost: AMQPFields.string(payload.extracting(try AMQPFields.shortString(payload, &cursor, "virtual-host"))))
        case 41:
            self = .openOk
        case 50:
            self = .close(replyCode: try AMQPFields.short(payload, &cursor, "reply-code"),
                          replyText: AMQPFields.string(payload.extracting(try AMQPFields.shortString(payload, &cursor, "reply-text"))),
                          classID: try AMQPFields.short(payload, &cursor, "class-id"),
                          methodID: try AMQPFields.short(payload, &cursor, "method-id"))
        case 51:
            self = .closeOk
        default:
            self = .other(methodID: methodID)
        }
    }

    /// Appends this method as a method frame on channel 0 (Connection methods use channel 0,
    /// §4.2.3). Start carries `product` as its only server property, StartOk our minimal
    /// client properties; `.other` appends nothing.
    public func append(to buffer: inout [UInt8]) {
        func method(_ id: UInt16, _ arguments: (inout [UInt8]) -> Void) {
            AMQPFrame.appendMethod(channel: 0, classID: Self.classID, methodID: id, to: &buffer, arguments)
        }
        switch self {
        case .start(let major, let minor, let product, let mechanisms, let locales):
            method(10) {
                $0.append(major)
                $0.append(minor)
                AMQPFields.appendTable(["product": product], to: &$0)
                AMQPFields.appendLongString(Array(mechanisms.utf8), to: &$0)
                AMQPFields.appendLongString(Array(locales.utf8), to: &$0)
            }
        case .startOk(let mechanism, let response, let locale):
            method(11) {
                AMQPFields.appendTable(["product": "swift-heartbeat"], to: &$0)
                AMQPFields.appendShortString(mechanism, to: &$0)
                AMQPFields.appendLongString(response, to: &$0)
                AMQPFields.appendShortString(locale, to: &$0)
            }
        case .tune(let tuning), .tuneOk(let tuning):
            method(self == .tune(tuning) ? 30 : 31) {
                $0.appendBigEndian(UInt64(tuning.channelMax), width: 2)
                $0.appendBigEndian(UInt64(tuning.frameMax), width: 4)
                $0.appendBigEndian(UInt64(tuning.heartbeat), width: 2)
            }
        case .open(let virtualHost):
            method(40) {
                AMQPFields.appendShortString(virtualHost, to: &$0)
                $0.append(0)  // reserved-1 (capabilities): empty shortstr
                $0.append(0)  // reserved-2 (insist): bit, clear
            }
        case .openOk:
            method(41) { $0.append(0) }  // reserved-1 (known-hosts): empty shortstr
        case .close(let code, let text, let classID, let methodID):
            method(50) {
                $0.appendBigEndian(UInt64(code), width: 2)
                AMQPFields.appendShortString(text, to: &$0)
                $0.appendBigEndian(UInt64(classID), width: 2)
                $0.appendBigEndian(UInt64(methodID), width: 2)
            }
        case .closeOk:
            method(51) { _ in }
        case .other:
            break
        }
    }

    /// The method's name, for messages.
    var name: String {
        switch self {
        case .start: return "Connection.Start"
        case .startOk: return "Connection.StartOk"
        case .tune: return "Connection.Tune"
        case .tuneOk: return "Connection.TuneOk"
        case .open: return "Connection.Open"
        case .openOk: return "Connection.OpenOk"
        case .close: return "Connection.Close"
        case .closeOk: return "Connection.CloseOk"
        case .other(let id): return "Connection method \(id)"
        }
    }
}
