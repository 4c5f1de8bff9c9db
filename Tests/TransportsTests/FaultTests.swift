import Framing
import Glibc
import Heartbeat
import Testing
import Transports

/// Faults on real loopback sockets, each bounded in time.
extension TransportSuites {
    @Suite(.timeLimit(.minutes(1))) struct LoopbackFaultTests {
        let loop: EventLoop

        init() throws { loop = try EventLoop() }

        func connect(_ peer: RawPeer, heartbeat: HeartbeatConfiguration = fastHeartbeats(),
                     writeBufferLimit: Int = 1 << 20) async throws -> HeartbeatConnection {
            let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat, writeBufferLimit: writeBufferLimit)
            async let accepted: Void = Task.detached { try peer.accept() }.value
            let connection = try await HeartbeatConnection.connect(to: peer.address, configuration: configuration, on: loop)
            try await accepted
            return connection
        }

        @Test func peerCloseIsReportedAsEndOfStream() async throws {
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let connection = try await connect(peer, heartbeat: fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10)))
            try peer.send(envelopePreface)
            // Read what the client sent first: closing with unread data would make the kernel reset.
            _ = try peer.receive(timeout: .milliseconds(50))
            try peer.closeConnection(reset: false)
            await #expect(throws: TransportError.endOfStream) {
                for try await _ in connection.inbound {}
            }
            #expect(connection.closeReason == .endOfStream)
        }

        @Test func peerResetIsReportedAsConnectionReset() async throws {
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let connection = try await connect(peer, heartbeat: fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10)))
            try peer.send(envelopePreface)
            try peer.closeConnection(reset: true)
            await #expect(throws: TransportError.connectionReset) {
                for try await _ in connection.inbound {}
            }
        }

        @Test func writeToAClosedPeerFailsWithoutSIGPIPE() async throws {
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let connection = try await connect(peer, heartbeat: fastHeartbeats(interval: .seconds(10), ackTimeout: .seconds(10)))
            try peer.closeConnection(reset: true)
            // Keep writing until the kernel reports the closed peer; the process must survive it.
            let error = await #expect(throws: TransportError.self) {
                for _ in 0..<1000 {
                    try await connection.write([UInt8](repeating: 1, count: 4096))
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            #expect([.connectionReset, .brokenPipe, .endOfStream].contains(error))
        }

        @Test func silentPeerIsDeclaredDeadWithinIntervalPlusTimeout() async throws {
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let interval = Duration.milliseconds(200)
            let ackTimeout = Duration.milliseconds(300)
            let start = EventLoop.now()
            let connection = try await connect(peer, heartbeat: fastHeartbeats(interval: interval, ackTimeout: ackTimeout))
            // The peer sends its preface and then nothing at all, without closing.
            try peer.send(envelopePreface)
            let dead = await firstEvent(connection.events) { event in
                if case .heartbeat(let heartbeat) = event, case .peerDead = heartbeat.kind { return true }
                return false
            }
            let elapsed = seconds(since: start)
            #expect(dead != nil)
            // Detected within pingInterval + ackTimeout plus a timer tick; the margin absorbs the
            // scheduling of a loaded 2-core CI machine.
            #expect(elapsed >= (interval + ackTimeout).secondsValue * 0.95)
            #expect(elapsed < (interval + ackTimeout).secondsValue + 0.25, "detected after \(elapsed) s")
            await #expect(throws: TransportError.self) { for try await _ in connection.inbound {} }
            if case .peerDead = connection.closeReason {} else { Issue.record("closed with \(String(describing: connection.closeReason))") }
            // The peer saw our PING and, at the end, our GOAWAY LIVENESS_TIMEOUT.
            let received = try peer.receive(timeout: .milliseconds(200))
            var demuxer = Demuxer(dialect: .envelope)
            var pings = 0
            var goAway: EnvelopeGoAway?
            try demuxer.feed(received) { item, bytes in
                if case .ping = item { pings += 1 }
                if case .business(let frame) = item, frame.type == EnvelopeFrame.FrameType.goAway { goAway = try? EnvelopeGoAway(payload: bytes) }
            }
            #expect(pings >= 1)
            #expect(goAway?.errorCode == .livenessTimeout)
        }

        @Test func peerThatStopsReadingBackPressuresWritesAndIsDeclaredDead() async throws {
            defer { loop.shutdown() }
            let peer = try RawPeer()
            let connection = try await connect(peer, heartbeat: fastHeartbeats(interval: .milliseconds(100), ackTimeout: .milliseconds(400)),
                                               writeBufferLimit: 64 * 1024)
            try peer.send(envelopePreface)
            // The peer never reads: the kernel buffers fill, then our queue, then `write` waits.
            let writer = Task {
                var written = 0
                do {
                    while true {
                        try await connection.write([UInt8](repeating: 7, count: 16 * 1024))
                        written += 16 * 1024
                    }
                } catch {
                    return (written, error as? TransportError)
                }
            }
            let (written, error) = await writer.value
            // Far less than unbounded: what the kernel buffers hold plus our 64 KiB limit.
            #expect(written > 64 * 1024)
            #expect(written < 64 * 1024 * 1024)
            if case .peerDead = error {} else { Issue.record("write ended with \(String(describing: error))") }
            let counters = connection.counters
            #expect(counters.pingsSent >= 1)
            #expect(counters.peerDeaths == 1)
        }
    }
}
