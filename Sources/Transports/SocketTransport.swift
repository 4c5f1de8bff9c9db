import CTransportsShims
import Glibc

/// A `Transport` over a connected non-blocking TCP or Unix-domain socket, driven by an `EventLoop`.
public final class SocketTransport: Transport, EventLoopHandler, @unchecked Sendable {
    public let eventLoop: EventLoop
    private var socket: Socket?
    /// Strong until `close` clears it (a weak reference cost a side table per connection and
    /// an atomic load per read); the sink closes its transport when it ends.
    private var sink: (any TransportSink)?
    private var reading = true
    private var wantsWritable = false

    /// The descriptor, while open.
    public private(set) var descriptor: CInt

    /// Wraps a connected socket; configure it (TCP_NODELAY, keepalive, ...) before. Reads land in
    /// the loop's shared read buffer (`EventLoop.init(readBufferSize:)`), not in one of its own.
    public init(socket: consuming Socket, eventLoop: EventLoop) {
        self.descriptor = socket.descriptor
        self.socket = consume socket
        self.eventLoop = eventLoop
    }

    public func start(_ sink: any TransportSink) {
        // Closed before it started: keep no sink (it holds this transport: a cycle).
        guard socket != nil else { return }
        self.sink = sink
        do {
            try eventLoop.register(descriptor, handler: self)
        } catch {
            fail(error)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> Int {
        let sent: Int?
        do {
            sent = try socket?.send(bytes)
        } catch {
            throw TransportError(error, operation: "send")
        }
        guard let written = sent else { throw .closed }
        if written < bytes.count && !wantsWritable {
            wantsWritable = true
            updateInterest()
        }
        return written
    }

    public func setReading(_ enabled: Bool) {
        guard enabled != reading else { return }
        reading = enabled
        updateInterest()
    }

    public var bytesWaiting: Int? { try? socket?.bytesAvailable() }

    public func close(reset: Bool) {
        sink = nil
        guard let socket = socket.take() else { return }
        eventLoop.deregister(descriptor)
        if reset { try? socket.setLingerZero(true) }
        try? socket.close()
    }

    // MARK: EventLoopHandler

    public func readable() {
        // Drain what is there, up to a bound so one busy connection cannot starve the others. The
        // buffer is the loop's: the sink demuxes it in place before the next read reuses it.
        let readBuffer = eventLoop.readBuffer
        for _ in 0..<4 {
            let received: Socket.ReceiveResult?
            do {
                received = try socket?.receive(into: readBuffer)
            } catch {
                return fail(TransportError(error, operation: "recv"))
            }
            guard let result = received else { return }
            switch result {
            case .bytes(let count):
                sink?.transportReceived(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]).bytes)
                if count < readBuffer.count || !reading || self.socket == nil { return }
            case .wouldBlock:
                return
            case .endOfStream:
                return fail(.endOfStream)
            }
        }
    }

    public func writable() {
        guard socket != nil else { return }
        if let error = try? socket?.pendingError() {
            return fail(TransportError(error, operation: "connection"))
        }
        wantsWritable = false
        updateInterest()
        sink?.transportWritable()
    }

    public func eventLoopShutdown() { fail(.closed) }

    private func updateInterest() {
        guard socket != nil else { return }
        do {
            try eventLoop.modify(descriptor, reading: reading, writable: wantsWritable)
        } catch {
            // Reported from the loop, not from inside the caller's write or setReading.
            eventLoop.execute { self.fail(error) }
        }
    }

    private func fail(_ error: TransportError) {
        let sink = self.sink
        close(reset: false)
        sink?.transportClosed(error)
    }
}
