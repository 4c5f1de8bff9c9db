import Framing
import Glibc
import Heartbeat
import Testing
import Transports

/// Every suite that opens sockets or threads runs one at a time: the descriptor and thread
/// counts that the leak test reads through /proc/self must not move under it.
@Suite(.serialized) struct TransportSuites {}

/// A bare peer on a real loopback socket that does exactly what a test says: nothing more.
/// Its calls block (with poll and a timeout), so run them off the cooperative pool's hot path.
final class RawPeer: @unchecked Sendable {
    var listener: Socket?
    var connection: Socket?
    let address: SocketAddress

    init() throws {
        let socket = try Socket(family: AF_INET)
        try socket.setReuseAddress(true)
        try socket.bind(to: try SocketAddress(ipAddress: "127.0.0.1", port: 0))
        try socket.listen(backlog: 16)
        address = try socket.localAddress()
        listener = consume socket
    }

    /// Waits up to `timeout` for the client's connection.
    func accept(timeout: Duration = .seconds(5)) throws {
        let deadline = EventLoop.now() + timeout
        while EventLoop.now() < deadline {
            if let accepted = try listener?.accept() {
                connection = consume accepted
                return
            }
            try wait(for: listener?.descriptor ?? -1, events: Int16(POLLIN), timeout: .milliseconds(50))
        }
        throw Errno.timedOut
    }

    /// Sends all of `bytes`, waiting for room.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { try connection?.send(UnsafeRawBufferPointer(rebasing: $0[offset...])) } ?? 0
            offset += written
            if written == 0 { try wait(for: connection?.descriptor ?? -1, events: Int16(POLLOUT), timeout: .milliseconds(50)) }
        }
    }

    /// Reads whatever arrives within `timeout`.
    func receive(timeout: Duration) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = EventLoop.now() + timeout
        while EventLoop.now() < deadline {
            guard let result = try buffer.withUnsafeMutableBytes({ try connection?.receive(into: $0) }) else { return received }
            switch result {
            case .bytes(let count): received += buffer[..<count]
            case .endOfStream: return received
            case .wouldBlock: try wait(for: connection?.descriptor ?? -1, events: Int16(POLLIN), timeout: .milliseconds(20))
            }
        }
        return received
    }

    /// Closes the connection; with `reset`, via SO_LINGER 0 (the client sees ECONNRESET).
    func closeConnection(reset: Bool) throws {
        if reset { try connection?.setLingerZero(true) }
        try connection.take()?.close()
    }

    private func wait(for descriptor: CInt, events: Int16, timeout: Duration) throws {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        _ = poll(&entry, 1, CInt(timeout.nanosecondCount / 1_000_000))
    }
}

/// The envelope preface, for raw peers.
var envelopePreface: [UInt8] {
    var bytes: [UInt8] = []
    EnvelopeFrame.appendPreface(to: &bytes)
    return bytes
}

/// Waits for the first event matching `match`, or nil if the stream ends first.
func firstEvent(_ events: AsyncStream<ConnectionEvent>, _ match: (ConnectionEvent) -> Bool) async -> ConnectionEvent? {
    for await event in events where match(event) { return event }
    return nil
}

/// Seconds since `start` on the loop's clock.
func seconds(since start: Timestamp) -> Double { (EventLoop.now() - start).secondsValue }

/// Counts entries of a /proc/self directory (open descriptors, threads).
func procEntries(_ directory: String) -> Int {
    guard let handle = opendir("/proc/self/\(directory)") else { return -1 }
    defer { closedir(handle) }
    var count = 0
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count
}

/// The built-in stream dialect behind an identity, for tests parameterised over dialects.
func streamDialect(_ dialect: Dialect) -> any StreamDialect {
    guard let stream = DialectRegistry.streamDialect(dialect) else { preconditionFailure("\(dialect) is not a stream dialect") }
    return stream
}
