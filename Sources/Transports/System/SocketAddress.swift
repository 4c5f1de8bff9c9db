import CTransportsShims
import Glibc

/// An IPv4, IPv6 or Unix-domain socket address.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address and port; `host` holds the four octets in network order.
    case ipv4(host: UInt32, port: UInt16)
    /// An IPv6 address (16 octets) and port.
    case ipv6(host: [UInt8], port: UInt16, scopeID: UInt32)
    /// A Unix-domain socket path.
    case unix(path: String)

    /// The address family to create a socket for.
    public var family: CInt {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// The port, or nil for Unix-domain addresses.
    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _): return port
        case .unix: return nil
        }
    }

    /// A numeric address: `"127.0.0.1"` or `"::1"` (no name lookup).
    public init(ipAddress: String, port: UInt16) throws(TransportError) {
        var v4 = in_addr()
        if inet_pton(AF_INET, ipAddress, &v4) == 1 {
            self = .ipv4(host: UInt32(bigEndian: v4.s_addr), port: port)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, ipAddress, &v6) == 1 {
            self = .ipv6(host: withUnsafeBytes(of: &v6) { Array($0) }, port: port, scopeID: 0)
            return
        }
        throw .system(.invalidArgument, operation: "parse address \"\(ipAddress)\"")
    }

    /// Resolves `host` (a numeric address, or a name through `getaddrinfo`, which blocks) to its
    /// first address.
    public init(host: String, port: UInt16) throws(TransportError) {
        if let numeric = try? SocketAddress(ipAddress: host, port: port) {
            self = numeric
            return
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        var entry = list
        while let current = entry {
            if let found = SocketAddress(current.pointee.ai_addr, port: port) {
                self = found
                return
            }
            entry = current.pointee.ai_next
        }
        let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
        throw .system(.invalidArgument, operation: "resolve \"\(host)\": \(reason)")
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT` or `unix:PATH`.
    public init(parsing text: String) throws(TransportError) {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
            return
        }
        var host = Substring(text)
        var portText: Substring = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .system(.invalidArgument, operation: "parse \"\(text)\": expected [IPV6]:PORT") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else {
            throw .system(.invalidArgument, operation: "parse \"\(text)\": expected HOST:PORT")
        }
        try self.init(host: String(host), port: port)
    }

    init?(_ address: UnsafePointer<sockaddr>?, port overridePort: UInt16? = nil) {
        guard let address else { return nil }
        switch CInt(address.pointee.sa_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self = .ipv4(host: UInt32(bigEndian: v4.sin_addr.s_addr), port: overridePort ?? UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            var v6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            let host = withUnsafeBytes(of: &v6.sin6_addr) { Array($0) }
            self = .ipv6(host: host, port: overridePort ?? UInt16(bigEndian: v6.sin6_port), scopeID: v6.sin6_scope_id)
        case AF_UNIX:
            var un = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_un.self)
            let path = withUnsafeBytes(of: &un.sun_path) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            self = .unix(path: path)
        default:
            return nil
        }
    }

    /// Calls `body` with the C form of the address.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> R) throws(Errno) -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch self {
        case .ipv4(let host, let port):
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            v4.sin_addr.s_addr = host.bigEndian
            withUnsafeBytes(of: &v4) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .ipv6(let host, let port, let scopeID):
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            v6.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: host.prefix(16)) }
            withUnsafeBytes(of: &v6) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        case .unix(let path):
            var un = sockaddr_un()
            un.sun_family = sa_family_t(AF_UNIX)
            let utf8 = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: un.sun_path)
            guard utf8.count < capacity else { throw .invalidArgument }
            withUnsafeMutableBytes(of: &un.sun_path) { $0.copyBytes(from: utf8) }
            withUnsafeBytes(of: &un) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sa_family_t>.size + utf8.count + 1)
        }
        return try withUnsafePointer(to: &storage) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in try body(address, length) }
        }
    }

    /// `127.0.0.1:80`, `[::1]:80` or `unix:/path`.
    public var description: String {
        switch self {
        case .ipv4(let host, let port):
            return "\(host >> 24).\(host >> 16 & 0xff).\(host >> 8 & 0xff).\(host & 0xff):\(port)"
        case .ipv6(let host, let port, _):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: host.prefix(16)) }
            var text = [UInt8](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            text.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = inet_ntop(AF_INET6, &address, $0.baseAddress, socklen_t($0.count)) }
            }
            return "[\(String(decoding: text.prefix { $0 != 0 }, as: UTF8.self))]:\(port)"
        case .unix(let path):
            return "unix:\(path)"
        }
    }
}
