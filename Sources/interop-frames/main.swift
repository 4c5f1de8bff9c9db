// Writes frames with this library's encoders for independent implementations to read back
// (Interop/run.sh): COUNT random frames a SENDER_ROLE endpoint sends, and a JSON list of the
// items they carry in `hb decode --format jsonl`'s shape (business items add "data" and "fin").
//
//   interop-frames ws client|server COUNT SEED FRAMES_FILE EXPECTED_FILE
//   interop-frames tls COUNT SEED FRAMES_FILE EXPECTED_FILE      (TLSFrames.swift)
//
//   interop-frames amqp ... (see AMQPFrames.swift)
//   interop-frames resp-delimit|lines-delimit SEED INPUT_FILE OUTPUT_FILE   (TextDelimiting.swift)
//
// WebSocket: pings, pongs echoing 0–125 octets, text and binary messages from 0 to
// 70,000 octets (split into 65,536-octet fragments as our encoder does), and a Close last.
import Framing
import Glibc

func fail(_ message: String) -> Never {
    let line = Array("interop-frames: \(message)\n".utf8)
    _ = line.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = CommandLine.arguments
runTextDelimitingIfAsked(arguments)
if arguments.count == 6, arguments[1] == "tls", let count = Int(arguments[2]), count > 0, let seed = UInt64(arguments[3]) {
    writeTLSRecords(count: count, seed: seed, framesPath: arguments[4], expectedPath: arguments[5])
    exit(0)
}
if arguments.count >= 2, arguments[1].hasPrefix("amqp") { runAMQP(arguments) }  // AMQPFrames.swift
guard arguments.count == 7, arguments[1] == "ws", let role = ["client": ConnectionRole.client, "server": .server][arguments[2]],
      let count = Int(arguments[3]), count > 0, let seed = UInt64(arguments[4]) else {
    fail("usage: interop-frames ws client|server COUNT SEED FRAMES_FILE EXPECTED_FILE")
}

extension SplitMix64 {
    /// A value in `0..<bound`: the test's own reproducible choices (the encoder draws its masking keys itself).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

var choices = SplitMix64(seed: seed)
var encoder = WebSocketDialect(performsHandshake: false).makeEncoder(role: role, randomSeed: seed ^ 0xA5A5)
var frames: [UInt8] = []
var expected: [String] = []
for index in 0..<count {
    if index == count - 1 {
        encoder.appendClose(code: WireErrorCode(value: 1000, name: "NORMAL_CLOSURE"), reason: "done", to: &frames)
        expected.append(#"{"item":"business","type":8,"length":6,"data":"03e8646f6e65","fin":true}"#)
        break
    }
    switch choices.below(4) {
    case 0:
        let payload = HeartbeatPayload(rawValue: choices.next())
        encoder.appendPing(payload, to: &frames)
        expected.append(#"{"item":"ping","payload":"\#(payload)"}"#)
    case 1:
        let octets = (0..<choices.below(126)).map { _ in UInt8(truncatingIfNeeded: choices.next()) }
        encoder.appendPong(echoing: octets.span.bytes, to: &frames)
        expected.append(#"{"item":"pong","payload":"\#(octets.span.bytes.hexDescription)"}"#)
    default:
        let isText = choices.below(2) == 0
        let length = choices.below(10) == 0 ? choices.below(70_001) : choices.below(300)
        let octets = (0..<length).map { _ in isText ? UInt8(ascii: "a") + UInt8(choices.below(26)) : UInt8(truncatingIfNeeded: choices.next()) }
        encoder.appendData(octets.span.bytes, type: isText ? 1 : 2, to: &frames)
        var start = 0
        repeat {
            let end = start + min(WebSocketFrameEncoder.maxFragmentPayload, length - start)
            let type = start == 0 ? (isText ? 1 : 2) : 0
            expected.append(#"{"item":"business","type":\#(type),"length":\#(end - start),"data":"\#(octets.span.bytes.extracting(start..<end).hexDescription)","fin":\#(end == length)}"#)
            start = end
        } while start < length
    }
}

func write(_ bytes: [UInt8], to path: String) {
    guard let file = fopen(path, "wb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    guard bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else { fail("cannot write \(path)") }
}
write(frames, to: arguments[5])
write(Array(("[\n" + expected.joined(separator: ",\n") + "\n]\n").utf8), to: arguments[6])
print("interop-frames: \(expected.count) frames, \(frames.count) octets, as a \(arguments[2])")
