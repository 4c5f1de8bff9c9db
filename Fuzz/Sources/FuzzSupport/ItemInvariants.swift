import Framing

/// Checks one reported item against its handed-over octets and the dialect's rules: heartbeat
/// payloads are the 8 octets handed over, business frames are as long as they say and within the
/// maximum frame size, decoded QUIC frames re-parse to themselves.
public func checkItem(_ item: DemuxedItem, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    switch (setup.dialect, item) {
    case (.envelope, .ping(let payload)), (.envelope, .pong(let payload)),
         (.http2, .ping(let payload)), (.http2, .pong(let payload)):
        check(bytes.byteCount == HeartbeatPayload.byteCount, "heartbeat handed over \(bytes.byteCount) octets")
        check(payload.rawValue == bigEndian(bytes), "heartbeat payload \(payload) is not its octets")
    case (.envelope, .business(let frame)):
        check(bytes.byteCount == frame.length, "envelope frame of length \(frame.length) handed over \(bytes.byteCount) octets")
        check(frame.length <= setup.maxFrameSize, "envelope payload of \(frame.length) octets over the maximum \(setup.maxFrameSize)")
        check(frame.type <= Varint.max, "envelope type \(frame.type) is not a varint")
        check(frame.type != EnvelopeFrame.FrameType.ping && frame.type != EnvelopeFrame.FrameType.pong,
              "envelope heartbeat type \(frame.type) passed on as business")
        check(frame.flags == 0 && frame.streamID == 0, "envelope frame with HTTP/2 fields \(frame)")
        if frame.type == EnvelopeFrame.FrameType.goAway {
            do {
                let goAway = try EnvelopeGoAway(payload: bytes)
                var code: [UInt8] = []
                Varint.append(goAway.code, to: &code)
                check(code.count <= bytes.byteCount, "GOAWAY code \(goAway.code) longer than its payload")
                _ = goAway.errorCode
            } catch {
                fatalError("GOAWAY passed on that EnvelopeGoAway rejects: \(error)")
            }
        }
    case (.http2, .business(let frame)):
        check(bytes.byteCount == frame.length, "HTTP/2 frame of length \(frame.length) handed over \(bytes.byteCount) octets")
        check(frame.length <= setup.maxFrameSize, "HTTP/2 payload of \(frame.length) octets over SETTINGS_MAX_FRAME_SIZE \(setup.maxFrameSize)")
        check(frame.type <= 0xff && frame.type != UInt64(HTTP2Frame.FrameType.ping), "HTTP/2 frame type \(frame.type) as business")
        check(frame.streamID <= 0x7fff_ffff, "HTTP/2 stream \(frame.streamID) keeps its reserved bit")
    case (.quic, .quicPing):
        check(bytes.byteCount == 1 && bytes.unsafeLoad(as: UInt8.self) == 0x01, "QUIC PING handed over \(bytes.byteCount) octets")
    case (.quic, .quicAck(let ack)):
        checkAck(ack, bytes)
        checkReparses(item, bytes)
    case (.quic, .business(let frame)):
        check(bytes.byteCount == frame.length, "QUIC frame of length \(frame.length) handed over \(bytes.byteCount) octets")
        var cursor = 0
        let type = Varint.read(bytes, at: &cursor)
        check(type?.value == frame.type && type?.isMinimal == true, "QUIC frame bytes do not begin with its type \(frame.type)")
        check(frame.type > QUICFrameParser.FrameType.ackECN, "QUIC frame type \(frame.type) passed on as business")
        check(frame.flags == 0 && frame.streamID == 0, "QUIC frame with HTTP/2 fields \(frame)")
        checkReparses(item, bytes)
    case (.webSocket, .ping(let payload)), (.webSocket, .pong(let payload)):
        check(bytes.byteCount <= WebSocketFrame.maxControlPayload, "WebSocket heartbeat handed over \(bytes.byteCount) octets, over 125")
        check(payload == HeartbeatPayload(prefixOf: bytes), "WebSocket heartbeat payload \(payload) (\(payload.byteCount) octets) is not the prefix of its \(bytes.byteCount) octets")
    case (.webSocket, .business(let frame)):
        checkWebSocketBusiness(frame, bytes, setup)
    case (.tls, .ping(let payload)), (.tls, .pong(let payload)):
        check(bytes.byteCount <= TLSRecord.maxHeartbeatPayload && bytes.byteCount + 19 <= setup.maxFrameSize,
              "TLS heartbeat handed over \(bytes.byteCount) octets")
        check(payload == HeartbeatPayload(prefixOf: bytes), "TLS heartbeat payload \(payload) is not the prefix of its \(bytes.byteCount) octets")
    case (.tls, .business(let frame)):
        check(bytes.byteCount == frame.length, "TLS record of length \(frame.length) handed over \(bytes.byteCount) octets")
        check(frame.length <= setup.maxFrameSize, "TLS record of \(frame.length) octets over the maximum \(setup.maxFrameSize)")
        check((20...23).contains(frame.type), "TLS content type \(frame.type) as business")
        check(frame.flags == 0 && frame.streamID == 0, "TLS record with HTTP/2 fields \(frame)")
    case (.mqtt, .ping(let payload)), (.mqtt, .pong(let payload)):
        check(bytes.byteCount == 0 && payload == .empty, "MQTT heartbeat with \(bytes.byteCount) octets, payload \(payload)")
    case (.mqtt, .business(let frame)):
        checkMQTTBusiness(frame, bytes, setup)
    case (.amqp, .ping(let payload)):
        check(payload == .empty && bytes.byteCount == 0, "AMQP heartbeat with a payload \(payload)")
    case (.amqp, .business(let frame)):
        checkAMQPBusiness(frame, bytes, setup)
    case (.resp, _), (.lines, _):
        checkTextItem(item, bytes, setup)
    default:
        fatalError("item \(item) cannot come from a \(setup.dialect) demuxer")
    }
}

