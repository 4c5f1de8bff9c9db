// Fuzz target: encode → decode round trip. Frames are built from the input with the library's
// encoders, demuxed whole and in chunks, and must come back exactly: the same items, the same
// octets, no error.
//
// Input: octet 0 the dialect (mod 9, in `DialectRegistry.builtIn` order: envelope, HTTP/2, QUIC, WebSocket, TLS, MQTT, AMQP, RESP, text lines). Stream dialects: octet 1 the options
// (see `DemuxerSetup`), octet 2 the chunk size of the chunked run (0 = one octet at a time), then
// one frame per operation octet, its fields read from the octets after it. QUIC: one frame per
// operation octet (op 22 ends the packet). See each builder for the fields.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func roundTripFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.byte() % 9 {
    case 0: envelopeRoundTrip(&input)
    case 1: http2RoundTrip(&input)
    case 2: quicRoundTrip(&input)
    case 3: webSocketRoundTrip(&input)
    case 4: tlsRoundTrip(&input)
    case 5: mqttRoundTrip(&input)
    case 6: amqpRoundTrip(&input)  // AMQPRoundTrip.swift
    case 7: respRoundTrip(&input)
    default: linesRoundTrip(&input)
    }
    return 0
}

/// At most this many frames, and no more frames once the stream is this long.
let maxFrames = 64
let maxStreamLength = 1 << 18

/// A payload: up to 127 octets from the input, or (operation octet's high bit set) a long one of
/// up to 128 KiB filled with a pattern; never more than `maxLength`.
func payload(_ input: inout FuzzInput, maxLength: Int) -> [UInt8] {
    let mode = input.byte()
    if mode & 0x80 == 0 { return input.take(min(Int(mode), maxLength)) }
    let length = min(Int(input.integer(octets: 3)), maxLength, 1 << 17)
    let fill = input.byte()
    return (0..<length).map { UInt8(truncatingIfNeeded: $0) &+ fill }
}

func octets(_ value: UInt64, width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - $0))) }
}

/// Demuxes `stream` whole and in chunks of `chunkSize`; both must give exactly `expected`.
func checkStreamRoundTrip(_ setup: DemuxerSetup, _ stream: [UInt8], _ expected: [Received], chunkSize: Int) {
    let whole = demux(setup, whole: stream)
    check(whole.error == nil, "encoded \(setup.dialect) stream fails to decode: \(whole.error!)")
    check(whole.items.count == expected.count, "\(whole.items.count) items decoded, \(expected.count) encoded")
    for (index, pair) in zip(whole.items, expected).enumerated() {
        check(pair.0 == pair.1, "item \(index) decoded as \(pair.0), encoded as \(pair.1)")
    }
    let size = stream.count > 4096 ? max(chunkSize, 251) : chunkSize
    let chunked = demux(setup, stream, ranges: ranges(cutting: stream.count, sizes: [size]))
    check(chunked == whole, "chunks of \(size): \(chunked) != whole \(whole)")
}

// MARK: - TCP envelope

