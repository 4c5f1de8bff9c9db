import Glibc
import Testing
import Transports

extension TransportSuites {
    /// The typed socket layer on its own.
    @Suite struct SocketTests {
        @Test func optionsRoundTrip() throws {
            let socket = try Socket(family: AF_INET)
            try socket.setNoDelay(true)
            #expect(try socket.noDelay())
            try socket.setKeepAlive(TCPKeepAlive(idleSeconds: 7, intervalSeconds: 3, probeCount: 4))
            #expect(try socket.keepAlive() == TCPKeepAlive(idleSeconds: 7, intervalSeconds: 3, probeCount: 4))
            try socket.setKeepAlive(nil)
            #expect(try socket.keepAlive() == nil)
            try socket.setUserTimeout(milliseconds: 2500)
            #expect(try socket.userTimeoutMilliseconds() == 2500)
            try socket.setSendBufferSize(64 * 1024)
            #expect(try socket.sendBufferSize() >= 64 * 1024)  // Linux doubles the request
            try socket.setReceiveBufferSize(64 * 1024)
            #expect(try socket.receiveBufferSize() >= 64 * 1024)
        }

        @Test func pendingErrorOfARefusedConnectIsECONNREFUSED() throws {
            let listener = try Socket(family: AF_INET)
            try listener.bind(to: try SocketAddress(ipAddress: "127.0.0.1", port: 0))
            let address = try listener.localAddress()
            try listener.close()  // bound but never listening: nothing answers
            let socket = try Socket(family: AF_INET)
            do {
                if try !socket.connect(to: address) {
                    var entry = pollfd(fd: socket.descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&entry, 1, 2000)
                    #expect(try socket.pendingError() == .connectionRefused)
                }
            } catch {
                #expect(error == .connectionRefused)
            }
        }

        @Test func sendToAResetPeerIsEPIPEOrECONNRESETNotSIGPIPE() throws {
            let pair = try SocketPair(family: AF_INET)
            try pair.server?.setLingerZero(true)
            try pair.server.take()?.close()
            usleep(20_000)
            var errors: [Errno] = []
            let chunk = [UInt8](repeating: 0, count: 1024)
            for _ in 0..<10 {
                do {
                    _ = try chunk.withUnsafeBytes { try pair.client?.send($0) }
                } catch let error as Errno {
                    errors.append(error)
                }
            }
            #expect(!errors.isEmpty)
            #expect(errors.allSatisfy { $0 == .brokenPipe || $0 == .connectionReset })
        }

        @Test(arguments: ["127.0.0.1", "::1", "unix"])
        func bytesAvailableAndEOFOnEveryFamily(_ host: String) throws {
            let family: CInt = host == "unix" ? AF_UNIX : host == "::1" ? AF_INET6 : AF_INET
            let pair = try SocketPair(family: family)
            let message: [UInt8] = Array("twelve bytes".utf8)
            #expect(try message.withUnsafeBytes { try pair.client?.send($0) } == message.count)
            usleep(10_000)
            #expect(try pair.server?.bytesAvailable() == message.count)
            var buffer = [UInt8](repeating: 0, count: 64)
            let received = try buffer.withUnsafeMutableBytes { try pair.server?.receive(into: $0) }
            #expect(received == .bytes(message.count))
            try pair.client?.shutdown(.write)
            usleep(10_000)
            #expect(try buffer.withUnsafeMutableBytes { try pair.server?.receive(into: $0) } == .endOfStream)
            #expect(try buffer.withUnsafeMutableBytes { try pair.client?.receive(into: $0) } == .wouldBlock)
        }

        @Test func addressesParseAndPrint() throws {
            #expect(try SocketAddress(parsing: "127.0.0.1:8080").description == "127.0.0.1:8080")
            #expect(try SocketAddress(parsing: "[::1]:443").description == "[::1]:443")
            #expect(try SocketAddress(parsing: "unix:/tmp/hb.sock") == .unix(path: "/tmp/hb.sock"))
            #expect(try SocketAddress(parsing: "localhost:80").port == 80)
            #expect(throws: TransportError.self) { try SocketAddress(parsing: "no-port") }
            #expect(throws: TransportError.self) { try SocketAddress(parsing: "[::1]443") }
        }

    }
}

/// A connected pair of non-blocking sockets on loopback (or a Unix socket in /tmp).
final class SocketPair {
    var client: Socket?
    var server: Socket?

    init(family: CInt) throws {
        let address: SocketAddress
        switch family {
        case AF_UNIX: address = .unix(path: "/tmp/hb-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock")
        case AF_INET6: address = try SocketAddress(ipAddress: "::1", port: 0)
        default: address = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        }
        let listener = try Socket(family: family)
        try listener.bind(to: address)
        try listener.listen()
        defer { if case .unix(let path) = address { unlink(path) } }
        let client = try Socket(family: family)
        if try !client.connect(to: try listener.localAddress()) {
            var entry = pollfd(fd: client.descriptor, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, 2000)
        }
        var entry = pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, 2000)
        guard let server = try listener.accept() else { throw Errno.timedOut }
        self.client = consume client
        self.server = consume server
    }
}
