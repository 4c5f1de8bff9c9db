import Framing
import Testing

@Suite struct DemuxerTests {
    @Test func oversizedFrameFailsAtItsHeaderWithoutBuffering() throws {
        var demuxer = StreamDemuxer(HTTP2FrameDecoder())
        var header: [UInt8] = []
        HTTP2Frame.appendHeader(length: 16_385, type: HTTP2Frame.FrameType.data, flags: 0, streamID: 1, to: &header)
        let error = #expect(throws: FramingError.self) {
            try demuxer.feed(header) { _, _ in }
        }
        #expect(error?.reason == .frameTooLarge(length: 16_385, limit: 16_384))
        #expect(error?.code == .http2(.frameSizeError))
        #expect(demuxer.bufferedByteCount == 0)
    }

    @Test func bufferNeverExceedsOneFrame() throws {
        var demuxer = StreamDemuxer(HTTP2FrameDecoder(maxFrameSize: 1 << 20))
        var stream: [UInt8] = []
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        HTTP2Frame.appendFrame(type: 0, streamID: 1, payload: payload.span.bytes, to: &stream)
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 1), ack: false, to: &stream)
        var largestBuffer = 0
        var items: [DemuxedItem] = []
        var index = 0
        while index < stream.count {
            let end = min(index + 4093, stream.count)
            try demuxer.feed(Array(stream[index..<end])) { item, bytes in
                items.append(item)
                if case .business = item { #expect(bytes.byteCount == payload.count) }
            }
            largestBuffer = max(largestBuffer, demuxer.bufferedByteCount)
            index = end
        }
        try demuxer.finish()
        #expect(largestBuffer <= HTTP2Frame.headerLength + (1 << 20))
        #expect(items == [.business(BusinessFrame(type: 0, streamID: 1, length: 1 << 20)), .ping(HeartbeatPayload(rawValue: 1))])
    }

    @Test func failureIsStickyAndSaysWhy() throws {
        var demuxer = Demuxer(dialect: .envelope)
        let first = #expect(throws: FramingError.self) {
            try demuxer.feed(Array("GET / HTTP/1.1\r\n".utf8)) { _, _ in }
        }
        #expect(first?.reason == .prefaceMismatch(at: 0))
        #expect(first?.code == .envelope(.prefaceError))
        #expect(first?.description.contains("does not speak this protocol") == true)
        var preface: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &preface)
        let again = #expect(throws: FramingError.self) { try demuxer.feed(preface) { _, _ in Issue.record("no item after failure") } }
        #expect(again == first)
        #expect(throws: FramingError.self) { try demuxer.finish() }
        #expect(demuxer.failure == first)
    }

    @Test func offsetsCountFromTheFirstOctetFed() throws {
        var demuxer = Demuxer(dialect: .envelope)
        var stream: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &stream)
        EnvelopeFrame.appendPing(HeartbeatPayload(rawValue: 9), to: &stream)
        try demuxer.feed(stream) { _, _ in }
        #expect(demuxer.offset == 18)
        let error = #expect(throws: FramingError.self) { try demuxer.feed([0x01, 0x07]) { _, _ in } }
        #expect(error?.offset == 18)
        #expect(error?.reason == .heartbeatLength(frameType: 1, length: 7))
    }

    @Test func truncatedStreamReportsTheFrameStart() throws {
        var demuxer = Demuxer(dialect: .http2)
        var stream: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 1), ack: true, to: &stream)
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 2), ack: true, to: &stream)
        try demuxer.feed(Array(stream.dropLast(3))) { _, _ in }
        #expect(demuxer.bufferedByteCount == 14)
        let error = #expect(throws: FramingError.self) { try demuxer.finish() }
        #expect(error?.reason == .truncated)
        #expect(error?.offset == 17)
    }

    @Test func http2MaxFrameSizeIsClampedToTheRFCRange() {
        #expect(HTTP2FrameDecoder(maxFrameSize: 10).maxFrameSize == 16_384)
        #expect(HTTP2FrameDecoder(maxFrameSize: 1 << 30).maxFrameSize == 16_777_215)
        #expect(EnvelopeFrameDecoder(maxFrameSize: 1).maxFrameSize == 64)
    }

    @Test func headerBlockStateIsVisible() throws {
        var demuxer = StreamDemuxer(HTTP2FrameDecoder())
        var stream: [UInt8] = []
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.headers, flags: 0, streamID: 5, payload: ([1] as [UInt8]).span.bytes, to: &stream)
        try demuxer.feed(stream) { _, _ in }
        #expect(demuxer.decoder.openHeaderBlock == 5)
        stream.removeAll()
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.continuation, flags: HTTP2Frame.Flags.endHeaders, streamID: 5, payload: ([2] as [UInt8]).span.bytes, to: &stream)
        try demuxer.feed(stream) { _, _ in }
        #expect(demuxer.decoder.openHeaderBlock == nil)
    }
}

