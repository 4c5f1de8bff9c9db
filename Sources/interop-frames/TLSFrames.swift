// `interop-frames tls COUNT SEED FRAMES_FILE EXPECTED_FILE`: COUNT random plaintext TLS records
// written by our TLS Heartbeat encoder (Interop/tls_interop.py reads them with tlslite-ng) —
// heartbeat requests (our 8-octet payloads), responses echoing 0 to 16,365 octets (0 and the
// largest included), application_data of 0 to 40,000 octets (split into 2^14-octet records),
// handshake records, and a close_notify alert last — and the items they carry in
// `hb decode --format jsonl`'s shape (business items add "data"; heartbeats add "padding", the
// padding length the record must carry).
import Framing

func writeTLSRecords(count: Int, seed: UInt64, framesPath: String, expectedPath: String) {
    var choices = SplitMix64(seed: seed)
    func below(_ bound: Int) -> Int { Int(choices.next() % UInt64(bound)) }
    var encoder = TLSDialect().makeEncoder(role: .client, randomSeed: seed ^ 0x5A5A)
    var records: [UInt8] = []
    var expected: [String] = []
    for index in 0..<count {
        if index == count - 1 {
            encoder.appendClose(code: .tls(.closeNotify), reason: "done", to: &records)
            expected.append(#"{"item":"business","type":21,"length":2,"data":"0100"}"#)
            break
        }
        switch below(5) {
        case 0:
            let payload = HeartbeatPayload(rawValue: choices.next())
            encoder.appendPing(payload, to: &records)
            expected.append(#"{"item":"ping","payload":"\#(payload)","padding":16}"#)
        case 1:
            let lengths = [0, 1, 8, TLSRecord.maxHeartbeatPayload, below(200), below(TLSRecord.maxHeartbeatPayload + 1)]
            let octets = (0..<lengths[below(lengths.count)]).map { _ in UInt8(truncatingIfNeeded: choices.next()) }
            encoder.appendPong(echoing: octets.span.bytes, to: &records)
            expected.append(#"{"item":"pong","payload":"\#(octets.span.bytes.hexDescription)","padding":16}"#)
        case 2:
            let octets = (0..<below(300)).map { _ in UInt8(truncatingIfNeeded: choices.next()) }
            encoder.appendData(octets.span.bytes, type: UInt64(TLSRecord.ContentType.handshake), to: &records)
            expected.append(#"{"item":"business","type":22,"length":\#(octets.count),"data":"\#(octets.span.bytes.hexDescription)"}"#)
        default:
            let length = below(8) == 0 ? below(40_001) : below(500)
            let octets = (0..<length).map { _ in UInt8(truncatingIfNeeded: choices.next()) }
            encoder.appendData(octets.span.bytes, type: nil, to: &records)
            var start = 0
            repeat {
                let end = start + min(TLSRecord.maxPlaintextLength, length - start)
                expected.append(#"{"item":"business","type":23,"length":\#(end - start),"data":"\#(octets.span.bytes.extracting(start..<end).hexDescription)"}"#)
                start = end
            } while start < length
        }
    }
    write(records, to: framesPath)
    write(Array(("[\n" + expected.joined(separator: ",\n") + "\n]\n").utf8), to: expectedPath)
    print("interop-frames: \(expected.count) TLS records, \(records.count) octets")
}
