import Framing

/// A RESP or text-lines item (spec/resp.md, spec/lines.md): RESP pings hand over their message
/// (empty for a bare PING), pongs nothing or the 8 echoed octets; a RESP business item is a whole
/// value (opening with a type octet and ending with CR LF, or an inline command ending with LF)
/// within the maximum; a line is type 0, within the maximum, holds no LF, and is no heartbeat word.
public func checkTextItem(_ item: DemuxedItem, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    bytes.withUnsafeBytes { octets in checkTextItem(item, octets, bytes, setup) }
}

/// `checkTextItem` over the octets in place (no copy: this runs for every item of every input).
private func checkTextItem(_ item: DemuxedItem, _ octets: UnsafeRawBufferPointer, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    switch (setup.dialect, item) {
    case (.resp, .ping(let payload)):
        check(setup.role != .client, "a RESP client read a ping")
        check(payload == HeartbeatPayload(prefixOf: bytes), "RESP ping payload \(payload) is not the prefix of its \(octets.count) octets")
    case (.resp, .pong(let payload)):
        check(setup.role != .server, "a RESP server read a pong")
        check(octets.isEmpty && payload == .empty || octets.count == 8 && payload == HeartbeatPayload(prefixOf: bytes),
              "RESP pong \(payload) with \(octets.count) octets")
    case (.resp, .business(let frame)):
        check(octets.count == frame.length && frame.length <= setup.maxFrameSize, "RESP value of \(frame.length) octets handed over \(octets.count), maximum \(setup.maxFrameSize)")
        check(frame.flags == 0 && frame.streamID == 0, "RESP value with HTTP/2 fields \(frame)")
        if frame.type == RESPFrame.inlineCommandType {
            check(setup.role != .client && octets.last == 0x0A && !RESPFrame.TypeOctet.isTypeOctet(octets[0]), "inline command \(Array(octets.prefix(16)))")
        } else {
            check(RESPFrame.TypeOctet.isTypeOctet(UInt8(truncatingIfNeeded: frame.type)) && frame.type != UInt64(RESPFrame.TypeOctet.attribute),
                  "RESP value of type \(frame.type)")
            check(RESPFrame.TypeOctet.isTypeOctet(octets[0]) && octets.count >= 2 && octets[octets.count - 2] == 0x0D && octets[octets.count - 1] == 0x0A,
                  "RESP value \(Array(octets.prefix(16))) not whole")
            check(octets[0] == UInt8(frame.type) || octets[0] == RESPFrame.TypeOctet.attribute, "RESP value of type \(frame.type) opens with \(octets[0])")
        }
    case (.lines, .ping(let payload)), (.lines, .pong(let payload)):
        check(octets.isEmpty && payload == .empty, "line heartbeat with \(octets.count) octets")
    case (.lines, .business(let frame)):
        check(frame.type == 0 && octets.count == frame.length && frame.length <= setup.maxFrameSize,
              "line of type \(frame.type), \(frame.length) octets, handed over \(octets.count), maximum \(setup.maxFrameSize)")
        check(!octets.contains(0x0A) && !octets.elementsEqual("PING".utf8) && !octets.elementsEqual("PONG".utf8), "line \(Array(octets.prefix(16))) passed on")
    default:
        fatalError("item \(item) cannot come from a \(setup.dialect) demuxer")
    }
}

/// The length of the RESP value at `start` of `stream`, walked recursively and independently of
/// the decoder (structure only: type octets, CR LF line ends, bulk lengths, counts, attributes
/// before the value they annotate, inline commands at the top when `inline`); nil when the
/// octets are not one whole value.
public func referenceRESPLength(_ stream: [UInt8], at start: Int, inline: Bool) -> Int? {
    var cursor = start
    guard referenceValue(stream, &cursor, inline: inline) else { return nil }
    return cursor - start
}

private func referenceValue(_ s: [UInt8], _ i: inout Int, inline: Bool) -> Bool {
    guard i < s.count else { return false }
    let type = s[i]
    guard RESPFrame.TypeOctet.isTypeOctet(type) else {
        guard inline, let lf = s[i...].firstIndex(of: 0x0A) else { return false }
        i = lf + 1
        return true
    }
    guard let cr = s[(i + 1)...].firstIndex(where: { $0 == 0x0D || $0 == 0x0A }), s[cr] == 0x0D, cr + 1 < s.count, s[cr + 1] == 0x0A else { return false }
    let content = String(decoding: s[(i + 1)..<cr], as: UTF8.self)
    i = cr + 2
    switch type {
    case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
        guard let length = Int(content) else { return false }
        if length == -1 { return true }
        guard length >= 0, i + length + 2 <= s.count, s[i + length] == 0x0D, s[i + length + 1] == 0x0A else { return false }
        i += length + 2
        return true
    case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
        guard let count = Int(content) else { return false }
        if count == -1 { return true }
        let values = type == UInt8(ascii: "%") || type == UInt8(ascii: "|") ? 2 * count : count
        guard values >= 0, values <= s.count else { return false }
        for _ in 0..<values where !referenceValue(s, &i, inline: false) { return false }
        // An attribute is followed by the value it annotates; together they are one value.
        return type == UInt8(ascii: "|") ? referenceValue(s, &i, inline: false) : true
    default:
        return true
    }
}