@Suite struct ErrorCodeTests {
    @Test func codesMatchTheRFCs() {
        #expect(HTTP2ErrorCode.frameSizeError.rawValue == 0x6)
        #expect(HTTP2ErrorCode.enhanceYourCalm.rawValue == 0xb)
        #expect(HTTP2ErrorCode.http11Required.name == "HTTP_1_1_REQUIRED")
        #expect(QUICTransportErrorCode.frameEncodingError.rawValue == 0x7)
        #expect(QUICTransportErrorCode.protocolViolation.rawValue == 0xa)
        #expect(QUICTransportErrorCode.noViablePath.rawValue == 0x10)
        #expect(DialectRegistry.closeCodes(.http2)?.enhanceYourCalm == .http2(.enhanceYourCalm))
        #expect(DialectRegistry.closeCodes(.envelope)?.enhanceYourCalm.value == 0x6)
        #expect(WireErrorCode.http2(.protocolError).description == "PROTOCOL_ERROR (0x1)")
    }

    @Test func everyReasonMapsToACodeInEveryDialect() {
        let reasons: [FramingError.Reason] = [
            .prefaceMismatch(at: 0), .unsupportedVersion(2), .frameTooLarge(length: 1, limit: 0),
            .heartbeatLength(frameType: 6, length: 0), .pingOnStream(1),
            .headerBlockInterrupted(stream: 1, frameType: 6, frameStream: 0), .unexpectedContinuation(stream: 1),
            .nonMinimalFrameType(1), .unknownFrameType(0x1f), .frameTruncated(frameType: 2), .ackRangeUnderflow,
            .streamOffsetOverflow(frameType: 6), .emptyToken, .streamCountTooLarge(frameType: 0x12, count: 1 << 61),
            .connectionIDLength(0), .retirePriorToTooLarge(retirePriorTo: 2, sequence: 1), .malformedGoAway, .truncated,
        ]
        var identifiers = Set<String>()
        for reason in reasons {
            identifiers.insert(reason.identifier)
            #expect(!reason.description.isEmpty)
            for dialect in Dialect.allCases {
                #expect(DialectRegistry.wireCode(for: reason, in: dialect) == reason.code(in: dialect))
            }
        }
        #expect(identifiers.count == reasons.count)
        #expect(FramingError.Reason.nonMinimalFrameType(1).code(in: .quic) == .quic(.protocolViolation))
        #expect(FramingError.Reason.unknownFrameType(0x1f).code(in: .quic) == .quic(.frameEncodingError))
        #expect(FramingError.Reason.heartbeatLength(frameType: 6, length: 7).code(in: .http2) == .http2(.frameSizeError))
        #expect(FramingError.Reason.pingOnStream(1).code(in: .http2) == .http2(.protocolError))
        #expect(FramingError.Reason.unsupportedVersion(2).code(in: .envelope) == .envelope(.versionError))
    }
}

@Suite struct CodecTests {
    @Test func envelopeGoAwayRoundTrips() throws {
        var frame: [UInt8] = []
        EnvelopeFrame.appendGoAway(.enhanceYourCalm, reason: "too_many_pings", to: &frame)
        var demuxer = StreamDemuxer(EnvelopeFrameDecoder(expectPreface: false))
        var decoded: EnvelopeGoAway?
        try demuxer.feed(frame) { item, bytes in
            if case .business(let header) = item, header.type == EnvelopeFrame.FrameType.goAway {
                decoded = try? EnvelopeGoAway(payload: bytes)
            }
        }
        #expect(decoded?.errorCode == .enhanceYourCalm)
        #expect(decoded?.reason == "too_many_pings")
        #expect(throws: FramingError.Reason.malformedGoAway) { try EnvelopeGoAway(payload: [UInt8]().span.bytes) }
    }

