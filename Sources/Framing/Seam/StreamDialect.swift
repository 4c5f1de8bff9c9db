/// A stream dialect: the plug-in that teaches the generic machinery (`StreamDemuxer`,
/// `HeartbeatSession`, the connections in `Transports`, the dissector) one wire format. One type per
/// dialect, in its own folder, brings everything dialect-specific: its frame decoder, its encoder
/// (pings, pongs, close, business frames, the preface or opening handshake, replies to the peer's
/// control frames), its error codes and its liveness model. The generic code holds no switch over
/// dialects and calls these requirements through generics, never an existential, on the per-frame
/// path.
///
/// A protocol implementer brings their own dialect by conforming, from outside this package:
///
/// ```swift
/// struct MyDialect: StreamDialect {
///     var dialect: Dialect { Dialect(name: "mine") }
///     var liveness: LivenessModel { .echo }
///     func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> MyDecoder { MyDecoder() }
///     func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> MyEncoder { MyEncoder() }
/// }
/// ```
public protocol StreamDialect: Sendable {
    /// Decodes the frames the peer sends, in single steps.
    associatedtype Decoder: StreamFrameDecoder
    /// Encodes the frames we send, and answers the peer's control frames.
    associatedtype Encoder: StreamFrameEncoder

    /// The dialect's identity, copied into errors and events.
    var dialect: Dialect { get }
    /// How its heartbeats prove the peer alive.
    var liveness: LivenessModel { get }

    /// A decoder for what the peer sends to a `role` endpoint, with `maxFrameSize` as the largest
    /// payload accepted (nil: the dialect's default). A nil `role` decodes a capture: either
    /// direction, the preface or handshake optional where the dialect can tell. (`Demuxer(dialect:)`
    /// and `DialectRegistry.demuxer(for:role:maxFrameSize:)` have their own capture defaults and do
    /// not all pass nil on: they read a WebSocket capture as a client, unmasked frames only.)
    func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> Decoder

    /// An encoder for what a `role` endpoint sends. `randomSeed` seeds whatever the dialect must
    /// make unpredictable (WebSocket masking keys and handshake nonce); give each connection its own.
    func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> Encoder

    /// How `hb decode` and the `Dissector` name this dialect's frames.
    var vocabulary: DissectorVocabulary { get }
}

extension StreamDialect {
    /// PING, PONG, and every business frame named FRAME.
    public var vocabulary: DissectorVocabulary { DissectorVocabulary() }
}

/// The outbound half of a stream dialect for one connection, and its answers to the peer's control
/// frames. Every method appends to a caller's buffer: with `maxHeartbeatLength` reserved, pings and
/// pongs are encoded without allocating.
public protocol StreamFrameEncoder: Sendable {
    /// The codes this dialect closes with (GOAWAY, Close frame, CONNECTION_CLOSE).
    var closeCodes: CloseCodes { get }
    /// The most octets one `appendPing` or `appendPong` appends.
    var maxHeartbeatLength: Int { get }
    /// The largest business payload `appendData` puts in one frame; longer writes are split.
    var maxDataPayload: Int { get }
    /// Whether the connection is open for frames: false while an opening handshake is under way
    /// (a WebSocket client before the server's 101). Until then a session holds its pings and a
    /// connection holds business writes; only the preface and replies go out.
    var isOpen: Bool { get }
    /// The heartbeat schedule the opening handshake settled (an MQTT CONNECT's Keep Alive on the
    /// server, AMQP's Connection.Tune), or nil for the configuration's own. The session reads it
    /// when it is created, after the preface, and after every `inbound` call, and applies it to its
    /// engine whenever it changes. A dialect that must not ping until its handshake settles the
    /// schedule reports `NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil)` from the start.
    var negotiatedHeartbeat: NegotiatedHeartbeat? { get }

