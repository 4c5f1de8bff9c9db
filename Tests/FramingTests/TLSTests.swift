import AllocationCounting
import Framing
import Testing

/// The spec/vectors/tls.json vectors, whole, split at every octet and one octet at a time.
extension VectorTests {
    @Test func tlsHasVectors() {
        #expect(Self.tls.count >= 25)
    }

    @Test(arguments: tls)
    func tlsVectorWholeSplitAndBytewise(_ vector: Vector) throws {
        try streamVectorWholeSplitAndBytewise(vector)
    }
}

/// A record's octets from its content type, version and fragment.
private func record(_ type: UInt8, _ fragment: [UInt8], version: UInt16 = 0x0303) -> [UInt8] {
    [type, UInt8(version >> 8), UInt8(version & 0xFF), UInt8(fragment.count >> 8), UInt8(fragment.count & 0xFF)] + fragment
}

/// The original CVE-2014-0160 request: a TLS 1.1 heartbeat record of 3 octets, a request
/// claiming 16,384 payload octets.
let heartbleedRequest: [UInt8] = [0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0x40, 0x00]

/// Decodes `stream` whole with a TLS decoder: the items with their octets, the error, the decoder.
private func decodeTLS(_ stream: [UInt8], maxFrameSize: Int = TLSRecord.maxRecordLength)
    -> (items: [Received], error: FramingError?, decoder: TLSRecordDecoder) {
    var demuxer = StreamDemuxer(TLSRecordDecoder(maxFrameSize: maxFrameSize))
    var items: [Received] = []
    do {
        try demuxer.feed(stream) { item, bytes in items.append(Received(item, bytes)) }
        try demuxer.finish()
        return (items, nil, demuxer.decoder)
    } catch {
        return (items, error, demuxer.decoder)
    }
}

@Suite struct TLSCodecTests {
    @Test func ourRequestIsThirtyTwoOctetsWithSixteenOfPadding() {
        var encoder = TLSDialect().makeEncoder(role: .client, randomSeed: 1)
        var buffer: [UInt8] = []
        encoder.appendPing(HeartbeatPayload(sequence: 1, timestampMilliseconds: 3000), to: &buffer)
        #expect(buffer.count == 32)
        #expect(Array(buffer[0..<16]) == [0x18, 0x03, 0x03, 0x00, 0x1B, 0x01, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8])
        let firstPadding = Array(buffer[16...])
        buffer.removeAll()
        encoder.appendPing(HeartbeatPayload(sequence: 1, timestampMilliseconds: 3000), to: &buffer)
        #expect(Array(buffer[16...]) != firstPadding, "each message draws fresh padding")
        // The padding comes from the seed: the same seed, the same padding; another, another.
        var same = TLSDialect().makeEncoder(role: .client, randomSeed: 1), other = TLSDialect().makeEncoder(role: .client, randomSeed: 2)
        var sameBuffer: [UInt8] = [], otherBuffer: [UInt8] = []
        same.appendPing(HeartbeatPayload(rawValue: 0), to: &sameBuffer)
        other.appendPing(HeartbeatPayload(rawValue: 0), to: &otherBuffer)
        #expect(Array(sameBuffer[16...]) == firstPadding)
        #expect(Array(otherBuffer[16...]) != firstPadding)
    }

    @Test(arguments: [0, 1, 8, 9, 125, 2000, TLSRecord.maxHeartbeatPayload])
    func responseEchoesThePayloadAndNoMore(_ length: Int) {
        var random = SeededRandom(seed: UInt64(length))
        let payload = random.bytes(length)
        var encoder = TLSRecordEncoder(randomSeed: 9)
        var buffer: [UInt8] = []
        encoder.appendPong(echoing: payload.span.bytes, to: &buffer)
        #expect(buffer.count == 5 + 3 + length + 16)
        #expect(buffer[5] == TLSRecord.HeartbeatMessageType.response)
        #expect(Int(buffer[6]) << 8 | Int(buffer[7]) == length, "payload_length is the request's")
        let decoded = decodeTLS(buffer)
        #expect(decoded.items == [Received(.pong(HeartbeatPayload(prefixOf: payload.span.bytes)), payload)])
        #expect(decoded.error == nil)
    }

