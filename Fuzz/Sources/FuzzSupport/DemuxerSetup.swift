import Framing

/// A demuxer configuration chosen by one option octet of the input, so that the fuzzer explores
/// limits and preface policies as well as bytes.
///
/// Option octet, TCP envelope: bit 0 set = no preface expected; bits 1–3 index
/// `envelopeMaxFrameSizes`. HTTP/2: bits 0–1 the preface policy (0 none, 1 required,
/// 2 optional, 3 the `Demuxer(dialect: .http2)` default); bits 2–4 index `http2MaxFrameSizes`.
/// WebSocket: bits 0–1 our role (0 none: a capture, 1 client, 2 server, 3 through
/// `WebSocketDialect.makeDecoder`: bit 2 the role (client, server), bit 3 clear = the dialect
/// performs the handshake); bits 2–3 otherwise the handshake policy (0 optional, 1 none,
/// 2 expect the request, 3 expect the response); bits 4–6 index `webSocketMaxFrameSizes`.
/// TLS: bits 0–2 index `tlsMaxFrameSizes`, bit 3 through `TLSDialect.makeDecoder`.
/// MQTT: bits 0–1 our role (0 none: a capture, 1 client, 2 server, 3 `Demuxer(dialect: .mqtt)`,
/// a capture); bit 2 set = the session was opened before the stream (no CONNECT or CONNACK
/// first); bits 4–6 index `mqttMaxFrameSizes`.
/// AMQP 0-9-1: bits 0–1 our role (0 none: a capture, 1 client, 2 server, 3 `Demuxer(dialect: .amqp)`,
/// a capture); bit 2 set = frames only, no protocol header (`performsHandshake: false`); bits 3–5
/// index `amqpFrameMaxes`.
/// RESP: bits 0–1 our role (0 none: a capture, 1 client, 2 server, 3 `Demuxer(dialect: .resp)`,
/// the registry's capture); bit 2 the echo mode (`pingMessage: "hb-"`); bits 3–5 index
/// `respMaxFrameSizes`; bits 6–7 index `respMaxDepths`. Text lines: bits 0–2 index
/// `linesMaxFrameSizes` (option 0: `Demuxer(dialect: .lines)`).
/// QUIC has no options. Option 0 is each dialect's default demuxer, except WebSocket's, a capture of either direction.
public struct DemuxerSetup: CustomStringConvertible {
    /// Requested envelope maximum payload sizes; out-of-range values test the clamping.
    public static let envelopeMaxFrameSizes = [16_384, 64, 0, 1_000, 16_385, 65_536, 1 << 20, 16_777_215]
    /// Requested HTTP/2 SETTINGS_MAX_FRAME_SIZE values; out-of-range values test the clamping.
    public static let http2MaxFrameSizes = [16_384, 16_383, 16_385, 65_536, 1 << 20, 16_777_215, 0, Int.max]
    /// Requested WebSocket maximum payload sizes; values under 125 and over 2^62 test the clamping.
    public static let webSocketMaxFrameSizes = [65_536, 125, 0, 1_000, 126, 1 << 20, 124, Int.max]
    /// Requested MQTT maximum Remaining Lengths; values under 16 and over 268,435,455 test the clamping.
    public static let mqttMaxFrameSizes = [1 << 20, 16, 0, 127, 128, 16_384, 2_097_152, Int.max]
    /// Requested AMQP frame-max values; values under 4,096 and over 2^32 − 1 test the clamping.
    public static let amqpFrameMaxes = [131_072, 4096, 0, 4095, 8192, 1 << 20, Int.max, 100]
    /// Requested RESP maximum value sizes; values under 64 and over 2^40 test the clamping.
    public static let respMaxFrameSizes = [1 << 20, 64, 0, 100, 1_000, 65_536, 16, Int.max]
    /// Requested RESP maximum nesting depths; 0 and 100 test the clamping to 1...64.
    public static let respMaxDepths = [32, 1, 0, 100]
    /// Requested maximum line lengths; values under 4 and over 2^40 test the clamping.
    public static let linesMaxFrameSizes = [8_192, 4, 0, 16, 100, 65_536, 3, Int.max]
    /// The WebSocket handshake policies bits 2–3 choose (0 is the capture default).
    /// Requested TLS maximum record lengths; values under 64 and over 2^14 + 2048 test the clamping.
    public static let tlsMaxFrameSizes = [18_432, 64, 0, 1_000, 16_384, 16_403, 1 << 20, 63]
    public static let webSocketHandshakes: [WebSocketFrameDecoder.HandshakePolicy] = [.optional, .none, .expectRequest, .expectResponse]

