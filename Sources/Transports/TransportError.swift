public import Framing

/// Why a connection or transport failed, with the cases a liveness layer must tell apart.
public enum TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer closed its side in order (read returned 0): EOF.
    case endOfStream
    /// The peer reset the connection (`ECONNRESET`), e.g. it closed with SO_LINGER 0 or crashed.
    case connectionReset
    /// We wrote to a connection the peer had closed (`EPIPE`); never raised as SIGPIPE.
    case brokenPipe
    /// TCP gave up: retransmissions, keepalive probes or TCP_USER_TIMEOUT (`ETIMEDOUT`).
    case timedOut
    /// Nothing listens at the address (`ECONNREFUSED`).
    case connectionRefused
    /// Any other system error, with the call that failed.
    case system(Errno, operation: String)
    /// The peer's bytes broke the dialect's framing; close with `error.code`.
    case framing(FramingError)
    /// The heartbeat engine declared the peer dead.
    case peerDead(reason: String)
    /// We closed the connection because the peer broke a policy: pinged too often
    /// ("too_many_pings") or left a frame incomplete too long ("slow_frame").
    case closedByPolicy(reason: String)
    /// The connection was closed locally.
    case closed

    /// Sorts an `errno` from `operation` into the cases above.
    public init(_ errno: Errno, operation: String) {
        switch errno {
        case .connectionReset: self = .connectionReset
        case .brokenPipe: self = .brokenPipe
        case .timedOut: self = .timedOut
        case .connectionRefused: self = .connectionRefused
        default: self = .system(errno, operation: operation)
        }
    }

    public var description: String {
        switch self {
        case .endOfStream: return "the peer closed the connection (EOF)"
        case .connectionReset: return "the peer reset the connection (ECONNRESET)"
        case .brokenPipe: return "write to a connection the peer closed (EPIPE)"
        case .timedOut: return "TCP timed out (ETIMEDOUT)"
        case .connectionRefused: return "connection refused (ECONNREFUSED)"
        case .system(let errno, let operation): return "\(operation): \(errno) (errno \(errno.rawValue))"
        case .framing(let error): return "framing error: \(error)"
        case .peerDead(let reason): return "peer declared dead: \(reason)"
        case .closedByPolicy(let reason): return "closed by us: the peer broke the policy (\(reason))"
        case .closed: return "the connection is closed"
        }
    }
}
