import Framing
import Glibc
import Testing
import Transports
@testable import hb

/// `hb decode`'s JSON lines, in process.
@Suite struct DecodeTests {
    func decode(_ dialect: Dialect, _ bytes: [UInt8], chunk: Int = 7, preface: Bool = true) -> (lines: [String], status: Int32) {
        var lines: [String] = []
        var dissector = DecodeCommand.dissector(dialect: dialect, format: .jsonl, maxFrameSize: nil, preface: preface)
        var index = 0
        let step = dialect == .quic ? max(bytes.count, 1) : chunk
        while index < bytes.count {
            let end = min(index + step, bytes.count)
            guard dissector.feed(bytes.span.bytes.extracting(index..<end), { lines.append($0) }) else { return (lines, ExitStatus.failure) }
            index = end
        }
        let status = dissector.finish { lines.append($0) } ? ExitStatus.success : ExitStatus.failure
        return (lines, status)
    }

    @Test func envelopeItems() {
        var bytes: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &bytes)
        EnvelopeFrame.appendPing(HeartbeatPayload(rawValue: 0x0102_0304_0506_0708), to: &bytes)
        EnvelopeFrame.appendPong(HeartbeatPayload(rawValue: 0x0102_0304_0506_0708), to: &bytes)
        EnvelopeFrame.appendFrame(payload: [UInt8](repeating: 1, count: 300).span.bytes, to: &bytes)
        let (lines, status) = decode(.envelope, bytes)
        #expect(status == 0)
        #expect(lines == [
            #"{"item":"ping","ack":false,"payload":"0102030405060708"}"#,
            #"{"item":"pong","payload":"0102030405060708"}"#,
            #"{"item":"business","type":0,"length":300}"#,
        ])
    }

    @Test func http2ItemsSkipThePrefaceAndReportAcks() {
        var bytes: [UInt8] = []
        HTTP2Frame.appendClientPreface(to: &bytes)
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.settings, streamID: 0, payload: [UInt8]().span.bytes, to: &bytes)
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 9), ack: false, to: &bytes)
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 9), ack: true, to: &bytes)
        let (lines, status) = decode(.http2, bytes)
        #expect(status == 0)
        #expect(lines == [
            #"{"item":"business","type":4,"length":0}"#,
            #"{"item":"ping","ack":false,"payload":"0000000000000009"}"#,
            #"{"item":"ping","ack":true,"payload":"0000000000000009"}"#,
        ])
    }

    @Test func quicItemsSkipPaddingAndCountWholeFrames() {
        var bytes: [UInt8] = []
        QUICFrame.ack(largestAcknowledged: 5, ackDelay: 1, firstAckRange: 0, ranges: [], ecn: nil).append(to: &bytes)
        QUICFrame.ping.append(to: &bytes)
        QUICFrame.padding(count: 10).append(to: &bytes)
        QUICFrame.stream(streamID: 4, offset: nil, data: [1, 2, 3], explicitLength: true, fin: false).append(to: &bytes)
        let (lines, status) = decode(.quic, bytes)
        #expect(status == 0)
        #expect(lines == [
            #"{"item":"business","type":2,"length":5}"#,
            #"{"item":"ping"}"#,
            #"{"item":"business","type":10,"length":6}"#,
        ])
    }

    @Test func errorsEndWithTheirCodeAndOffset() {
        var bytes: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 1), ack: false, to: &bytes)
        HTTP2Frame.appendHeader(length: 7, type: HTTP2Frame.FrameType.ping, flags: 0, streamID: 0, to: &bytes)
        bytes += [UInt8](repeating: 0, count: 7)
        var result = decode(.http2, bytes)
        #expect(result.status == 1)
        #expect(result.lines.last == #"{"item":"error","code":"FRAME_SIZE_ERROR","offset":17}"#)

        result = decode(.http2, Array(bytes[..<12]))
        #expect(result.lines == [#"{"item":"error","code":"TRUNCATED","offset":0}"#])

        result = decode(.quic, [0x01, 0x40, 0x01])
        #expect(result.lines == [#"{"item":"ping"}"#, #"{"item":"error","code":"PROTOCOL_VIOLATION","offset":1}"#])

        result = decode(.quic, [0x1f])
        #expect(result.lines == [#"{"item":"error","code":"FRAME_ENCODING_ERROR","offset":0}"#])

        result = decode(.envelope, Array("GET / HTTP/1.1\r\n".utf8))
        #expect(result.lines == [#"{"item":"error","code":"PREFACE_ERROR","offset":0}"#])
    }
}