    @Test func aPayloadNoRecordCanHoldIsNeverEchoed() {
        var encoder = TLSRecordEncoder(randomSeed: 9)
        var buffer: [UInt8] = []
        encoder.appendPong(echoing: [UInt8](repeating: 1, count: TLSRecord.maxHeartbeatPayload + 1).span.bytes, to: &buffer)
        #expect(buffer.isEmpty)
    }

    @Test func randomPayloadsRoundTripThroughEncoderAndDecoder() {
        var random = SeededRandom(seed: 6520)
        var encoder = TLSRecordEncoder(randomSeed: 1)
        for _ in 0..<300 {
            let length = Bool.random(using: &random) ? Int.random(in: 0...300, using: &random)
                : Int.random(in: 0...TLSRecord.maxHeartbeatPayload, using: &random)
            let payload = random.bytes(length)
            var stream: [UInt8] = []
            encoder.appendPong(echoing: payload.span.bytes, to: &stream)
            encoder.appendData(payload.span.bytes, type: nil, to: &stream)
            var demuxer = Demuxer(dialect: .tls)
            let result = demux(&demuxer, random.chunks(of: stream))
            #expect(result.error == nil)
            #expect(result.items == [Received(.pong(HeartbeatPayload(prefixOf: payload.span.bytes)), payload),
                                     Received(.business(BusinessFrame(type: 23, length: length)), payload)])
        }
    }

    /// CVE-2014-0160: the request claims 16,384 payload octets in a 3-octet record. Nothing is
    /// reported, nothing fails, and the decoder counts it; the record after it decodes.
    @Test func heartbleedRequestIsDiscardedSilently() {
        var after: [UInt8] = []
        var encoder = TLSRecordEncoder(randomSeed: 3)
        encoder.appendPing(HeartbeatPayload(rawValue: 42), to: &after)
        let decoded = decodeTLS(heartbleedRequest + after)
        #expect(decoded.error == nil)
        #expect(decoded.items.count == 1)
        #expect(decoded.items.first?.item == .ping(HeartbeatPayload(rawValue: 42)))
        #expect(decoded.decoder.discardedHeartbeats == 1)
        #expect(decoded.decoder.lastDiscard == .payloadOverflow)
    }

    @Test(arguments: [
        ([UInt8](), TLSHeartbeatDiscard.headerTruncated),
        ([1, 0], .headerTruncated),
        ([1, 0x40, 0x00], .payloadOverflow),
        ([2, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 100), .payloadOverflow),
        ([1, 0, 8] + [UInt8](repeating: 0, count: 8 + 15), .paddingTooShort),
        ([1, 0, 0], .paddingTooShort),
        ([0, 0, 0] + [UInt8](repeating: 0, count: 16), .unknownType),
        ([3, 0, 0] + [UInt8](repeating: 0, count: 16), .unknownType),
        ([1, 0x3F, 0xEE] + [UInt8](repeating: 0, count: 0x3FEE + 16), .recordTooLong),
    ])
    func malformedMessagesAreDiscardedWithTheirReason(_ fragment: [UInt8], _ reason: TLSHeartbeatDiscard) {
        #expect(TLSHeartbeatMessage(parsing: fragment.span.bytes) == .discarded(reason))
        let decoded = decodeTLS(record(24, fragment))
        #expect(decoded.items.isEmpty && decoded.error == nil)
        #expect(decoded.decoder.discardedHeartbeats == 1 && decoded.decoder.lastDiscard == reason)
    }

    @Test func theBoundaryOfTheHeartbleedRuleIsExact() {
        // 3 + payload_length + 16 == record length: accepted; one octet less: discarded.
        let payload = [UInt8](repeating: 7, count: 10)
        let fits = [1, 0, 10] + payload + [UInt8](repeating: 0, count: 16)
        #expect(TLSHeartbeatMessage(parsing: fits.span.bytes) == .request(payload: 3..<13))
        #expect(TLSHeartbeatMessage(parsing: Array(fits.dropLast()).span.bytes) == .discarded(.paddingTooShort))
        let maximal = [1, 0x3F, 0xED] + [UInt8](repeating: 0, count: 0x3FED + 16)
        #expect(maximal.count == TLSRecord.maxPlaintextLength)
        #expect(TLSHeartbeatMessage(parsing: maximal.span.bytes) == .request(payload: 3..<(3 + 0x3FED)))
    }

    @Test func recordLayerErrorsCarryTLSAlerts() {
        let unknown = decodeTLS(record(25, []))
        #expect(unknown.error?.code == .tls(.unexpectedMessage) && unknown.error?.reason.identifier == "tls-content-type")
        let version = decodeTLS(record(23, [1], version: 0x0305))
        #expect(version.error?.code == .tls(.protocolVersion) && version.error?.reason.identifier == "tls-record-version")
        let overflow = decodeTLS([23, 3, 3, 0x48, 0x01])
        #expect(overflow.error?.code == .tls(.recordOverflow) && overflow.error?.offset == 0)
        #expect(overflow.error?.reason == .frameTooLarge(length: 18_433, limit: 18_432))
        let limited = decodeTLS(record(23, [UInt8](repeating: 0, count: 65)), maxFrameSize: 64)
        #expect(limited.error?.reason == .frameTooLarge(length: 65, limit: 64))
        let truncated = decodeTLS(Array(heartbleedRequest.prefix(7)))
        #expect(truncated.error?.reason == .truncated && truncated.error?.offset == 0)
        #expect(TLSRecordDecoder(maxFrameSize: 1 << 20).maxFrameSize == TLSRecord.maxRecordLength)
        #expect(TLSRecordDecoder(maxFrameSize: 1).maxFrameSize == 64)
        #expect(FramingError.Reason.frameTooLarge(length: 1, limit: 0).code(in: .tls) == .tls(.recordOverflow))
    }

    @Test func recordOverflowIsReportedBeforeTheFragmentIsBuffered() throws {
        var demuxer = StreamDemuxer(TLSRecordDecoder())
        try demuxer.feed([23, 3, 3]) { _, _ in }
        #expect(demuxer.bufferedByteCount == 3)
        #expect(throws: FramingError.self) { try demuxer.feed([0xFF, 0xFF, 0, 0, 0]) { _, _ in } }
        #expect(demuxer.bufferedByteCount == 0)
    }

    @Test func dataIsSplitIntoRecordsOfContentTypes() {
        var encoder = TLSRecordEncoder(randomSeed: 0)
        var buffer: [UInt8] = []
        let payload = [UInt8](repeating: 0x61, count: (1 << 14) + 10)
        encoder.appendData(payload.span.bytes, type: nil, to: &buffer)
        encoder.appendData(([0x16] as [UInt8]).span.bytes, type: 22, to: &buffer)
        encoder.appendData(([0x01] as [UInt8]).span.bytes, type: 99, to: &buffer)
        let decoded = decodeTLS(buffer)
        #expect(decoded.items.map(\.item) == [.business(BusinessFrame(type: 23, length: 1 << 14)), .business(BusinessFrame(type: 23, length: 10)),
                                              .business(BusinessFrame(type: 22, length: 1)), .business(BusinessFrame(type: 23, length: 1))])
        #expect(decoded.items.map(\.bytes).reduce([], +) == payload + [0x16, 0x01])
    }

    @Test func alertsCloseAndCloseNotifyIsAnswered() throws {
        var encoder = TLSRecordEncoder(randomSeed: 0)
        var reply: [UInt8] = []
        let closeNotify = try encoder.inbound(BusinessFrame(type: 21, length: 2), payload: ([1, 0] as [UInt8]).span.bytes, reply: &reply)
        #expect(closeNotify == .peerClosing(code: 0, reason: "CLOSE_NOTIFY", deliver: false))
        #expect(reply == [21, 3, 3, 0, 2, 1, 0])
        // Nothing goes out after our close_notify.
        reply.removeAll()
        encoder.appendPing(HeartbeatPayload(rawValue: 1), to: &reply)
        encoder.appendClose(code: .tls(.internalError), reason: "late", to: &reply)
        #expect(reply.isEmpty)

        var other = TLSRecordEncoder(randomSeed: 0)
        #expect(try other.inbound(BusinessFrame(type: 21, length: 2), payload: ([2, 22] as [UInt8]).span.bytes, reply: &reply)
                == .peerClosing(code: 22, reason: "RECORD_OVERFLOW", deliver: false))
        #expect(reply.isEmpty, "a fatal alert is not answered")
        var warning = TLSRecordEncoder(randomSeed: 0)
        #expect(try warning.inbound(BusinessFrame(type: 21, length: 2), payload: ([1, 100] as [UInt8]).span.bytes, reply: &reply) == .deliver)
        #expect(try warning.inbound(BusinessFrame(type: 23, length: 1), payload: ([1] as [UInt8]).span.bytes, reply: &reply) == .deliver)
        warning.appendClose(code: .tls(.userCanceled), reason: "too_many_pings", to: &reply)
        #expect(reply == [21, 3, 3, 0, 2, 2, 90])
    }

    @Test func registryAndVocabularyKnowTLS() {
        #expect(DialectRegistry.dialect(named: "tls") == .tls)
        #expect(DialectRegistry.closeCodes(.tls)?.noError == .tls(.closeNotify))
        #expect(DialectRegistry.vocabulary(.tls).frameName(23) == "APPLICATION_DATA")
        #expect(Dialect.tls.maxHeartbeatLength == 5 + (1 << 14))
        var buffer: [UInt8] = []
        Dialect.tls.appendPing(HeartbeatPayload(rawValue: 5), to: &buffer)
        Dialect.tls.appendPong(HeartbeatPayload(rawValue: 5), to: &buffer)
        var demuxer = Demuxer(dialect: .tls)
        let result = demux(&demuxer, [buffer])
        #expect(result.items.map(\.item) == [.ping(HeartbeatPayload(rawValue: 5)), .pong(HeartbeatPayload(rawValue: 5))])
    }
}

