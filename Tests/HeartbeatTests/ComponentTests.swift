import Framing
import Heartbeat
import Testing

@Suite struct RTTEstimatorTests {
    @Test func smoothingFollowsRFC6298() {
        var estimator = RTTEstimator()
        #expect(estimator.smoothed == .zero && estimator.minimum == .zero && estimator.sampleCount == 0)
        estimator.add(roundTrip: ms(100))
        #expect(estimator.smoothed == ms(100))
        #expect(estimator.variation == ms(50))
        estimator.add(roundTrip: ms(200))
        #expect(estimator.smoothed == .microseconds(112_500))  // 7/8·100 + 1/8·200
        #expect(estimator.variation == .microseconds(62_500))  // 3/4·50 + 1/4·|100 − 200|
        #expect(estimator.minimum == ms(100))
        #expect(estimator.latest == ms(200))
        #expect(estimator.retransmissionTimeout == .microseconds(362_500))
        #expect(estimator.sampleCount == 2)
    }

    @Test func percentileRejectsOutliersBeyondThreeSigma() {
        var estimator = RTTEstimator()
        for _ in 0..<15 { estimator.add(roundTrip: ms(100)) }
        estimator.add(roundTrip: .seconds(10))
        #expect(estimator.rejectedOutliers == 1)
        #expect(estimator.percentile75 == ms(100))
    }

    @Test func percentileIsTheNearestRankSeventyFifthOfTheLastSixteen() {
        var estimator = RTTEstimator()
        for _ in 0..<16 { estimator.add(roundTrip: .seconds(1)) }
        for value in 1...16 { estimator.add(roundTrip: ms(Int64(value) * 10)) }  // pushes every 1 s out
        #expect(estimator.rejectedOutliers == 0)
        #expect(estimator.percentile75 == ms(120))  // ⌈0.75·16⌉ = 12th of 10…160 ms
    }

    @Test func ackDelayIsSubtractedOnlyWhenItLeavesTheMinimum() {
        var estimator = RTTEstimator()
        let first = estimator.add(roundTrip: ms(100), ackDelay: ms(20))
        let second = estimator.add(roundTrip: ms(150), ackDelay: ms(25))
        let third = estimator.add(roundTrip: ms(110), ackDelay: ms(20))
        #expect([first, second, third] == [ms(100), ms(125), ms(110)])
        #expect(estimator.minimum == ms(100))
    }
}

@Suite struct PhiAccrualDetectorTests {
    @Test func phiAtTheMeanIsLogTwo() {
        var detector = PhiAccrualDetector(configuration: PhiAccrualConfiguration(acceptablePause: .zero))
        for _ in 0..<32 { detector.add(sample: ms(100)) }
        #expect(abs(detector.phi(elapsed: ms(100)) - 0.30103) < 1e-4)
    }

    @Test func phiGrowsWithElapsedTimeAndStaysFinite() {
        let detector = PhiAccrualDetector()
        var previous = -1.0
        for step in 0...200 {
            let phi = detector.phi(elapsed: ms(Int64(step) * 50))
            #expect(phi >= previous)
            previous = phi
        }
        let huge = detector.phi(elapsed: .seconds(3_600))
        #expect(huge.isFinite && huge > 1_000)
    }

    @Test func theTimeoutIsWherePhiReachesTheThreshold() {
        for threshold in [1.0, 3.0, 8.0, 12.0, 16.0] {
            var detector = PhiAccrualDetector(configuration: PhiAccrualConfiguration(threshold: threshold))
            for value in [90, 110, 100, 130, 95, 105] { detector.add(sample: ms(Int64(value))) }
            #expect(abs(detector.phi(elapsed: detector.timeout) - threshold) < 1e-3)
        }
        // φ = 8 is the standard normal's 1 − 10⁻⁸ quantile, 5.612 standard deviations.
        let detector = PhiAccrualDetector(configuration: PhiAccrualConfiguration(
            minimumStandardDeviation: .seconds(1), acceptablePause: .zero, firstEstimate: .seconds(1)))
        #expect(abs(detector.timeout.secondsValue - (1 + 5.612)) < 0.001)
    }

    @Test func firstEstimateSeedsTheHistoryAsAkkaDoes() {
        let detector = PhiAccrualDetector(configuration: PhiAccrualConfiguration(
            minimumStandardDeviation: ms(1), acceptablePause: .zero, firstEstimate: ms(500)))
        #expect(detector.mean == ms(500))
        #expect(detector.standardDeviation == ms(125))
    }

    @Test func theDeviationIsFlooredAndThePauseAddedToTheMean() {
        var detector = PhiAccrualDetector(configuration: PhiAccrualConfiguration(
            minimumStandardDeviation: ms(100), acceptablePause: ms(150), sampleWindow: 8))
        for _ in 0..<8 { detector.add(sample: ms(100)) }
        #expect(detector.standardDeviation == ms(100))
        #expect(detector.mean == ms(250))
    }
}

