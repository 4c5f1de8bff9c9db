import Foundation
import AllocationCounting
import Framing
import Testing

/// Input from a peer that means harm, or is broken: huge declared lengths, torrents of random
/// bytes, one octet at a time, and the corner cases of each dialect's rules. Every outcome must be
/// bounded — a clear error, or a wait that holds at most one maximum-size frame — and never an
/// allocation sized by what the peer declares.
@Suite struct HostileInputTests {
    // MARK: - Declared lengths

    /// Feeds `bytes` to `demuxer`, returning the error and the octets allocated meanwhile (0 where
    /// allocations cannot be counted).
    static func feed(_ bytes: [UInt8], to demuxer: inout Demuxer) -> (error: FramingError?, allocated: UInt64) {
        var error: FramingError?
        let allocated = allocatedBytes {
            do throws(FramingError) { try demuxer.feed(bytes) { _, _ in } } catch let thrown { error = thrown }
        }
        return (error, allocated)
    }

    /// A bound on what feeding a few octets may allocate: a buffer for the frame's header and the
    /// octets that came, never the megabytes the header declares.
    static let smallAllocation: UInt64 = 128 * 1024

    static let quicLengthFrames: [(name: String, bytes: [UInt8])] = {
        let max = Varint.max
        func frame(_ fields: [UInt64]) -> [UInt8] {
            var bytes: [UInt8] = []
            for field in fields { Varint.append(field, to: &bytes) }
            return bytes
        }
        return [
            ("CRYPTO", frame([0x06, 0, max])),
            ("NEW_TOKEN", frame([0x07, max])),
            ("STREAM with LEN", frame([0x0a, 4, max])),
            ("STREAM with OFF and LEN", frame([0x0e, 4, 1, max - 1])),
            ("CONNECTION_CLOSE reason", frame([0x1c, 0, 0, max])),
            ("CONNECTION_CLOSE application reason", frame([0x1d, 0, max])),
            ("DATAGRAM with length", frame([0x31, max])),
            ("ACK with 2^62 - 1 ranges", frame([0x02, max, 0, max, 0])),
        ]
    }()

    @Test(arguments: 0..<8)
    func quicLengthsUpTo2To62AreAFrameEncodingError(_ index: Int) throws {
        let (name, header) = Self.quicLengthFrames[index]
        for following in [0, 1, 100, 1200] {
            var demuxer = Demuxer(dialect: .quic)
            let packet = [0x01] + header + [UInt8](repeating: 0x5a, count: following)
            let (error, allocated) = Self.feed(packet, to: &demuxer)
            #expect(error?.reason == .frameTruncated(frameType: UInt64(header[0])), "\(name) + \(following) octets: \(String(describing: error))")
            #expect(error?.code == .quic(.frameEncodingError))
            #expect(error?.offset == 1, "\(name): the frame after the PING")
            #expect(allocated < Self.smallAllocation, "\(name): \(allocated) octets allocated")
        }
    }

    @Test func quicStreamOffsetPlusLengthPast2To62IsAnError() {
        var packet: [UInt8] = []
        for field in [0x0e, 4, Varint.max, 1] as [UInt64] { Varint.append(field, to: &packet) }
        packet.append(0x61)
        var demuxer = Demuxer(dialect: .quic)
        let (error, _) = Self.feed(packet, to: &demuxer)
        #expect(error?.reason == .streamOffsetOverflow(frameType: 0x0e))
        #expect(error?.code == .quic(.frameEncodingError))
    }

    @Test(arguments: [HTTP2Frame.defaultMaxFrameSize, 1 << 20, HTTP2Frame.maxFrameSizeRange.upperBound])
    func http2LengthsUpTo2To24AreAnErrorOrABoundedWait(_ limit: Int) {
        for declared in [limit, limit + 1, (1 << 24) - 1] where declared < 1 << 24 {
            for following in [0, 1, 1000] {
                var demuxer = Demuxer(HTTP2FrameDecoder(maxFrameSize: limit))
                var bytes: [UInt8] = []
                HTTP2Frame.appendHeader(length: declared, type: HTTP2Frame.FrameType.data, flags: 0, streamID: 1, to: &bytes)
                bytes += [UInt8](repeating: 0, count: following)
                let (error, allocated) = Self.feed(bytes, to: &demuxer)
                if declared > limit {
                    #expect(error?.reason == .frameTooLarge(length: UInt64(declared), limit: limit))
                    #expect(error?.code == .http2(.frameSizeError))
                    #expect(demuxer.bufferedByteCount == 0)
                } else {
                    #expect(error == nil)
                    #expect(demuxer.bufferedByteCount == bytes.count, "a wait holds what came, no more")
                    #expect(throws: FramingError(.truncated, dialect: .http2, offset: 0)) { try demuxer.finish() }
                }
                #expect(allocated < Self.smallAllocation, "declared \(declared), limit \(limit): \(allocated) octets allocated")
            }
        }
    }

