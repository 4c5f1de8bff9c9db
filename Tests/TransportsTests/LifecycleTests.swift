import Framing
import Glibc
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    @Suite(.timeLimit(.minutes(2))) struct LifecycleTests {
        @Test func cancellingABlockedReadReturnsAtOnce() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let peer = try RawPeer()
            // A 30 s interval and timeout: nothing on the heartbeat side will wake the reader.
            let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: fastHeartbeats(interval: .seconds(30), ackTimeout: .seconds(30)))
            async let accepted: Void = Task.detached { try peer.accept() }.value
            let connection = try await HeartbeatConnection.connect(to: peer.address, configuration: configuration, on: loop)
            try await accepted
            try peer.send(envelopePreface)
            let reader = Task {
                var iterator = connection.inbound.makeAsyncIterator()
                return try await iterator.next()
            }
            try await Task.sleep(for: .milliseconds(100))  // let it block on the silent peer
            let start = EventLoop.now()
            reader.cancel()
            let result = await reader.result
            let elapsed = seconds(since: start)
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(elapsed < 0.5, "the cancelled read returned after \(elapsed) s")
            await connection.close()
        }

        @Test func cancellingAConnectAbandonsIt() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            // A listener whose backlog we never accept from still completes connects; cancel before.
            let task = Task {
                try await HeartbeatConnection.connect(to: try SocketAddress(parsing: "127.0.0.1:9"), on: loop)
            }
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
        }

        @Test func shutdownInterruptsAnIdleLoopAtOnce() throws {
            let loop = try EventLoop()
            // Nothing is scheduled: the loop waits in epoll_wait with no timeout.
            usleep(50_000)
            let start = EventLoop.now()
            loop.shutdown()
            #expect(seconds(since: start) < 0.5)
        }

        @Test func connectionRefusedIsTyped() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let address = peer.address
            try peer.listener.take()?.close()   // nothing listens there any more
            await #expect(throws: TransportError.connectionRefused) {
                _ = try await HeartbeatConnection.connect(to: address, on: loop)
            }
        }

        @Test func thousandConnectionsLeaveDescriptorsAndThreadsAsTheyWere() async throws {
            let loop = try EventLoop()
            defer { loop.shutdown() }
            let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: fastHeartbeats(interval: .seconds(30), ackTimeout: .seconds(10)))
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"), configuration: configuration, on: loop)
            let server = Task {
                for await connection in listener.connections {
                    Task {
                        for try await frame in connection.inbound { try await connection.write(frame.payload) }
                    }
                }
            }
            // Warm up once so that lazily created runtime threads exist before the baseline.
            let warmUp = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
            try await warmUp.write([1])
            var warmUpInbound = warmUp.inbound.makeAsyncIterator()
            _ = try await warmUpInbound.next()
            await warmUp.close()
            try await Task.sleep(for: .milliseconds(100))
            let descriptorsBefore = procEntries("fd")
            let threadsBefore = procEntries("task")
            for round in 0..<1000 {
                let connection = try await HeartbeatConnection.connect(to: listener.localAddress, configuration: configuration, on: loop)
                try await connection.write([UInt8(truncatingIfNeeded: round)])
                var inbound = connection.inbound.makeAsyncIterator()
                let echoed = try await inbound.next()
                #expect(echoed?.payload == [UInt8(truncatingIfNeeded: round)])
                await connection.close()
            }
            // The server side closes when it reads our GOAWAY and EOF; give it a moment. (Other
            // test targets run in parallel; none keeps descriptors open for long.)
            var descriptorsAfter = procEntries("fd")
            for _ in 0..<50 where descriptorsAfter > descriptorsBefore {
                try await Task.sleep(for: .milliseconds(50))
                descriptorsAfter = procEntries("fd")
            }
            #expect(descriptorsAfter <= descriptorsBefore, "\(descriptorsAfter - descriptorsBefore) descriptors leaked")
            // Threads: none per connection. Other suites run in this process at the same time and may
            // start a runtime or Dispatch worker thread meanwhile, so the count is given a moment to
            // settle and a small allowance; a thread per connection would show as hundreds.
            var threadsAfter = procEntries("task")
            for _ in 0..<50 where threadsAfter > threadsBefore {
                try await Task.sleep(for: .milliseconds(50))
                threadsAfter = procEntries("task")
            }
            #expect(threadsAfter <= threadsBefore + 4, "\(threadsAfter - threadsBefore) more threads after 1,000 connections")
            await listener.close()
            server.cancel()
        }
    }
}