/// A WebSocket business item: a handshake block (type 0x100, whole, ending with CRLFCRLF) or a
/// data or Close frame with only FIN in its flags, within the maximum frame size; a Close payload
/// empty or a sendable code and a UTF-8 reason (the octets handed over are unmasked).
func checkWebSocketBusiness(_ frame: BusinessFrame, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    check(bytes.byteCount == frame.length, "WebSocket frame of length \(frame.length) handed over \(bytes.byteCount) octets")
    check(frame.streamID == 0, "WebSocket frame with a stream ID \(frame)")
    if frame.type == WebSocketFrame.handshakeType {
        check(setup.webSocketHandshake != .none, "handshake block from a decoder expecting none")
        check(frame.flags == 0, "handshake block with flags \(frame.flags)")
        check(frame.length >= 4 && frame.length <= WebSocketHandshake.maxHeaderBlockLength,
              "handshake block of \(frame.length) octets")
        let octets = bytes.withUnsafeBytes { Array($0) }
        check(octets.suffix(4) == [0x0D, 0x0A, 0x0D, 0x0A], "handshake block does not end with CRLFCRLF")
        check(octets.starts(with: Array("GET ".utf8)) || octets.starts(with: Array("HTTP/".utf8)), "handshake block starts with neither GET nor HTTP/")
        return
    }
    check(frame.type == UInt64(WebSocketFrame.Opcode.continuation) || frame.type == UInt64(WebSocketFrame.Opcode.text)
          || frame.type == UInt64(WebSocketFrame.Opcode.binary) || frame.type == UInt64(WebSocketFrame.Opcode.close),
          "WebSocket frame type \(frame.type) as business")
    check(frame.flags & ~WebSocketFrame.Flags.fin == 0, "WebSocket frame flags 0x\(String(frame.flags, radix: 16)) beyond FIN")
    check(frame.length <= setup.maxFrameSize, "WebSocket payload of \(frame.length) octets over the maximum \(setup.maxFrameSize)")
    if frame.type == UInt64(WebSocketFrame.Opcode.close) {
        check(frame.flags == WebSocketFrame.Flags.fin, "Close without FIN")
        check(frame.length != 1 && frame.length <= WebSocketFrame.maxControlPayload, "Close of \(frame.length) octets")
        let close = WebSocketClose(payload: bytes)
        if frame.length >= 2 {
            let code = UInt16(bigEndian(bytes.extracting(0..<2)))
            check(close.code == code && WebSocketCloseCode.isValidOnWire(code), "Close code \(code) passed on (read as \(String(describing: close.code)))")
            let reason = bytes.extracting(2...).withUnsafeBytes { Array($0) }
            check(Array(close.reason.utf8) == reason, "Close reason \(reason) is not UTF-8")
        } else {
            check(close.code == nil && close.reason.isEmpty, "empty Close read as \(close)")
        }
    }
}

