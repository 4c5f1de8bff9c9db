import Glibc

/// A C `errno` value with a Swift name, in the style of swift-system: every failing system call
/// in this module throws one, and `TransportError` sorts the ones a connection cares about.
public struct Errno: RawRepresentable, Error, Hashable, Sendable, CustomStringConvertible {
    /// The C value.
    public let rawValue: CInt

    /// Wraps a C `errno` value.
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    /// `EAGAIN` / `EWOULDBLOCK`: a non-blocking call would have to wait.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EINTR`: interrupted by a signal; the call may be retried.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EINPROGRESS`: a non-blocking connect has started.
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    /// `ECONNRESET`: the peer reset the connection.
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `EPIPE`: writing to a connection the peer has closed.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ETIMEDOUT`: TCP gave up (retransmissions, keepalive, or TCP_USER_TIMEOUT).
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `ECONNREFUSED`: nothing listens at the address.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `EBADF`: not an open descriptor.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `EMFILE`: the process has no descriptors left.
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// `EADDRINUSE`: the address is taken.
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `ENOTCONN`: the socket is not connected.
    public static let notConnected = Errno(rawValue: ENOTCONN)
    /// `EINVAL`: an invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `ENOENT`: no such file (a Unix socket path that does not exist).
    public static let noSuchFile = Errno(rawValue: ENOENT)

    /// `strerror`'s text, e.g. "Connection reset by peer".
    public var description: String { String(cString: strerror(rawValue)) }
}

/// Runs a system call that returns -1 on failure, retrying on EINTR.
@inline(__always)
func systemCall<T: BinaryInteger>(_ call: () -> T) throws(Errno) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}
