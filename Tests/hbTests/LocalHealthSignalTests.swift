#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Issue 12 item 3 on real sockets: `hb probe` (the client) is stopped with SIGSTOP for 3 s and
/// continued with SIGCONT, against `hb serve` on loopback. A relay of ours sits between them on
/// loopback, so that the stop falls exactly when a ping is in flight: the relay stops the probe
/// the moment it forwards a ping, and the server's pong waits in the probe's kernel buffer
/// while the probe is stopped — the case where a loop that runs its timers first (epoll_wait
/// returns EINTR after SIGCONT, so ours does) would judge the pong missed.
@Suite(.serialized) struct LocalHealthSignalTests {
    /// The server stays alive: with local health the probe counts every reply (0 false verdicts).
    @Test(.timeLimit(.minutes(1))) func aStoppedProbeGivesNoFalseVerdict() throws {
        let run = try StoppedProbeRun(localHealth: true, killServerDuringStop: false)
        run.log("alive peer, local health on")
        #expect(run.status == 0)
        #expect(run.lines(containing: "no reply").isEmpty)
        #expect(!run.lines(containing: "local lag:").isEmpty)
        // Usually the held reply is reported as one that "waited for our own lag" (not an RTT
        // sample). When the stop lands between the probe's write of the ping and its reading of
        // the clock, the ping counts as written after the stop and its reply as an ordinary
        // one: still no false verdict.
        #expect(run.lines(containing: "reply from").count == 8)
    }

    /// The control: the same stop without local health loses the reply that waited for us.
    @Test(.timeLimit(.minutes(1))) func withoutLocalHealthTheStopCostsAReply() throws {
        let run = try StoppedProbeRun(localHealth: false, killServerDuringStop: false)
        run.log("alive peer, local health off")
        #expect(run.status == 1)
        #expect(!run.lines(containing: "no reply").isEmpty)
    }

    /// The server is killed while the probe is stopped (and the path left silent, as behind a
    /// dead host): once continued, the probe still declares the ping lost, after the 50 ms hold.
    @Test(.timeLimit(.minutes(1))) func aPeerKilledDuringTheStopIsDetectedAfterRecovery() throws {
        let run = try StoppedProbeRun(localHealth: true, killServerDuringStop: true)
        run.log("peer killed during the stop, local health on")
        #expect(run.status == 1)
        let verdicts = run.lines(containing: "no reply")
        let first = try #require(verdicts.first)
        let continued = try #require(run.continuedAt)
        #expect(first.seconds >= continued)
        print("first verdict \(Int(((first.seconds - continued) * 1000).rounded())) ms after SIGCONT (interval 1 s)")
    }
}

/// One run: `hb serve`, our relay, `hb probe` stopped for 3 s at the first ping after 1.2 s.
private struct StoppedProbeRun {
    var status: Int32 = -1
    /// The probe's output lines, with when the relay read them (seconds since the run began).
    var output: [(seconds: Double, text: String)] = []
    var stoppedAt: Double?
    var continuedAt: Double?

    func lines(containing text: String) -> [(seconds: Double, text: String)] {
        output.filter { $0.text.contains(text) }
    }

    func log(_ title: String) {
        print("--- \(title): stopped at \(format(stoppedAt)) s, continued at \(format(continuedAt)) s, exit \(status)")
        for line in output { print("\(format(line.seconds)) s  \(line.text)") }
    }

    private func format(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        return String(Double(Int((seconds * 1000).rounded())) / 1000)
    }

    init(localHealth: Bool, killServerDuringStop: Bool) throws {
        let start = monotonicSeconds()
        var server = try Child(["serve", "--dialect", "tcp", "--port", "0", "--interval", "60"])
        defer { server.stop() }
        var serverPort: UInt16?
        while serverPort == nil, monotonicSeconds() - start < 20 {
            for line in server.readLines(waitMilliseconds: 100) {
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "on"), index > 0, words[index - 1] == "listening",
                      index + 1 < words.count else { continue }
                serverPort = words[index + 1].split(separator: ":").last.flatMap { UInt16($0) }
            }
            if server.exited { break }
        }
        let upstreamPort = try #require(serverPort, "hb serve did not report its port")

        let listener = try LoopbackSocket.listen()
        defer { close(listener.descriptor) }
        var arguments = ["probe", "--dialect", "tcp", "127.0.0.1:\(listener.port)", "--count", "8",
                         "--interval", "1", "--timeout", "0.9"]
        if !localHealth { arguments.append("--no-local-health") }
        var probe = try Child(arguments)
        defer { probe.stop() }
        let client = try LoopbackSocket.accept(listener.descriptor, waitMilliseconds: 10_000)
        defer { close(client) }
        let upstream = try LoopbackSocket.connect(port: upstreamPort)
        defer { close(upstream) }
        let connectedAt = monotonicSeconds()

