import Framing
import Heartbeat
import Testing

@Suite struct PolicingTests {
    func policedEngine(strikes: Int = 2) -> HeartbeatEngine {
        var configuration = fixedConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .seconds(1), maxPingStrikes: strikes, maxPendingPongs: 4)
        return HeartbeatEngine(configuration: configuration, dialect: .http2, now: at(0))
    }

    @Test func aPingIsAnsweredWithTheSamePayload() {
        var engine = policedEngine()
        let payload = HeartbeatPayload(rawValue: 0x0102_0304_0506_0708)
        engine.receivedPing(payload, now: at(1))
        #expect(engine.drainActions() == [.sendPong(payload)])
        #expect(engine.counters.pingsReceived == 1)
        #expect(engine.counters.pongsSent == 1)
    }

    @Test func pingsTooCloseTogetherEarnStrikesThenAClose() {
        var engine = policedEngine()
        var actions: [HeartbeatAction] = []
        for (index, time) in [1.0, 1.1, 1.2, 1.3].enumerated() {
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(index)), now: at(time))
            actions += engine.drainActions()
        }
        #expect(actions == [
            .sendPong(HeartbeatPayload(rawValue: 0)), .sendPong(HeartbeatPayload(rawValue: 1)),
            .sendPong(HeartbeatPayload(rawValue: 2)), .close(.tooManyPings),
        ])
        #expect(engine.counters.policingStrikes == 3)
        #expect(engine.state == .closed)
        #expect(engine.nextDeadline == nil)
        let kinds = engine.drainEvents()
        #expect(kinds.filter { if case .policingStrike = $0 { return true } else { return false } }.count == 3)
        #expect(kinds.contains(.closing(.tooManyPings)))
        #expect(kinds.contains(.stateChanged(from: .idle, to: .closed)))
    }

    @Test func businessDataInEitherDirectionResetsTheStrikes() {
        var engine = policedEngine()
        engine.receivedPing(HeartbeatPayload(rawValue: 1), now: at(1.0))
        engine.receivedPing(HeartbeatPayload(rawValue: 2), now: at(1.1))
        #expect(engine.policingStrikes == 1)
        engine.receivedTraffic(now: at(1.15))
        #expect(engine.policingStrikes == 0)
        engine.receivedPing(HeartbeatPayload(rawValue: 3), now: at(1.2))  // data flowed: no strike
        #expect(engine.policingStrikes == 0)
        engine.receivedPing(HeartbeatPayload(rawValue: 4), now: at(1.3))
        #expect(engine.policingStrikes == 1)
        engine.sentTraffic(now: at(1.35))
        engine.receivedPing(HeartbeatPayload(rawValue: 5), now: at(1.4))
        #expect(engine.policingStrikes == 0)
        #expect(engine.state == .idle)
    }

    @Test func aWellSpacedPingForgivesOneStrike() {
        var engine = policedEngine()
        engine.receivedPing(HeartbeatPayload(rawValue: 1), now: at(1.0))
        engine.receivedPing(HeartbeatPayload(rawValue: 2), now: at(1.1))
        engine.receivedPing(HeartbeatPayload(rawValue: 3), now: at(1.2))
        #expect(engine.policingStrikes == 2)
        engine.receivedPing(HeartbeatPayload(rawValue: 4), now: at(5))
        #expect(engine.policingStrikes == 1)
        // A sustained rate above the limit still accumulates: two fast, one slow, …
        var time = 5.0
        while engine.state != .closed && time < 100 {
            time += 0.1; engine.receivedPing(HeartbeatPayload(rawValue: 9), now: at(time))
            time += 0.1; engine.receivedPing(HeartbeatPayload(rawValue: 9), now: at(time))
            time += 2.0; engine.receivedPing(HeartbeatPayload(rawValue: 9), now: at(time))
        }
        #expect(engine.state == .closed)
    }

    @Test func zeroMinimumIntervalDisablesPolicing() {
        var configuration = fixedConfiguration()
        configuration.pingPolicy.minimumPeerPingInterval = .zero
        var engine = HeartbeatEngine(configuration: configuration, dialect: .http2, now: at(0))
        for index in 0..<1_000 {
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(index)), now: at(1))
            _ = engine.drainActions()
        }
        #expect(engine.counters.policingStrikes == 0)
        #expect(engine.counters.pongsSent == 1_000)
        #expect(engine.state == .idle)
    }

    /// CVE-2019-9512: a peer that floods pings and never reads our pongs. With policing off the
    /// pending pongs stay at the bound; with it on, the flood is closed after the strikes.
    @Test func aMillionPingFloodKeepsPendingPongsBounded() {
        var configuration = fixedConfiguration()
        configuration.pingPolicy = PingPolicy(minimumPeerPingInterval: .zero, maxPingStrikes: 2, maxPendingPongs: 4)
        var engine = HeartbeatEngine(configuration: configuration, dialect: .http2, now: at(0))
        var most = 0
        for index in 0..<1_000_000 {
            engine.receivedPing(HeartbeatPayload(rawValue: UInt64(index)), now: Timestamp(nanoseconds: Int64(index)))
            most = max(most, engine.pendingPongCount)
        }
        #expect(most == 4)
        #expect(engine.counters.pongsDropped == 999_996)
        // The newest survive, in order.
        #expect(engine.drainActions() == (999_996..<1_000_000).map { .sendPong(HeartbeatPayload(rawValue: UInt64($0))) })

        var policed = policedEngine()
        for index in 0..<1_000_000 where policed.state != .closed {
            policed.receivedPing(HeartbeatPayload(rawValue: UInt64(index)), now: Timestamp(nanoseconds: Int64(index) * 1_000))
        }
        #expect(policed.state == .closed)
        #expect(policed.counters.pingsReceived == 4)
        #expect(policed.pendingPongCount == 0)
        #expect(policed.drainActions() == [.close(.tooManyPings)])
    }

    @Test func closeReasonsMapToEachDialectsCode() {
        #expect(CloseReason.tooManyPings.wireCode(for: .http2) == 0xb)
        #expect(CloseReason.tooManyPings.wireCode(for: .envelope) == 0x6)
        #expect(CloseReason.tooManyPings.wireCode(for: .quic) == 0xa)
        #expect(CloseReason.slowFrame.wireCode(for: .http2) == 0xb)
        #expect(CloseReason.slowFrame.wireCode(for: .envelope) == 0x6)
        #expect(CloseReason.slowFrame.wireCode(for: .quic) == 0xa)
        #expect(CloseReason.tooManyPings.debugData == "too_many_pings")
        #expect(CloseReason.slowFrame.debugData == "slow_frame")
    }

    @Test func aClosedEngineIgnoresEveryInput() throws {
        var engine = policedEngine(strikes: 0)
        engine.receivedPing(HeartbeatPayload(rawValue: 1), now: at(1))
        engine.receivedPing(HeartbeatPayload(rawValue: 2), now: at(1.1))
        // Closing drops the pongs still pending: they would only delay the close.
        #expect(engine.drainActions() == [.close(.tooManyPings)])
        _ = engine.drainEvents()
        let counters = engine.counters
        engine.tick(now: at(100))
        engine.receivedPing(HeartbeatPayload(rawValue: 3), now: at(101))
        engine.receivedPong(HeartbeatPayload(rawValue: 3), now: at(101))
        engine.receivedAcknowledgement(packetNumber: 3, ackDelay: nil, now: at(101))
        engine.receivedTraffic(now: at(102))
        engine.sentTraffic(now: at(102))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(103))
        #expect(engine.pollAction() == nil)
        #expect(engine.pollEvent() == nil)
        #expect(engine.counters == counters)
        #expect(engine.nextDeadline == nil)
        #expect(engine.state == .closed)
    }
}