    @Test(arguments: [64, EnvelopeFrame.defaultMaxFrameSize, EnvelopeFrame.maxFrameSizeRange.upperBound])
    func envelopeLengthsUpToTheMaximumAndBeyond(_ limit: Int) {
        let declaredLengths: [UInt64] = [UInt64(limit), UInt64(limit) + 1, UInt64(EnvelopeFrame.maxFrameSizeRange.upperBound) + 1, 1 << 32, Varint.max]
        for declared in declaredLengths {
            for width in [1, 2, 4, 8] where Varint.minimalLength(of: declared) <= width {
                for following in [0, 1, 1000] {
                    var demuxer = Demuxer(EnvelopeFrameDecoder(maxFrameSize: limit, expectPreface: false))
                    var bytes: [UInt8] = [0x00]
                    Varint.append(declared, length: width, to: &bytes)
                    // Zeros: after a complete frame they read as empty DATA frames (00 00).
                    bytes += [UInt8](repeating: 0x00, count: following)
                    let (error, allocated) = Self.feed(bytes, to: &demuxer)
                    if declared > UInt64(limit) {
                        #expect(error?.reason == .frameTooLarge(length: declared, limit: limit))
                        #expect(error?.code == .envelope(.frameSizeError))
                        #expect(demuxer.bufferedByteCount == 0)
                    } else if UInt64(following) >= declared {
                        #expect(error == nil)
                        #expect(demuxer.bufferedByteCount == (following - Int(declared)) % 2)
                    } else {
                        #expect(error == nil)
                        #expect(demuxer.bufferedByteCount == bytes.count, "a wait holds what came, no more")
                    }
                    #expect(allocated < Self.smallAllocation, "declared \(declared) in \(width), limit \(limit): \(allocated) octets allocated")
                }
            }
        }
    }