    @Test func http2GoAwayAndPingEncodings() {
        var bytes: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 0x0102_0304_0506_0708), ack: true, to: &bytes)
        #expect(bytes == [0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        bytes.removeAll()
        HTTP2Frame.appendGoAway(lastStreamID: 3, code: .enhanceYourCalm, debugData: "too_many_pings", to: &bytes)
        #expect(Array(bytes[0..<9]) == [0, 0, 22, 7, 0, 0, 0, 0, 0])
        #expect(Array(bytes[9..<17]) == [0, 0, 0, 3, 0, 0, 0, 0x0b])
        #expect(String(decoding: bytes[17...], as: UTF8.self) == "too_many_pings")
    }

    @Test func heartbeatEncodingsFitTheAdvertisedMaximum() {
        for dialect in Dialect.allCases {
            var ping: [UInt8] = []
            dialect.appendPing(HeartbeatPayload(rawValue: .max), to: &ping)
            var pong: [UInt8] = []
            dialect.appendPong(HeartbeatPayload(rawValue: .max), to: &pong)
            #expect(ping.count > 0 && ping.count <= dialect.maxHeartbeatLength)
            #expect(pong.count <= dialect.maxHeartbeatLength)
        }
    }

    /// The PADDING skip reads 8 octets at a time and the last ones with one overlapping load:
    /// every packet of up to 9 octets of PADDING, PING and HANDSHAKE_DONE (each one octet), and
    /// PINGs at every offset of longer PADDING runs, report exactly their nonzero octets, in order.
    @Test func quicPaddingRunsEndAtTheNextFrame() throws {
        func items(_ packet: [UInt8]) throws -> [UInt8] {
            var demuxer = QUICPacketDemuxer()
            var reported: [UInt8] = []
            try demuxer.feed(packet: packet) { item, bytes in
                #expect(bytes.byteCount == 1)
                switch item {
                case .quicPing: reported.append(bytes.unsafeLoad(as: UInt8.self) == 0x01 ? 0x01 : 0xff)
                case .business(let frame): reported.append(UInt8(truncatingIfNeeded: frame.type))
                default: reported.append(0xff)
                }
            }
            return reported
        }
        let octets: [UInt8] = [0x00, 0x01, 0x1e]
        for length in 1...9 {
            var count = 1
            for _ in 0..<length { count *= octets.count }
            for index in 0..<count {
                var packet: [UInt8] = []
                var rest = index
                for _ in 0..<length {
                    packet.append(octets[rest % octets.count])
                    rest /= octets.count
                }
                #expect(try items(packet) == packet.filter { $0 != 0 }, "\(packet)")
            }
        }
        for length in 10...40 {
            for first in 0..<length {
                for second in first..<length {
                    var packet = [UInt8](repeating: 0, count: length)
                    packet[first] = 0x01
                    packet[second] = 0x1e
                    #expect(try items(packet) == packet.filter { $0 != 0 }, "\(packet)")
                }
            }
        }
    }

    @Test func quicAckRangesAndMembership() throws {
        var packet: [UInt8] = []
        QUICFrame.ack(largestAcknowledged: 100, ackDelay: 25, firstAckRange: 2,
                      ranges: [.init(gap: 3, length: 4), .init(gap: 0, length: 0)], ecn: nil).append(to: &packet)
        var demuxer = QUICPacketDemuxer()
        var checked = false
        try demuxer.feed(packet: packet) { item, bytes in
            guard case .quicAck(let ack) = item else { return }
            var ranges: [ClosedRange<UInt64>] = []
            ack.forEachRange(in: bytes) { ranges.append($0) }
            #expect(ranges == [98...100, 89...93, 87...87])
            #expect(ack.smallestAcknowledged == 87)
            let members = (80...105).filter { ack.contains(UInt64($0), in: bytes) }
            #expect(members == [87, 89, 90, 91, 92, 93, 98, 99, 100])
            #expect(ack.ackDelayMicroseconds() == 200)
            #expect(ack.ackDelayMicroseconds(exponent: 0) == 25)
            checked = true
        }
        #expect(checked)
    }

    @Test func varintRejectsNothingItCanHold() {
        for value: UInt64 in [0, 63, 64, 16_383, 16_384, (1 << 30) - 1, 1 << 30, Varint.max] {
            var bytes: [UInt8] = []
            Varint.append(value, to: &bytes)
            var cursor = 0
            let read = Varint.read(bytes.span.bytes, at: &cursor)
            #expect(read?.value == value && read?.isMinimal == true && cursor == bytes.count)
        }
    }
}
