import Glibc
import Heartbeat
import Testing
import Transports

extension TransportSuites {
    /// A measurement run on demand (`HB_MEMORY_PROBE=3000 swift test --filter rssPerConnection`;
    /// see /work/notes/report-runtime.md): RSS growth per idle heartbeating connection pair (both
    /// ends in this process), checking that every connection stays alive while it is measured.
    @Suite struct MemoryProbeTests {
        @Test(.enabled(if: getenv("HB_MEMORY_PROBE") != nil)) func rssPerConnection() async throws {
            let count = Int(String(cString: getenv("HB_MEMORY_PROBE"))) ?? 2000
            let serverLoop = try EventLoop()
            defer { serverLoop.shutdown() }
            let clientLoop = try EventLoop()
            defer { clientLoop.shutdown() }
            var heartbeat = HeartbeatConfiguration()
            heartbeat.pingInterval = .seconds(1)
            heartbeat.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero)
            var serverHeartbeat = heartbeat
            serverHeartbeat.pingInterval = .seconds(3600)
            let listener = try await HeartbeatListener.bind(to: try SocketAddress(parsing: "127.0.0.1:0"),
                                                            configuration: ConnectionConfiguration(heartbeat: serverHeartbeat), backlog: 4096, on: serverLoop)
            let drain = Task { var held: [HeartbeatConnection] = []; for await c in listener.connections { held.append(c) }; return held.count }
            var clients: [HeartbeatConnection] = []
            for _ in 0..<100 { clients.append(try await HeartbeatConnection.connect(to: listener.localAddress, configuration: ConnectionConfiguration(heartbeat: heartbeat), on: clientLoop)) }
            try await Task.sleep(for: .seconds(2))
            _ = probeTrim(0)
            let before = residentBytes()
            for _ in 0..<count { clients.append(try await HeartbeatConnection.connect(to: listener.localAddress, configuration: ConnectionConfiguration(heartbeat: heartbeat), on: clientLoop)) }
            try await Task.sleep(for: .seconds(3))
            _ = probeTrim(0)
            let after = residentBytes()
            let alive = clients.filter { $0.closeReason == nil }.count
            let pings = clients.reduce(0) { $0 + $1.counters.pongsReceived }
            #expect(alive == count + 100)
            #expect(pings >= count)
            print("MEMPROBE \(count) pairs: RSS +\((after - before) / 1024) KiB = \((after - before) / count) B per pair (client+server), \(alive) alive, \(pings) pongs")
            for c in clients { await c.close() }
            await listener.close()
            _ = await drain.value
        }
    }
}
@_silgen_name("malloc_trim") private func probeTrim(_ pad: Int) -> CInt
