import Framing

/// An MQTT business item: a packet type 1–15 other than PINGREQ and PINGRESP, flags as MQTT 5.0
/// §2.1.3 requires them (PUBLISH: any but QoS 3), its Remaining Length octets handed over, within
/// the maximum.
func checkMQTTBusiness(_ frame: BusinessFrame, _ bytes: RawSpan, _ setup: DemuxerSetup) {
    check(bytes.byteCount == frame.length, "MQTT packet of Remaining Length \(frame.length) handed over \(bytes.byteCount) octets")
    check(frame.length <= setup.maxFrameSize, "MQTT Remaining Length \(frame.length) over the maximum \(setup.maxFrameSize)")
    check((1...15).contains(frame.type) && frame.type != 12 && frame.type != 13, "MQTT packet type \(frame.type) as business")
    check(frame.streamID == 0 && frame.flags <= 15, "MQTT packet with other fields \(frame)")
    let required: UInt8? = frame.type == 3 ? nil : [6, 8, 10].contains(frame.type) ? 2 : 0
    check(required.map { frame.flags == $0 } ?? (frame.flags & 6 != 6), "MQTT packet type \(frame.type) with flags \(frame.flags)")
}

/// Reads `stream` as spec/mqtt.md says, independently of the library's decoder, and checks that
/// the demuxer reported the same packets and stopped at the same packet for the same reason.
public func checkMQTTModel(_ setup: DemuxerSetup, _ stream: [UInt8], _ outcome: DemuxOutcome) {
    let clientSends: Set<UInt8> = [1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]
    let serverSends: Set<UInt8> = [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]
    var opened = setup.options & 4 != 0
    var items: [Received] = []
    var offset = 0
    var failure: (offset: Int, reason: String)?
    packets: while offset < stream.count {
        let first = stream[offset]
        let type = first >> 4, flags = first & 0x0F
        func fail(_ reason: String) { failure = (offset, reason) }
        if type == 0 { fail("mqtt-reserved-packet-type"); break }
        if type == 3 {
            if flags & 6 == 6 { fail("mqtt-publish-qos-3"); break }
        } else if flags != ([6, 8, 10].contains(type) ? 2 : 0) {
            fail("mqtt-fixed-header-flags"); break
        }
        switch setup.role {
        case .server?:
            if !clientSends.contains(type) { fail("mqtt-wrong-direction"); break packets }
            if !opened && type != 1 { fail("mqtt-first-packet"); break packets }
            if opened && type == 1 { fail("mqtt-second-opening"); break packets }
        case .client?:
            if !serverSends.contains(type) { fail("mqtt-wrong-direction"); break packets }
            if !opened && type != 2 && type != 15 { fail("mqtt-first-packet"); break packets }
            if opened && type == 2 { fail("mqtt-second-opening"); break packets }
        case nil:
            break
        }
        var length = 0, width = 0, ended = false
        while width < 4 {
            guard offset + 1 + width < stream.count else { break packets }      // truncated
            let octet = stream[offset + 1 + width]
            length |= Int(octet & 0x7F) << (7 * width)
            width += 1
            if octet & 0x80 == 0 {
                if width > 1 && octet == 0 { fail("mqtt-remaining-length-non-minimal"); break packets }
                ended = true
                break
            }
        }
        if !ended { fail("mqtt-remaining-length-too-long"); break }
        if (type == 12 || type == 13) && length != 0 { fail("mqtt-ping-length"); break }
        if length > setup.maxFrameSize { fail("frame-too-large"); break }
        let end = offset + 1 + width + length
        guard end <= stream.count else { break }                                // truncated
        let body = stream[(offset + 1 + width)..<end]
        switch type {
        case 12: items.append(Received(.ping(.empty), slice: body))
        case 13: items.append(Received(.pong(.empty), slice: body))
        default: items.append(Received(.business(BusinessFrame(type: UInt64(type), flags: flags, length: length)), slice: body))
        }
        if type == 1 || type == 2 { opened = true }
        offset = end
    }
    if failure == nil && offset < stream.count { failure = (offset, "truncated") }
    check(outcome.items == items, "the model reads \(items.count) packets, the demuxer \(outcome.items.count) (\(setup))")
    check(outcome.error?.offset == failure?.offset && outcome.error?.reason.identifier == failure?.reason,
          "the model stops at \(String(describing: failure)), the demuxer with \(String(describing: outcome.error)) (\(setup))")
}

/// Writes `items` (as an MQTT demuxer reported them) again with `MQTTPacketEncoder`: PINGREQ and
/// PINGRESP, and each business packet through `appendData` with its first octet as the type.
public func encodeMQTTItems(_ items: [Received]) -> [UInt8] {
    var encoder = MQTTDialect(performsConnect: false).makeEncoder(role: .client, randomSeed: 1)
    var stream: [UInt8] = []
    for received in items {
        switch received.item {
        case .ping: encoder.appendPing(.empty, to: &stream)
        case .pong: encoder.appendPong(echoing: received.bytes.span.bytes, to: &stream)
        case .business(let frame): encoder.appendData(received.bytes.span.bytes, type: frame.type << 4 | UInt64(frame.flags), to: &stream)
        default: fatalError("\(received.item) from an MQTT demuxer")
        }
    }
    return stream
}
