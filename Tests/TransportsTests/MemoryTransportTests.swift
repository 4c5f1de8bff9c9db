import Framing
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// The connection API over the in-memory pair, with scripted faults.
    @Suite(.timeLimit(.minutes(1))) struct MemoryTransportTests {
        let loop: EventLoop

        init() throws { loop = try EventLoop() }

        func pair(_ heartbeat: HeartbeatConfiguration = fastHeartbeats(), server serverHeartbeat: HeartbeatConfiguration? = nil,
                  capacity: Int = 256 * 1024)
            async -> (client: HeartbeatConnection, server: HeartbeatConnection, clientEnd: MemoryTransport, serverEnd: MemoryTransport) {
            let (clientEnd, serverEnd) = MemoryTransport.pair(on: loop, capacity: capacity)
            let configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat, writeBufferLimit: 32 * 1024)
            var serverConfiguration = configuration
            serverConfiguration.heartbeat = serverHeartbeat ?? heartbeat
            let client = await HeartbeatConnection.start(over: clientEnd, configuration: configuration, role: .client)
            let server = await HeartbeatConnection.start(over: serverEnd, configuration: serverConfiguration, role: .server)
            return (client, server, clientEnd, serverEnd)
        }

        func rttSample(_ connection: HeartbeatConnection) async -> RTTSnapshot? {
            guard case .heartbeat(let event)? = await firstEvent(connection.events, { event in
                if case .heartbeat(let heartbeat) = event, case .rttSample = heartbeat.kind { return true }
                return false
            }), case .rttSample(let snapshot) = event.kind else { return nil }
            return snapshot
        }

        @Test func delayShowsUpInTheRTT() async throws {
            defer { loop.shutdown() }
            let (client, server, clientEnd, serverEnd) = await pair(fastHeartbeats(interval: .milliseconds(40), ackTimeout: .milliseconds(500)))
            clientEnd.inject(.init(delay: .milliseconds(30)))
            serverEnd.inject(.init(delay: .milliseconds(20)))
            let sample = await rttSample(client)
            let latest = try #require(sample?.latest)
            #expect(latest >= .milliseconds(50))
            #expect(latest < .milliseconds(400))
            await client.close()
            await server.close()
        }

        @Test func blackHoleIsDetectedAsDeath() async throws {
            defer { loop.shutdown() }
            // Only the client probes: the server, which would also find its peer silent, must not
            // close first and turn the client's verdict into an end of stream.
            let (client, server, _, serverEnd) = await pair(server: fastHeartbeats(interval: .seconds(60), ackTimeout: .seconds(10)))
            _ = await rttSample(client)
            // The server's replies vanish: a half-open connection.
            serverEnd.inject(.init(dropsOutgoing: true))
            await #expect(throws: TransportError.self) { for try await _ in client.inbound {} }
            if case .peerDead = client.closeReason {} else { Issue.record("client closed with \(String(describing: client.closeReason))") }
            await server.close()
        }

        @Test func stalledReaderBackPressuresTheWriter() async throws {
            defer { loop.shutdown() }
            // Long heartbeats: this test is about back-pressure, not liveness.
            let (client, server, _, serverEnd) = await pair(fastHeartbeats(interval: .seconds(20), ackTimeout: .seconds(20)), capacity: 16 * 1024)
            serverEnd.inject(.init(stalled: true))
            let chunk = [UInt8](repeating: 3, count: 4096)
            let writer = Task {
                var written = 0
                for _ in 0..<64 {
                    try await client.write(chunk)
                    written += chunk.count
                }
                return written
            }
            try await Task.sleep(for: .milliseconds(200))
            // 16 KiB in flight + 32 KiB queued: the writer must be waiting well before 256 KiB.
            #expect(client.counters.pingsSent == 0)
            serverEnd.inject(.init(stalled: false))
            var received = 0
            for try await frame in server.inbound {
                received += frame.payload.count
                if received == 64 * chunk.count { break }
            }
            #expect(try await writer.value == 64 * chunk.count)
            #expect(received == 64 * chunk.count)
            await client.close()
            await server.close()
        }

        @Test func closeAndResetReachThePeer() async throws {
            defer { loop.shutdown() }
            let (client, server, _, _) = await pair(fastHeartbeats(interval: .seconds(20), ackTimeout: .seconds(20)))
            try await client.write(Array("last words".utf8))
            await client.close()
            var frames: [[UInt8]] = []
            for try await frame in server.inbound { frames.append(frame.payload) }  // ends without error: GOAWAY then EOF
            #expect(frames == [Array("last words".utf8)])

            let (other, otherServer, otherEnd, _) = await pair(fastHeartbeats(interval: .seconds(20), ackTimeout: .seconds(20)))
            otherEnd.reset()
            await #expect(throws: TransportError.connectionReset) { for try await _ in otherServer.inbound {} }
            await other.close()
        }

        @Test func pingFloodIsPolicedWithEnhanceYourCalm() async throws {
            defer { loop.shutdown() }
            var heartbeat = fastHeartbeats(interval: .seconds(20), ackTimeout: .seconds(20))
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .seconds(1), maxPingStrikes: 2, maxPendingPongs: 4)
            let (attacker, victim) = MemoryTransport.pair(on: loop)
            let connection = await HeartbeatConnection.start(
                over: victim, configuration: ConnectionConfiguration(dialect: .envelope, heartbeat: heartbeat), role: .server)
            // The attacker speaks raw bytes: a preface and then pings as fast as it can.
            let recorder = Recorder()
            loop.execute {
                attacker.start(recorder)
                var flood: [UInt8] = []
                EnvelopeFrame.appendPreface(to: &flood)
                for sequence in 0..<1000 { EnvelopeFrame.appendPing(HeartbeatPayload(rawValue: UInt64(sequence)), to: &flood) }
                _ = try? flood.withUnsafeBytes { try attacker.write($0) }
            }
            await #expect(throws: TransportError.closedByPolicy(reason: "too_many_pings")) { for try await _ in connection.inbound {} }
            let counters = connection.counters
            #expect(counters.pongsSent <= 4 + counters.policingStrikes)
            // The attacker got a GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
            try await Task.sleep(for: .milliseconds(50))
            let received = await withCheckedContinuation { continuation in loop.execute { continuation.resume(returning: recorder.bytes) } }
            var demuxer = Demuxer(dialect: .envelope)
            var goAway: EnvelopeGoAway?
            try? demuxer.feed(received) { item, bytes in
                if case .business(let frame) = item, frame.type == EnvelopeFrame.FrameType.goAway { goAway = try? EnvelopeGoAway(payload: bytes) }
            }
            #expect(goAway?.errorCode == .enhanceYourCalm)
            #expect(goAway?.reason == "too_many_pings")
        }
    }
}