    /// A frame declared at a large configured maximum and then sent in full still arrives whole:
    /// the buffer grows with the octets instead of being reserved from the header.
    @Test func largeDeclaredFrameStillArrivesWholeInPieces() throws {
        let limit = 4 << 20
        var demuxer = Demuxer(HTTP2FrameDecoder(maxFrameSize: limit))
        var stream: [UInt8] = []
        let payload = (0..<limit).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 3, payload: payload.span.bytes, to: &stream)
        var received: [UInt8] = []
        var largest = 0
        var index = 0
        while index < stream.count {
            let end = min(index + 65_521, stream.count)
            try demuxer.feed(stream.span.bytes.extracting(index..<end)) { _, bytes in received = bytes.withUnsafeBytes { Array($0) } }
            largest = max(largest, demuxer.bufferedByteCount)
            index = end
        }
        try demuxer.finish()
        #expect(received == payload)
        #expect(largest <= HTTP2Frame.headerLength + limit)
    }

    // MARK: - Random bytes

    /// Octets of random input per dialect: `HEARTBEAT_RANDOM_MIB` MiB (CI runs 1024 in a release
    /// build), else 16 MiB, which a debug `swift test` feeds in about a second.
    static let randomVolume: Int = {
        let mebibytes = ProcessInfo.processInfo.environment["HEARTBEAT_RANDOM_MIB"].flatMap(Int.init) ?? 16
        return mebibytes << 20
    }()

    struct RandomRun: CustomStringConvertible {
        var fed = 0
        var failures = 0
        var items = 0
        var largestBuffer = 0
        /// The most octets one demuxer took in before it failed, counted to the failing frame's start.
        var longestRunBeforeFailure = 0
        var reasons: Set<String> = []

        var description: String {
            "\(fed >> 20) MiB, \(failures) failures (\(reasons.sorted().joined(separator: ", "))), \(items) items, largest buffer \(largestBuffer), longest run \(longestRunBeforeFailure)"
        }
    }

    /// Feeds `volume` random octets in chunks of random sizes (QUIC: packets of random sizes up
    /// to 1,500 octets) to demuxers made by `make`. After each failure a fresh demuxer continues
    /// at the octet after the failing frame's first, so the whole volume is exercised.
    static func feedRandom(volume: Int, seed: UInt64, dialect: Dialect, _ make: () -> Demuxer) -> RandomRun {
        var random = SeededRandom(seed: seed)
        var run = RandomRun()
        var demuxer = make()
        var demuxerStart = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while run.fed < volume {
            let size = dialect == .quic ? Int.random(in: 1...1500, using: &random)
                : Int.random(in: 1...(Bool.random(using: &random) ? 64 : chunk.count), using: &random)
            chunk.withUnsafeMutableBytes { buffer in
                var word = 0
                while word + 8 <= size {
                    buffer.storeBytes(of: random.next(), toByteOffset: word, as: UInt64.self)
                    word += 8
                }
                let last = random.next()
                for index in word..<size { buffer[index] = UInt8(truncatingIfNeeded: last >> UInt64(8 * (index - word))) }
            }
            let chunkStart = run.fed
            var position = 0
            while position < size {
                do {
                    try demuxer.feed(chunk.span.bytes.extracting(position..<size)) { _, _ in run.items += 1 }
                    run.largestBuffer = max(run.largestBuffer, demuxer.bufferedByteCount)
                    position = size
                } catch {
                    run.failures += 1
                    run.reasons.insert(error.reason.identifier)
                    run.longestRunBeforeFailure = max(run.longestRunBeforeFailure, error.offset)
                    #expect(demuxer.bufferedByteCount == 0)
                    // QUIC: the rest of the packet is dropped with it; a stream resumes one octet on.
                    let resume = dialect == .quic ? size : max(demuxerStart + error.offset + 1 - chunkStart, position)
                    position = resume
                    demuxerStart = chunkStart + resume
                    demuxer = make()
                }
            }
            run.fed += size
        }
        return run
    }

    @Test func randomBytesThroughTheEnvelope() {
        let volume = Self.randomVolume
        let framed = Self.feedRandom(volume: volume, seed: 1, dialect: .envelope) {
            Demuxer(EnvelopeFrameDecoder(expectPreface: false))
        }
        #expect(framed.largestBuffer <= EnvelopeFrameDecoder().maxFrameLength, "\(framed)")
        #expect(framed.failures > 0 && framed.items > 0, "\(framed)")
        // With its preface expected, a random stream fails at its first octets.
        let prefaced = Self.feedRandom(volume: volume / 64, seed: 2, dialect: .envelope) { Demuxer(dialect: .envelope) }
        #expect(prefaced.longestRunBeforeFailure == 0 && prefaced.items == 0, "\(prefaced)")
        #expect(prefaced.largestBuffer < EnvelopeFrame.prefaceLength, "\(prefaced)")
    }

    @Test func randomBytesThroughHTTP2() {
        let largest = HTTP2Frame.maxFrameSizeRange.upperBound
        let large = Self.feedRandom(volume: Self.randomVolume, seed: 3, dialect: .http2) {
            Demuxer(HTTP2FrameDecoder(maxFrameSize: largest))
        }
        // Random headers then declare 8 MiB on average: few frames, each gathered across chunks.
        #expect(large.largestBuffer <= HTTP2FrameDecoder(maxFrameSize: largest).maxFrameLength, "\(large)")
        #expect(large.items > 0, "\(large)")
        // With the default limit nearly every random header declares too much: it fails at once.
        let small = Self.feedRandom(volume: Self.randomVolume / 64, seed: 4, dialect: .http2) { Demuxer(dialect: .http2) }
        #expect(small.largestBuffer <= HTTP2FrameDecoder().maxFrameLength, "\(small)")
        #expect(small.reasons.contains("frame-too-large") && small.failures > 1000, "\(small)")
    }

    @Test func randomBytesThroughQUIC() {
        let run = Self.feedRandom(volume: Self.randomVolume, seed: 5, dialect: .quic) { Demuxer(dialect: .quic) }
        #expect(run.largestBuffer == 0, "\(run)")
        #expect(run.failures > 0 && run.items > 0, "\(run)")
        #expect(run.reasons.isSuperset(of: ["unknown-frame-type", "frame-truncated", "non-minimal-frame-type"]), "\(run)")
    }

    // MARK: - One octet at a time

    /// A long realistic stream — heartbeats among business frames of every size up to the
    /// maximum — fed one octet at a time gives the items of the whole feed, holding at most one frame.
    @Test(arguments: [Dialect.envelope, .http2])
    func slowlorisGivesTheSameItemsAsWholeFeeding(_ dialect: Dialect) throws {
        var random = SeededRandom(seed: 42)
        var stream: [UInt8] = []
        if dialect == .envelope { EnvelopeFrame.appendPreface(to: &stream) } else { HTTP2Frame.appendClientPreface(to: &stream) }
        var frames = 0
        while stream.count < 600_000 {
            frames += 1
            let payload = HeartbeatPayload(rawValue: random.next())
            switch Int.random(in: 0..<4, using: &random) {
            case 0: dialect.appendPing(payload, to: &stream)
            case 1: dialect.appendPong(payload, to: &stream)
            default:
                let size = Bool.random(using: &random) ? Int.random(in: 0...64, using: &random) : Int.random(in: 0...16_384, using: &random)
                let data = random.bytes(size)
                if dialect == .envelope {
                    EnvelopeFrame.appendFrame(payload: data.span.bytes, to: &stream)
                } else {
                    HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: UInt32(frames) | 1, payload: data.span.bytes, to: &stream)
                }
            }
        }
        var whole = Demuxer(dialect: dialect)
        let expected = demux(&whole, [stream])
        #expect(expected.error == nil)
        #expect(expected.items.count > 100)

        var demuxer = Demuxer(dialect: dialect)
        var items: [Received] = []
        var largest = 0
        let bytes = stream.span.bytes
        for index in 0..<stream.count {
            try demuxer.feed(bytes.extracting(index..<(index + 1))) { item, bytes in items.append(Received(item, bytes)) }
            largest = max(largest, demuxer.bufferedByteCount)
        }
        try demuxer.finish()
        #expect(items == expected.items)
        #expect(largest <= HeartbeatPayload.byteCount + 16_384 + 16)
    }

    // MARK: - Dialect corner cases

    /// Every QUIC frame type this library knows, encoded in 2, 4 and 8 octets: PROTOCOL_VIOLATION
    /// at the frame, wherever it sits in the packet (RFC 9000 §12.4).
    @Test func nonMinimalQUICFrameTypesAreAProtocolViolation() {
        let types: [UInt64] = Array(0x00...0x1e) + [0x30, 0x31]
        for type in types {
            for width in [2, 4, 8] {
                for lead in [[], [0x01], [0x01, 0x00, 0x00]] as [[UInt8]] {
                    var packet = lead
                    Varint.append(type, length: width, to: &packet)
                    packet += [0, 0, 0, 0]
                    var demuxer = Demuxer(dialect: .quic)
                    let (error, _) = Self.feed(packet, to: &demuxer)
                    #expect(error == FramingError(.nonMinimalFrameType(type), dialect: .quic, offset: lead.count),
                            "type 0x\(String(type, radix: 16)) in \(width) octets after \(lead)")
                    #expect(error?.code == .quic(.protocolViolation))
                }
            }
        }
    }

    static let varintBoundaries: [UInt64] = [0, 1, 63, 64, 16_383, 16_384, (1 << 30) - 1, 1 << 30, Varint.max - 1, Varint.max]

    /// Every boundary value in every width that holds it: read back whole, nil when cut anywhere,
    /// minimal exactly in its shortest width.
    @Test func varintsAtEveryLengthBoundary() {
        for value in Self.varintBoundaries {
            for width in [1, 2, 4, 8] where Varint.minimalLength(of: value) <= width {
                var bytes: [UInt8] = []
                Varint.append(value, length: width, to: &bytes)
                #expect(bytes.count == width)
                var cursor = 0
                let read = Varint.read(bytes.span.bytes, at: &cursor)
                #expect(read == Varint(value: value, encodedLength: width) && cursor == width, "\(value) in \(width)")
                #expect(read?.isMinimal == (width == Varint.minimalLength(of: value)))
                for cut in 0..<width {
                    var short = 0
                    #expect(Varint.read(Array(bytes[..<cut]).span.bytes, at: &short) == nil && short == 0, "\(value) in \(width) cut at \(cut)")
                }
            }
        }
    }

    /// Boundary values as envelope types and lengths, and as QUIC fields: a minimal type is
    /// passed on, a longer one is PROTOCOL_ERROR; a length in any width is accepted up to the limit.
    @Test func varintBoundariesInFrames() throws {
        for value in Self.varintBoundaries {
            for width in [1, 2, 4, 8] where Varint.minimalLength(of: value) <= width {
                // As an envelope frame type (values 1 and 2 are PING and PONG, which need 8 octets).
                var stream: [UInt8] = []
                Varint.append(value, length: width, to: &stream)
                Varint.append(value == 1 ? 8 : 0, to: &stream)
                stream += value == 1 ? [UInt8](repeating: 0, count: 8) : []
                var envelope = Demuxer(EnvelopeFrameDecoder(expectPreface: false))
                let typed = demux(&envelope, [stream])
                if width == Varint.minimalLength(of: value) {
                    #expect(typed.error == nil && typed.items.count == 1, "type \(value) in \(width): \(String(describing: typed.error))")
                } else {
                    #expect(typed.error == FramingError(.nonMinimalFrameType(value), dialect: .envelope, offset: 0))
                }
                // As an envelope DATA length.
                if value <= 16_385 {
                    stream = [0x00]
                    Varint.append(value, length: width, to: &stream)
                    stream += [UInt8](repeating: 0x61, count: Int(min(value, 16_384)))
                    var lengths = Demuxer(EnvelopeFrameDecoder(expectPreface: false))
                    let outcome = demux(&lengths, [stream])
                    if value <= 16_384 {
                        #expect(outcome.error == nil && outcome.items.map(\.bytes.count) == [Int(value)], "length \(value) in \(width)")
                    } else {
                        #expect(outcome.error?.reason == .frameTooLarge(length: value, limit: 16_384))
                    }
                }
                // As a QUIC MAX_DATA value: any width is allowed for fields.
                var packet: [UInt8] = [0x10]
                Varint.append(value, length: width, to: &packet)
                var quic = Demuxer(dialect: .quic)
                let field = demux(&quic, [packet])
                #expect(field.error == nil && field.items == [Received(.business(BusinessFrame(type: 0x10, length: 1 + width)), packet)])
            }
        }
    }

    /// A PING (or PING ACK) inside a HEADERS or PUSH_PROMISE header block, before or after a
    /// CONTINUATION, is PROTOCOL_ERROR at the PING (RFC 9113 §6.10); after the block it is a ping.
    @Test func http2PingInsideAHeaderBlockIsAProtocolError() {
        for opener in [HTTP2Frame.FrameType.headers, HTTP2Frame.FrameType.pushPromise] {
            for continuationsBefore in 0...2 {
                for ack in [false, true] {
                    var stream: [UInt8] = []
                    HTTP2Frame.appendFrame(type: opener, flags: 0, streamID: 5, payload: ([1, 2, 3] as [UInt8]).span.bytes, to: &stream)
                    for _ in 0..<continuationsBefore {
                        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.continuation, flags: 0, streamID: 5, payload: ([4] as [UInt8]).span.bytes, to: &stream)
                    }
                    let pingOffset = stream.count
                    HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 7), ack: ack, to: &stream)
                    HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.continuation, flags: HTTP2Frame.Flags.endHeaders, streamID: 5, payload: ([5] as [UInt8]).span.bytes, to: &stream)
                    var demuxer = Demuxer(dialect: .http2)
                    let outcome = demux(&demuxer, [stream])
                    #expect(outcome.error == FramingError(.headerBlockInterrupted(stream: 5, frameType: HTTP2Frame.FrameType.ping, frameStream: 0),
                                                         dialect: .http2, offset: pingOffset))
                    #expect(outcome.error?.code == .http2(.protocolError))
                    #expect(outcome.items.count == 1 + continuationsBefore, "nothing of the block's frames is lost, nothing after")
                }
            }
        }
        var stream: [UInt8] = []
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.headers, flags: 0, streamID: 5, payload: ([1] as [UInt8]).span.bytes, to: &stream)
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.continuation, flags: HTTP2Frame.Flags.endHeaders, streamID: 5, payload: ([2] as [UInt8]).span.bytes, to: &stream)
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 7), ack: false, to: &stream)
        var demuxer = Demuxer(dialect: .http2)
        let after = demux(&demuxer, [stream])
        #expect(after.error == nil && after.items.last?.item == .ping(HeartbeatPayload(rawValue: 7)))
    }

    /// HTTP/2 PING and envelope PING/PONG of every length 0–16 but 8: FRAME_SIZE_ERROR at the
    /// frame, known from its header alone (no payload needed); length 8 is a heartbeat.
    @Test func pingWithEveryWrongLength() {
        for length in 0...16 {
            for ack in [false, true] {
                var header: [UInt8] = []
                // A one-octet DATA frame first, so that the PING's offset is not 0.
                HTTP2Frame.appendHeader(length: 1, type: HTTP2Frame.FrameType.data, flags: 0, streamID: 1, to: &header)
                header.append(0x00)
                let offset = header.count
                HTTP2Frame.appendHeader(length: length, type: HTTP2Frame.FrameType.ping, flags: ack ? HTTP2Frame.Flags.ack : 0, streamID: 0, to: &header)
                var demuxer = Demuxer(dialect: .http2)
                let (error, _) = Self.feed(header, to: &demuxer)
                if length == 8 {
                    #expect(error == nil && demuxer.bufferedByteCount == HTTP2Frame.headerLength)
                } else {
                    #expect(error == FramingError(.heartbeatLength(frameType: 6, length: UInt64(length)), dialect: .http2, offset: offset))
                    #expect(error?.code == .http2(.frameSizeError))
                }
            }
            for type in [EnvelopeFrame.FrameType.ping, EnvelopeFrame.FrameType.pong] {
                var header: [UInt8] = []
                EnvelopeFrame.appendPreface(to: &header)
                EnvelopeFrame.appendHeader(type: type, length: length, to: &header)
                var demuxer = Demuxer(dialect: .envelope)
                let (error, _) = Self.feed(header, to: &demuxer)
                if length == 8 {
                    #expect(error == nil && demuxer.bufferedByteCount == 2)
                } else {
                    #expect(error == FramingError(.heartbeatLength(frameType: type, length: UInt64(length)), dialect: .envelope, offset: 8))
                    #expect(error?.code == .envelope(.frameSizeError))
                }
            }
        }
    }

    /// Envelope frames of unknown types, up to the largest type, pass on whole with payloads up to
    /// the limit; a payload over the limit is FRAME_SIZE_ERROR from the header, whatever the type.
    @Test(arguments: [64, EnvelopeFrame.defaultMaxFrameSize, 100_000])
    func envelopeUnknownTypesAndOversizedPayloads(_ limit: Int) {
        let types: [UInt64] = [4, 5, 63, 64, 0x3fff, 0x4000, 1 << 30, Varint.max]
        for type in types {
            var stream: [UInt8] = []
            EnvelopeFrame.appendPreface(to: &stream)
            let payload = [UInt8](repeating: 0xee, count: limit)
            EnvelopeFrame.appendFrame(type: type, payload: payload.span.bytes, to: &stream)
            let empty: [UInt8] = []
            EnvelopeFrame.appendFrame(type: type, payload: empty.span.bytes, to: &stream)
            var demuxer = Demuxer(EnvelopeFrameDecoder(maxFrameSize: limit))
            let outcome = demux(&demuxer, [stream])
            #expect(outcome.error == nil)
            #expect(outcome.items == [Received(.business(BusinessFrame(type: type, length: limit)), payload),
                                      Received(.business(BusinessFrame(type: type, length: 0)), [])])
            for frameType in [type, EnvelopeFrame.FrameType.data, EnvelopeFrame.FrameType.goAway] {
                var header: [UInt8] = []
                EnvelopeFrame.appendPreface(to: &header)
                EnvelopeFrame.appendHeader(type: frameType, length: limit + 1, to: &header)
                var oversized = Demuxer(EnvelopeFrameDecoder(maxFrameSize: limit))
                let (error, _) = Self.feed(header, to: &oversized)
                #expect(error == FramingError(.frameTooLarge(length: UInt64(limit + 1), limit: limit), dialect: .envelope, offset: 8))
                #expect(oversized.bufferedByteCount == 0)
            }
        }
    }
}
