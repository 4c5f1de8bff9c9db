import FuzzSupport
import Framing

// MARK: - AMQP 0-9-1

/// Operations (mod 5): 0 a heartbeat frame; 1 a method frame (class 2 octets — not 10 — method 2
/// octets, channel 2 octets, arguments); 2 a content header (channel, 14 octets, more); 3 a body
/// (channel, payload; split at the frame-max by `appendData`); 4 a Connection method on channel 0
/// through `AMQPConnectionMethod` (kind octet, then its fields). A server's or a capture's stream
/// may begin with the protocol header.
func amqpRoundTrip(_ input: inout FuzzInput) {
    let setup = DemuxerSetup(dialect: .amqp, options: input.byte())
    let chunkSize = Int(input.byte())
    var encoder = AMQPDialect(frameMax: setup.maxFrameSize + AMQPFrame.overhead, performsHandshake: false).makeEncoder(role: .client, randomSeed: 0)
    check(encoder.maxFramePayload == setup.maxFrameSize, "encoder frame payload \(encoder.maxFramePayload), decoder \(setup.maxFrameSize)")
    var stream: [UInt8] = []
    var expected: [Received] = []
    let headerExpected = setup.options & 4 == 0 && setup.role == .server
    if headerExpected || (setup.role == nil && input.flag()) {
        stream += AMQPFrame.protocolHeader
        expected.append(Received(.business(BusinessFrame(type: AMQPFrame.protocolHeaderType, length: 8)), bytes: AMQPFrame.protocolHeader))
    }
    func frames(_ type: UInt8, channel: UInt16, _ payload: [UInt8]) {
        encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: type, channel: channel), to: &stream)
        var start = 0
        repeat {
            let end = start + min(setup.maxFrameSize, payload.count - start)
            expected.append(Received(.business(BusinessFrame(type: UInt64(type), streamID: UInt32(channel), length: end - start)),
                                     bytes: Array(payload[start..<end])))
            start = end
        } while start < payload.count
    }
    var count = 0
    while !input.isAtEnd && count < maxFrames && stream.count < maxStreamLength {
        count += 1
        switch input.byte() % 5 {
        case 0:
            encoder.appendPing(HeartbeatPayload(rawValue: input.integer(octets: 8)), to: &stream)
            expected.append(Received(.ping(.empty), bytes: []))
        case 1:
            var classID = input.integer(octets: 2)
            if classID == UInt64(AMQPConnectionMethod.classID) { classID = 20 }
            let ids = octets(classID, width: 2) + octets(input.integer(octets: 2), width: 2)
            let channel = UInt16(input.integer(octets: 2))
            frames(AMQPFrame.FrameType.method, channel: channel, ids + payload(&input, maxLength: setup.maxFrameSize - 4))
        case 2:
            let channel = UInt16(input.integer(octets: 2))
            let fixed = input.take(14) + [UInt8](repeating: 0, count: 14)
            frames(AMQPFrame.FrameType.header, channel: channel, Array(fixed.prefix(14)) + payload(&input, maxLength: setup.maxFrameSize - 14))
        case 3:
            let channel = UInt16(input.integer(octets: 2))
            frames(AMQPFrame.FrameType.body, channel: channel, payload(&input, maxLength: 1 << 17))
        default:
            let text = String(decoding: input.take(Int(input.byte())), as: UTF8.self)
            let tuning = AMQPTuning(channelMax: UInt16(input.integer(octets: 2)), frameMax: UInt32(input.integer(octets: 4)),
                                    heartbeat: UInt16(input.integer(octets: 2)))
            let methods: [AMQPConnectionMethod] = [
                .start(versionMajor: input.byte(), versionMinor: input.byte(), product: text, mechanisms: text, locales: "en_US"),
                .startOk(mechanism: "PLAIN", response: Array(text.utf8), locale: "en_US"),
                .tune(tuning), .tuneOk(tuning), .open(virtualHost: text), .openOk,
                .close(replyCode: UInt16(input.integer(octets: 2)), replyText: text, classID: 10, methodID: 40), .closeOk,
            ]
            var frame: [UInt8] = []
            methods[Int(input.byte()) % methods.count].append(to: &frame)
            let body = Array(frame[AMQPFrame.headerLength..<(frame.count - 1)])
            guard body.count <= setup.maxFrameSize else { continue }
            stream += frame
            expected.append(Received(.business(BusinessFrame(type: 1, length: body.count)), bytes: body))
        }
    }
    checkStreamRoundTrip(setup, stream, expected, chunkSize: chunkSize)
}
