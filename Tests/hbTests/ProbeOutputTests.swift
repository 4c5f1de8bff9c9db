import Framing
import Glibc
import Testing
@testable import hb

/// The sniffer that names a peer speaking another protocol.
@Suite struct PeerSnifferTests {
    func expected(_ name: String) throws -> CommandLineDialect { try parseDialect(name, allowQUIC: false) }

    @Test func recognisesAnHTTP1StatusLine() throws {
        let sniffed = try #require(PeerSniffer.sniff(Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8)))
        #expect(sniffed.name == "HTTP/1.x")
        #expect(sniffed.detail == #"the status line "HTTP/1.1 400 Bad Request""#)
        let message = try #require(PeerSniffer.explain(Array("HTTP/1.0 200 OK\r\n".utf8), expected: expected("tcp"))).message
        #expect(message == #"the peer speaks HTTP/1.x, not the expected TCP envelope: it sent the status line "HTTP/1.0 200 OK""#)
    }

    @Test func recognisesTLSAlertsAndHandshakes() throws {
        let alert = try #require(PeerSniffer.sniff([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))
        #expect(alert.name == "TLS" && alert.detail == "a fatal alert: protocol_version")
        let hello = try #require(PeerSniffer.sniff([0x16, 0x03, 0x01, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76]))
        #expect(hello.detail == "a handshake record (ServerHello)")
        // A length past TLS's record limit is not TLS.
        #expect(PeerSniffer.sniff([0x16, 0x03, 0x03, 0xff, 0xff, 0x02]) == nil)
    }

    @Test func recognisesTheEnvelopeAndHTTP2() throws {
        var envelope: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &envelope)
        #expect(PeerSniffer.sniff(envelope)?.detail == "the envelope preface, version 1")
        #expect(PeerSniffer.explain(envelope, expected: try expected("tcp")) == nil)     // what was expected
        #expect(PeerSniffer.explain(envelope, expected: try expected("http2"))?.sniffed.name == "the TCP envelope")

        var settings: [UInt8] = []
        HTTP2Frame.appendFrame(type: HTTP2Frame.FrameType.settings, streamID: 0, payload: [0, 3, 0, 0, 0, 100].span.bytes, to: &settings)
        #expect(PeerSniffer.sniff(settings)?.name == "HTTP/2")
        #expect(PeerSniffer.explain(settings, expected: try expected("h2")) == nil)
        #expect(PeerSniffer.explain(settings, expected: try expected("ws"))?.message.contains("SETTINGS") == true)

        var preface: [UInt8] = []
        HTTP2Frame.appendClientPreface(to: &preface)
        #expect(PeerSniffer.sniff(preface)?.detail == "a client connection preface")
    }

    @Test func recognisesSSHAndAMQPAndRESP() {
        #expect(PeerSniffer.sniff(Array("SSH-2.0-OpenSSH_9.2p1 Debian\r\n".utf8))?.detail == #"the banner "SSH-2.0-OpenSSH_9.2p1 Debian""#)
        #expect(PeerSniffer.sniff(Array("AMQP".utf8) + [0, 0, 9, 1])?.detail == "a protocol header for version 0-9-1")
        #expect(PeerSniffer.sniff(Array("-ERR unknown command\r\n".utf8))?.name == "Redis RESP")
    }

    @Test(arguments: [[], [0x00], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], Array("hello world".utf8), [0x89, 0x48, 0x00]])
    func unrecognisedOpeningsAreNil(_ octets: [UInt8]) {
        #expect(PeerSniffer.sniff(octets) == nil)
    }

    @Test func unprintableOctetsAreNotEchoedToTheTerminal() {
        let line = PeerSniffer.quotedLine(Array("SSH-2.0-\u{1b}[31m".utf8) + [0xff])
        #expect(line == #""SSH-2.0-?[31m?""#)
    }
}

/// `hb probe --histogram`'s buckets and drawing, and the JSON lines writer.
@Suite struct HistogramTests {
    @Test func countsEverySampleOnceAndSpansMinToMax() {
        let samples = (1...100).map { Double($0) / 10 }
        let histogram = RTTHistogram(samples)
        #expect(histogram.buckets.count == 10)
        #expect(histogram.buckets.map(\.count).reduce(0, +) == 100)
        #expect(histogram.buckets.first?.lower == 0.1 && histogram.buckets.last?.upper == 10)
        // Max ≥ 4 × min: logarithmic widths, each bucket wider than the one before.
        let widths = histogram.buckets.map { $0.upper - $0.lower }
        #expect(zip(widths, widths.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func narrowSpreadsUseEqualWidths() {
        let histogram = RTTHistogram([1.0, 1.1, 1.2, 1.3])
        let widths = histogram.buckets.map { $0.upper - $0.lower }
        #expect(widths.count == 2 && abs(widths[0] - widths[1]) < 1e-9)
        #expect(histogram.buckets.map(\.count) == [2, 2])
    }