/// Operations (mod 7): 0 PING, 1 PONG (8 payload octets each), 2 DATA (payload), 3 GOAWAY (code
/// varint, reason of up to 15 octets read as UTF-8), 4 unknown type (type varint, payload),
/// 5 DATA with its length in a longer form than needed (width octet, payload), 6 GOAWAY with a
/// named code.
func envelopeRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .envelope, options: input.byte())
    let chunkSize = Int(input.byte())
    var stream: [UInt8] = []
    var expected: [Received] = []
    if setup.options & 1 == 0 { EnvelopeFrame.appendPreface(to: &stream) }
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 9 {
        case let operation where operation < 2:
            let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
            if operation == 0 {
                EnvelopeFrame.appendPing(payload, to: &stream)
                expected.append(Received(.ping(payload), bytes: octets(payload.rawValue, width: 8)))
            } else {
                Dialect.envelope.appendPong(payload, to: &stream)
                expected.append(Received(.pong(payload), bytes: octets(payload.rawValue, width: 8)))
            }
        case 2:
            let data = payload(&input, maxLength: setup.maxFrameSize)
            EnvelopeFrame.appendFrame(payload: data.span.bytes, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: EnvelopeFrame.FrameType.data, length: data.count)), bytes: data))
        case 3, 6:
            let code = frames % 2 == 0 ? input.varintValue()
                : EnvelopeErrorCode.allCases[Int(input.byte()) % EnvelopeErrorCode.allCases.count].rawValue
            let reason = String(decoding: input.take(Int(input.byte() % 16)), as: UTF8.self)
            EnvelopeFrame.appendGoAway(code: code, reason: reason, to: &stream)
            var goAwayPayload: [UInt8] = []
            Varint.append(code, to: &goAwayPayload)
            goAwayPayload += Array(reason.utf8)
            do {
                let decoded = try EnvelopeGoAway(payload: goAwayPayload.span.bytes)
                check(decoded.code == code && decoded.reason == reason, "GOAWAY \(code) \(reason) decoded as \(decoded)")
            } catch {
                fatalError("GOAWAY payload \(goAwayPayload) does not decode: \(error)")
            }
            expected.append(Received(.business(BusinessFrame(type: EnvelopeFrame.FrameType.goAway, length: goAwayPayload.count)),
                                     bytes: goAwayPayload))
        case 4:
            var type = input.varintValue()
            if type <= EnvelopeFrame.FrameType.goAway { type += 4 }
            let data = payload(&input, maxLength: setup.maxFrameSize)
            EnvelopeFrame.appendFrame(type: type, payload: data.span.bytes, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: type, length: data.count)), bytes: data))
        default:
            let width = 1 << Int(input.byte() % 4)
            let data = payload(&input, maxLength: setup.maxFrameSize)
            Varint.append(EnvelopeFrame.FrameType.data, to: &stream)
            Varint.append(UInt64(data.count), length: max(width, Varint.minimalLength(of: UInt64(data.count))), to: &stream)
            stream += data
            expected.append(Received(.business(BusinessFrame(type: EnvelopeFrame.FrameType.data, length: data.count)), bytes: data))
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}

// MARK: - HTTP/2

/// Operations (mod 5): 0 PING (ACK flag octet, 8 payload octets), 1 any frame but PING and
/// CONTINUATION (type, flags, stream ID, payload; HEADERS and PUSH_PROMISE get END_HEADERS),
/// 2 a header block (HEADERS or PUSH_PROMISE without END_HEADERS, then 0–3 CONTINUATIONs, the
/// last ending it), 3 GOAWAY (last stream ID, code, debug data), 4 DATA (stream ID, payload).
func http2RoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .http2, options: input.byte())
    let chunkSize = Int(input.byte())
    var stream: [UInt8] = []
    var expected: [Received] = []
    switch setup.options & 3 {
    case 1: HTTP2Frame.appendClientPreface(to: &stream)
    case 2, 3: if input.flag() { HTTP2Frame.appendClientPreface(to: &stream) }
    default: break
    }
    func frame(type: UInt8, flags: UInt8, streamID: UInt32, payload: [UInt8]) {
        HTTP2Frame.appendFrame(type: type, flags: flags, streamID: streamID, payload: payload.span.bytes, to: &stream)
        let business = BusinessFrame(type: UInt64(type), flags: flags, streamID: streamID & 0x7fff_ffff, length: payload.count)
        expected.append(Received(.business(business), bytes: payload))
    }
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 9 {
        case 0:
            let ack = input.flag()
            let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
            HTTP2Frame.appendPing(payload, ack: ack, to: &stream)
            expected.append(Received(ack ? .pong(payload) : .ping(payload), bytes: octets(payload.rawValue, width: 8)))
        case 1:
            var type = input.byte()
            if type == HTTP2Frame.FrameType.ping || type == HTTP2Frame.FrameType.continuation { type = HTTP2Frame.FrameType.settings }
            var flags = input.byte()
            if type == HTTP2Frame.FrameType.headers || type == HTTP2Frame.FrameType.pushPromise { flags |= HTTP2Frame.Flags.endHeaders }
            let streamID = UInt32(truncatingIfNeeded: input.integer(octets: 4))
            frame(type: type, flags: flags, streamID: streamID, payload: payload(&input, maxLength: setup.maxFrameSize))
        case 2:
            let type = input.flag() ? HTTP2Frame.FrameType.headers : HTTP2Frame.FrameType.pushPromise
            let streamID = UInt32(truncatingIfNeeded: input.integer(octets: 4))
            let continuations = Int(input.byte() % 4)
            let flags = input.byte() & ~HTTP2Frame.Flags.endHeaders
            frame(type: type, flags: continuations == 0 ? flags | HTTP2Frame.Flags.endHeaders : flags, streamID: streamID,
                  payload: payload(&input, maxLength: setup.maxFrameSize))
            for index in 0..<continuations {
                let last = index == continuations - 1
                let flags = input.byte() & ~HTTP2Frame.Flags.endHeaders
                frame(type: HTTP2Frame.FrameType.continuation, flags: last ? flags | HTTP2Frame.Flags.endHeaders : flags,
                      streamID: streamID, payload: payload(&input, maxLength: setup.maxFrameSize))
            }
        case 3:
            let lastStreamID = UInt32(truncatingIfNeeded: input.integer(octets: 4))
            let code = HTTP2ErrorCode.allCases[Int(input.byte()) % HTTP2ErrorCode.allCases.count]
            let debugData = String(decoding: input.take(Int(input.byte() % 32)), as: UTF8.self)
            HTTP2Frame.appendGoAway(lastStreamID: lastStreamID, code: code, debugData: debugData, to: &stream)
            let payload = octets(UInt64(lastStreamID & 0x7fff_ffff), width: 4) + octets(UInt64(code.rawValue), width: 4) + Array(debugData.utf8)
            expected.append(Received(.business(BusinessFrame(type: UInt64(HTTP2Frame.FrameType.goAway), length: payload.count)), bytes: payload))
        default:
            let streamID = UInt32(truncatingIfNeeded: input.integer(octets: 4))
            frame(type: HTTP2Frame.FrameType.data, flags: input.byte(), streamID: streamID, payload: payload(&input, maxLength: setup.maxFrameSize))
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}

