import AllocationCounting
import Framing
import Testing

/// Inputs the fuzz targets in `Fuzz/` found, each kept as a test (and as a file in the corpus).
/// The comment on each names the target, the input as the target read it, and what broke.
@Suite struct FuzzRegressionTests {
    /// Feeds `stream` whole, split at every octet, and one octet at a time to fresh demuxers made
    /// by `make`; every way must give the outcome of the whole feed.
    func expectChunkingInvariant(_ stream: [UInt8], _ make: () -> Demuxer,
                                 sourceLocation: SourceLocation = #_sourceLocation) -> (items: [Received], error: FramingError?) {
        var demuxer = make()
        let whole = demux(&demuxer, [stream])
        for split in 0...stream.count {
            demuxer = make()
            let outcome = demux(&demuxer, [Array(stream[..<split]), Array(stream[split...])])
            #expect(outcome.items == whole.items && outcome.error == whole.error,
                    "split at \(split): \(outcome.error.map { "\($0)" } ?? "no error") vs whole \(whole.error.map { "\($0)" } ?? "no error")",
                    sourceLocation: sourceLocation)
        }
        demuxer = make()
        let bytewise = demux(&demuxer, stream.map { [$0] })
        #expect(bytewise.items == whole.items && bytewise.error == whole.error,
                "one octet at a time: \(bytewise.error.map { "\($0)" } ?? "no error") vs whole \(whole.error.map { "\($0)" } ?? "no error")",
                sourceLocation: sourceLocation)
        return whole
    }

    /// demux-differential `e1 3e 00 89 3e 00 89`: envelope expecting its preface, fed one octet at a
    /// time. Whole, the second octet failed the magic (PREFACE_ERROR); octet by octet the demuxer
    /// waited for all 8 preface octets before comparing and reported TRUNCATED when the stream
    /// ended — contrary to spec/envelope.md §3, which requires each octet to be checked as it arrives.
    @Test func envelopePrefaceIsCheckedAsEachOctetArrives() {
        let whole = expectChunkingInvariant([0x89, 0x3e, 0x00, 0x89]) { Demuxer(dialect: .envelope) }
        #expect(whole.error == FramingError(.prefaceMismatch(at: 1), dialect: .envelope, offset: 0))
        var demuxer = Demuxer(dialect: .envelope)
        #expect(throws: FramingError(.prefaceMismatch(at: 1), dialect: .envelope, offset: 0)) {
            try demuxer.feed([0x89]) { _, _ in }
            try demuxer.feed([0x00]) { _, _ in }
        }
    }

    /// The same fault in HTTP/2's client preface: a required preface, or an optional one past its
    /// first 9 octets, was compared only once 24 octets had arrived, so a short stream that broke
    /// the preface early ended as TRUNCATED when fed in pieces and PROTOCOL_ERROR when whole.
    @Test(arguments: [HTTP2FrameDecoder.PrefacePolicy.required, .optional])
    func http2PrefaceIsCheckedAsEachOctetArrives(_ policy: HTTP2FrameDecoder.PrefacePolicy) {
        let broken = Array("PRI * HTTP/1.1\r\n".utf8)
        let whole = expectChunkingInvariant(broken) { Demuxer(HTTP2FrameDecoder(preface: policy)) }
        #expect(whole.error == FramingError(.prefaceMismatch(at: 11), dialect: .http2, offset: 0))
        #expect(whole.error?.code == .http2(.protocolError))
    }
}

extension FuzzRegressionTests {
    /// envelope-decoder `0e 89 48 42 0d 0a 1a 0a 01 00 c0 00 00 00 00 ff ff ff` (maximum frame size
    /// 16,777,215): 18 octets — the preface and a DATA header declaring 16,777,215 octets — made the
    /// demuxer reserve 16 MiB at once (libFuzzer's `-malloc_limit_mb=8` stopped it): the peer's
    /// word, not its octets, sized the buffer. It now grows with the octets that arrive.
    @Test(.enabled(if: allocationCountingIsAvailable, "allocations are not counted under a sanitizer"))
    func declaredLengthDoesNotSizeTheBuffer() throws {
        let stream: [UInt8] = [0x89, 0x48, 0x42, 0x0d, 0x0a, 0x1a, 0x0a, 0x01, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff]
        var demuxer = Demuxer(EnvelopeFrameDecoder(maxFrameSize: 16_777_215))
        let allocated = try allocatedBytes { try demuxer.feed(stream) { _, _ in } }
        #expect(demuxer.bufferedByteCount == 9)
        #expect(allocated < 128 * 1024, "\(allocated) octets allocated for 17 received")
    }

    /// demux-differential `2f 02 00` + `0d 0a 18 6c a1 ff ff 00`: text lines, maximum line length
    /// 4 (requested 0), fed one octet at a time. The unterminated line failed LINE_TOO_LONG at the
    /// same offset both ways, but the reason carried the octets seen — 6 whole, 5 octet by octet
    /// — so the errors differed. The length reported is now the least the octets prove: one past
    /// the maximum, however the input was cut.
    @Test func lineTooLongReportsTheSameLengthHoweverItIsCut() {
        let whole = expectChunkingInvariant([0x0d, 0x0a, 0x18, 0x6c, 0xa1, 0xff, 0xff, 0x00]) { Demuxer(LinesDialect(), maxFrameSize: 0) }
        #expect(whole.error == FramingError(.frameTooLarge(length: 5, limit: 4), dialect: .lines, offset: 2))
        #expect(whole.items.count == 1)
    }
}