        var forwarding = true
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while monotonicSeconds() - start < 45 {
            var descriptors = [pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: forwarding ? upstream : -1, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: probe.output, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: server.output, events: Int16(POLLIN), revents: 0)]
            _ = poll(&descriptors, nfds_t(descriptors.count), 10)
            let now = monotonicSeconds()
            if descriptors[0].revents != 0 {
                let count = read(client, &buffer, buffer.count)
                if count > 0 {
                    if stoppedAt == nil && now - connectedAt >= 1.2 {
                        // A ping is in flight: stop the probe before its pong can come back.
                        kill(probe.pid, SIGSTOP)
                        probe.waitUntilStopped()
                        stoppedAt = monotonicSeconds() - start
                        if killServerDuringStop {
                            kill(server.pid, SIGKILL)
                            forwarding = false  // the path stays open and silent: a dead host
                        }
                    }
                    if forwarding { writeAll(upstream, buffer[..<count]) }
                }
            }
            if forwarding && descriptors[1].revents != 0 {
                let count = read(upstream, &buffer, buffer.count)
                if count > 0 { writeAll(client, buffer[..<count]) } else { forwarding = false }
            }
            _ = server.readLines(waitMilliseconds: 0)
            for line in probe.readLines(waitMilliseconds: 0) { output.append((now - start, line)) }
            if let stopped = stoppedAt, continuedAt == nil, now - start - stopped >= 3 {
                kill(probe.pid, SIGCONT)
                continuedAt = now - start
            }
            if continuedAt != nil || stoppedAt == nil, let exitStatus = probe.reap() {
                for line in probe.readLines(waitMilliseconds: 200) { output.append((monotonicSeconds() - start, line)) }
                status = exitStatus
                return
            }
        }
        if stoppedAt != nil && continuedAt == nil { kill(probe.pid, SIGCONT) }
        Issue.record("hb probe did not finish within 45 s")
    }
}

private func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

private func writeAll(_ descriptor: CInt, _ bytes: ArraySlice<UInt8>) {
    var offset = bytes.startIndex
    while offset < bytes.endIndex {
        let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written <= 0 { return }
        offset += written
    }
}

/// `hb` run with its standard output and error on a pipe we read line by line.
private struct Child {
    let pid: pid_t
    let output: CInt
    private var pending: [UInt8] = []
    private(set) var exited = false

    init(_ arguments: [String]) throws {
        var pipeDescriptors: [CInt] = [0, 0]
        _ = closeOnExecPipe(&pipeDescriptors)  // no other child may inherit it (its reader would wait for that child too)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeDescriptors[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeDescriptors[0])
        let path = CommandLineTests.hbPath
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        argv.forEach { free($0) }
        close(pipeDescriptors[1])
        guard spawned == 0 else {
            close(pipeDescriptors[0])
            throw SpawnFailure(code: spawned)
        }
        self.pid = pid
        output = pipeDescriptors[0]
        _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) | O_NONBLOCK)
    }

    /// Complete lines read so far, waiting up to `waitMilliseconds` for the first bytes.
    mutating func readLines(waitMilliseconds: Int32) -> [String] {
        var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        if waitMilliseconds > 0 { _ = poll(&descriptor, 1, waitMilliseconds) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(output, &buffer, buffer.count)
            if count <= 0 { break }
            pending += buffer[..<count]
        }
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 10) {
            lines.append(String(decoding: pending[..<newline], as: UTF8.self))
            pending.removeSubrange(...newline)
        }
        return lines
    }

    /// Blocks until a SIGSTOP sent to the child has taken effect (every thread stopped).
    func waitUntilStopped() {
        var status: CInt = 0
        while true {
            let result = waitpid(pid, &status, WUNTRACED)
            if result == pid && status & 0xff == 0x7f { return }  // WIFSTOPPED
            if result == -1 && errno != EINTR { return }
            if result == pid { return }  // exited: the run fails on its output
        }
    }

    /// The exit status once the child has exited (then it is reaped), `nil` while it runs.
    mutating func reap() -> Int32? {
        guard !exited else { return nil }
        var status: CInt = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exited = true
        return (status >> 8) & 0xff
    }

    /// Kills the child if it still runs, reaps it and closes the pipe.
    mutating func stop() {
        if !exited {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
            var status: CInt = 0
            waitpid(pid, &status, 0)
            exited = true
        }
        close(output)
    }
}

private struct SpawnFailure: Error {
    var code: CInt
}

private struct SocketFailure: Error {
    var operation: String
    var code: CInt
}

/// Blocking loopback sockets for the relay.
private enum LoopbackSocket {
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    static func listen() throws -> (descriptor: CInt, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(operation: "socket", code: errno) }
        var address = address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(descriptor, 4) == 0 else {
            close(descriptor)
            throw SocketFailure(operation: "bind/listen", code: errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    static func accept(_ listener: CInt, waitMilliseconds: Int32) throws -> CInt {
        var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, waitMilliseconds) == 1 else { throw SocketFailure(operation: "accept (timed out)", code: 0) }
        let accepted = Glibc.accept(listener, nil, nil)
        guard accepted >= 0 else { throw SocketFailure(operation: "accept", code: errno) }
        return accepted
    }

    static func connect(port: UInt16) throws -> CInt {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(operation: "socket", code: errno) }
        var address = address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw SocketFailure(operation: "connect", code: errno)
        }
        return descriptor
    }
}