// MARK: - QUIC

/// What a QUIC frame must come back as.
enum ExpectedQUICItem {
    case exact(Received)
    case ack(QUICFrame, ranges: [ClosedRange<UInt64>], smallest: UInt64, bytes: [UInt8])
}

/// Operations (mod 23): one `QUICFrame` case each, in the order `QUICFrameParser.FrameType`
/// lists them (0 PADDING … 20 HANDSHAKE_DONE, 21 DATAGRAM), fields as varints or octets from the
/// input, adjusted to be valid; 22 ends the packet. STREAM without a length and DATAGRAM
/// without a length end their packet.
func quicRoundTrip(_ input: inout FuzzInput) {
    var packets: [[UInt8]] = [[]]
    var expected: [ExpectedQUICItem] = []
    var frames = 0
    while !input.isAtEnd && frames < maxFrames {
        frames += 1
        let operation = input.byte() % 23
        if operation == 22 {
            packets.append([])
            continue
        }
        let frame = quicFrame(operation, &input)
        var encoded: [UInt8] = []
        frame.append(to: &encoded)
        var cursor = 0
        let type = Varint.read(encoded.span.bytes, at: &cursor)
        check(type?.value == frame.type && type?.isMinimal == true, "\(frame) encoded with type \(String(describing: type))")
        packets[packets.count - 1] += encoded
        switch frame {
        case .padding:
            break
        case .ping:
            expected.append(.exact(Received(.quicPing, bytes: encoded)))
        case .ack(let largest, _, let first, let gaps, _):
            var smallest = largest - first
            var ranges = [smallest...largest]
            for range in gaps {
                let upper = smallest - range.gap - 2
                smallest = upper - range.length
                ranges.append(smallest...upper)
            }
            expected.append(.ack(frame, ranges: ranges, smallest: smallest, bytes: encoded))
        default:
            expected.append(.exact(Received(.business(BusinessFrame(type: frame.type, length: encoded.count)), bytes: encoded)))
        }
        switch frame {
        case .stream(_, _, _, false, _), .datagram(_, false): packets.append([])
        default: break
        }
    }
    let outcome = demux(DemuxerSetup(dialect: .quic, options: 0), packets: packets)
    check(outcome.error == nil, "encoded QUIC packets fail to decode: \(outcome.error!)")
    check(outcome.items.count == expected.count, "\(outcome.items.count) QUIC items decoded, \(expected.count) encoded")
    for (received, expectation) in zip(outcome.items, expected) {
        switch expectation {
        case .exact(let item):
            check(received == item, "QUIC frame decoded as \(received), encoded as \(item)")
        case .ack(let frame, let ranges, let smallest, let bytes):
            guard case .quicAck(let ack) = received.item,
                  case .ack(let largest, let delay, let first, let gaps, let ecn) = frame else {
                fatalError("\(frame) decoded as \(received)")
            }
            check(received.bytes.elementsEqual(bytes), "ACK octets changed")
            check(ack.largestAcknowledged == largest && ack.ackDelay == delay && ack.firstAckRange == first
                  && ack.additionalRangeCount == UInt64(gaps.count) && ack.ecnCounts == ecn && ack.smallestAcknowledged == smallest,
                  "\(frame) decoded as \(ack)")
            var walked: [ClosedRange<UInt64>] = []
            ack.forEachRange(in: received.bytes.span.bytes) { walked.append($0) }
            check(walked == ranges, "ACK ranges \(walked), encoded \(ranges)")
        }
    }
}

