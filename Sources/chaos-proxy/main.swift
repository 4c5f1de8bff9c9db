// chaos-proxy: a TCP forwarder that misbehaves on purpose, for the fault tests (Interop/faults.sh).
//
//   chaos-proxy --listen A.B.C.D:PORT --connect A.B.C.D:PORT [--delay MS] [--jitter MS]
//               [--stall-every S] [--stall MS] [--cut-every S] [--seed N]
//
// Every connection accepted on --listen is forwarded to --connect. Each direction delays every
// chunk it reads by --delay ± --jitter milliseconds one way (uniform, seeded), so a round trip
// gains 2 × delay on average. A chunk is never released before the one read before it in the same
// direction: the byte order of each direction is kept (a chunk drawn a shorter delay than its
// predecessor waits for it). Stalls freeze the whole link: at seeded random times (exponential
// gaps, mean --stall-every seconds) nothing is forwarded for --stall milliseconds; what arrives
// meanwhile is queued and released when the stall ends. Cuts (mean gap --cut-every seconds; 0, the
// default, never) close every open connection at once, both sides. At most 4 MiB wait per
// direction: past that the proxy stops reading that side until it drains.
//
// One JSON object per line on standard output (t: CLOCK_MONOTONIC seconds):
//   {"event":"listening","address":A}  {"event":"accepted","conn":N,"t":F}
//   {"event":"stall","t":F,"ms":F}  {"event":"cut","t":F,"open":N}
//   {"event":"closed","conn":N,"t":F,"up_octets":N,"down_octets":N,"chunks":N,"late_ms":F,"reason":S}
//   (late_ms: how late a chunk went out after its due time, on average: the proxy's own error)
// Runs until killed. Glibc only: it must not share code paths with what it tests.
import Framing
import Glibc

// MARK: Command line

struct Options {
    var listenText = ""
    var listen: sockaddr_in?
    var connect: sockaddr_in?
    var delayMilliseconds = 0.0
    var jitterMilliseconds = 0.0
    var stallEverySeconds = 0.0
    var stallMilliseconds = 1_000.0
    var cutEverySeconds = 0.0
    var seed: UInt64 = 1
}

func fail(_ message: String) -> Never {
    var text = "chaos-proxy: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func parseAddress(_ text: String) -> sockaddr_in? {
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    guard inet_pton(AF_INET, String(text[..<colon]), &address.sin_addr) == 1 else { return nil }
    return address
}

func parseOptions(_ arguments: ArraySlice<String>) -> Options {
    var options = Options()
    var rest = arguments
    func number(_ name: String, _ text: String?) -> Double {
        guard let text, let value = Double(text), value >= 0, value.isFinite else { fail("\(name) needs a number >= 0") }
        return value
    }
    while let name = rest.popFirst() {
        let value = rest.popFirst()
        switch name {
        case "--listen":
            options.listen = value.flatMap(parseAddress)
            options.listenText = value ?? ""
        case "--connect": options.connect = value.flatMap(parseAddress)
        case "--delay": options.delayMilliseconds = number(name, value)
        case "--jitter": options.jitterMilliseconds = number(name, value)
        case "--stall-every": options.stallEverySeconds = number(name, value)
        case "--stall": options.stallMilliseconds = number(name, value)
        case "--cut-every": options.cutEverySeconds = number(name, value)
        case "--seed":
            guard let seed = value.flatMap({ UInt64($0) }) else { fail("--seed needs an unsigned integer") }
            options.seed = seed
        default: fail("unknown option \(name)")
        }
    }
    guard options.listen != nil, options.connect != nil else { fail("--listen A.B.C.D:PORT and --connect A.B.C.D:PORT are required") }
    guard options.jitterMilliseconds <= options.delayMilliseconds else { fail("--jitter must not exceed --delay") }
    return options
}

// MARK: Time, randomness, output

/// CLOCK_MONOTONIC in nanoseconds (the clock the engine's timestamps use).
func now() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

func seconds(_ nanoseconds: Int64) -> String { String(Double(nanoseconds) / 1e9) }

func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// `time` plus an exponentially distributed gap with mean `meanSeconds`, in nanoseconds; `.max`
/// (never) when the mean is 0.
func after(_ time: Int64, exponentialGap meanSeconds: Double, _ random: inout SplitMix64) -> Int64 {
    guard meanSeconds > 0 else { return .max }
    return time + Int64(min(-log(1 - random.nextUnitInterval()) * meanSeconds, 1e6) * 1e9)
}

