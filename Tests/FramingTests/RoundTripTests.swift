import Framing
import Testing

/// Random frames → encode → demux (in random chunks) → the same frames, for every dialect.
@Suite struct RoundTripTests {
    @Test(arguments: 0..<40)
    func envelope(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var stream: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &stream)
        var expected: [Received] = []
        for _ in 0..<Int.random(in: 1...60, using: &random) {
            let payload = HeartbeatPayload(rawValue: random.next())
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                EnvelopeFrame.appendPing(payload, to: &stream)
                expected.append(Received(.ping(payload), payload.octets))
            case 1:
                EnvelopeFrame.appendPong(payload, to: &stream)
                expected.append(Received(.pong(payload), payload.octets))
            case 2:
                let data = random.bytes(Int.random(in: 0...3000, using: &random))
                EnvelopeFrame.appendFrame(payload: data.span.bytes, to: &stream)
                expected.append(Received(.business(BusinessFrame(type: 0, length: data.count)), data))
            case 3:
                let code = random.varintValue()
                let reason = String(repeating: "é", count: Int.random(in: 0...20, using: &random))
                EnvelopeFrame.appendGoAway(code: code, reason: reason, to: &stream)
                var goAwayPayload: [UInt8] = []
                Varint.append(code, to: &goAwayPayload)
                goAwayPayload += Array(reason.utf8)
                expected.append(Received(.business(BusinessFrame(type: 3, length: goAwayPayload.count)), goAwayPayload))
                #expect(throws: Never.self) {
                    let decoded = try EnvelopeGoAway(payload: goAwayPayload.span.bytes)
                    #expect(decoded.code == code && decoded.reason == reason)
                }
            default:
                let type = UInt64.random(in: 4...(1 << 20), using: &random)
                let data = random.bytes(Int.random(in: 0...100, using: &random))
                EnvelopeFrame.appendFrame(type: type, payload: data.span.bytes, to: &stream)
                expected.append(Received(.business(BusinessFrame(type: type, length: data.count)), data))
            }
        }
        var demuxer = Demuxer(dialect: .envelope)
        let (items, error) = demux(&demuxer, random.chunks(of: stream))
        #expect(error == nil)
        #expect(items == expected)
    }

    @Test(arguments: 0..<40)
    func http2(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var stream: [UInt8] = []
        HTTP2Frame.appendClientPreface(to: &stream)
        var expected: [Received] = []
        func frame(_ type: UInt8, _ flags: UInt8, _ streamID: UInt32, _ data: [UInt8]) {
            HTTP2Frame.appendFrame(type: type, flags: flags, streamID: streamID, payload: data.span.bytes, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: UInt64(type), flags: flags, streamID: streamID, length: data.count)), data))
        }
        for _ in 0..<Int.random(in: 1...60, using: &random) {
            let payload = HeartbeatPayload(rawValue: random.next())
            let streamID = UInt32.random(in: 1...0x7fff_ffff, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0:
                let ack = Bool.random(using: &random)
                HTTP2Frame.appendPing(payload, ack: ack, to: &stream)
                expected.append(Received(ack ? .pong(payload) : .ping(payload), payload.octets))
            case 1:
                frame(HTTP2Frame.FrameType.data, UInt8.random(in: 0...255, using: &random), streamID,
                      random.bytes(Int.random(in: 0...16_384, using: &random)))
            case 2:
                // A header block split over HEADERS and CONTINUATIONs.
                let continuations = Int.random(in: 0...3, using: &random)
                let flags = UInt8.random(in: 0...255, using: &random) & ~HTTP2Frame.Flags.endHeaders
                frame(HTTP2Frame.FrameType.headers, continuations == 0 ? flags | HTTP2Frame.Flags.endHeaders : flags, streamID, random.bytes(20))
                for index in 0..<continuations {
                    frame(HTTP2Frame.FrameType.continuation, index == continuations - 1 ? HTTP2Frame.Flags.endHeaders : 0, streamID, random.bytes(9))
                }
            case 3:
                frame(HTTP2Frame.FrameType.settings, Bool.random(using: &random) ? 1 : 0, 0, random.bytes(6 * Int.random(in: 0...4, using: &random)))
            default:
                frame(UInt8.random(in: 0x0a...0xff, using: &random), UInt8.random(in: 0...255, using: &random),
                      UInt32.random(in: 0...0x7fff_ffff, using: &random), random.bytes(Int.random(in: 0...200, using: &random)))
            }
        }
        var demuxer = Demuxer(HTTP2FrameDecoder(preface: .required))
        let (items, error) = demux(&demuxer, random.chunks(of: stream))
        #expect(error == nil)
        #expect(items == expected)
    }

    @Test(arguments: 0..<200)
    func quic(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var packet: [UInt8] = []
        var expected: [Received] = []
        let count = Int.random(in: 1...12, using: &random)
        for index in 0..<count {
            let frame = Self.randomQUICFrame(&random, last: index == count - 1)
            let start = packet.count
            frame.append(to: &packet)
            let bytes = Array(packet[start...])
            switch frame {
            case .padding:
                // Merged with the PADDING after it, if any; reports nothing.
                break
            case .ping:
                expected.append(Received(.quicPing, bytes))
            case .ack(let largest, let delay, let first, let ranges, let ecn):
                guard case .quicAck(let ack)? = Self.demuxOne(bytes)?.item else {
                    Issue.record("ACK \(frame) did not decode")
                    return
                }
                #expect(ack.largestAcknowledged == largest && ack.ackDelay == delay && ack.firstAckRange == first)
                #expect(ack.additionalRangeCount == UInt64(ranges.count) && ack.ecnCounts == ecn)
                expected.append(Received(.quicAck(ack), bytes))
            default:
                expected.append(Received(.business(BusinessFrame(type: frame.type, length: bytes.count)), bytes))
            }
        }
        var demuxer = Demuxer(dialect: .quic)
        let (items, error) = demux(&demuxer, [packet])
        #expect(error == nil)
        #expect(items == expected)
    }

    static func demuxOne(_ packet: [UInt8]) -> Received? {
        var demuxer = QUICPacketDemuxer()
        var received: Received?
        try? demuxer.feed(packet: packet) { item, bytes in received = received ?? Received(item, bytes) }
        return received
    }

    /// A valid frame of a random type; a frame that runs to the end of the packet only if `last`.
    static func randomQUICFrame(_ random: inout SeededRandom, last: Bool) -> QUICFrame {
        let value = { (random: inout SeededRandom) in random.varintValue() }
        switch Int.random(in: 0..<22, using: &random) {
        case 0: return .padding(count: Int.random(in: 1...30, using: &random))
        case 1: return .ping
        case 2:
            let largest = value(&random)
            var smallest = UInt64.random(in: 0...largest, using: &random)
            let first = largest - smallest
            var ranges: [QUICFrame.AckRange] = []
            while smallest >= 2, ranges.count < 5, Bool.random(using: &random) {
                let gap = UInt64.random(in: 0...min(smallest - 2, 1000), using: &random)
                let length = UInt64.random(in: 0...min(smallest - 2 - gap, 1000), using: &random)
                ranges.append(QUICFrame.AckRange(gap: gap, length: length))
                smallest = smallest - 2 - gap - length
            }
            let ecn = Bool.random(using: &random) ? QUICAck.ECNCounts(ect0: value(&random), ect1: value(&random), ce: value(&random)) : nil
            return .ack(largestAcknowledged: largest, ackDelay: value(&random), firstAckRange: first, ranges: ranges, ecn: ecn)
        case 3: return .resetStream(streamID: value(&random), errorCode: value(&random), finalSize: value(&random))
        case 4: return .stopSending(streamID: value(&random), errorCode: value(&random))
        case 5: return .crypto(offset: UInt64.random(in: 0...(1 << 40), using: &random), data: random.bytes(Int.random(in: 0...300, using: &random)))
        case 6: return .newToken(token: random.bytes(Int.random(in: 1...64, using: &random)))
        case 7:
            let explicitLength = !last || Bool.random(using: &random)
            return .stream(streamID: value(&random), offset: Bool.random(using: &random) ? UInt64.random(in: 0...(1 << 40), using: &random) : nil,
                           data: random.bytes(Int.random(in: 0...500, using: &random)), explicitLength: explicitLength, fin: Bool.random(using: &random))
        case 8: return .maxData(value(&random))
        case 9: return .maxStreamData(streamID: value(&random), maximum: value(&random))
        case 10: return .maxStreams(bidirectional: Bool.random(using: &random), maximum: UInt64.random(in: 0...(1 << 60), using: &random))
        case 11: return .dataBlocked(limit: value(&random))
        case 12: return .streamDataBlocked(streamID: value(&random), limit: value(&random))
        case 13: return .streamsBlocked(bidirectional: Bool.random(using: &random), limit: UInt64.random(in: 0...(1 << 60), using: &random))
        case 14:
            let sequence = value(&random)
            return .newConnectionID(sequence: sequence, retirePriorTo: UInt64.random(in: 0...sequence, using: &random),
                                    connectionID: random.bytes(Int.random(in: 1...20, using: &random)), resetToken: random.bytes(16))
        case 15: return .retireConnectionID(sequence: value(&random))
        case 16: return .pathChallenge(random.next())
        case 17: return .pathResponse(random.next())
        case 18: return .connectionClose(errorCode: value(&random), frameType: Bool.random(using: &random) ? value(&random) : nil,
                                         reason: random.bytes(Int.random(in: 0...40, using: &random)))
        case 19: return .handshakeDone
        default: return .datagram(data: random.bytes(Int.random(in: 0...200, using: &random)), explicitLength: !last || Bool.random(using: &random))
        }
    }
}

extension HeartbeatPayload {
    var octets: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * UInt64($0))) } }
}
