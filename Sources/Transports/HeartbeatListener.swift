import Heartbeat
import Glibc
import Synchronization

/// Accepts connections on a TCP or Unix-domain address and runs heartbeats on each.
///
/// ```swift
/// let listener = try await HeartbeatListener.bind(to: SocketAddress(parsing: "127.0.0.1:0"), on: loop)
/// for await connection in listener.connections {
///     Task { for try await frame in connection.inbound { try await connection.write(frame.payload) } }
/// }
/// ```
public final class HeartbeatListener: Sendable {
    private let acceptor: Acceptor
    /// The address bound, with the port the system chose for port 0.
    public let localAddress: SocketAddress
    /// Accepted connections, already running. Ends when the listener closes. With
    /// `ConnectionConfiguration.handler` set, connections run their handlers and do not come
    /// here (a server that never reads this stream would keep every one of them).
    public let connections: AsyncStream<HeartbeatConnection>
    /// What the listener itself reports (refused connections); the newest 1,024 are kept if
    /// nobody reads them. Ends when the listener closes.
    public let events: AsyncStream<ListenerEvent>

    private init(acceptor: Acceptor, localAddress: SocketAddress, connections: AsyncStream<HeartbeatConnection>,
                 events: AsyncStream<ListenerEvent>) {
        self.acceptor = acceptor
        self.localAddress = localAddress
        self.connections = connections
        self.events = events
    }

    /// Binds and listens on `address` (port 0 for any free port; `unix:PATH` for a Unix socket,
    /// whose file is replaced if it exists). With `maxConnections`, a connection accepted while
    /// that many are open is closed at once (reported as ``ListenerEvent/refused(open:limit:)``);
    /// `configuration.handshakeTimeout` closes peers that never complete their preface.
    public static func bind(to address: SocketAddress, configuration: ConnectionConfiguration = .init(),
                            backlog: CInt = 1024, maxConnections: Int? = nil, on loop: EventLoop) async throws -> HeartbeatListener {
        try await bind(to: address, configuration: configuration, backlog: backlog, maxConnections: maxConnections,
                       acceptingOn: loop, connectionLoops: [loop])
    }

    /// Binds and listens on `address` like `bind(to:configuration:backlog:maxConnections:on:)`,
    /// accepting on the group's first loop and running each accepted connection on the group's
    /// loops in turn (accept hand-off): the connections are spread evenly across the cores.
    public static func bind(to address: SocketAddress, configuration: ConnectionConfiguration = .init(),
                            backlog: CInt = 1024, maxConnections: Int? = nil, on group: EventLoopGroup) async throws -> HeartbeatListener {
        try await bind(to: address, configuration: configuration, backlog: backlog, maxConnections: maxConnections,
                       acceptingOn: group.loops[0], connectionLoops: group.loops)
    }

    private static func bind(to address: SocketAddress, configuration: ConnectionConfiguration, backlog: CInt,
                             maxConnections: Int?, acceptingOn loop: EventLoop, connectionLoops: [EventLoop]) async throws -> HeartbeatListener {
        if let maxConnections { precondition(maxConnections >= 0, "maxConnections must be >= 0") }
        if case .unix(let path) = address { unlink(path) }
        let socket = try Connector.makeSocket(for: address, configuration)
        let local: SocketAddress
        do {
            if address.family != AF_UNIX { try socket.setReuseAddress(true) }
            try socket.bind(to: address)
            try socket.listen(backlog: backlog)
            local = try socket.localAddress()
        } catch {
            throw TransportError(error, operation: "listen on \(address)")
        }
        let (stream, continuation) = AsyncStream.makeStream(of: HeartbeatConnection.self, bufferingPolicy: .unbounded)
        let (events, eventSink) = AsyncStream.makeStream(of: ListenerEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let acceptor = Acceptor(socket: socket, loop: loop, connectionLoops: connectionLoops, configuration: configuration, family: address.family,
                                output: continuation, maxConnections: maxConnections, events: eventSink)
        try await Handoff<Void>.run(on: loop) { started in
            do {
                try acceptor.start()
                started.succeed(())
            } catch {
                started.fail(error)
            }
        }
        return HeartbeatListener(acceptor: acceptor, localAddress: local, connections: stream, events: events)
    }

    /// Stops accepting; connections already accepted go on.
    public func close() async {
        _ = try? await Handoff<Void>.run(on: acceptor.loop) { [acceptor] stopped in
            acceptor.stop()
            stopped.succeed(())
        }
    }
}

/// The listening socket's handler on the loop.
final class Acceptor: EventLoopHandler, @unchecked Sendable {
    let loop: EventLoop
    /// Where accepted connections run, in turn (the accepting loop alone, or a group's loops).
    private let connectionLoops: [EventLoop]
    private var nextLoop = 0
    private var socket: Socket?
    private let descriptor: CInt
    private let configuration: ConnectionConfiguration
    /// The configuration every accepted connection shares (one copy for all of them).
    private let sharedConfiguration: SharedConfiguration
    private let family: CInt
    private let output: AsyncStream<HeartbeatConnection>.Continuation
    private var nextConnectionID: UInt64 = 1
    private let maxConnections: Int?
    private let events: AsyncStream<ListenerEvent>.Continuation
    /// Accepted connections not yet ended (accepting loop only).
    private var openConnections = 0
    /// `stop()` has run: connections accepted before it but not yet handed off are closed.
    private let stopped = Atomic(false)