@Suite struct SlowFrameTests {
    func engine(timeout: Duration?) -> HeartbeatEngine {
        var configuration = fixedConfiguration()
        configuration.slowFrameTimeout = timeout
        return HeartbeatEngine(configuration: configuration, dialect: .envelope, now: at(0))
    }

    @Test func aFrameIncompleteForTheTimeoutCloses() {
        var engine = engine(timeout: .seconds(5))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(1))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(4))  // still the same frame
        #expect(engine.nextDeadline == at(6))
        engine.tick(now: at(5.999))
        #expect(engine.pollAction() == nil)
        engine.tick(now: at(6))
        #expect(engine.drainActions() == [.close(.slowFrame)])
        #expect(engine.state == .closed)
        #expect(engine.drainEvents().contains(.closing(.slowFrame)))
    }

    @Test func aCompletedFrameStopsTheClock() {
        var engine = engine(timeout: .seconds(5))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(1))
        engine.inboundFrameProgress(hasPartialFrame: false, now: at(5.9))
        #expect(engine.nextDeadline == at(10))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(7))
        #expect(engine.nextDeadline == at(10))
        engine.tick(now: at(11.5))
        #expect(engine.state == .awaitingPong)
        engine.tick(now: at(12))
        #expect(engine.state == .closed)
    }

    @Test func theRuleCanBeDisabled() {
        var engine = engine(timeout: nil)
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(1))
        #expect(engine.nextDeadline == at(10))
        engine.tick(now: at(1_000))
        #expect(engine.state != .closed)
    }

    @Test func closingAbandonsAwaitedPings() throws {
        var engine = engine(timeout: .milliseconds(500))
        _ = try engine.expectPing(at: at(10))
        engine.inboundFrameProgress(hasPartialFrame: true, now: at(10.1))
        engine.tick(now: at(10.6))
        #expect(engine.counters.pingsAbandoned == 1)
        #expect(engine.outstandingPings == 0)
        #expect(engine.drainActions() == [.close(.slowFrame)])
    }
}