/// Long heartbeats (RFC 6520 allows up to 16,365 payload octets) cost no allocation either.
@Suite(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
struct TLSAllocationTests {
    @Test func longHeartbeatsAndDiscardsAllocateNothing() throws {
        var encoder = TLSRecordEncoder(randomSeed: 11)
        var demuxer = StreamDemuxer(TLSRecordDecoder())
        let payload = [UInt8](repeating: 0x5A, count: 1000)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2 * encoder.maxHeartbeatLength)
        var pings = 0, pongs = 0
        func roundTrip() throws {
            buffer.removeAll(keepingCapacity: true)
            encoder.appendPong(echoing: payload.span.bytes, to: &buffer)
            encoder.appendPing(HeartbeatPayload(rawValue: 1), to: &buffer)
            buffer.append(contentsOf: heartbleedRequest)
            try demuxer.feed(buffer) { item, _ in
                if case .ping = item { pings += 1 }
                if case .pong = item { pongs += 1 }
            }
        }
        try roundTrip()
        let count = try allocations {
            for _ in 0..<1000 { try roundTrip() }
        }
        #expect(count == 0)
        #expect(pings == 1001 && pongs == 1001)
        #expect(demuxer.decoder.discardedHeartbeats == 1001)
    }
}

/// Found by demux-differential: a bad record version was described differently when its octets
/// arrived apart (the major octet alone) than together; the error must be the same however the
/// stream is cut.
@Suite struct TLSFuzzRegressionTests {
    @Test func aBadVersionIsTheSameErrorWholeAndSplit() {
        for stream: [UInt8] in [[0x17, 0x02, 0x00, 0x00, 0x01, 0x78], [0x17, 0x03, 0x07, 0x00, 0x00]] {
            var whole = Demuxer(dialect: .tls), split = Demuxer(dialect: .tls)
            let wholeError = demux(&whole, [stream]).error
            let splitError = demux(&split, stream.map { [$0] }).error
            #expect(wholeError != nil && wholeError == splitError)
        }
    }
}
