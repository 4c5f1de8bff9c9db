import Glibc
import Testing

/// Issue 12 items 1 and 5 at the command line: `hb probe --reconnect` across a server killed and
/// restarted on the same port; `hb serve --max-connections` and `--handshake-timeout`.
@Suite(.serialized) struct ReconnectCommandLineTests {
    @Test(.timeLimit(.minutes(1))) func probeReconnectsToAServerKilledAndRestartedOnTheSamePort() throws {
        let first = try BackgroundProcess(["serve", "--dialect", "tcp", "--port", "0", "--interval", "60"])
        var firstStopped = false
        defer { if !firstStopped { first.stop() } }
        let listening = try #require(first.readLine())
        let address = try #require(listening.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.map(String.init))
        let port = try #require(address.split(separator: ":").last.map(String.init))

        // The probe ends by itself after 10 replies, or after 10 x 0.2 + 30 s without them.
        let probe = try BackgroundProcess(["probe", "--reconnect", "--dialect", "tcp", address, "--count", "10",
                                           "--interval", "0.2", "--timeout", "0.3"])
        defer { probe.stop() }
        var lines: [String] = []
        func read(until condition: (String) -> Bool) {
            while let line = probe.readLine() {
                lines.append(line)
                if condition(line) { return }
            }
        }
        read { _ in lines.filter { $0.hasPrefix("reply from") }.count == 3 }
        first.stop()  // SIGKILL: the kernel closes its sockets; the probe sees EOF or a reset
        firstStopped = true
        read { $0.hasPrefix("health: down") }
        // Refused attempts meanwhile, on the backoff schedule.
        read { $0.hasPrefix("health: down (connection refused") }

        let second = try BackgroundProcess(["serve", "--dialect", "tcp", "--port", port, "--interval", "60"])
        defer { second.stop() }
        #expect(second.readLine()?.contains("listening on 127.0.0.1:\(port)") == true)
        lines += probe.readAll()
        print(lines.joined(separator: "\n"))

        let health = lines.filter { $0.hasPrefix("health: ") }
        #expect(health.first == "health: connecting (start)")
        #expect(health.filter { $0 == "health: up (connected)" }.count == 2)
        #expect(health.contains { $0.hasPrefix("health: down (the peer") })
        #expect(health.contains { $0.hasPrefix("health: down (connection refused (ECONNREFUSED)); next attempt in ") })
        #expect(lines.filter { $0.hasPrefix("reply from") }.count == 10)
        // Replies resume after the second "up".
        let secondUp = try #require(lines.lastIndex(of: "health: up (connected)"))
        #expect(lines[secondUp...].contains { $0.hasPrefix("reply from") })
        #expect(lines.contains("10 replies, 0 lost, \(health.filter { $0.hasPrefix("health: connecting") }.count) connection attempt(s)"))
    }

    @Test(.timeLimit(.minutes(1))) func serveRefusesBeyondMaxConnectionsAndClosesSilentOnes() throws {
        let server = try BackgroundProcess(["serve", "--dialect", "tcp", "--port", "0", "--format", "jsonl",
                                            "--max-connections", "1", "--handshake-timeout", "0.3"])
        defer { server.stop() }
        let listening = try #require(server.readLine())
        let address = try #require(listening.split(separator: "\"").dropFirst(7).first.map(String.init))
        let port = try #require(address.split(separator: ":").last.flatMap { UInt16($0) })
        let silent = try connectLoopback(port: port)
        defer { close(silent) }
        usleep(100_000)
        let extra = try connectLoopback(port: port)
        defer { close(extra) }
        usleep(800_000)  // past the 0.3 s handshake timeout
        server.interrupt()
        let lines = server.readAll()
        print(lines.joined(separator: "\n"))
        #expect(lines.first == #"{"event":"connected","conn":1}"#)
        #expect(lines.contains(#"{"event":"refused","open":1,"limit":1}"#))
        #expect(lines.contains { $0.hasPrefix(#"{"event":"closed","conn":1,"error":"closed by us: the peer broke the policy (handshake_timeout)""#) })
        #expect(!lines.contains(#"{"event":"connected","conn":2}"#))

        #expect(CommandLineTests.run(["serve", "--dialect", "tcp", "--port", "0", "--max-connections", "-1"]).status == 2)
        let help = CommandLineTests.run(["serve", "--help"]).output
        #expect(help.contains("--max-connections N") && help.contains("--handshake-timeout S"))
        #expect(CommandLineTests.run(["probe", "--help"]).output.contains("--reconnect"))
    }
}

/// A blocking TCP connection to 127.0.0.1:`port`.
func connectLoopback(port: UInt16) throws -> CInt {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(descriptor)
        throw BackgroundProcess.Failure("connect")
    }
    return descriptor
}

@_silgen_name("pipe2") private func systemPipe2(_ descriptors: UnsafeMutablePointer<CInt>, _ flags: CInt) -> CInt

/// pipe(2) with both ends close-on-exec (pipe2 with O_CLOEXEC), so that a child another test
/// spawns meanwhile does not inherit them: a reader waiting for EOF would wait for that child too.
/// `posix_spawn_file_actions_adddup2` still gives the child its own standard output.
func closeOnExecPipe(_ descriptors: inout [CInt]) -> CInt {
    precondition(descriptors.count == 2)
    return descriptors.withUnsafeMutableBufferPointer { systemPipe2($0.baseAddress!, O_CLOEXEC) }
}
