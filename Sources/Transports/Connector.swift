import Glibc
import Synchronization

/// Completes a non-blocking connect on the loop: waits for writability, then reads SO_ERROR.
final class Connector: EventLoopHandler, @unchecked Sendable {
    private let loop: EventLoop
    private var socket: Socket?
    private let descriptor: CInt
    private var handoff: Handoff<SocketTransport>?

    private init(socket: consuming Socket, loop: EventLoop) {
        descriptor = socket.descriptor
        self.socket = consume socket
        self.loop = loop
    }

    static func connect(to address: SocketAddress, configuration: ConnectionConfiguration, on loop: EventLoop) async throws -> SocketTransport {
        let connector = Connector(socket: try makeSocket(for: address, configuration), loop: loop)
        let cancelled = Atomic<Bool>(false)
        return try await withTaskCancellationHandler {
            try await Handoff<SocketTransport>.run(on: loop) { handoff in
                connector.begin(address, handoff, cancelled: cancelled.load(ordering: .acquiring))
            }
        } onCancel: {
            cancelled.store(true, ordering: .releasing)
            loop.execute { connector.finish(.failure(CancellationError())) }
        }
    }

    /// A non-blocking socket for `address` with the configuration's TCP options.
    static func makeSocket(for address: SocketAddress, _ configuration: ConnectionConfiguration) throws(TransportError) -> Socket {
        do {
            let socket = try Socket(family: address.family)
            try configure(socket, family: address.family, configuration)
            return socket
        } catch {
            throw TransportError(error, operation: "socket")
        }
    }

    /// Applies the TCP options (nothing for Unix sockets).
    static func configure(_ socket: borrowing Socket, family: CInt, _ configuration: ConnectionConfiguration) throws(Errno) {
        guard family != AF_UNIX else { return }
        try socket.setNoDelay(configuration.noDelay)
        if let keepAlive = configuration.keepAlive { try socket.setKeepAlive(keepAlive) }
        if let timeout = configuration.userTimeout {
            try socket.setUserTimeout(milliseconds: Int(timeout.nanosecondCount / 1_000_000))
        }
    }

    private func begin(_ address: SocketAddress, _ handoff: Handoff<SocketTransport>, cancelled: Bool) {
        self.handoff = handoff
        if cancelled { return finish(.failure(CancellationError())) }
        do {
            let connected = try socket?.connect(to: address) ?? false
            if connected { return finish(.success(())) }
            try loop.register(descriptor, handler: self, writable: true)
        } catch let error as Errno {
            finish(.failure(TransportError(error, operation: "connect to \(address)")))
        } catch {
            finish(.failure(error))
        }
    }

    func readable() { writable() }

    func eventLoopShutdown() { finish(.failure(TransportError.closed)) }

    func writable() {
        loop.deregister(descriptor)
        do {
            if let error = try socket?.pendingError() {
                return finish(.failure(TransportError(error, operation: "connect")))
            }
        } catch {
            return finish(.failure(TransportError(error, operation: "connect")))
        }
        finish(.success(()))
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard let handoff = handoff.take() else { return }
        loop.deregister(descriptor)
        switch result {
        case .success:
            guard let socket = socket.take() else { return handoff.fail(TransportError.closed) }
            handoff.succeed(SocketTransport(socket: socket, eventLoop: loop))
        case .failure(let error):
            _ = socket.take()  // closes it
            handoff.fail(error)
        }
    }
}
