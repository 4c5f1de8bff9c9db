// AMQP 0-9-1 for Interop/amqp_interop.py, which checks both directions with pamqp:
//
//   interop-frames amqp COUNT SEED FRAMES_FILE EXPECTED_FILE
//       COUNT random frames written by our encoder — heartbeats, Connection methods through
//       AMQPConnectionMethod, methods of other classes (Channel.Open, Basic.Publish/Ack/Deliver,
//       Queue.Declare) and content headers built here and framed by `appendData`, body frames
//       (split at the frame-max) — and a JSON list of what each frame carries, for pamqp to read.
//   interop-frames amqp-read FRAMES_FILE
//       Reads frames pamqp wrote with our decoder and prints one JSON object per frame: its type,
//       channel and length, a Connection method's arguments as AMQPConnectionMethod parsed them,
//       a body's octets.
import Framing
import Glibc

/// A JSON string literal of `text` (see `String.jsonLiteral`).
private func json(_ text: String) -> String { text.jsonLiteral }

private func bigEndian(_ value: UInt64, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - $0))) }
}

private func hex(_ octets: [UInt8]) -> String { octets.span.bytes.hexDescription }

/// A name pamqp accepts for exchanges, queues and tags: letters, digits, `-_.:`.
private func name(_ choices: inout SplitMix64, maxLength: Int = 20) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.:".utf8)
    return String(decoding: (0..<choices.below(maxLength + 1)).map { _ in alphabet[choices.below(alphabet.count)] }, as: UTF8.self)
}

