// Fuzz target: the TLS record decoder with RFC 6520 heartbeats, whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–2 the maximum record length, bit 3 through
// `TLSDialect.makeDecoder`), then the byte stream, fed in one piece and then ended.
//
// Checks what every whole-buffer target checks (bounded buffering, sticky errors inside the input,
// items consistent with their octets, the input cut at the error giving the same items), and walks
// the records independently of the decoder (spec/tls.md): the error, if any, is the first record
// whose type, version or length is refused, at its offset; every record before it is reported as
// its content type with its fragment, or, for a heartbeat record, as a ping or pong with exactly
// its payload when 3 + payload_length + 16 ≤ length ≤ 2^14 and the type is 1 or 2, and as nothing
// otherwise — the Heartbleed rule: no payload is ever read past its record.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func tlsDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .tls, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)
    let (expected, failure) = walkRecords(stream, maxFrameSize: setup.maxFrameSize)
    check(outcome.items == expected, "decoder reports \(outcome.items.count) items, the walk \(expected.count): \(outcome.items.prefix(3)) vs \(expected.prefix(3))")
    switch (outcome.error, failure) {
    case (nil, nil):
        break
    case (let error?, let walked?):
        let name = error.reason == .truncated ? "TRUNCATED" : error.code.name
        check(error.offset == walked.offset && name == walked.code, "decoder fails with \(error), the walk with \(walked)")
    default:
        fatalError("decoder error \(String(describing: outcome.error)), walk error \(String(describing: failure))")
    }
    return 0
}

/// The items and the error of `stream` as spec/tls.md reads it, written without the decoder.
func walkRecords(_ stream: [UInt8], maxFrameSize: Int) -> ([Received], (offset: Int, code: String)?) {
    var items: [Received] = []
    var offset = 0
    while offset < stream.count {
        let type = stream[offset]
        guard (20...24).contains(type) else { return (items, (offset, "UNEXPECTED_MESSAGE")) }
        if offset + 1 < stream.count, stream[offset + 1] != 3 { return (items, (offset, "PROTOCOL_VERSION")) }
        if offset + 2 < stream.count, stream[offset + 2] > 4 { return (items, (offset, "PROTOCOL_VERSION")) }
        guard offset + 5 <= stream.count else { return (items, (offset, "TRUNCATED")) }
        let length = Int(stream[offset + 3]) << 8 | Int(stream[offset + 4])
        guard length <= maxFrameSize else { return (items, (offset, "RECORD_OVERFLOW")) }
        guard offset + 5 + length <= stream.count else { return (items, (offset, "TRUNCATED")) }
        let fragment = Array(stream[(offset + 5)..<(offset + 5 + length)])
        if type != 24 {
            items.append(Received(.business(BusinessFrame(type: UInt64(type), length: length)), bytes: fragment))
        } else if length >= 3, length <= 1 << 14, fragment[0] == 1 || fragment[0] == 2 {
            let payloadLength = Int(fragment[1]) << 8 | Int(fragment[2])
            if 3 + payloadLength + 16 <= length {
                let payload = Array(fragment[3..<(3 + payloadLength)])
                let heartbeat = HeartbeatPayload(prefixOf: payload.span.bytes)
                items.append(Received(fragment[0] == 1 ? .ping(heartbeat) : .pong(heartbeat), bytes: payload))
            }
        }
        offset += 5 + length
    }
    return (items, nil)
}
