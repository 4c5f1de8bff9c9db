// Fuzz target: the `hb decode` path end to end — bytes through `Dissector` (what `hb decode`
// runs over a file) in both formats. Every JSON line must be one well-formed object of the
// documented shapes; an error line comes last and only after a failure; feeding in chunks must
// print exactly the lines that feeding whole prints.
//
// Input: octet 0 the dialect and format: bit 2 set = JSON lines; bit 3 clear = bits 0–1 choose
// envelope, HTTP/2, QUIC, WebSocket; bit 3 set = bits 0–1 and 4 choose (mod 5) MQTT, TLS, AMQP, RESP,
// text lines. Octet 1 the chunk size of the chunked run (0 = one octet at a time; QUIC is always
// one packet), the rest is the capture.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func dissectorFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let selector = input.byte()
    let dialect: Dialect = selector & 8 == 0 ? [.envelope, .http2, .quic, .webSocket][Int(selector & 3)]
        : [.mqtt, .tls, .amqp, .resp, .lines][Int(selector & 3 | selector >> 2 & 4) % 5]
    let format: Dissector.Format = selector & 4 != 0 ? .jsonl : .text
    let chunk = dialect == .quic ? Int.max : max(1, Int(input.byte()))
    let capture = input.rest()

    let whole = dissect(capture, dialect: dialect, format: format, chunk: Int.max)
    let chunked = dissect(capture, dialect: dialect, format: format, chunk: chunk)
    check(whole.lines == chunked.lines && whole.ok == chunked.ok, "chunked output differs from whole")
    if format == .jsonl {
        let vocabulary = DialectRegistry.vocabulary(dialect)
        for (index, line) in whole.lines.enumerated() {
            let isError = line.hasPrefix("{\"item\":\"error\"")
            check(!isError || (index == whole.lines.count - 1 && !whole.ok), "error line not last: \(line)")
            check(isWellFormed(line, heartbeatOctets: heartbeatOctets(dialect), vocabulary: vocabulary),
                  "malformed JSON line: \(line)")
        }
        check(whole.ok || whole.lines.last?.hasPrefix("{\"item\":\"error\"") == true, "failure without an error line")
    }
    return 0
}

/// How many octets a heartbeat's JSON payload may show: 0 to 125 for WebSocket, up to 2^14 − 19
/// for a TLS heartbeat message, any for a RESP echo (at least one: an empty one prints no payload),
/// 8 for the others that carry one.
func heartbeatOctets(_ dialect: Dialect) -> ClosedRange<Int> {
    switch dialect {
    case .webSocket: return 0...WebSocketFrame.maxControlPayload
    case .tls: return 0...TLSRecord.maxHeartbeatPayload
    case .resp: return 1...Int.max
    default: return 8...8
    }
}

func dissect(_ capture: [UInt8], dialect: Dialect, format: Dissector.Format, chunk: Int) -> (lines: [String], ok: Bool) {
    let demuxer = Demuxer(dialect: dialect)
    var dissector = Dissector(demuxer, format: format)
    var lines: [String] = []
    var index = 0
    while index < capture.count {
        let end = capture.count - index > chunk ? index + chunk : capture.count
        guard dissector.feed(capture.span.bytes.extracting(index..<end), { lines.append($0) }) else { return (lines, false) }
        index = end
    }
    let finished = dissector.finish { lines.append($0) }
    return (lines, finished)
}

/// Whether `line` is one of the documented JSON objects: the keys and value kinds of
/// `hb decode --format jsonl` (see `Dissector`), in order; heartbeat payloads of a length in
/// `heartbeatOctets` (WebSocket's carry 0 to 125 octets, the others' 8), pings with an "ack" key
/// exactly when the dialect's `vocabulary` says so.
func isWellFormed(_ line: String, heartbeatOctets: ClosedRange<Int>, vocabulary: DissectorVocabulary) -> Bool {
    func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber) && (text == "0" || text.first != "0")
    }
    func isHex(_ text: Substring) -> Bool {
        text.count % 2 == 0 && heartbeatOctets.contains(text.count / 2 - 1) && text.first == "\"" && text.last == "\""
            && text.dropFirst().dropLast().allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
    /// The value after `prefix` and before `suffix`, if the line has that shape.
    func value(_ prefix: String, _ suffix: String = "}") -> Substring? {
        guard line.hasPrefix(prefix), line.hasSuffix(suffix), line.count >= prefix.count + suffix.count else { return nil }
        return line.dropFirst(prefix.count).dropLast(suffix.count)
    }
    if line == #"{"item":"ping"}"# { return true }
    // Payload-less heartbeats (MQTT PINGREQ and PINGRESP) show no payload, and only those.
    if line == #"{"item":"pong"}"# { return !vocabulary.heartbeatsCarryPayload || vocabulary.omitsEmptyPayload }
    if !vocabulary.heartbeatsCarryPayload && !line.hasPrefix(#"{"item":"business""#) && !line.hasPrefix(#"{"item":"error""#) { return false }
    let showsAck = vocabulary.pongIsAcknowledgedPing || vocabulary.pingShowsAck
    if let payload = value(#"{"item":"ping","ack":false,"payload":"#) ?? (vocabulary.pongIsAcknowledgedPing ? value(#"{"item":"ping","ack":true,"payload":"#) : nil) {
        return showsAck && isHex(payload)
    }
    if let payload = value(#"{"item":"ping","payload":"#) { return !showsAck && isHex(payload) }
    if let payload = value(#"{"item":"pong","payload":"#) { return !vocabulary.pongIsAcknowledgedPing && isHex(payload) }
    if let fields = value(#"{"item":"business","type":"#) {
        let parts = fields.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix(#""length":"#) else { return false }
        return isNumber(parts[0]) && isNumber(parts[1].dropFirst(9))
    }
    if let fields = value(#"{"item":"error","code":""#) {
        let parts = fields.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].hasSuffix("\""), parts[1].hasPrefix(#""offset":"#) else { return false }
        let code = parts[0].dropLast()
        return !code.isEmpty && code.allSatisfy { ("A"..."Z").contains($0) || $0 == "_" } && isNumber(parts[1].dropFirst(9))
    }
    return false
}