/// The arguments of a Connection method as JSON fields (pamqp's attribute names).
private func fields(_ method: AMQPConnectionMethod) -> (name: String, fields: String) {
    switch method {
    case .start(let major, let minor, let product, let mechanisms, let locales):
        return ("Connection.Start", #""version_major":\#(major),"version_minor":\#(minor),"product":\#(json(product)),"mechanisms":\#(json(mechanisms)),"locales":\#(json(locales))"#)
    case .startOk(let mechanism, let response, let locale):
        return ("Connection.StartOk", #""mechanism":\#(json(mechanism)),"response":\#(json(String(decoding: response, as: UTF8.self))),"locale":\#(json(locale))"#)
    case .tune(let tuning), .tuneOk(let tuning):
        let name = method == .tune(tuning) ? "Connection.Tune" : "Connection.TuneOk"
        return (name, #""channel_max":\#(tuning.channelMax),"frame_max":\#(tuning.frameMax),"heartbeat":\#(tuning.heartbeat)"#)
    case .open(let virtualHost):
        return ("Connection.Open", #""virtual_host":\#(json(virtualHost))"#)
    case .openOk:
        return ("Connection.OpenOk", "")
    case .close(let code, let text, let classID, let methodID):
        return ("Connection.Close", #""reply_code":\#(code),"reply_text":\#(json(text)),"class_id":\#(classID),"method_id":\#(methodID)"#)
    case .closeOk:
        return ("Connection.CloseOk", "")
    case .other(let id):
        return ("Connection.\(id)", "")
    }
}

private func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    return bytes
}

/// `interop-frames amqp ...` and `interop-frames amqp-read ...`.
func runAMQP(_ arguments: [String]) -> Never {
    if arguments.count == 3, arguments[1] == "amqp-read" { readAMQP(arguments[2]) }
    guard arguments.count == 6, arguments[1] == "amqp", let count = Int(arguments[2]), count > 0, let seed = UInt64(arguments[3]) else {
        fail("usage: interop-frames amqp COUNT SEED FRAMES_FILE EXPECTED_FILE | interop-frames amqp-read FRAMES_FILE")
    }
    var choices = SplitMix64(seed: seed)
    var encoder = AMQPDialect(performsHandshake: false).makeEncoder(role: .client, randomSeed: seed)
    var frames: [UInt8] = []
    var expected: [String] = []
    func short(_ value: UInt64, _ bytes: inout [UInt8]) { bytes += bigEndian(value, 2) }
    func shortString(_ text: String, _ bytes: inout [UInt8]) { bytes.append(UInt8(text.utf8.count)); bytes += Array(text.utf8) }
    for _ in 0..<count {
        let channel = UInt16(1 + choices.below(65_535))
        switch choices.below(12) {
        case 0:
            encoder.appendPing(.empty, to: &frames)
            expected.append(#"{"frame":"heartbeat","channel":0}"#)
        case 1...8:
            let method: AMQPConnectionMethod
            let tuning = AMQPTuning(channelMax: UInt16(choices.below(65_536)), frameMax: UInt32(truncatingIfNeeded: choices.next()),
                                    heartbeat: UInt16(choices.below(65_536)))
            switch choices.below(8) {
            case 0: method = .start(versionMajor: 0, versionMinor: 9, product: name(&choices), mechanisms: "AMQPLAIN PLAIN", locales: "en_US")
            case 1: method = .startOk(mechanism: "PLAIN", response: [0] + Array(name(&choices).utf8) + [0] + Array(name(&choices).utf8), locale: "en_US")
            case 2: method = .tune(tuning)
            case 3: method = .tuneOk(tuning)
            case 4: method = .open(virtualHost: "/" + name(&choices))
            case 5: method = .openOk
            case 6: method = .close(replyCode: AMQPReplyCode.allCases[choices.below(AMQPReplyCode.allCases.count)].rawValue,
                                    replyText: name(&choices, maxLength: 200), classID: UInt16(choices.below(100)), methodID: UInt16(choices.below(100)))
            default: method = .closeOk
            }
            method.append(to: &frames)
            let (methodName, arguments) = fields(method)
            expected.append(#"{"frame":"method","channel":0,"name":"\#(methodName)","fields":{\#(arguments)}}"#)
        case 9:
            var payload: [UInt8] = []
            let methodName: String, arguments: String
            switch choices.below(5) {
            case 0:
                payload = [0, 20, 0, 10, 0]
                (methodName, arguments) = ("Channel.Open", "")
            case 1:
                let tag = choices.next() >> 12, multiple = choices.below(2) == 1
                payload = [0, 60, 0, 80]
                payload += bigEndian(tag, 8)
                payload.append(multiple ? 1 : 0)
                (methodName, arguments) = ("Basic.Ack", #""delivery_tag":\#(tag),"multiple":\#(multiple)"#)
            case 2:
                let exchange = name(&choices), key = name(&choices), mandatory = choices.below(2) == 1
                payload = [0, 60, 0, 40, 0, 0]
                shortString(exchange, &payload)
                shortString(key, &payload)
                payload.append(mandatory ? 1 : 0)
                (methodName, arguments) = ("Basic.Publish", #""exchange":\#(json(exchange)),"routing_key":\#(json(key)),"mandatory":\#(mandatory),"immediate":false"#)
            case 3:
                let queue = name(&choices), bits = UInt8(choices.below(32))
                payload = [0, 50, 0, 10, 0, 0]
                shortString(queue, &payload)
                payload.append(bits)
                payload += [0, 0, 0, 0]  // arguments: an empty table
                (methodName, arguments) = ("Queue.Declare", #""queue":\#(json(queue)),"passive":\#(bits & 1 != 0),"durable":\#(bits & 2 != 0),"exclusive":\#(bits & 4 != 0),"auto_delete":\#(bits & 8 != 0),"nowait":\#(bits & 16 != 0)"#)
            default:
                let tag = name(&choices), delivery = choices.next() >> 12, redelivered = choices.below(2) == 1
                let exchange = name(&choices), key = name(&choices)
                payload = [0, 60, 0, 60]
                shortString(tag, &payload)
                payload += bigEndian(delivery, 8)
                payload.append(redelivered ? 1 : 0)
                shortString(exchange, &payload)
                shortString(key, &payload)
                (methodName, arguments) = ("Basic.Deliver", #""consumer_tag":\#(json(tag)),"delivery_tag":\#(delivery),"redelivered":\#(redelivered),"exchange":\#(json(exchange)),"routing_key":\#(json(key))"#)
            }
            encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: AMQPFrame.FrameType.method, channel: channel), to: &frames)
            expected.append(#"{"frame":"method","channel":\#(channel),"name":"\#(methodName)","fields":{\#(arguments)}}"#)
        case 10:
            // Basic content header (class 60, weight 0): body size, then content-type (flag bit 15)
            // and delivery-mode (bit 12) when present (AMQP 0-9-1 §4.2.6.1).
            let bodySize = choices.next() >> 12
            let contentType = choices.below(2) == 0 ? nil : "application/" + name(&choices, maxLength: 10)
            let deliveryMode = choices.below(2) == 0 ? nil : UInt8(1 + choices.below(2))
            var payload: [UInt8] = [0, 60, 0, 0]
            payload += bigEndian(bodySize, 8)
            short((contentType == nil ? 0 : 0x8000) | (deliveryMode == nil ? 0 : 0x1000), &payload)
            if let contentType { shortString(contentType, &payload) }
            if let deliveryMode { payload.append(deliveryMode) }
            encoder.appendData(payload.span.bytes, type: AMQPFrame.dataType(frameType: AMQPFrame.FrameType.header, channel: channel), to: &frames)
            expected.append(#"{"frame":"header","channel":\#(channel),"body_size":\#(bodySize),"content_type":\#(contentType.map(json) ?? "null"),"delivery_mode":\#(deliveryMode.map { "\($0)" } ?? "null")}"#)
        default:
            // At least one octet: pamqp 4.0.1 cannot unmarshal an empty body frame ("No frame
            // size"), which the frame format allows and our decoder reads (reverse check).
            let length = choices.below(50) == 0 ? 131_072 + choices.below(100_000) : 1 + choices.below(300)
            let body = (0..<length).map { _ in UInt8(truncatingIfNeeded: choices.next()) }
            encoder.appendData(body.span.bytes, type: AMQPFrame.dataType(frameType: AMQPFrame.FrameType.body, channel: channel), to: &frames)
            var start = 0
            repeat {
                let end = start + min(encoder.maxFramePayload, length - start)
                expected.append(#"{"frame":"body","channel":\#(channel),"data":"\#(hex(Array(body[start..<end])))"}"#)
                start = end
            } while start < length
        }
    }
    write(frames, to: arguments[4])
    write(Array(("[\n" + expected.joined(separator: ",\n") + "\n]\n").utf8), to: arguments[5])
    print("interop-frames: \(expected.count) AMQP frames, \(frames.count) octets")
    exit(0)
}

/// Prints one JSON object per frame of the file, as our decoder and AMQPConnectionMethod read it.
private func readAMQP(_ path: String) -> Never {
    let bytes = readFile(path)
    var demuxer = StreamDemuxer(AMQPFrameDecoder(maxFrameSize: Int(UInt32.max)))
    var lines: [String] = []
    do {
        try demuxer.feed(bytes) { item, payload in
            switch item {
            case .ping:
                lines.append(#"{"frame":"heartbeat","channel":0}"#)
            case .business(let frame) where frame.type == UInt64(AMQPFrame.FrameType.method):
                let octets = payload.withUnsafeBytes { Array($0) }
                let classID = Int(octets[0]) << 8 | Int(octets[1]), methodID = Int(octets[2]) << 8 | Int(octets[3])
                var line = #"{"frame":"method","channel":\#(frame.streamID),"class":\#(classID),"method":\#(methodID),"length":\#(frame.length)"#
                do {
                    if let method = try AMQPConnectionMethod(payload: payload) {
                        let (name, arguments) = fields(method)
                        line += #","name":"\#(name)","fields":{\#(arguments)}"#
                    }
                } catch {
                    line += #","error":\#(json("\(error)"))"#
                }
                lines.append(line + "}")
            case .business(let frame):
                let kind = frame.type == UInt64(AMQPFrame.FrameType.header) ? "header" : "body"
                let data = frame.type == UInt64(AMQPFrame.FrameType.body) ? #","data":"\#(payload.hexDescription)""# : ""
                lines.append(#"{"frame":"\#(kind)","channel":\#(frame.streamID),"length":\#(frame.length)\#(data)}"#)
            default:
                lines.append(#"{"frame":"unexpected"}"#)
            }
        }
        try demuxer.finish()
    } catch {
        lines.append(#"{"frame":"error","error":\#(json("\(error)"))}"#)
    }
    for line in lines { print(line) }
    exit(0)
}
