import FuzzSupport
import Framing

// MARK: - TLS Heartbeat

/// Operations (mod 6): 0 our request (8 payload octets), 1 a response echoing a payload (up to
/// what the record limit lets through), 2 application data through `appendData`, 3 a record of
/// content type 20–23 (type octet, payload), 4 a heartbeat message RFC 6520 §4 discards (kind
/// octet: Heartbleed payload_length, padding under 16, unknown type, cut header, over 2^14 when the
/// limit allows) — no item, 5 a request with padding of any length ≥ 16. Records carry any version
/// 0x0300–0x0304.
func tlsRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .tls, options: input.byte())
    let chunkSize = Int(input.byte())
    var encoder = TLSDialect(recordVersion: 0x0300 | UInt16(input.byte() % 5)).makeEncoder(role: .client, randomSeed: input.integer(octets: 8))
    let maxFragment = min(setup.maxFrameSize, TLSRecord.maxPlaintextLength)
    let maxEcho = min(TLSRecord.maxHeartbeatPayload, setup.maxFrameSize - 19)
    var stream: [UInt8] = []
    var expected: [Received] = []
    var frames = 0
    while !input.isAtEnd && frames < maxFrames && stream.count < maxStreamLength {
        frames += 1
        switch input.byte() % 6 {
        case 0:
            let payload = HeartbeatPayload(rawValue: input.integer(octets: 8))
            encoder.appendPing(payload, to: &stream)
            expected.append(Received(.ping(payload), bytes: octets(payload.rawValue, width: 8)))
        case 1:
            let echoed = payload(&input, maxLength: maxEcho)
            encoder.appendPong(echoing: echoed.span.bytes, to: &stream)
            expected.append(Received(.pong(HeartbeatPayload(prefixOf: echoed.span.bytes)), bytes: echoed))
        case 2:
            let data = payload(&input, maxLength: maxFragment)
            encoder.appendData(data.span.bytes, type: nil, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: 23, length: data.count)), bytes: data))
        case 3:
            let type = 20 + input.byte() % 4
            let data = payload(&input, maxLength: maxFragment)
            TLSRecord.appendRecord(type: type, version: 0x0303, fragment: data.span.bytes, to: &stream)
            expected.append(Received(.business(BusinessFrame(type: UInt64(type), length: data.count)), bytes: data))
        case 4:
            stream += discardedHeartbeat(&input, maxFrameSize: setup.maxFrameSize)
        default:
            let echoed = payload(&input, maxLength: maxEcho)
            let padding = [UInt8](repeating: input.byte(), count: min(16 + Int(input.byte()), maxFragment - 3 - echoed.count))
            TLSRecord.appendHeartbeat(messageType: 1, payload: echoed.span.bytes, padding: padding.span.bytes, to: &stream)
            expected.append(Received(.ping(HeartbeatPayload(prefixOf: echoed.span.bytes)), bytes: echoed))
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}

/// A heartbeat record that must be discarded silently, at most `maxFrameSize` octets long.
func discardedHeartbeat(_ input: inout FuzzInput, maxFrameSize: Int) -> [UInt8] {
    let payloadLength = Int(input.byte())
    var fragment: [UInt8]
    switch input.byte() % 5 {
    case 0:   // Heartbleed: payload_length beyond the record
        let claimed = UInt16(min(payloadLength + 17 + Int(input.integer(octets: 2)), 0xFFFF))
        fragment = [1, UInt8(claimed >> 8), UInt8(claimed & 0xFF)] + [UInt8](repeating: 0x48, count: min(payloadLength + 16, maxFrameSize - 3))
    case 1:   // padding under 16
        fragment = [1 + input.byte() % 2, 0, UInt8(payloadLength)] + [UInt8](repeating: 0x50, count: payloadLength + Int(input.byte() % 16))
    case 2:   // unknown type
        let type = input.byte()
        fragment = [type == 1 || type == 2 ? 0 : type, 0, UInt8(payloadLength)] + [UInt8](repeating: 0x55, count: payloadLength + 16)
    case 3:   // header cut short
        fragment = Array([UInt8(1), 0x40, 0x00].prefix(Int(input.byte() % 3)))
    default:  // over 2^14, where the limit lets such a record through
        guard maxFrameSize > TLSRecord.maxPlaintextLength else { return [] }
        let length = TLSRecord.maxPlaintextLength + 1 + Int(input.byte()) % (maxFrameSize - TLSRecord.maxPlaintextLength)
        fragment = [1, UInt8((length - 19) >> 8), UInt8((length - 19) & 0xFF)] + [UInt8](repeating: 0x4C, count: length - 3)
    }
    fragment = Array(fragment.prefix(maxFrameSize))
    var record: [UInt8] = []
    TLSRecord.appendRecord(type: TLSRecord.ContentType.heartbeat, fragment: fragment.span.bytes, to: &record)
    return record
}