extension TransportSuites.MemoryTransportTests {
    @Test func heartbeatsOvertakeQueuedBusinessDataAtFrameBoundaries() async throws {
        defer { loop.shutdown() }
        let (clientEnd, serverEnd) = MemoryTransport.pair(on: loop, capacity: 16 * 1024)
        var configuration = ConnectionConfiguration(dialect: .envelope, heartbeat: fastHeartbeats(interval: .milliseconds(100), ackTimeout: .seconds(5)))
        configuration.writeBufferLimit = 4 << 20
        let client = await HeartbeatConnection.start(over: clientEnd, configuration: configuration, role: .client)
        let recorder = Recorder()
        serverEnd.inject(.init(stalled: true))
        loop.execute { serverEnd.start(recorder) }
        // 2 MiB of business data queue up behind the stalled reader; then a ping falls due.
        for _ in 0..<128 { try await client.write([UInt8](repeating: 0x42, count: 16 * 1024)) }
        try await Task.sleep(for: .milliseconds(250))
        serverEnd.inject(.init(stalled: false))
        // Wait until the 2 MiB have drained (bounded: a loaded machine drains slower).
        var received: [UInt8] = []
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(50))
            received = await withCheckedContinuation { continuation in loop.execute { continuation.resume(returning: recorder.bytes) } }
            if received.count >= EnvelopeFrame.prefaceLength + 128 * (16 * 1024 + 5) { break }
        }
        var demuxer = Demuxer(dialect: .envelope)
        var dataFramesBeforeFirstPing: Int?
        var dataFrames = 0
        var dataOctets = 0
        try demuxer.feed(received) { item, bytes in
            switch item {
            case .ping where dataFramesBeforeFirstPing == nil: dataFramesBeforeFirstPing = dataFrames
            case .business(let frame) where frame.type == EnvelopeFrame.FrameType.data:
                dataFrames += 1
                dataOctets += bytes.byteCount
                #expect(bytes.byteCount == 16 * 1024, "business frames arrive whole")
            default: break
            }
        }
        #expect(dataOctets == 128 * 16 * 1024)
        // The ping went out at the first frame boundary after it fell due, not after the 2 MiB.
        let overtaken = try #require(dataFramesBeforeFirstPing)
        #expect(overtaken < 8, "the first PING came after \(overtaken) of 128 queued DATA frames")
        await client.close()
    }
}

/// A raw transport sink that keeps every octet it receives (loop thread only).
final class Recorder: TransportSink, @unchecked Sendable {
    var bytes: [UInt8] = []
    func transportReceived(_ received: RawSpan) { received.withUnsafeBytes { bytes += $0 } }
    func transportWritable() {}
    func transportClosed(_ error: TransportError) {}
}
