import Framing
import Heartbeat
import HeartbeatLogging
import HeartbeatMetrics
import HeartbeatNIO
import HeartbeatTracing
import InMemoryLogging
import InMemoryTracing
import Logging
import MetricsTestKit
import NIOCore
import NIOEmbedded
import Testing
import Tracing

/// One connection's life in virtual time, through `NIOHeartbeatHandler` and an observer: three
/// answered pings, a peer silent long enough to be declared dead, its recovery, then a burst of
/// its own pings that earns policing strikes. Returns what the observer saw.
func livelyConnection(_ observe: @escaping (HeartbeatNIOEvent) -> Void) throws {
    var configuration = quickConfiguration()
    configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .seconds(1), maxPingStrikes: 5)
    var harness = try ClientHarness(dialect: EnvelopeDialect(), configuration: configuration,
                                    options: NIOHeartbeatOptions(closeOnPeerDead: false))
    let (channel, handler) = (harness.channel, harness.handler)
    defer { _ = try? channel.finish() }
    try channel.pipeline.syncOperations.addHandler(NIOHeartbeatObserver(observe), position: .after(handler))
    for _ in 0..<3 { try harness.step(.seconds(1)) }
    harness.peer.answers = false
    for _ in 0..<4 { try harness.step(.milliseconds(500)) }
    #expect(handler.state == .failed)
    harness.peer.answers = true
    for _ in 0..<40 where handler.state != .idle { try harness.step(.milliseconds(500)) }
    #expect(handler.state == .idle)
    for sequence in 0..<3 {
        var ping: [UInt8] = []
        EnvelopeFrame.appendPing(HeartbeatPayload(sequence: UInt32(sequence), timestampMilliseconds: 0), to: &ping)
        try harness.peer.send(ping, to: channel)
        try harness.step(.milliseconds(10))
    }
}

@Suite struct ObservabilityTests {
    @Test func metricsFollowTheEngine() throws {
        let metrics = TestMetrics()
        let recorder = HeartbeatMetrics(service: "checkout", dialect: .envelope, peer: "10.0.0.7:9000", zone: "eu-1", factory: metrics)
        var last = HeartbeatCounters()
        try livelyConnection { event in
            recorder.record(event.output, counters: event.counters)
            last = event.counters
        }
        recorder.recordReconnect()
        let labels = [("service", "checkout"), ("dialect", "tcp"), ("peer", "10.0.0.7:9000"), ("zone", "eu-1")]
        #expect(try metrics.expectCounter("heartbeat_pings_sent_total", labels).totalValue == Int64(last.pingsSent))
        #expect(last.pingsSent >= 5)
        #expect(try metrics.expectCounter("heartbeat_pings_received_total", labels).totalValue == 3)
        #expect(try metrics.expectCounter("heartbeat_pongs_missed_total", labels).totalValue == Int64(last.pongsMissed))
        #expect(last.pongsMissed >= 1)
        #expect(try metrics.expectCounter("heartbeat_policing_strikes_total", labels).totalValue == 2)
        #expect(try metrics.expectCounter("heartbeat_peer_deaths_total", labels).totalValue == 1)
        #expect(try metrics.expectCounter("heartbeat_reconnects_total", labels).totalValue == 1)
        let up = try metrics.expectTimer("heartbeat_rtt_seconds", labels + [("status", "up")])
        #expect(up.values.count >= 3)
        #expect(up.values.allSatisfy { $0 >= 0 && $0 < 1_000_000_000 })
        // The answer that revived the peer was timed while it was still declared dead.
        #expect(try metrics.expectTimer("heartbeat_rtt_seconds", labels + [("status", "down")]).values.count == 1)
        let state = try metrics.expectGauge("heartbeat_state", labels)
        #expect(state.values.contains(Double(HeartbeatMetrics.code(.failed))))
        #expect(state.lastValue == Double(HeartbeatMetrics.code(.idle)))
        #expect(try metrics.expectGauge("heartbeat_peer_up", labels).values.contains(0))
        #expect(try metrics.expectGauge("heartbeat_peer_up", labels).lastValue == 1)
    }

    @Test func logRecordsCarryTheFigures() throws {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "heartbeat") { _ in handler }
        logger.logLevel = .trace
        let log = HeartbeatLogger(logger: logger, peer: "10.0.0.7:9000")
        try livelyConnection { log.log($0.output) }
        let entries = handler.entries
        let rtt = try #require(entries.first { $0.message == "rtt sample" })
        #expect(rtt.level == .debug)
        #expect(rtt.metadata["heartbeat.peer"] == "10.0.0.7:9000")
        #expect(rtt.metadata["heartbeat.dialect"] == "tcp")
        #expect(rtt.metadata["heartbeat.rtt_ms"] != nil)
        let dead = try #require(entries.first { $0.message == "peer declared dead" })
        #expect(dead.level == .error)
        #expect(dead.metadata["heartbeat.reason"]?.description.contains("missed") == true)
        #expect(entries.contains { $0.message == "pong missed" && $0.level == .warning })
        #expect(entries.contains { $0.message == "peer answered again" && $0.level == .notice })
        #expect(entries.filter { $0.message == "peer pinged too often" }.count == 2)
        #expect(entries.filter { $0.message == "peer declared dead" }.count == 1)  // not twice
    }

    @Test func aFailureEpisodeIsOneSpanFromTheFirstMissedPongToRecovery() throws {
        let tracer = InMemoryTracer()
        let tracing = HeartbeatTracing(tracer: tracer, spans: .failureEpisodes, service: "checkout", peer: "10.0.0.7:9000")
        try livelyConnection { tracing.record($0.output) }
        tracing.finish()
        let spans = tracer.finishedSpans
        #expect(spans.count == 1)
        let episode = try #require(spans.first)
        #expect(episode.operationName == "heartbeat.failure_episode")
        #expect(episode.attributes["heartbeat.outcome"]?.toSpanAttribute() == "recovered")
        #expect(episode.attributes["heartbeat.peer"]?.toSpanAttribute() == "10.0.0.7:9000")
        #expect(episode.events.contains { $0.name == "pong_missed" })
        #expect(episode.events.contains { $0.name == "peer_dead" })
        #expect(episode.status?.code == .ok)
    }

    @Test func eachProbeIsASpanEndedByItsAnswerOrItsMiss() throws {
        let tracer = InMemoryTracer()
        let tracing = HeartbeatTracing(tracer: tracer, spans: .probes, service: "checkout", peer: "10.0.0.7:9000")
        var counters = HeartbeatCounters()
        try livelyConnection {
            tracing.record($0.output)
            counters = $0.counters
        }
        tracing.finish()
        let probes = tracer.finishedSpans.filter { $0.operationName == "heartbeat.probe" }
        #expect(probes.count == counters.pingsSent)
        let answered = probes.filter { $0.attributes["heartbeat.outcome"]?.toSpanAttribute() == "answered" }
        #expect(answered.count == counters.rttSamples)
        #expect(answered.allSatisfy { $0.attributes["heartbeat.rtt_seconds"] != nil && $0.status?.code == .ok })
        let missed = probes.filter { $0.attributes["heartbeat.outcome"]?.toSpanAttribute() == "missed" }
        #expect(missed.count == counters.pongsMissed)
        #expect(missed.allSatisfy { $0.status?.code == .error })
    }
}