    @Test func equalSamplesMakeOneBarAndNoSamplesNone() {
        #expect(RTTHistogram([0.5, 0.5, 0.5]).buckets == [RTTHistogram.Bucket(lower: 0.5, upper: 0.5, count: 3)])
        #expect(RTTHistogram([]).lines().isEmpty)
        #expect(RTTHistogram([.nan, -1]).buckets.isEmpty)
    }

    @Test func theFullestBarIsWidthCellsAndOthersInProportion() {
        let lines = RTTHistogram([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 8]).lines(width: 16)
        #expect(lines.first == "rtt histogram (13 samples, ms):")
        let bars = lines.dropFirst().map { line in line.split(separator: "│")[1].prefix { $0 != " " } }
        #expect(bars.first == Substring(String(repeating: "█", count: 16)))
        #expect(bars.contains(Substring(String(repeating: "█", count: 8))))     // 4 of 8
        #expect(bars.last == "██")                                              // 1 of 8
        #expect(lines[1].hasSuffix(" 8   61.5%"))
    }

    @Test func histogramJSON() {
        #expect(RTTHistogram([1, 1, 3]).json == #"[{"from_ms":1.000,"to_ms":2.000,"count":2},{"from_ms":2.000,"to_ms":3.000,"count":1}]"#)
    }

    @Test func jsonLinesEscapeAndKeepOrder() {
        var line = JSONLine(event: "reply")
        line.add("seq", 3)
        line.add("rtt_ms", 0.1234)
        line.add("reason", "a \"quoted\"\nline")
        line.add("ratio", Double.infinity)
        #expect(line.line == #"{"event":"reply","seq":3,"rtt_ms":0.123,"reason":"a \"quoted\"\nline","ratio":null}"#)
    }
}

/// `hb serve` and `hb probe` as scripts run them: JSON lines, and a peer in another protocol.
@Suite(.serialized) struct ProbeAndServeProcessTests {
    @Test(.timeLimit(.minutes(1))) func probeAndServeWriteJSONLines() throws {
        let server = try BackgroundProcess(["serve", "--dialect", "tcp", "--port", "0", "--format", "jsonl", "--interval", "0.2"])
        defer { server.stop() }
        let listening = try #require(server.readLine())
        #expect(listening.hasPrefix(#"{"event":"listening","address":"127.0.0.1:"#))
        #expect(listening.hasSuffix(#","dialect":"tcp"}"#))
        let address = try #require(listening.split(separator: "\"").dropFirst(7).first.map(String.init))

        let (status, output) = CommandLineTests.run(["probe", "--dialect", "tcp", address, "--count", "3", "--interval", "0.2",
                                                     "--format", "jsonl", "--histogram"])
        #expect(status == 0)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines.first?.hasPrefix(#"{"event":"start","target":"\#(address)","address":"\#(address)","dialect":"tcp","count":3,"#) == true)
        #expect(lines.filter { $0.hasPrefix(#"{"event":"reply","seq":"#) && $0.contains(#""rtt_ms":"#) }.count == 3)
        let summary = try #require(lines.last)
        #expect(summary.hasPrefix(#"{"event":"summary","target":"\#(address)","sent":3,"replies":3,"loss_percent":0.0,"rtt_min_ms":"#))
        #expect(summary.contains(#""histogram":[{"from_ms":"#) && !summary.contains("error"))

        // The server logged the connection: connected, RTT samples of its own pings or not, closed.
        // The closed line may follow the probe's exit by a moment: read up to it, then stop.
        var serverLines: [String] = []
        while let line = server.readLine() {
            serverLines.append(line)
            if line.hasPrefix(#"{"event":"closed""#) { break }
        }
        server.interrupt()
        serverLines += server.readAll()
        #expect(serverLines.first == #"{"event":"connected","conn":1}"#)
        #expect(serverLines.contains { $0.hasPrefix(#"{"event":"closed","conn":1,"error":"#) && $0.contains(#""pings_received":"#) })
        #expect(serverLines.last == #"{"event":"stopping"}"#)
        #expect(serverLines.allSatisfy { $0.hasPrefix(#"{"event":""#) && $0.hasSuffix("}") })
    }

    @Test(.timeLimit(.minutes(1))) func probeNamesAnHTTP1Server() throws {
        let peer = try OneShotServer(reply: Array("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n".utf8))
        let (status, output) = CommandLineTests.run(["probe", "--dialect", "tcp", "127.0.0.1:\(peer.port)", "--count", "1"])
        peer.join()
        #expect(status == 1)
        #expect(output.contains(#"the peer speaks HTTP/1.x, not the expected TCP envelope: it sent the status line "HTTP/1.1 400 Bad Request""#))
        #expect(!output.contains("PREFACE_ERROR"))
    }

    @Test(.timeLimit(.minutes(1))) func probeNamesATLSServerInJSON() throws {
        // What a TLS server writes when a ClientHello is not what arrived: a fatal alert.
        let peer = try OneShotServer(reply: [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a])
        let (status, output) = CommandLineTests.run(["probe", "--dialect", "http2", "127.0.0.1:\(peer.port)", "--count", "1",
                                                     "--format", "jsonl"])
        peer.join()
        #expect(status == 1)
        #expect(output.contains(#"{"event":"other_protocol","protocol":"TLS","detail":"a fatal alert: unexpected_message","#))
        #expect(output.contains(#""error":"the peer speaks TLS, not the expected HTTP/2 cleartext, prior knowledge: it sent a fatal alert: unexpected_message"}"#))
    }

    @Test(.timeLimit(.minutes(1))) func probeOfAnEnvelopeServerAsHTTP2NamesTheEnvelope() throws {
        let server = try BackgroundProcess(["serve", "--dialect", "tcp", "--port", "0"])
        defer { server.stop() }
        let listening = try #require(server.readLine())
        let address = try #require(listening.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.map(String.init))
        let (status, output) = CommandLineTests.run(["probe", "--dialect", "http2", address, "--count", "1"])
        #expect(status == 1)
        #expect(output.contains("the peer speaks the TCP envelope, not the expected HTTP/2 cleartext, prior knowledge: it sent the envelope preface, version 1"))
    }

    @Test func newOptionsAreInTheHelp() {
        let probe = CommandLineTests.run(["probe", "--help"]).output
        #expect(probe.contains("--histogram") && probe.contains(#"{"event":"summary""#) && probe.contains(#"{"event":"other_protocol""#))
        let serve = CommandLineTests.run(["serve", "--help"]).output
        #expect(serve.contains("--format jsonl") && serve.contains(#"{"event":"closed","conn":N"#))
        #expect(CommandLineTests.run(["probe", "--dialect", "tcp", "127.0.0.1:1", "--format", "xml"]).status == 2)
        #expect(CommandLineTests.run(["serve", "--dialect", "tcp", "--port", "0", "--format", "xml"]).status == 2)
    }
}

/// `hb` running in the background, its standard output read line by line; stopped with SIGKILL
/// by `stop()` if still running.
final class BackgroundProcess {
    let pid: pid_t
    private let output: CInt
    private var buffered: [UInt8] = []
    private var reachedEnd = false