/// The frame for `operation`, fields from the input, made valid where the RFC constrains them.
func quicFrame(_ operation: UInt8, _ input: inout FuzzInput) -> QUICFrame {
    let streamCountLimit = QUICFrameParser.maxStreamCount + 1
    switch operation {
    case 0: return .padding(count: 1 + Int(input.byte() % 16))
    case 1: return .ping
    case 2, 3:
        let largest = input.varintValue()
        let delay = input.varintValue()
        let first = input.varintValue() % (largest + 1)
        var smallest = largest - first
        var ranges: [QUICFrame.AckRange] = []
        for _ in 0..<(input.byte() % 4) where smallest >= 2 {
            let gap = input.varintValue() % (smallest - 1)
            let length = input.varintValue() % (smallest - 2 - gap + 1)
            ranges.append(QUICFrame.AckRange(gap: gap, length: length))
            smallest = smallest - gap - 2 - length
        }
        let ecn = operation == 3
            ? QUICAck.ECNCounts(ect0: input.varintValue(), ect1: input.varintValue(), ce: input.varintValue()) : nil
        return .ack(largestAcknowledged: largest, ackDelay: delay, firstAckRange: first, ranges: ranges, ecn: ecn)
    case 4: return .resetStream(streamID: input.varintValue(), errorCode: input.varintValue(), finalSize: input.varintValue())
    case 5: return .stopSending(streamID: input.varintValue(), errorCode: input.varintValue())
    case 6:
        let data = input.take(Int(input.byte() % 32))
        return .crypto(offset: min(input.varintValue(), Varint.max - UInt64(data.count)), data: data)
    case 7: return .newToken(token: input.take(1 + Int(input.byte() % 32)))
    case 8:
        let streamID = input.varintValue()
        let data = input.take(Int(input.byte() % 32))
        let options = input.byte()
        let offset = options & 4 != 0 ? min(input.varintValue(), Varint.max - UInt64(data.count)) : nil
        return .stream(streamID: streamID, offset: offset, data: data, explicitLength: options & 2 != 0, fin: options & 1 != 0)
    case 9: return .maxData(input.varintValue())
    case 10: return .maxStreamData(streamID: input.varintValue(), maximum: input.varintValue())
    case 11: return .maxStreams(bidirectional: input.flag(), maximum: input.varintValue() % streamCountLimit)
    case 12: return .dataBlocked(limit: input.varintValue())
    case 13: return .streamDataBlocked(streamID: input.varintValue(), limit: input.varintValue())
    case 14: return .streamsBlocked(bidirectional: input.flag(), limit: input.varintValue() % streamCountLimit)
    case 15:
        let sequence = input.varintValue()
        return .newConnectionID(sequence: sequence, retirePriorTo: input.varintValue() % (sequence + 1),
                                connectionID: input.take(1 + Int(input.byte() % 20)), resetToken: input.take(16))
    case 16: return .retireConnectionID(sequence: input.varintValue())
    case 17: return .pathChallenge(input.integer(octets: 8))
    case 18: return .pathResponse(input.integer(octets: 8))
    case 19:
        let code = input.varintValue()
        let frameType = input.flag() ? input.varintValue() : nil
        return .connectionClose(errorCode: code, frameType: frameType, reason: input.take(Int(input.byte() % 32)))
    case 20: return .handshakeDone
    default: return .datagram(data: input.take(Int(input.byte() % 64)), explicitLength: input.flag())
    }
}