// MARK: Forwarding

let maxQueuedOctets = 4 << 20
let readSize = 64 * 1024

/// One direction of one connection: chunks read from `source`, waiting for their release time.
struct Direction {
    var chunks: [(release: Int64, octets: [UInt8])] = []
    var head = 0
    /// Octets of the first chunk already written.
    var written = 0
    var queued = 0
    var lastRelease: Int64 = 0
    var sourceEnded = false
    var shutDown = false
    var forwarded = 0
    /// Chunks released, and the sum of how late each went out after its due time (the proxy's own error).
    var released = 0
    var lateness: Int64 = 0

    var isEmpty: Bool { head == chunks.count }

    mutating func append(_ octets: [UInt8], release: Int64) {
        // Never before the previous chunk: each direction keeps its byte order.
        let release = max(release, lastRelease)
        lastRelease = release
        chunks.append((release, octets))
        queued += octets.count
    }

    /// Writes every chunk due at `now` (and not frozen by a stall) to `fd`; false on a write error.
    mutating func flush(to fd: CInt, now: Int64, frozenUntil: Int64) -> Bool {
        while head < chunks.count, chunks[head].release <= now, frozenUntil <= now {
            if written == 0 {
                released += 1
                lateness += now - max(chunks[head].release, frozenUntil)
            }
            let count = chunks[head].octets.withUnsafeBytes { octets in
                send(fd, octets.baseAddress! + written, octets.count - written, CInt(MSG_NOSIGNAL))
            }
            if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK }
            written += count
            forwarded += count
            queued -= count
            guard written == chunks[head].octets.count else { return true }
            written = 0
            head += 1
            if head > 64 && head * 2 > chunks.count {
                chunks.removeFirst(head)
                head = 0
            }
        }
        return true
    }

    /// When the next chunk falls due, or nil.
    var nextRelease: Int64? { isEmpty ? nil : chunks[head].release }
}

final class Link {
    let number: Int
    let client: CInt
    let server: CInt
    var up = Direction()
    var down = Direction()
    var closed = false

    init(number: Int, client: CInt, server: CInt) {
        self.number = number
        self.client = client
        self.server = server
    }

    func close(_ reason: String) {
        guard !closed else { return }
        closed = true
        Glibc.close(client)
        Glibc.close(server)
        let late = Double(up.lateness + down.lateness) / Double(max(1, up.released + down.released)) / 1e6
        say("{\"event\":\"closed\",\"conn\":\(number),\"t\":\(seconds(now())),\"up_octets\":\(up.forwarded),\"down_octets\":\(down.forwarded),"
            + "\"chunks\":\(up.released + down.released),\"late_ms\":\(late),\"reason\":\(reason.jsonLiteral)}")
    }
}

func setNonBlocking(_ fd: CInt) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    var one: CInt = 1
    _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
}

func connectUpstream(_ address: sockaddr_in) -> CInt? {
    let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = address
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
        close(fd)
        return nil
    }
    setNonBlocking(fd)
    return fd
}

/// Reads what `fd` has into `direction`, each chunk released after a drawn delay; false at EOF or on error.
func receive(_ fd: CInt, into direction: inout Direction, options: Options, random: inout SplitMix64, buffer: UnsafeMutableRawBufferPointer) -> Bool {
    let count = recv(fd, buffer.baseAddress, buffer.count, 0)
    if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
    if count == 0 {
        direction.sourceEnded = true
        return true
    }
    let delay = options.delayMilliseconds + options.jitterMilliseconds * (2 * random.nextUnitInterval() - 1)
    direction.append(Array(UnsafeRawBufferPointer(rebasing: buffer[..<count])), release: now() + Int64(max(0, delay) * 1e6))
    return true
}