/// The built `hb` binary: exit codes and `--help` on every subcommand.
@Suite struct CommandLineTests {
    /// `hb` next to this test binary in the build folder.
    static var hbPath: String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { readlink("/proc/self/exe", $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 4096) { $0 }, 4096) }
        let path = String(decoding: buffer[..<max(0, count)], as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) + "/hb"
    }

    /// Runs `hb` with `arguments` and standard input from `input`; its exit status and output.
    static func run(_ arguments: [String], input: [UInt8] = []) -> (status: Int32, output: String) {
        var inputPipe: [CInt] = [0, 0], outputPipe: [CInt] = [0, 0]
        _ = closeOnExecPipe(&inputPipe)  // close-on-exec: a child spawned meanwhile by another test must not hold our ends
        _ = closeOnExecPipe(&outputPipe)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, inputPipe[1])
        posix_spawn_file_actions_addclose(&actions, outputPipe[0])
        let argv = ([hbPath] + arguments).map { strdup($0) } + [nil]
        var pid = pid_t()
        let spawned = posix_spawn(&pid, hbPath, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        argv.forEach { free($0) }
        close(inputPipe[0])
        close(outputPipe[1])
        guard spawned == 0 else { return (-1, "spawn failed: \(spawned)") }
        _ = input.withUnsafeBytes { write(inputPipe[1], $0.baseAddress, $0.count) }
        close(inputPipe[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            output += buffer[..<count]
        }
        close(outputPipe[0])
        var status: CInt = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
    }

    @Test(arguments: ["demo", "serve", "probe", "decode"])
    func everySubcommandHasHelp(_ command: String) {
        let (status, output) = Self.run([command, "--help"])
        #expect(status == 0)
        #expect(output.contains("usage: hb \(command)"))
    }

    @Test func usageErrorsExitWithTwo() {
        #expect(Self.run([]).status == 2)
        #expect(Self.run(["nonsense"]).status == 2)
        #expect(Self.run(["decode"]).status == 2)                          // --dialect missing
        #expect(Self.run(["decode", "--dialect", "smtp"]).status == 2)
        #expect(Self.run(["probe", "--dialect", "tcp"]).status == 2)       // HOST:PORT missing
        #expect(Self.run(["probe", "--dialect", "tcp", "127.0.0.1:1", "--count", "0"]).status == 2)
        #expect(Self.run(["serve", "--dialect", "tcp"]).status == 2)       // --port missing
    }

    @Test func decodeReadsStandardInput() {
        var bytes: [UInt8] = []
        HTTP2Frame.appendPing(HeartbeatPayload(rawValue: 0xab), ack: true, to: &bytes)
        let (status, output) = Self.run(["decode", "--dialect", "http2", "--format", "jsonl", "-"], input: bytes)
        #expect(status == 0)
        #expect(output == #"{"item":"ping","ack":true,"payload":"00000000000000ab"}"# + "\n")
        let truncated = Self.run(["decode", "--dialect", "http2", "--format", "jsonl"], input: Array(bytes.dropLast()))
        #expect(truncated.status == 1)
        #expect(truncated.output == #"{"item":"error","code":"TRUNCATED","offset":0}"# + "\n")
    }

    @Test func probeOfANonListeningPortFails() {
        let (status, output) = Self.run(["probe", "--dialect", "tcp", "127.0.0.1:9", "--count", "1"])
        #expect(status == 1)
        #expect(output.contains("ECONNREFUSED"))
    }

    @Test(.timeLimit(.minutes(1))) func demoDetectsTheStallAndExitsZero() {
        let (status, output) = Self.run(["demo", "--interval", "0.2", "--timeout", "0.4", "--stall-after", "1"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("client rtt"))
        #expect(output.contains("client declares the server dead"))
    }
}

/// `hb probe`'s `ws://` targets and `hb serve`'s WebSocket echo.
@Suite struct WebSocketCommandLineTests {
    func target(_ text: String) throws -> (address: String, host: String, path: String) {
        let (address, stream) = try CommandLineDialect.webSocketTarget(text)
        let dialect = try #require(stream as? WebSocketDialect)
        return (address, dialect.host, dialect.path)
    }

    @Test func targetsSplitOnSlashQueryAndDefaultToPort80() throws {
        #expect(try target("ws://example.com:8080/chat") == ("example.com:8080", "example.com:8080", "/chat"))
        #expect(try target("ws://example.com") == ("example.com:80", "example.com", "/"))
        #expect(try target("ws://h:1?q") == ("h:1", "h:1", "/?q"))
        #expect(try target("ws://h/a/b?x=1&y=2") == ("h:80", "h", "/a/b?x=1&y=2"))
        #expect(try target("127.0.0.1:9000") == ("127.0.0.1:9000", "127.0.0.1:9000", "/"))
        #expect(try target("ws://[::1]:9000/p") == ("[::1]:9000", "[::1]:9000", "/p"))
        #expect(try target("ws://[::1]") == ("[::1]:80", "[::1]", "/"))
    }

    @Test(arguments: ["ws://h:1/a b", "ws://h:1/a\r\nX: y", "ws://h:1/\0", "ws://h:1/p#frag", "wss://h:1/", "ws://:1/",
                      "ws:///p", "ws://h:x/", "ws://h:0/", "ws://h:70000/", "ws://u@h:1/", "ws://[::1/", "ws://[]:1/", "ws://h:1/é"])
    func badTargetsAreUsageErrors(_ text: String) {
        #expect(throws: UsageError.self) { try CommandLineDialect.webSocketTarget(text) }
    }

    func frame(_ opcode: UInt8, fin: Bool, _ payload: [UInt8]) -> InboundFrame {
        InboundFrame(header: BusinessFrame(type: UInt64(opcode), flags: fin ? WebSocketFrame.Flags.fin : 0, length: payload.count), payload: payload)
    }

    @Test func echoReassemblesFragmentsAndDropsMessagesOver1MiB() throws {
        var state = EchoState()
        #expect(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.text, fin: false, [1])) == nil)
        let whole = try #require(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.continuation, fin: true, [2])))
        #expect(whole.bytes == [1, 2] && whole.type == UInt64(WebSocketFrame.Opcode.text))

        let half = [UInt8](repeating: 7, count: CommandLineDialect.maxEchoedMessageLength / 2 + 1)
        #expect(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.binary, fin: false, half)) == nil)
        #expect(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.continuation, fin: false, half)) == nil)
        #expect(state.dropping && state.message.isEmpty)
        #expect(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.continuation, fin: false, half)) == nil)
        #expect(state.message.isEmpty)
        #expect(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.continuation, fin: true, [1])) == nil)
        // The next message is echoed again.
        let next = try #require(CommandLineDialect.webSocketEcho(&state, frame(WebSocketFrame.Opcode.binary, fin: true, [9])))
        #expect(next.bytes == [9] && next.type == UInt64(WebSocketFrame.Opcode.binary))
    }
}