    /// Appends what this side sends first: a connection preface, an opening handshake request,
    /// nothing. Called once, before anything else is encoded.
    mutating func appendPreface(to buffer: inout [UInt8])
    /// Appends a heartbeat request. Dialects whose pings carry nothing (MQTT, RESP) ignore `payload`.
    mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8])
    /// Appends the answer to the peer's ping, echoing its application payload octet for octet.
    mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8])
    /// Appends the dialect's close frame with `code` and a reason for people.
    mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8])
    /// Appends one business frame carrying `payload` (at most `maxDataPayload` octets) of the
    /// dialect's frame `type` (a `BusinessFrame.type`; nil for its default: envelope DATA, WebSocket
    /// binary). WebSocket sends text (0x1) as text and every other type as binary. A dialect whose application writes whole frames itself (HTTP/2) appends `payload`
    /// as it is.
    mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8])
    /// The peer sent this business frame: says what the session does with it, and appends any
    /// reply (an HTTP/2 SETTINGS acknowledgement, a WebSocket Close echo or handshake response).
    /// - Throws: a rule the frame breaks that only this side can see (a bad handshake answer).
    mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition
}

extension StreamFrameEncoder {
    /// Nothing: most dialects have no preface.
    public mutating func appendPreface(to buffer: inout [UInt8]) {}
    /// Open from the start: most dialects have no handshake.
    public var isOpen: Bool { true }
    /// None: most dialects negotiate no heartbeat schedule.
    public var negotiatedHeartbeat: NegotiatedHeartbeat? { nil }
}

/// An encoder that writes its answer to a ping straight into raw memory the caller owns (a
/// writer's own output buffer): no array, so no capacity or uniqueness check, and a fixed-size
/// answer (an HTTP/2 PING ACK, an envelope PONG) is a few stores. The fastest way to answer a
/// ping; the encoder's `appendPong(echoing:to:)` is built on the same code.
///
/// ```swift
/// // `out` has room for at least `encoder.maxHeartbeatLength` octets at `used`.
/// case .ping:
///     used += encoder.writePong(echoing: bytes, into: UnsafeMutableRawBufferPointer(rebasing: out[used...]))
/// ```
public protocol PongWriting: StreamFrameEncoder {
    /// Writes the answer to the peer's ping at the start of `destination` and returns how many
    /// octets it wrote (0 where the dialect sends none). `payload` is the octets the demuxer handed
    /// over with the `.ping` item (what the answer echoes); `destination` must have room for at
    /// least `maxHeartbeatLength` octets.
    mutating func writePong(echoing payload: RawSpan, into destination: UnsafeMutableRawBufferPointer) -> Int
}

/// What a session does with a business frame from the peer (see `StreamFrameEncoder.inbound`).
public enum InboundDisposition: Hashable, Sendable {
    /// Application data: handed to the application, and proof of traffic.
    case deliver
    /// A control frame the dialect handled (SETTINGS, a handshake): not delivered, and not counted
    /// as business traffic (it neither proves liveness nor forgives ping strikes).
    case consumed
    /// Skipped silently (an envelope frame of unknown type, spec/envelope.md §5.5).
    case ignored
    /// The peer is closing (GOAWAY, Close) with this code and reason; `deliver` says whether the
    /// frame also goes to the application (HTTP/2 stacks above want their GOAWAY).
    case peerClosing(code: UInt64, reason: String, deliver: Bool)
}

/// The codes a dialect closes a connection with, each in the dialect's own code space.
public struct CloseCodes: Hashable, Sendable {
    /// A graceful close.
    public var noError: WireErrorCode
    /// The peer broke a framing rule no more specific code names.
    public var protocolError: WireErrorCode
    /// The peer is abusive: a ping flood, a slowloris frame (HTTP/2 ENHANCE_YOUR_CALM).
    public var enhanceYourCalm: WireErrorCode
    /// We declared the peer dead: its heartbeats went unanswered.
    public var livenessTimeout: WireErrorCode

    /// A set of close codes.
    public init(noError: WireErrorCode, protocolError: WireErrorCode, enhanceYourCalm: WireErrorCode,
                livenessTimeout: WireErrorCode) {
        self.noError = noError
        self.protocolError = protocolError
        self.enhanceYourCalm = enhanceYourCalm
        self.livenessTimeout = livenessTimeout
    }
}