// MARK: - WebSocket

/// Operations (mod 9), each a whole message or a control frame, masked as the decoder's role
/// demands (a server's decoder reads masked frames, a client's unmasked, a capture's either: an
/// input flag per frame), with `WebSocketFrame`'s encoders unless said otherwise:
/// 0 Ping, 1 Pong (up to 125 payload octets); 2 a text or binary message in one frame (payload);
/// 3 a fragmented message: the first frame, 1–4 continuations (the last with FIN), each frame
/// followed by a Ping, a Pong or a Close or nothing; 4 Close with a sendable code and a reason of
/// up to 255 input octets read as UTF-8 (`appendClose` truncates it to 123 octets at a character
/// boundary); 5 an empty Close; 6 a message through `WebSocketFrameEncoder.appendData` (split
/// into 65,536-octet fragments when longer); 7 our heartbeat (8 octets) or a Pong echoing up to
/// 125 octets through `WebSocketFrameEncoder`; 8 a binary frame whose payload length sits at a
/// boundary of the length encodings (0, 125, 126, 127, 65,535, 65,536, 65,537), within the
/// maximum frame size. The stream starts with the handshake block the decoder expects (with
/// `.optional`: a request, a response or none, by an input flag).
func webSocketRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .webSocket, options: input.byte())
    let chunkSize = Int(input.byte())
    let encoderRole: ConnectionRole = setup.role.map { $0 == .server ? .client : .server } ?? (input.flag() ? .client : .server)
    var encoder = WebSocketFrameEncoder(role: encoderRole, randomSeed: input.integer(octets: 8), performsHandshake: false)
    var stream: [UInt8] = []
    var expected: [Received] = []

    var handshake = setup.webSocketHandshake
    if handshake == .optional { handshake = [.none, .expectRequest, .expectResponse][Int(input.byte() % 3)] }
    if handshake != .none {
        let key = WebSocketKey(randomSeed: input.integer(octets: 8))
        let hosts = ["localhost", "example.com:8080", "[::1]:9", "h"]
        let paths = ["/", "/chat?room=1", "/a/b%20c", "*"]
        if handshake == .expectRequest {
            WebSocketHandshake.appendRequest(host: hosts[Int(input.byte() % 4)], path: paths[Int(input.byte() % 4)], key: key, to: &stream)
        } else {
            // No subprotocol: a decoder rejects one it did not offer (spec/websocket.md §3.3 rule 5).
            WebSocketHandshake.appendAcceptance(key: key.base64, to: &stream)
        }
        expected.append(Received(.business(BusinessFrame(type: WebSocketFrame.handshakeType, length: stream.count)), bytes: stream))
    }

    /// A masking key when the decoder's role demands one (or, for a capture, the input says so).
    func maskingKey() -> UInt32? {
        switch setup.role {
        case .server?: return UInt32(truncatingIfNeeded: input.integer(octets: 4))
        case .client?: return nil
        case nil: return input.flag() ? UInt32(truncatingIfNeeded: input.integer(octets: 4)) : nil
        }
    }
    func frame(_ opcode: UInt8, fin: Bool = true, _ payload: [UInt8]) {
        WebSocketFrame.appendFrame(opcode: opcode, fin: fin, payload: payload.span.bytes, maskingKey: maskingKey(), to: &stream)
        expected.append(Received(.business(BusinessFrame(type: UInt64(opcode), flags: fin ? WebSocketFrame.Flags.fin : 0, length: payload.count)),
                                 bytes: payload))
    }
    func controlPayload() -> [UInt8] { input.take(Int(input.byte()) % (WebSocketFrame.maxControlPayload + 1)) }
    func heartbeat(ping: Bool, _ payload: [UInt8]) {
        if ping {
            WebSocketFrame.appendPing(payload: payload.span.bytes, maskingKey: maskingKey(), to: &stream)
        } else {
            WebSocketFrame.appendPong(payload: payload.span.bytes, maskingKey: maskingKey(), to: &stream)
        }
        let heartbeat = HeartbeatPayload(prefixOf: payload.span.bytes)
        expected.append(Received(ping ? .ping(heartbeat) : .pong(heartbeat), bytes: payload))
    }
    func close() {
        let valid = WebSocketCloseCode.allCases.map(\.rawValue).filter(WebSocketCloseCode.isValidOnWire)
        let choice = input.integer(octets: 2)
        let code = choice & 0x8000 == 0 ? valid[Int(choice) % valid.count] : UInt16(3000 + choice % 2000)
        let reason = String(decoding: input.take(Int(input.byte())), as: UTF8.self)
        WebSocketFrame.appendClose(code: code, reason: reason, maskingKey: maskingKey(), to: &stream)
        expected.append(Received(.business(BusinessFrame(type: UInt64(WebSocketFrame.Opcode.close), flags: WebSocketFrame.Flags.fin,
                                                         length: 2 + truncatedReason(reason).count)),
                                 bytes: octets(UInt64(code), width: 2) + truncatedReason(reason)))
    }

    var frames = 0
    operations: while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 9 {
        case 0: heartbeat(ping: true, controlPayload())
        case 1: heartbeat(ping: false, controlPayload())
        case 2: frame(input.flag() ? WebSocketFrame.Opcode.text : WebSocketFrame.Opcode.binary, payload(&input, maxLength: setup.maxFrameSize))
        case 3:
            let continuations = 1 + Int(input.byte() % 4)
            for index in 0...continuations {
                let opcode = index == 0 ? (input.flag() ? WebSocketFrame.Opcode.text : WebSocketFrame.Opcode.binary) : WebSocketFrame.Opcode.continuation
                frame(opcode, fin: index == continuations, payload(&input, maxLength: setup.maxFrameSize))
                switch input.byte() % 4 {
                case 0: heartbeat(ping: true, controlPayload())
                case 1: heartbeat(ping: false, controlPayload())
                case 2: close()
                default: break
                }
            }
        case 4: close()
        case 5:
            WebSocketFrame.appendClose(code: nil, reason: "ignored", maskingKey: maskingKey(), to: &stream)
            expected.append(Received(.business(BusinessFrame(type: UInt64(WebSocketFrame.Opcode.close), flags: WebSocketFrame.Flags.fin, length: 0)), bytes: []))
        case 6:
            let type = input.flag() ? WebSocketFrame.Opcode.text : WebSocketFrame.Opcode.binary
            // Fragments of 65,536 octets: longer payloads only where the decoder takes them.
            let data = payload(&input, maxLength: setup.maxFrameSize < WebSocketFrameEncoder.maxFragmentPayload ? setup.maxFrameSize : 1 << 17)
            encoder.appendData(data.span.bytes, type: UInt64(type), to: &stream)
            var start = 0
            repeat {
                let end = min(start + WebSocketFrameEncoder.maxFragmentPayload, data.count)
                expected.append(Received(.business(BusinessFrame(type: UInt64(start == 0 ? type : WebSocketFrame.Opcode.continuation),
                                                                 flags: end == data.count ? WebSocketFrame.Flags.fin : 0, length: end - start)),
                                         bytes: Array(data[start..<end])))
                start = end
            } while start < data.count
        case 7:
            if input.flag() {
                let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
                encoder.appendPing(payload, to: &stream)
                expected.append(Received(.ping(payload), bytes: octets(payload.rawValue, width: 8)))
            } else {
                let echoed = controlPayload()
                encoder.appendPong(echoing: echoed.span.bytes, to: &stream)
                expected.append(Received(.pong(HeartbeatPayload(prefixOf: echoed.span.bytes)), bytes: echoed))
            }
        default:
            let lengths = [0, 125, 126, 127, 65_535, 65_536, 65_537].filter { $0 <= setup.maxFrameSize }
            let length = lengths[Int(input.byte()) % lengths.count]
            let fill = input.byte()
            frame(WebSocketFrame.Opcode.binary, (0..<length).map { UInt8(truncatingIfNeeded: $0) &+ fill })
        }
        if stream.count >= maxStreamLength { break operations }
    }
    check(encoder.isOpen && !encoder.sentClose, "a frames-only encoder closed itself")
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}