    init(socket: consuming Socket, loop: EventLoop, connectionLoops: [EventLoop], configuration: ConnectionConfiguration, family: CInt,
         output: AsyncStream<HeartbeatConnection>.Continuation, maxConnections: Int?,
         events: AsyncStream<ListenerEvent>.Continuation) {
        self.maxConnections = maxConnections
        self.events = events
        descriptor = socket.descriptor
        self.socket = consume socket
        self.loop = loop
        self.connectionLoops = connectionLoops
        self.configuration = configuration
        sharedConfiguration = SharedConfiguration(configuration)
        self.family = family
        self.output = output
    }

    func start() throws(TransportError) {
        try loop.register(descriptor, handler: self)
    }

    func stop() {
        guard socket != nil else { return }
        loop.deregister(descriptor)
        _ = socket.take()
        stopped.store(true, ordering: .releasing)
        output.finish()
        events.finish()
    }

    func readable() {
        // Accept what is pending, a bounded batch per wakeup.
        for _ in 0..<64 {
            let accepted: Socket?
            do {
                accepted = try socket?.accept()
            } catch {
                // EMFILE and friends: stop this round; the next readiness retries.
                return
            }
            guard let client = accepted else {
                if socket == nil { stop() }
                return
            }
            if let maxConnections, openConnections >= maxConnections {
                _ = consume client  // closed at once: the peer sees EOF
                events.yield(.refused(open: openConnections, limit: maxConnections))
                continue
            }
            try? Connector.configure(client, family: family, configuration)
            let target = connectionLoops[nextLoop]
            nextLoop = nextLoop + 1 == connectionLoops.count ? 0 : nextLoop + 1
            let connectionID = nextConnectionID
            nextConnectionID += 1
            openConnections += 1
            if target === loop {
                run(SocketTransport(socket: client, eventLoop: loop), connectionID: connectionID)
            } else {
                // Hand-off: the connection is made and registered on its own loop's thread —
                // unless that loop has shut down (the task then runs here) or the listener has
                // closed meanwhile: then the socket is closed (the peer sees EOF).
                let pending = PendingSocket(client)
                target.execute {
                    if target.inEventLoop && !self.stopped.load(ordering: .acquiring), let socket = pending.socket.take() {
                        self.run(SocketTransport(socket: socket, eventLoop: target), connectionID: connectionID)
                    } else {
                        _ = pending.socket.take()
                        self.connectionEnded()
                    }
                }
            }
        }
    }

    /// Starts an accepted connection on its transport's loop thread.
    private func run(_ transport: SocketTransport, connectionID: UInt64) {
        // A handler consumes the connection on the loop: no stream, queue or task hand-off is built.
        let core = makeConnectionCore(transport: transport, configuration: sharedConfiguration, role: .server, connectionID: connectionID,
                                      asyncSide: configuration.handler == nil)
        core.setTerminationHandler { [weak self] in self?.connectionEnded() }
        core.start()
        if configuration.handler == nil { output.yield(HeartbeatConnection(core: core)) }
    }

    /// One accepted connection has ended: counted down on the accepting loop.
    private func connectionEnded() {
        if loop.inEventLoop {
            openConnections -= 1
        } else {
            loop.execute { self.openConnections -= 1 }
        }
    }

    func writable() {}

    func eventLoopShutdown() { stop() }
}

/// An accepted socket on its way to another loop's thread.
private final class PendingSocket: @unchecked Sendable {
    var socket: Socket?
    init(_ socket: consuming Socket) { self.socket = consume socket }
}

/// What a listener reports about itself.
public enum ListenerEvent: Hashable, Sendable, CustomStringConvertible {
    /// A connection arrived while `open` connections (the `limit`) were open; it was closed at once.
    case refused(open: Int, limit: Int)

    public var description: String {
        switch self {
        case .refused(let open, let limit): return "refused a connection: \(open) open, limit \(limit)"
        }
    }
}