    public let dialect: Dialect
    public let options: UInt8
    /// The largest payload the decoder accepts, after clamping (0 for QUIC).
    public let maxFrameSize: Int
    /// The most octets the demuxer may buffer: one maximum-size frame with its header (0 for QUIC).
    public let maxFrameLength: Int
    /// Our role (WebSocket: whose frames must be masked); nil for a capture and other dialects.
    public let role: ConnectionRole?
    /// WebSocket: how the stream begins (`.none` for other dialects).
    public let webSocketHandshake: WebSocketFrameDecoder.HandshakePolicy
    /// A fresh demuxer of this configuration, built and checked once; `makeDemuxer` copies it.
    private let prototype: Demuxer

    public init(dialect: Dialect, options: UInt8) {
        self.dialect = dialect
        self.options = options
        let make: () -> Demuxer
        switch dialect {
        case .envelope:
            let decoder = EnvelopeFrameDecoder(maxFrameSize: Self.envelopeMaxFrameSizes[Int(options >> 1) & 7],
                                               expectPreface: options & 1 == 0)
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            role = nil
            webSocketHandshake = .none
            make = options == 0 ? { Demuxer(dialect: .envelope) } : { Demuxer(decoder) }
        case .http2:
            let policies: [HTTP2FrameDecoder.PrefacePolicy] = [.none, .required, .optional, .optional]
            let requested = Self.http2MaxFrameSizes[Int(options >> 2) & 7]
            let decoder = HTTP2FrameDecoder(maxFrameSize: requested, preface: policies[Int(options & 3)])
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            role = nil
            webSocketHandshake = .none
            make = options & 3 == 3 ? { Demuxer(dialect: .http2, maxFrameSize: requested) } : { Demuxer(decoder) }
        case .webSocket:
            let requested = Self.webSocketMaxFrameSizes[Int(options >> 4) & 7]
            let decoder: WebSocketFrameDecoder
            if options & 3 == 3 {
                let stream = WebSocketDialect(performsHandshake: options & 8 == 0)
                let role: ConnectionRole = options & 4 == 0 ? .client : .server
                decoder = stream.makeDecoder(role: role, maxFrameSize: requested)
                check(decoder.role == role && decoder.handshakePolicy == (stream.performsHandshake ? (role == .client ? .expectResponse : .expectRequest) : .none),
                      "WebSocketDialect(performsHandshake: \(stream.performsHandshake)) made a \(role) decoder with role \(String(describing: decoder.role)), handshake \(decoder.handshakePolicy)")
                make = { Demuxer(stream, role: role, maxFrameSize: requested) }
            } else {
                let role: ConnectionRole? = [nil, .client, .server][Int(options & 3)]
                decoder = WebSocketFrameDecoder(role: role, maxFrameSize: requested, handshake: Self.webSocketHandshakes[Int(options >> 2) & 3])
                // (`Demuxer(dialect: .webSocket)` reads a client's view; role 0 here is a capture of
                // either direction, so it is built from the decoder.)
                make = { Demuxer(decoder) }
            }
            check(decoder.maxFrameSize == min(max(requested, 125), 1 << 62), "WebSocket maxFrameSize \(requested) clamped to \(decoder.maxFrameSize)")
            role = decoder.role
            webSocketHandshake = decoder.handshakePolicy
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
        case .tls:
            // TLS: bits 0–2 index `tlsMaxFrameSizes`; bit 3 builds through `TLSDialect.makeDecoder`.
            let requested = Self.tlsMaxFrameSizes[Int(options & 7)]
            let decoder = options & 8 == 0 ? TLSRecordDecoder(maxFrameSize: requested) : TLSDialect().makeDecoder(role: .server, maxFrameSize: requested)
            check(decoder.maxFrameSize == min(max(requested, 64), TLSRecord.maxRecordLength), "TLS maxFrameSize \(requested) clamped to \(decoder.maxFrameSize)")
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            role = nil
            webSocketHandshake = .none
            make = options == 0 ? { Demuxer(dialect: .tls) } : { Demuxer(decoder) }
        case .mqtt:
            let requested = Self.mqttMaxFrameSizes[Int(options >> 4) & 7]
            let role: ConnectionRole? = [nil, .client, .server, nil][Int(options & 3)]
            let decoder = MQTTDialect(performsConnect: options & 4 == 0).makeDecoder(role: role, maxFrameSize: requested)
            check(decoder.maxFrameSize == min(max(requested, 16), MQTTPacket.maxRemainingLength), "MQTT maxFrameSize \(requested) clamped to \(decoder.maxFrameSize)")
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            self.role = role
            webSocketHandshake = .none
            make = options & 3 == 3 ? { Demuxer(dialect: .mqtt, maxFrameSize: requested) } : { Demuxer(decoder) }
        case .amqp:
            let requested = Self.amqpFrameMaxes[Int(options >> 3) & 7]
            let stream = AMQPDialect(frameMax: requested, performsHandshake: options & 4 == 0)
            let role: ConnectionRole? = [nil, .client, .server, nil][Int(options & 3)]
            let decoder = stream.makeDecoder(role: role, maxFrameSize: requested)
            check(decoder.maxFrameSize == min(max(requested, 4096), Int(UInt32.max)), "AMQP frame-max \(requested) clamped to \(decoder.maxFrameSize)")
            make = options & 3 == 3 ? { Demuxer(dialect: .amqp, maxFrameSize: requested) } : { Demuxer(stream, role: role, maxFrameSize: requested) }
            self.role = role
            webSocketHandshake = .none
            maxFrameSize = decoder.maxPayloadSize
            maxFrameLength = decoder.maxFrameLength
        case .resp:
            let requested = Self.respMaxFrameSizes[Int(options >> 3) & 7]
            let stream = RESPDialect(pingMessage: options & 4 == 0 ? nil : "hb-", maxDepth: Self.respMaxDepths[Int(options >> 6) & 3])
            let role: ConnectionRole? = [nil, .client, .server, nil][Int(options & 3)]
            let decoder = stream.makeDecoder(role: role, maxFrameSize: requested)
            check(decoder.maxFrameSize == min(max(requested, 64), 1 << 40) && decoder.maxDepth == min(max(stream.maxDepth, 1), 64),
                  "RESP maxFrameSize \(requested) clamped to \(decoder.maxFrameSize), depth \(stream.maxDepth) to \(decoder.maxDepth)")
            make = options & 3 == 3 && options & 4 == 0 && stream.maxDepth == RESPFrame.defaultMaxDepth
                ? { Demuxer(dialect: .resp, maxFrameSize: requested) } : { Demuxer(stream, role: role, maxFrameSize: requested) }
            self.role = role
            webSocketHandshake = .none
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
        case .lines:
            let requested = Self.linesMaxFrameSizes[Int(options) & 7]
            let decoder = LinesDialect().makeDecoder(role: nil, maxFrameSize: requested)
            check(decoder.maxLineLength == min(max(requested, 4), 1 << 40), "line length \(requested) clamped to \(decoder.maxLineLength)")
            make = options == 0 ? { Demuxer(dialect: .lines) } : { Demuxer(decoder) }
            role = nil
            webSocketHandshake = .none
            maxFrameSize = decoder.maxLineLength
            maxFrameLength = decoder.maxFrameLength
        default:
            precondition(dialect == .quic, "no fuzz setup for \(dialect)")
            maxFrameSize = 0
            maxFrameLength = 0
            role = nil
            webSocketHandshake = .none
            make = { Demuxer(dialect: .quic) }
        }
        let demuxer = make()
        check(demuxer.dialect == dialect, "demuxer for \(dialect) reports \(demuxer.dialect)")
        check(demuxer.offset == 0 && demuxer.bufferedByteCount == 0 && demuxer.failure == nil, "fresh demuxer is not fresh")
        prototype = demuxer
    }

    /// A fresh demuxer with this configuration (a copy of one built once: demuxers are values).
    public func makeDemuxer() -> Demuxer { prototype }

    public var description: String {
        let webSocket = dialect == .webSocket ? " role \(role.map { "\($0)" } ?? "none") handshake \(webSocketHandshake)"
            : dialect == .resp ? " role \(role.map { "\($0)" } ?? "none")" : ""
        return "\(dialect) options 0x\(String(options, radix: 16)) maxFrameSize \(maxFrameSize)\(webSocket)"
    }
}