@Suite struct BackoffTests {
    /// The default table, every row, by drawing many times from a seeded source.
    @Test func theDefaultTableAndItsJitter() {
        let schedule = BackoffSchedule.standard
        var random = SplitMix64(seed: 42)
        let expected: [(failures: Int, nominal: Double, jitter: Double)] = [
            (1, 0.1, 0.2), (2, 0.1, 0.2), (3, 0.4, 0.3), (4, 0.4, 0.3), (5, 1.2, 0.5), (9, 1.2, 0.5), (1_000, 1.2, 0.5),
        ]
        for row in expected {
            var low = Double.infinity, high = 0.0
            for _ in 0..<2_000 {
                let delay = schedule.delay(afterFailures: row.failures, using: &random).secondsValue
                low = min(low, delay)
                high = max(high, delay)
            }
            let lowest = row.nominal * (1 - row.jitter), highest = row.nominal * (1 + row.jitter)
            #expect(low >= lowest - 1e-9 && high <= highest + 1e-9, "failures \(row.failures): \(low)…\(high)")
            // The draws span the whole band, not a corner of it.
            #expect(low < lowest + 0.02 * row.nominal && high > highest - 0.02 * row.nominal)
        }
    }

    @Test func aSeedFixesTheSequence() {
        var first = SplitMix64(seed: 9), second = SplitMix64(seed: 9)
        let a = (1...10).map { BackoffSchedule.standard.delay(afterFailures: $0, using: &first) }
        let b = (1...10).map { BackoffSchedule.standard.delay(afterFailures: $0, using: &second) }
        #expect(a == b)
        #expect(Set(a).count == 10)
    }

    @Test func aCustomScheduleWithoutJitterIsExact() {
        let schedule = BackoffSchedule(steps: [BackoffStep(failures: 1, delay: .seconds(2), jitter: 0)])
        var random = SplitMix64(seed: 1)
        #expect(schedule.delay(afterFailures: 7, using: &random) == .seconds(2))
        #expect(schedule.step(afterFailures: 7).failures == 1)
    }
}

@Suite struct SplitMix64Tests {
    @Test func matchesTheReferenceSequence() {
        var random = SplitMix64(seed: 0)
        let outputs = [random.next(), random.next()]
        #expect(outputs == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4])
    }

    @Test func unitIntervalStaysInRange() {
        var random = SplitMix64(seed: 123)
        var sum = 0.0
        for _ in 0..<10_000 {
            let value = random.nextUnitInterval()
            #expect(value >= 0 && value < 1)
            sum += value
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterThreeFailuresCoolsDownProbesOnceAndClosesOnSuccess() {
        var breaker = CircuitBreaker()
        #expect(breaker.failureThreshold == 3 && breaker.coolDown == .seconds(30))
        breaker.recordFailure(at: at(1))
        breaker.recordFailure(at: at(2))
        #expect(breaker.state == .closed)
        let allowed2 = breaker.allowsProbe(at: at(2))
        #expect(allowed2)
        breaker.recordFailure(at: at(3))
        #expect(breaker.state == .open(until: at(33)))
        let allowed32_999 = breaker.allowsProbe(at: at(32.999))
        #expect(!allowed32_999)
        let allowed33 = breaker.allowsProbe(at: at(33))
        #expect(allowed33)
        #expect(breaker.state == .halfOpen)
        breaker.takeProbe()
        let allowed34 = breaker.allowsProbe(at: at(34))
        #expect(!allowed34)  // one probe only
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(breaker.consecutiveFailures == 0)
        let allowed35 = breaker.allowsProbe(at: at(35))
        #expect(allowed35)
    }

    @Test func aFailedHalfOpenProbeReopens() {
        var breaker = CircuitBreaker(failureThreshold: 1, coolDown: .seconds(5))
        breaker.recordFailure(at: at(0))
        #expect(breaker.state == .open(until: at(5)))
        let allowed6 = breaker.allowsProbe(at: at(6))
        #expect(allowed6)
        breaker.takeProbe()
        breaker.recordFailure(at: at(7))
        #expect(breaker.state == .open(until: at(12)))
        #expect(breaker.consecutiveFailures == 2)
        #expect(!breaker.probeInFlight)
    }
}

@Suite struct TimestampTests {
    @Test func arithmeticSaturatesAndConverts() {
        #expect(Timestamp(nanoseconds: 1_500_000_000) + ms(500) == at(2))
        #expect(at(2) - at(0.5) == ms(1_500))
        #expect(at(2) - ms(2_500) == at(-0.5))
        #expect(Timestamp(nanoseconds: .max) + .seconds(1) == Timestamp(nanoseconds: .max))
        #expect(Duration.seconds(Int64.max).nanosecondCount == .max)
        #expect(at(12.345).description == "12.345s")
        #expect(at(-0.25).description == "-0.250s")
    }
}
