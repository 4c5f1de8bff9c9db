import Framing
import Testing

/// The README's demuxing example, kept compiling and true.
@Suite struct ReadmeExampleTests {
    @Test func readmeDemuxExample() throws {
        let dialect = HTTP2Dialect(managesSettings: false)             // or EnvelopeDialect(), your own
        var demuxer = StreamDemuxer(dialect.makeDecoder(role: .client, maxFrameSize: nil))
        var encoder = dialect.makeEncoder(role: .client, randomSeed: 1)
        var outbound: [UInt8] = []
        outbound.reserveCapacity(64)
        var pongs: [UInt32] = []
        var frames: [(UInt64, Int)] = []

        func received(_ chunk: [UInt8]) throws(FramingError) {
            try demuxer.feed(chunk) { item, bytes in
                switch item {
                case .ping:
                    encoder.appendPong(echoing: bytes, to: &outbound)
                case .pong(let payload):
                    pongs.append(payload.sequence)
                case .business(let frame):
                    frames.append((frame.type, bytes.byteCount))
                case .quicPing, .quicAck:
                    break
                }
            }
        }

        var wire: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(sequence: 7, timestampMilliseconds: 1), ack: false, to: &wire)
        HTTP2Frame.appendPing(HeartbeatPayload(sequence: 8, timestampMilliseconds: 2), ack: true, to: &wire)
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.data, streamID: 1, payload: ([1, 2, 3] as [UInt8]).span.bytes, to: &wire)
        try received(Array(wire[..<10]))
        try received(Array(wire[10...]))
        try demuxer.finish()

        var expectedPong: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(sequence: 7, timestampMilliseconds: 1), ack: true, to: &expectedPong)
        #expect(outbound == expectedPong)
        #expect(pongs == [8])
        #expect(frames.count == 1 && frames[0] == (0, 3))
    }
}