func run(_ options: Options) -> Never {
    signal(SIGPIPE, SIG_IGN)
    let listener = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
    var one: CInt = 1
    _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
    var address = options.listen!
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard listener >= 0, bound == 0, listen(listener, 64) == 0 else { fail("cannot listen: errno \(errno)") }
    setNonBlocking(listener)
    say("{\"event\":\"listening\",\"address\":\(options.listenText.jsonLiteral)}")

    var random = SplitMix64(seed: options.seed)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 1)
    var links: [Link] = []
    var accepted = 0
    let start = now()
    var nextStall = after(start, exponentialGap: options.stallEverySeconds, &random)
    var nextCut = after(start, exponentialGap: options.cutEverySeconds, &random)
    var frozenUntil: Int64 = 0

    while true {
        let time = now()
        if time >= nextStall {
            frozenUntil = time + Int64(options.stallMilliseconds * 1e6)
            nextStall = after(frozenUntil, exponentialGap: options.stallEverySeconds, &random)
            say("{\"event\":\"stall\",\"t\":\(seconds(time)),\"ms\":\(options.stallMilliseconds)}")
        }
        if time >= nextCut {
            say("{\"event\":\"cut\",\"t\":\(seconds(time)),\"open\":\(links.count)}")
            links.forEach { $0.close("cut") }
            links.removeAll()
            nextCut = after(time, exponentialGap: options.cutEverySeconds, &random)
        }
        // Forward what is due; end a direction whose source ended once it is drained.
        for link in links {
            guard link.up.flush(to: link.server, now: time, frozenUntil: frozenUntil),
                  link.down.flush(to: link.client, now: time, frozenUntil: frozenUntil) else {
                link.close("write failed: errno \(errno)")
                continue
            }
            if link.up.sourceEnded, link.up.isEmpty, !link.up.shutDown {
                link.up.shutDown = true
                shutdown(link.server, CInt(SHUT_WR))
            }
            if link.down.sourceEnded, link.down.isEmpty, !link.down.shutDown {
                link.down.shutDown = true
                shutdown(link.client, CInt(SHUT_WR))
            }
            if link.up.shutDown && link.down.shutDown { link.close("both sides ended") }
        }
        links.removeAll { $0.closed }

        // Wait for input, room to write, or the next release, stall end, stall or cut.
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        var wake = min(nextStall, nextCut)
        for link in links {
            for (fd, reading, writing) in [(link.client, link.up, link.down), (link.server, link.down, link.up)] {
                var events: Int32 = 0
                if !reading.sourceEnded && reading.queued < maxQueuedOctets { events |= Int32(POLLIN) }
                if let release = writing.nextRelease {
                    let due = max(release, frozenUntil)
                    if due <= time { events |= Int32(POLLOUT) } else { wake = min(wake, due) }
                }
                // Nothing to wait for on this socket: -1 keeps poll from reporting a hang-up over and over.
                fds.append(pollfd(fd: events == 0 ? -1 : fd, events: Int16(events), revents: 0))
            }
        }
        // Releases are due to the nanosecond: poll waits the whole milliseconds, then a short sleep
        // the rest (rounding up to the next millisecond would add half a millisecond on average).
        let wait = wake == .max ? -1 : max(0, wake - time)
        if wait >= 0 && wait < 1_000_000 {
            var rest = timespec(tv_sec: 0, tv_nsec: Int(wait))
            nanosleep(&rest, nil)
            continue
        }
        let timeout = wait < 0 ? -1 : CInt(clamping: wait / 1_000_000)
        guard poll(&fds, nfds_t(fds.count), timeout) >= 0 || errno == EINTR else { fail("poll: errno \(errno)") }

        if fds[0].revents & Int16(POLLIN) != 0 {
            let client = accept(listener, nil, nil)
            if client >= 0 {
                accepted += 1
                setNonBlocking(client)
                if let server = connectUpstream(options.connect!) {
                    links.append(Link(number: accepted, client: client, server: server))
                    say("{\"event\":\"accepted\",\"conn\":\(accepted),\"t\":\(seconds(now()))}")
                } else {
                    close(client)
                    say("{\"event\":\"closed\",\"conn\":\(accepted),\"t\":\(seconds(now())),\"up_octets\":0,\"down_octets\":0,\"reason\":\"upstream refused\"}")
                }
            }
        }
        for (index, link) in zip(stride(from: 1, to: fds.count, by: 2), links) {
            let readable = Int16(POLLIN | POLLHUP | POLLERR)
            if !link.up.sourceEnded, fds[index].revents & readable != 0,
               !receive(link.client, into: &link.up, options: options, random: &random, buffer: buffer) {
                link.close("client read failed: errno \(errno)")
            }
            if !link.closed, !link.down.sourceEnded, fds[index + 1].revents & readable != 0,
               !receive(link.server, into: &link.down, options: options, random: &random, buffer: buffer) {
                link.close("server read failed: errno \(errno)")
            }
        }
    }
}

run(parseOptions(CommandLine.arguments.dropFirst()))
