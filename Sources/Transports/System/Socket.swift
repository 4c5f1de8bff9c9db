import CTransportsShims
import Glibc

/// A non-blocking stream socket that owns its descriptor and closes it exactly once: when
/// `close()` consumes it, or when it goes out of scope. Every call that fails throws the `Errno`.
/// Sends use MSG_NOSIGNAL, so a closed peer surfaces as `Errno.brokenPipe`, never as SIGPIPE.
public struct Socket: ~Copyable {
    /// The descriptor, valid while this value lives.
    public let descriptor: CInt

    /// Takes ownership of an open descriptor.
    public init(taking descriptor: CInt) { self.descriptor = descriptor }

    /// A new non-blocking, close-on-exec stream socket for `family` (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    public init(family: CInt) throws(Errno) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        descriptor = try systemCall { Glibc.socket(family, type, 0) }
    }

    deinit { _ = Glibc.close(descriptor) }

    /// Closes the descriptor now, reporting a failure that `deinit` would have to swallow.
    public consuming func close() throws(Errno) {
        let descriptor = self.descriptor
        discard self
        // close(2) must not be retried on EINTR on Linux: the descriptor is released either way.
        if Glibc.close(descriptor) == -1 { throw Errno.current }
    }

    /// Gives up ownership without closing, returning the descriptor.
    public consuming func release() -> CInt {
        let descriptor = self.descriptor
        discard self
        return descriptor
    }

    /// Starts connecting. Returns true if connected at once (Unix sockets, often loopback), false
    /// if in progress: wait for writability, then check `pendingError` (SO_ERROR).
    public func connect(to address: SocketAddress) throws(Errno) -> Bool {
        do {
            _ = try address.withSockaddr { (pointer, length) throws(Errno) in
                try systemCall { Glibc.connect(descriptor, pointer, length) }
            }
            return true
        } catch where error == .inProgress {
            return false
        }
    }

    /// Binds to `address`.
    public func bind(to address: SocketAddress) throws(Errno) {
        _ = try address.withSockaddr { (pointer, length) throws(Errno) in
            try systemCall { Glibc.bind(descriptor, pointer, length) }
        }
    }

    /// Listens with room for `backlog` pending connections.
    public func listen(backlog: CInt = 1024) throws(Errno) {
        _ = try systemCall { Glibc.listen(descriptor, backlog) }
    }

    /// Accepts a pending connection as a non-blocking socket; nil when none is waiting.
    public func accept() throws(Errno) -> Socket? {
        do {
            return Socket(taking: try systemCall { heartbeat_accept_nonblocking(descriptor) })
        } catch where error == .wouldBlock {
            return nil
        }
    }

    /// What one non-blocking receive produced.
    public enum ReceiveResult: Hashable, Sendable {
        /// This many octets were read.
        case bytes(Int)
        /// Nothing to read now.
        case wouldBlock
        /// The peer closed its side: EOF.
        case endOfStream
    }

    /// Reads what is available into `buffer`.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> ReceiveResult {
        do {
            let count = try systemCall { Glibc.recv(descriptor, buffer.baseAddress, buffer.count, 0) }
            return count == 0 && buffer.count > 0 ? .endOfStream : .bytes(count)
        } catch where error == .wouldBlock {
            return .wouldBlock
        }
    }

    /// Writes what the send buffer takes of `bytes`, with MSG_NOSIGNAL; 0 when it is full.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        do {
            return try systemCall { Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        } catch where error == .wouldBlock {
            return 0
        }
    }

    /// Which direction `shutdown` closes.
    public enum ShutdownDirection: Sendable {
        /// No more reads (`SHUT_RD`).
        case read
        /// No more writes: the peer reads EOF (`SHUT_WR`).
        case write
        /// Both (`SHUT_RDWR`).
        case both
    }

    /// Shuts down one or both directions without releasing the descriptor.
    public func shutdown(_ direction: ShutdownDirection) throws(Errno) {
        let how: CInt
        switch direction {
        case .read: how = CInt(SHUT_RD)
        case .write: how = CInt(SHUT_WR)
        case .both: how = CInt(SHUT_RDWR)
        }
        _ = try systemCall { Glibc.shutdown(descriptor, how) }
    }

    /// `SO_ERROR`: the error a non-blocking connect (or the connection) ended with, clearing it; nil if none.
    public func pendingError() throws(Errno) -> Errno? {
        let value: CInt = try option(SOL_SOCKET, SO_ERROR)
        return value == 0 ? nil : Errno(rawValue: value)
    }

    /// `FIONREAD`: octets waiting to be read.
    public func bytesAvailable() throws(Errno) -> Int {
        var count: CInt = 0
        _ = try systemCall { heartbeat_fionread(descriptor, &count) }
        return Int(count)
    }

    /// The local address (`getsockname`).
    public func localAddress() throws(Errno) -> SocketAddress {
        try address { getsockname(descriptor, $0, $1) }
    }

    /// The peer's address (`getpeername`).
    public func peerAddress() throws(Errno) -> SocketAddress {
        try address { getpeername(descriptor, $0, $1) }
    }

    private func address(_ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt) throws(Errno) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, &length) }
        }
        if result == -1 { throw Errno.current }
        return try withUnsafePointer(to: &storage) { pointer throws(Errno) in
            guard let address = pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, { SocketAddress($0) }) else {
                throw Errno.invalidArgument
            }
            return address
        }
    }

    // MARK: Options

    func option<Value: FixedWidthInteger>(_ level: CInt, _ name: CInt) throws(Errno) -> Value {
        var value = CInt(0)
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = try systemCall { getsockopt(descriptor, level, name, &value, &length) }
        return Value(truncatingIfNeeded: value)
    }

    func setOption<Value: FixedWidthInteger>(_ level: CInt, _ name: CInt, _ value: Value) throws(Errno) {
        var value = CInt(truncatingIfNeeded: value)
        _ = try systemCall { setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) }
    }
}
