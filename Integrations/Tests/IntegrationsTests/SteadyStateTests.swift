import Framing
import Heartbeat
import HeartbeatNIO
import NIOCore
import NIOEmbedded
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SteadyStateTests {
    /// 1,000 ping/pong round trips in virtual time, every one answered. Run with
    /// `LD_PRELOAD` of a malloc counter exporting `heartbeat_malloc_count` (see
    /// Integrations/README.md) to print the allocations per round trip, handler and peer together.
    @Test func aThousandRoundTripsAreAllAnswered() throws {
        var configuration = quickConfiguration()
        configuration.failureDetector = .phiAccrual(PhiAccrualConfiguration())
        var harness = try ClientHarness(dialect: EnvelopeDialect(), configuration: configuration)
        defer { _ = try? harness.channel.finish() }
        for _ in 0..<100 { try harness.step(.seconds(1)) }  // warm up: buffers reach their size
        let counter = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "heartbeat_malloc_count")
            .map { unsafeBitCast($0, to: (@convention(c) () -> Int).self) }
        let before = counter?() ?? 0
        for _ in 0..<1000 { try harness.step(.seconds(1)) }
        if let counter {
            print("allocations per round trip (handler, EmbeddedChannel and peer): \(Double(counter() - before) / 1000)")
        }
        #expect(harness.handler.counters.rttSamples == 1100)
        #expect(harness.handler.counters.pongsMissed == 0)
    }
}