/// `reason` as UTF-8, cut to at most 123 octets at a character boundary: whole scalars only,
/// counted here independently of the encoder.
func truncatedReason(_ reason: String) -> [UInt8] {
    var octets: [UInt8] = []
    for scalar in reason.unicodeScalars {
        let utf8 = Array(String(scalar).utf8)
        guard octets.count + utf8.count <= WebSocketFrame.maxCloseReasonLength else { break }
        octets += utf8
    }
    return octets
}

// MARK: - MQTT

/// Operations (mod 5), through `MQTTPacketEncoder` (a frames-only one: open at once): 0 PINGREQ,
/// 1 PINGRESP; 2 a packet through `appendData` with a whole first octet as its type (a packet type
/// 1–15 other than 12 and 13, and its flags: PUBLISH's DUP/QoS/RETAIN from the input, QoS 3
/// avoided, the others' required ones) and a payload; 3 the same with a bare packet type (the
/// encoder adds the required flags; PUBLISH gets 0000); 4 a PUBLISH whose Remaining Length sits at
/// a Variable Byte Integer boundary (0, 127, 128, 16,383, 16,384, 2,097,151, 2,097,152) within the
/// maximum. The stream is read as a capture (or through `Demuxer(dialect: .mqtt)`) with the
/// maximum Remaining Length of the option octet's bits 4–6.
func mqttRoundTrip(_ input: inout FuzzInput) {
    let options = input.byte()
    let setup = DemuxerSetup(dialect: .mqtt, options: options & 0x70 | (options & 1 == 1 ? 3 : 0))
    let chunkSize = Int(input.byte())
    var encoder = MQTTDialect(performsConnect: false).makeEncoder(role: input.flag() ? .client : .server, randomSeed: 1)
    var stream: [UInt8] = []
    var expected: [Received] = []
    func packetType() -> UInt8 {
        let type = 1 + input.byte() % 15
        return type == 12 || type == 13 ? 3 : type
    }
    func requiredFlags(_ type: UInt8) -> UInt8 { [6, 8, 10].contains(type) ? 2 : 0 }
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 5 {
        case 0:
            encoder.appendPing(HeartbeatPayload(rawValue: input.integer(octets: 8)), to: &stream)
            expected.append(Received(.ping(.empty), bytes: []))
        case 1:
            encoder.appendPong(echoing: input.take(Int(input.byte() % 9)).span.bytes, to: &stream)
            expected.append(Received(.pong(.empty), bytes: []))
        case let operation where operation < 4:
            let type = packetType()
            var flags = requiredFlags(type)
            if type == 3 {
                flags = operation == 2 ? input.byte() & 0x0F : 0
                if flags & 6 == 6 { flags &= 0b1011 }
            }
            let data = payload(&input, maxLength: setup.maxFrameSize)
            encoder.appendData(data.span.bytes, type: operation == 2 ? UInt64(type << 4 | flags) : UInt64(type), to: &stream)
            expected.append(Received(.business(BusinessFrame(type: UInt64(type), flags: flags, length: data.count)), bytes: data))
        default:
            let lengths = [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152].filter { $0 <= min(setup.maxFrameSize, 1 << 17) }
            let length = lengths[Int(input.byte()) % lengths.count]
            let fill = input.byte()
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0) &+ fill }
            encoder.appendData(data.span.bytes, type: nil, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: 3, flags: 0, length: length)), bytes: data))
        }
    }
    check(encoder.isOpen && !encoder.sentClose, "a frames-only MQTT encoder closed itself")
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}