/// The octets of a reported QUIC frame, parsed on their own, are that same frame, whole.
func checkReparses(_ item: DemuxedItem, _ bytes: RawSpan) {
    do {
        let (end, again) = try QUICFrameParser.decodeFrame(in: bytes, at: 0)
        check(end == bytes.byteCount, "QUIC frame re-parsed ends at \(end) of \(bytes.byteCount)")
        if case .quicAck(let ack) = item, case .quicAck(let ackAgain)? = again {
            check(ack == ackAgain, "QUIC ACK re-parsed differs: \(ack) != \(ackAgain)")
        } else {
            check(again == item, "QUIC frame re-parsed as \(String(describing: again)), not \(item)")
        }
    } catch {
        fatalError("QUIC frame \(item) does not re-parse on its own: \(error)")
    }
}

/// An ACK's decoded fields agree with the ranges walked from its octets: ranges descend, do not
/// touch, stay within smallest...largest, and the first and last are the ends.
func checkAck(_ ack: QUICAck, _ bytes: RawSpan) {
    let type = bytes.unsafeLoad(as: UInt8.self)
    check(type == 0x02 || type == 0x03, "ACK of type \(type)")
    check((type == 0x03) == (ack.ecnCounts != nil), "ACK type \(type) with ECN counts \(String(describing: ack.ecnCounts))")
    check(ack.smallestAcknowledged <= ack.largestAcknowledged, "ACK smallest \(ack.smallestAcknowledged) > largest \(ack.largestAcknowledged)")
    check(ack.firstAckRange <= ack.largestAcknowledged, "ACK first range below 0")
    var walked: UInt64 = 0
    var previousLower: UInt64?
    var lowest = UInt64.max
    ack.forEachRange(in: bytes) { range in
        if let previousLower {
            check(range.upperBound + 1 < previousLower, "ACK ranges touch or overlap: \(range) below \(previousLower)")
        } else {
            check(range.upperBound == ack.largestAcknowledged, "first ACK range \(range) does not end at the largest")
        }
        check(range.lowerBound >= ack.smallestAcknowledged, "ACK range \(range) below the smallest \(ack.smallestAcknowledged)")
        previousLower = range.lowerBound
        lowest = range.lowerBound
        walked += 1
    }
    check(walked == ack.additionalRangeCount + 1, "walked \(walked) ACK ranges, the frame says \(ack.additionalRangeCount + 1)")
    check(lowest == ack.smallestAcknowledged, "lowest ACK range starts at \(lowest), not \(ack.smallestAcknowledged)")
    check(ack.contains(ack.largestAcknowledged, in: bytes) && ack.contains(ack.smallestAcknowledged, in: bytes),
          "ACK does not contain its own ends")
    if ack.largestAcknowledged < UInt64.max { check(!ack.contains(ack.largestAcknowledged + 1, in: bytes), "ACK contains largest + 1") }
    _ = ack.ackDelayMicroseconds()
    _ = ack.ackDelayMicroseconds(exponent: Int(type) * 7)
}

/// The octets read as one big-endian integer.
func bigEndian(_ bytes: RawSpan) -> UInt64 {
    var value: UInt64 = 0
    for index in 0..<bytes.byteCount { value = value << 8 | UInt64(bytes.unsafeLoad(fromByteOffset: index, as: UInt8.self)) }
    return value
}

/// An AMQP business item: the protocol header 0-9-1 (type 256, 8 octets), or a method, content
/// header or body frame within the frame-max, a method holding its ids (on channel 0 when it is a
/// Connection method) and a content header its 14 fixed octets.
func checkAMQPBusiness(_ frame: BusinessFrame, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    check(bytes.byteCount == frame.length, "AMQP frame of length \(frame.length) handed over \(bytes.byteCount) octets")
    check(frame.flags == 0 && frame.streamID <= UInt32(UInt16.max), "AMQP frame with flags or a channel over 16 bits \(frame)")
    if frame.type == AMQPFrame.protocolHeaderType {
        check(bytes.withUnsafeBytes { Array($0) } == AMQPFrame.protocolHeader, "protocol header other than AMQP 0-9-1 passed on")
        check(setup.role != .client, "a client's decoder passed on a protocol header")
        return
    }
    check((1...3).contains(frame.type), "AMQP frame type \(frame.type) as business")
    check(frame.length <= setup.maxFrameSize, "AMQP payload of \(frame.length) octets over frame-max - 8 = \(setup.maxFrameSize)")
    if frame.type == UInt64(AMQPFrame.FrameType.method) {
        check(frame.length >= 4, "AMQP method frame of \(frame.length) octets")
        check(bigEndian(bytes.extracting(0..<2)) != 10 || frame.streamID == 0, "Connection method on channel \(frame.streamID)")
    }
    if frame.type == UInt64(AMQPFrame.FrameType.header) { check(frame.length >= 14, "AMQP content header of \(frame.length) octets") }
}
