import Framing
import Testing
import Transports
@testable import hb

/// `hb probe`'s MQTT targets, `hb serve`'s MQTT echo and `hb decode --dialect mqtt`.
@Suite struct MQTTCommandLineTests {
    @Test(arguments: [("127.0.0.1:1884", "127.0.0.1:1884", MQTTVersion.v3_1_1), ("mqtt://broker.example", "broker.example:1883", .v3_1_1),
                      ("mqtt5://10.0.0.1:8883/", "10.0.0.1:8883", .v5), ("mqtt5://[::1]", "[::1]:1883", .v5),
                      ("[::1]:1890", "[::1]:1890", .v3_1_1)])
    func targets(_ text: String, _ address: String, _ version: MQTTVersion) throws {
        let (parsed, stream) = try CommandLineDialect.mqttTarget(text)
        #expect(parsed == address)
        #expect((stream as? MQTTDialect)?.version == version)
    }

    @Test(arguments: ["mqtts://host", "ws://host", "mqtt://host:0", "mqtt://host:99999", "mqtt://", "mqtt://host/topic"])
    func badTargets(_ text: String) {
        #expect(throws: UsageError.self) { try CommandLineDialect.mqttTarget(text) }
    }

    @Test func probeKeepAliveFollowsTheInterval() throws {
        let entry = try parseDialect("mqtt", allowQUIC: false)
        let stream = entry.atInterval(MQTTDialect(), .milliseconds(2500))
        #expect((stream as? MQTTDialect)?.keepAlive == 3)
    }

    @Test func serveEchoesQoS0PublishOnly() {
        var state = EchoState()
        let body: [UInt8] = [0x00, 0x01, 0x74, 0x68, 0x69]
        func frame(_ type: UInt64, _ flags: UInt8) -> InboundFrame {
            InboundFrame(header: BusinessFrame(type: type, flags: flags, length: body.count), payload: body)
        }
        let echo = CommandLineDialect.mqttEcho(&state, frame(3, 0b0001))
        #expect(echo?.bytes == body && echo?.type == 0x31)
        #expect(CommandLineDialect.mqttEcho(&state, frame(3, 0b0010)) == nil)   // QoS 1 would need a PUBACK flow
        #expect(CommandLineDialect.mqttEcho(&state, frame(8, 0b0010)) == nil)
    }

    @Test func decodeJSONLines() {
        var lines: [String] = []
        var dissector = DecodeCommand.dissector(dialect: .mqtt, format: .jsonl, maxFrameSize: nil)
        let capture: [UInt8] = [0x20, 0x02, 0x00, 0x00, 0xD0, 0x00, 0xC0, 0x00, 0x82, 0x04, 0x00, 0x01, 0x00, 0x00, 0x30, 0x80, 0x80, 0x80, 0x80]
        #expect(!dissector.feed(capture.span.bytes) { lines.append($0) })
        #expect(lines == [#"{"item":"business","type":2,"length":2}"#, #"{"item":"pong"}"#, #"{"item":"ping"}"#,
                          #"{"item":"business","type":8,"length":4}"#, #"{"item":"error","code":"MALFORMED_PACKET","offset":14}"#])
    }
}
