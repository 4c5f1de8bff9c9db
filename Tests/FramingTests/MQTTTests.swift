import Foundation
import Framing
import Testing

/// spec/vectors/mqtt.json through the demuxer (whole, split at every octet, one octet at a time),
/// and the MQTT codec's parts: the Remaining Length, every packet type, the encoder's packets,
/// CONNECT and CONNACK.
@Suite struct MQTTTests {
    // MARK: Vectors

    struct MQTTVector: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var description: String
        var input: String
        var items: [VectorItem]
        var error: VectorError?
        var options: Options?
        struct Options: Decodable, Sendable {
            var role: String?
            var opened: Bool?
            var maxFrameSize: Int?
        }
        var testDescription: String { name }

        func makeDemuxer() -> Demuxer {
            let role: ConnectionRole? = options?.role == "server" ? .server : options?.role == "client" ? .client : nil
            return Demuxer(MQTTDialect(performsConnect: options?.opened != true), role: role, maxFrameSize: options?.maxFrameSize)
        }
    }

    static let vectors: [MQTTVector] = {
        do {
            let data = try Data(contentsOf: VectorTests.vectorsDirectory.appendingPathComponent("mqtt.json"))
            struct File: Decodable { var vectors: [MQTTVector] }
            return try JSONDecoder().decode(File.self, from: data).vectors
        } catch {
            Issue.record("cannot read mqtt.json: \(error)")
            return []
        }
    }()

    @Test func atLeast25Vectors() {
        #expect(Self.vectors.count >= 25)
    }

    static func run(_ vector: MQTTVector, chunks: [[UInt8]]) -> Outcome {
        var demuxer = vector.makeDemuxer()
        var items: [VectorItem] = []
        do {
            for chunk in chunks {
                try demuxer.feed(chunk) { item, bytes in
                    var converted = VectorItem(item, bytes)
                    if converted.item == "ping" || converted.item == "pong" {
                        // Payload-less heartbeats: the vectors list none.
                        converted.payload = converted.payload == "" ? nil : "unexpected payload \(converted.payload ?? "")"
                    }
                    items.append(converted)
                }
            }
            try demuxer.finish()
            return Outcome(items: items, error: nil)
        } catch {
            return Outcome(items: items, error: VectorError(error))
        }
    }

    @Test(arguments: vectors)
    func vectorWholeSplitAndBytewise(_ vector: MQTTVector) throws {
        let input = try #require(Bytes(hex: vector.input)).bytes
        let expected = Outcome(items: vector.items, error: vector.error)
        let whole = Self.run(vector, chunks: [input])
        #expect(whole == expected, "\(vector.name) whole: \(vector.description)")
        guard whole == expected else { return }
        let splits = input.count <= 2048 ? Array(0...input.count)
            : Array(0...64) + Array(stride(from: 65, to: input.count - 64, by: 997)) + Array((input.count - 64)...input.count)
        for split in splits {
            let outcome = Self.run(vector, chunks: [Array(input[..<split]), Array(input[split...])])
            if outcome != expected {
                Issue.record("\(vector.name) split at \(split): \(outcome) != \(expected)")
                return
            }
        }
        #expect(Self.run(vector, chunks: input.map { [$0] }) == expected, "\(vector.name) one octet at a time")
    }

    // MARK: Remaining Length

    @Test(arguments: [(0, "00"), (127, "7f"), (128, "8001"), (16_383, "ff7f"), (16_384, "808001"), (2_097_151, "ffff7f"),
                      (2_097_152, "80808001"), (268_435_455, "ffffff7f")])
    func remainingLengthEdges(_ value: Int, _ hex: String) throws {
        var encoded: [UInt8] = []
        MQTTPacket.appendVariableByteInteger(value, to: &encoded)
        #expect(Bytes(encoded).hex == hex)
        #expect(MQTTPacket.variableByteIntegerLength(of: value) == encoded.count)
        #expect(MQTTPacket.readVariableByteInteger(encoded.span.bytes, at: 0) == .value(value, length: encoded.count))
        // Every shorter prefix asks for one more octet.
        for cut in 0..<encoded.count {
            #expect(MQTTPacket.readVariableByteInteger(Array(encoded[..<cut]).span.bytes, at: 0) == .needMore(cut + 1))
        }
        // The decoder reads the same length from a fixed header, checking it against the limit.
        let header = [UInt8(0x30)] + encoded
        let decoder = MQTTPacketDecoder(role: nil, maxFrameSize: MQTTPacket.maxRemainingLength)
        #expect(try decoder.boundary(of: header.span.bytes) == .frame(length: header.count + value))
        if value > 16 {
            let tight = MQTTPacketDecoder(role: nil, maxFrameSize: value - 1)
            #expect(throws: FramingError.Reason.frameTooLarge(length: UInt64(value), limit: value - 1)) {
                try tight.boundary(of: header.span.bytes)
            }
        }
    }

    @Test func fifthOctetAndNonMinimalEncodings() throws {
        #expect(MQTTPacket.readVariableByteInteger(([0x80, 0x80, 0x80, 0x80, 0x01] as [UInt8]).span.bytes, at: 0) == .tooLong)
        #expect(MQTTPacket.readVariableByteInteger(([0xFF, 0xFF, 0xFF, 0xFF] as [UInt8]).span.bytes, at: 0) == .tooLong)
        #expect(MQTTPacket.readVariableByteInteger(([0x80, 0x00] as [UInt8]).span.bytes, at: 0) == .nonMinimal(0, length: 2))
        #expect(MQTTPacket.readVariableByteInteger(([0xFF, 0x00] as [UInt8]).span.bytes, at: 0) == .nonMinimal(127, length: 2))
        #expect(MQTTPacket.readVariableByteInteger(([0x80, 0x80, 0x80, 0x00] as [UInt8]).span.bytes, at: 0) == .nonMinimal(0, length: 4))
        #expect(MQTTPacket.readVariableByteInteger(([0x80, 0x81, 0x00] as [UInt8]).span.bytes, at: 0) == .nonMinimal(128, length: 3))
        let decoder = MQTTPacketDecoder(role: nil)
        for bad: [UInt8] in [[0x30, 0x80, 0x80, 0x80, 0x80], [0x30, 0x80, 0x00], [0xC0, 0x80, 0x00]] {
            #expect(throws: FramingError.Reason.self) { try decoder.boundary(of: bad.span.bytes) }
            var demuxer = Demuxer(dialect: .mqtt)
            do {
                try demuxer.feed([0xC0, 0x00] + bad) { _, _ in }
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.code == .mqttMalformedPacket && error.offset == 2)
            }
        }
    }

    @Test func everyValueRoundTripsUpToThreeOctets() {
        var encoded: [UInt8] = []
        for value in Array(0..<(1 << 15)) + [2_097_150, 2_097_151, 2_097_152, 268_435_454] {
            encoded.removeAll(keepingCapacity: true)
            MQTTPacket.appendVariableByteInteger(value, to: &encoded)
            guard MQTTPacket.readVariableByteInteger(encoded.span.bytes, at: 0) == .value(value, length: encoded.count) else {
                Issue.record("\(value) did not round-trip")
                return
            }
        }
    }

    // MARK: Packet types

    @Test(arguments: 0...15)
    func everyPacketTypeDelimited(_ type: Int) throws {
        let body: [UInt8] = type == 12 || type == 13 ? [] : [0x00, 0x01, 0xAB]
        let flags = MQTTPacket.requiredFlags(of: UInt8(type)) ?? 0
        let packet = [UInt8(type) << 4 | flags, UInt8(body.count)] + body
        var demuxer = Demuxer(dialect: .mqtt)
        var items: [DemuxedItem] = []
        var octets: [[UInt8]] = []
        do {
            try demuxer.feed(packet) { item, bytes in
                items.append(item)
                octets.append(bytes.withUnsafeBytes { Array($0) })
            }
            try demuxer.finish()
        } catch {
            #expect(type == 0 && error.code == .mqttMalformedPacket, "type \(type): \(error)")
            return
        }
        #expect(type != 0)
        switch type {
        case 12: #expect(items == [.ping(.empty)] && octets == [[]])
        case 13: #expect(items == [.pong(.empty)] && octets == [[]])
        default:
            #expect(items == [.business(BusinessFrame(type: UInt64(type), flags: flags, length: body.count))])
            #expect(octets == [body])
        }
        // Any other flags are malformed, except PUBLISH's DUP/QoS/RETAIN (QoS 3 excepted).
        for other in UInt8(0)...15 where other != flags {
            let isPublishAllowed = type == 3 && other & 0b0110 != 0b0110
            var strict = Demuxer(dialect: .mqtt)
            let result = Result { () throws(FramingError) in try strict.feed([UInt8(type) << 4 | other, UInt8(body.count)] + body) { _, _ in } }
            if isPublishAllowed {
                #expect((try? result.get()) != nil, "PUBLISH flags \(other)")
            } else {
                #expect((try? result.get()) == nil, "type \(type) flags \(other) accepted")
            }
        }
    }

    @Test func rolesCheckDirection() throws {
        let server = MQTTPacketDecoder(role: .server, expectsOpeningPacket: false)
        let client = MQTTPacketDecoder(role: .client, expectsOpeningPacket: false)
        for type in UInt8(1)...15 {
            let first = type << 4 | (MQTTPacket.requiredFlags(of: type) ?? 0)
            let packet: [UInt8] = [first, 0]
            let serverReads = (try? server.boundary(of: packet.span.bytes)) != nil
            let clientReads = (try? client.boundary(of: packet.span.bytes)) != nil
            let fromClient: Set<UInt8> = [1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]
            let fromServer: Set<UInt8> = [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]
            // A second CONNECT / CONNACK is refused even when the session was opened elsewhere.
            #expect(serverReads == (fromClient.contains(type) && type != 1), "server reads type \(type)")
            #expect(clientReads == (fromServer.contains(type) && type != 2), "client reads type \(type)")
        }
    }

    @Test func maxFrameSizeIsCheckedBeforeBuffering() throws {
        var demuxer = Demuxer(MQTTDialect(), role: nil, maxFrameSize: 1000)
        try demuxer.feed([0x30, 0xE8, 0x07, 0x00]) { _, _ in }   // 1,000: accepted, awaited
        #expect(demuxer.bufferedByteCount == 4)
        var over = Demuxer(MQTTDialect(), role: nil, maxFrameSize: 1000)
        #expect(throws: FramingError.self) { try over.feed([0x30, 0xE9, 0x07]) { _, _ in } }
        #expect(over.bufferedByteCount == 0)
        #expect(over.failure?.code == .mqttPacketTooLarge)
    }

    // MARK: Encoder

    static func encoded(_ body: (inout [UInt8]) -> Void) -> String {
        var buffer: [UInt8] = []
        body(&buffer)
        return Bytes(buffer).hex
    }

    @Test func clientConnectBytes() {
        var v311 = MQTTDialect(version: .v3_1_1, keepAlive: 30, clientID: "c1").makeEncoder(role: .client, randomSeed: 1)
        #expect(Self.encoded { v311.appendPreface(to: &$0) } == "100e00044d5154540402001e00026331")
        var v5 = MQTTDialect(version: .v5, keepAlive: 300, clientID: "c1").makeEncoder(role: .client, randomSeed: 1)
        #expect(Self.encoded { v5.appendPreface(to: &$0) } == "100f00044d5154540502012c0000026331")
        let random = MQTTDialect().makeEncoder(role: .client, randomSeed: 42)
        #expect(random.clientID.count == 18 && random.clientID.hasPrefix("hb"))
        #expect(random.clientID != MQTTDialect().makeEncoder(role: .client, randomSeed: 43).clientID)
        #expect(random.clientID == MQTTDialect().makeEncoder(role: .client, randomSeed: 42).clientID)
        // The server writes nothing first.
        var server = MQTTDialect().makeEncoder(role: .server, randomSeed: 1)
        #expect(Self.encoded { server.appendPreface(to: &$0) } == "")
    }

    @Test func closedUntilConnackThenPingsAndData() throws {
        var client = MQTTDialect(version: .v5, keepAlive: 60).makeEncoder(role: .client, randomSeed: 1)
        #expect(!client.isOpen)
        #expect(Self.encoded { client.appendPing(.empty, to: &$0) } == "")
        #expect(Self.encoded { client.appendData(([1, 2] as [UInt8]).span.bytes, type: nil, to: &$0) } == "")
        var reply: [UInt8] = []
        // CONNACK with Server Keep Alive 20 s, a Reason String and a User Property.
        let connack: [UInt8] = [0x00, 0x00, 0x0F, 0x13, 0x00, 0x14, 0x1F, 0x00, 0x02, 0x6F, 0x6B, 0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76]
        let disposition = try client.inbound(BusinessFrame(type: 2, length: connack.count), payload: connack.span.bytes, reply: &reply)
        #expect(disposition == .consumed && reply.isEmpty && client.isOpen)
        #expect(client.serverKeepAlive == 20)
        #expect(client.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: .seconds(20), peerSilenceLimit: nil))
        #expect(Self.encoded { client.appendPing(.empty, to: &$0) } == "c000")
        #expect(Self.encoded { client.appendPong(echoing: [UInt8]().span.bytes, to: &$0) } == "d000")
        #expect(Self.encoded { client.appendData(([0x00, 0x01, 0x74, 0x68] as [UInt8]).span.bytes, type: nil, to: &$0) } == "300400017468")
        #expect(Self.encoded { client.appendData(([0x00, 0x01] as [UInt8]).span.bytes, type: 6, to: &$0) } == "62020001")
        #expect(Self.encoded { client.appendData(([0x00, 0x01] as [UInt8]).span.bytes, type: 0x32, to: &$0) } == "32020001")
        #expect(Self.encoded { client.appendData([UInt8](repeating: 7, count: 200).span.bytes, type: 3, to: &$0) }.hasPrefix("30c801"))
        #expect(Self.encoded { client.appendClose(code: .mqttKeepAliveTimeout, reason: "dead", to: &$0) } == "e0018d")
        #expect(Self.encoded { client.appendPing(.empty, to: &$0) } == "")   // nothing after DISCONNECT
    }

    @Test func serverKeepAliveLongerThanOursLeavesTheSchedule() throws {
        var client = MQTTDialect(version: .v5, keepAlive: 10).makeEncoder(role: .client, randomSeed: 1)
        var reply: [UInt8] = []
        let connack: [UInt8] = [0x00, 0x00, 0x03, 0x13, 0x00, 0x3C]
        _ = try client.inbound(BusinessFrame(type: 2, length: connack.count), payload: connack.span.bytes, reply: &reply)
        #expect(client.serverKeepAlive == 60 && client.negotiatedHeartbeat == nil)
    }

    @Test(arguments: [(UInt8(5), MQTTVersion.v3_1_1, "CONNACK refused: not authorized (5)"),
                      (0x87, .v5, "CONNACK refused: not authorized (135)"),
                      (0x01, .v5, "CONNACK refused: unacceptable protocol version (1)"),
                      (0x86, .v5, "CONNACK refused: bad user name or password (134)")])
    func connackRefusal(_ code: UInt8, _ version: MQTTVersion, _ message: String) {
        var client = MQTTDialect(version: version).makeEncoder(role: .client, randomSeed: 1)
        let connack: [UInt8] = version == .v5 && code >= 0x80 ? [0x00, code, 0x00] : [0x00, code]
        var reply: [UInt8] = []
        do {
            _ = try client.inbound(BusinessFrame(type: 2, length: connack.count), payload: connack.span.bytes, reply: &reply)
            Issue.record("refusal accepted")
        } catch {
            #expect(error.identifier == "mqtt-connack-refused")
            #expect("\(error)" == message)
        }
        #expect(!client.isOpen && reply.isEmpty)
    }

    @Test func malformedConnacks() {
        for (version, connack) in [(MQTTVersion.v3_1_1, [UInt8(0x00)]), (.v3_1_1, [0x02, 0x00]), (.v3_1_1, [0x00, 0x00, 0x00]),
                                   (.v5, [0x00, 0x00]), (.v5, [0x00, 0x00, 0x03, 0x13, 0x00]), (.v5, [0x00, 0x00, 0x02, 0x7F, 0x00]),
                                   (.v5, [0x00, 0x00, 0x05, 0x13, 0x00, 0x01])] {
            var client = MQTTDialect(version: version).makeEncoder(role: .client, randomSeed: 1)
            var reply: [UInt8] = []
            do {
                _ = try client.inbound(BusinessFrame(type: 2, length: connack.count), payload: connack.span.bytes, reply: &reply)
                Issue.record("\(connack) accepted")
            } catch {
                #expect(error.code(in: .mqtt) == .mqttMalformedPacket, "\(connack): \(error)")
            }
        }
    }

    @Test func serverAnswersConnectAndAllowsOneAndAHalfKeepAlives() throws {
        for (version, connack) in [(MQTTVersion.v3_1_1, "20020000"), (.v5, "2003000000")] {
            var server = MQTTDialect().makeEncoder(role: .server, randomSeed: 1)
            #expect(server.negotiatedHeartbeat == .awaitingHandshake)  // no pings; CONNECT within 10 s
            var connect: [UInt8] = []
            MQTTPacket.appendConnect(version: version, keepAlive: 2, clientID: "x", to: &connect)
            var reply: [UInt8] = []
            let body = connect.span.bytes.extracting(2...)
            #expect(try server.inbound(BusinessFrame(type: 1, length: body.byteCount), payload: body, reply: &reply) == .consumed)
            #expect(Bytes(reply).hex == connack && server.isOpen && server.version == version)
            #expect(server.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: .seconds(3)))
            #expect(Self.encoded { server.appendPong(echoing: [UInt8]().span.bytes, to: &$0) } == "d000")
            let disconnect = version == .v5 ? "e00182" : ""
            #expect(Self.encoded { server.appendClose(code: .mqttProtocolError, reason: "", to: &$0) } == disconnect)
        }
        var zero = MQTTDialect().makeEncoder(role: .server, randomSeed: 1)
        var connect: [UInt8] = []
        MQTTPacket.appendConnect(version: .v3_1_1, keepAlive: 0, clientID: "x", to: &connect)
        var reply: [UInt8] = []
        _ = try zero.inbound(BusinessFrame(type: 1, length: connect.count - 2), payload: connect.span.bytes.extracting(2...), reply: &reply)
        #expect(zero.negotiatedHeartbeat == NegotiatedHeartbeat(pingInterval: nil, peerSilenceLimit: nil))
    }

    @Test func badConnects() {
        let cases: [([UInt8], String, [UInt8])] = [
            ([0x00, 0x04, 0x4D, 0x51], "mqtt-malformed-connect", []),
            ([0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x3C], "mqtt-connect-reserved-flag", []),
            ([0x00, 0x04, 0x4D, 0x51, 0x54, 0x58, 0x04, 0x02, 0x00, 0x3C], "mqtt-protocol-name", []),
            ([0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x07, 0x02, 0x00, 0x3C], "mqtt-protocol-level", [0x20, 0x02, 0x00, 0x01]),
        ]
        for (body, identifier, expectedReply) in cases {
            var server = MQTTDialect().makeEncoder(role: .server, randomSeed: 1)
            var reply: [UInt8] = []
            do {
                _ = try server.inbound(BusinessFrame(type: 1, length: body.count), payload: body.span.bytes, reply: &reply)
                Issue.record("\(identifier) accepted")
            } catch {
                #expect(error.identifier == identifier)
            }
            #expect(reply == expectedReply && !server.isOpen)
        }
    }

    @Test func peerDisconnectIsAClose() throws {
        var server = MQTTDialect(performsConnect: false).makeEncoder(role: .server, randomSeed: 1)
        var reply: [UInt8] = []
        #expect(try server.inbound(BusinessFrame(type: 14, length: 0), payload: [UInt8]().span.bytes, reply: &reply)
                == .peerClosing(code: 0, reason: "", deliver: false))
        var client = MQTTDialect(performsConnect: false).makeEncoder(role: .client, randomSeed: 1)
        #expect(try client.inbound(BusinessFrame(type: 14, length: 1), payload: [UInt8(0x8D)].span.bytes, reply: &reply)
                == .peerClosing(code: 0x8D, reason: "", deliver: false))
        #expect(reply.isEmpty && Self.encoded { client.appendClose(code: .mqttNormalDisconnection, reason: "", to: &$0) } == "")
        #expect(try client.inbound(BusinessFrame(type: 3, length: 0), payload: [UInt8]().span.bytes, reply: &reply) == .deliver)
    }

    @Test func keepAliveForAProbeInterval() {
        #expect(MQTTDialect().keepingAlive(every: .milliseconds(200)).keepAlive == 1)
        #expect(MQTTDialect().keepingAlive(every: .seconds(1)).keepAlive == 1)
        #expect(MQTTDialect().keepingAlive(every: .milliseconds(1500)).keepAlive == 2)
        #expect(MQTTDialect().keepingAlive(every: .seconds(1_000_000)).keepAlive == UInt16.max)
    }

    @Test func dissectorLines() {
        let capture: [UInt8] = [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00, 0xC0, 0x00, 0xD0, 0x00, 0x30, 0x80]
        for (format, expected) in [(Dissector.Format.jsonl, ["{\"item\":\"business\",\"type\":1,\"length\":12}", "{\"item\":\"ping\"}",
                                                              "{\"item\":\"pong\"}", "{\"item\":\"error\",\"code\":\"TRUNCATED\",\"offset\":18}"]),
                                   (.text, ["#1 CONNECT type=0x1 length=12", "#2 PINGREQ", "#3 PINGRESP",
                                            "error at offset 18: TRUNCATED: the input ended inside a frame"])] {
            var dissector = Dissector(Demuxer(dialect: .mqtt), format: format)
            var lines: [String] = []
            #expect(dissector.feed(capture.span.bytes) { lines.append($0) })
            #expect(!dissector.finish { lines.append($0) })
            #expect(lines == expected)
        }
    }

    @Test func registry() {
        #expect(DialectRegistry.dialect(named: "mqtt") == .mqtt)
        // The registry's codes are a client's: 0x8D (Keep Alive timeout) is for servers only.
        #expect(DialectRegistry.closeCodes(.mqtt)?.livenessTimeout == .mqttUnspecifiedError)
        #expect(MQTTDialect().makeEncoder(role: .server, randomSeed: 1).closeCodes.livenessTimeout == .mqttKeepAliveTimeout)
        #expect(FramingError.Reason.frameTooLarge(length: 9, limit: 8).code(in: .mqtt) == .mqttPacketTooLarge)
        var ping: [UInt8] = []
        Dialect.mqtt.appendPing(.empty, to: &ping)
        Dialect.mqtt.appendPong(.empty, to: &ping)
        #expect(ping == [0xC0, 0x00, 0xD0, 0x00] && Dialect.mqtt.maxHeartbeatLength == 2)
    }
}
