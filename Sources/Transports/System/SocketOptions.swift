import CTransportsShims
import Glibc

/// TCP keepalive: the kernel probes an idle connection and fails it with ETIMEDOUT when the
/// probes go unanswered (SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
public struct TCPKeepAlive: Hashable, Sendable {
    /// Idle time before the first probe, in whole seconds (`TCP_KEEPIDLE`).
    public var idleSeconds: Int
    /// Time between probes, in whole seconds (`TCP_KEEPINTVL`).
    public var intervalSeconds: Int
    /// Unanswered probes before the connection fails (`TCP_KEEPCNT`).
    public var probeCount: Int

    /// Keepalive settings.
    public init(idleSeconds: Int, intervalSeconds: Int, probeCount: Int) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.probeCount = probeCount
    }
}

extension Socket {
    /// `TCP_NODELAY`: send small segments at once instead of waiting to coalesce them (Nagle off).
    /// Heartbeats are small and late ones are useless, so connections set it.
    public func setNoDelay(_ enabled: Bool) throws(Errno) {
        try setOption(CInt(IPPROTO_TCP), TCP_NODELAY, enabled ? 1 : 0)
    }

    /// Whether `TCP_NODELAY` is set.
    public func noDelay() throws(Errno) -> Bool {
        try option(CInt(IPPROTO_TCP), TCP_NODELAY) as CInt != 0
    }

    /// `SO_KEEPALIVE` with its `TCP_KEEPIDLE` / `TCP_KEEPINTVL` / `TCP_KEEPCNT`; nil turns it off.
    public func setKeepAlive(_ keepAlive: TCPKeepAlive?) throws(Errno) {
        try setOption(SOL_SOCKET, SO_KEEPALIVE, keepAlive == nil ? 0 : 1)
        guard let keepAlive else { return }
        try setOption(CInt(IPPROTO_TCP), TCP_KEEPIDLE, keepAlive.idleSeconds)
        try setOption(CInt(IPPROTO_TCP), TCP_KEEPINTVL, keepAlive.intervalSeconds)
        try setOption(CInt(IPPROTO_TCP), TCP_KEEPCNT, keepAlive.probeCount)
    }

    /// The keepalive settings, or nil when `SO_KEEPALIVE` is off.
    public func keepAlive() throws(Errno) -> TCPKeepAlive? {
        guard try option(SOL_SOCKET, SO_KEEPALIVE) as CInt != 0 else { return nil }
        return TCPKeepAlive(idleSeconds: try option(CInt(IPPROTO_TCP), TCP_KEEPIDLE),
                            intervalSeconds: try option(CInt(IPPROTO_TCP), TCP_KEEPINTVL),
                            probeCount: try option(CInt(IPPROTO_TCP), TCP_KEEPCNT))
    }

    /// `TCP_USER_TIMEOUT`, in milliseconds: how long sent data may stay unacknowledged before the
    /// kernel fails the connection with ETIMEDOUT (0: the system default).
    public func setUserTimeout(milliseconds: Int) throws(Errno) {
        try setOption(CInt(IPPROTO_TCP), CInt(TCP_USER_TIMEOUT), milliseconds)
    }

    /// `TCP_USER_TIMEOUT` in milliseconds.
    public func userTimeoutMilliseconds() throws(Errno) -> Int {
        try option(CInt(IPPROTO_TCP), CInt(TCP_USER_TIMEOUT))
    }

    /// `SO_SNDBUF`: the kernel's send buffer size request, in octets (Linux doubles it).
    public func setSendBufferSize(_ octets: Int) throws(Errno) { try setOption(SOL_SOCKET, SO_SNDBUF, octets) }
    /// `SO_SNDBUF` as the kernel reports it.
    public func sendBufferSize() throws(Errno) -> Int { try option(SOL_SOCKET, SO_SNDBUF) }
    /// `SO_RCVBUF`: the kernel's receive buffer size request, in octets (Linux doubles it).
    public func setReceiveBufferSize(_ octets: Int) throws(Errno) { try setOption(SOL_SOCKET, SO_RCVBUF, octets) }
    /// `SO_RCVBUF` as the kernel reports it.
    public func receiveBufferSize() throws(Errno) -> Int { try option(SOL_SOCKET, SO_RCVBUF) }

    /// `SO_REUSEADDR`: allow binding a listening address still in TIME_WAIT.
    public func setReuseAddress(_ enabled: Bool) throws(Errno) { try setOption(SOL_SOCKET, SO_REUSEADDR, enabled ? 1 : 0) }

    /// `SO_LINGER` with a zero timeout: closing then resets the connection (the peer sees
    /// ECONNRESET) instead of a FIN. Passing nil restores the normal close.
    public func setLingerZero(_ enabled: Bool) throws(Errno) {
        var value = linger(l_onoff: enabled ? 1 : 0, l_linger: 0)
        _ = try systemCall { setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size)) }
    }
}