    init(_ arguments: [String]) throws {
        var outputPipe: [CInt] = [0, 0]
        guard closeOnExecPipe(&outputPipe) == 0 else { throw Failure("pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, outputPipe[0])
        let path = CommandLineTests.hbPath
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        argv.forEach { free($0) }
        close(outputPipe[1])
        guard spawned == 0 else {
            close(outputPipe[0])
            throw Failure("spawn \(spawned)")
        }
        self.pid = pid
        self.output = outputPipe[0]
    }

    /// The next line of output without its newline; nil at the end of the output.
    func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                defer { buffered.removeSubrange(...newline) }
                return String(decoding: buffered[..<newline], as: UTF8.self)
            }
            if reachedEnd { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { reachedEnd = true } else { buffered += chunk[..<count] }
        }
    }

    /// Every remaining line, until the process closes its output.
    func readAll() -> [String] {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        return lines
    }

    /// Sends SIGINT: `hb serve` stops in order.
    func interrupt() { kill(pid, SIGINT) }

    /// Kills the process if it still runs and reaps it.
    func stop() {
        kill(pid, SIGKILL)
        var status: CInt = 0
        waitpid(pid, &status, 0)
        close(output)
    }

    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}

/// A loopback server on a free port that accepts one connection, reads what arrives first, writes
/// `reply` and closes: a peer that speaks some other protocol. Runs on its own thread.
final class OneShotServer: @unchecked Sendable {
    let port: UInt16
    private let listener: CInt
    private var thread = pthread_t()
    private let reply: [UInt8]

    init(reply: [UInt8]) throws {
        self.reply = reply
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, socketAddress, &length) == 0
            }
        }
        // Nothing waits forever: accept and reads give up after 10 s.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard bound else {
            close(listener)
            throw BackgroundProcess.Failure("bind")
        }
        port = UInt16(bigEndian: address.sin_port)
        let started = pthread_create(&thread, nil, { context in
            let server = Unmanaged<OneShotServer>.fromOpaque(context!).takeRetainedValue()
            server.serveOne()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        guard started == 0 else {
            close(listener)
            throw BackgroundProcess.Failure("pthread_create")
        }
    }

    private func serveOne() {
        let connection = accept(listener, nil, nil)
        close(listener)
        guard connection >= 0 else { return }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 1024)
        _ = scratch.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
        _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        shutdown(connection, Int32(SHUT_WR))
        // Let the client read the reply before the connection goes away.
        while scratch.withUnsafeMutableBytes({ read(connection, $0.baseAddress, $0.count) }) > 0 {}
        close(connection)
    }

    /// Waits for the thread to finish (the client has connected and gone).
    func join() { pthread_join(thread, nil) }
}
