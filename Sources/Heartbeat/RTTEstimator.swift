/// Round-trip-time statistics of one connection's heartbeats.
///
/// Keeps two views of the same samples:
/// - the last 16 samples, from which samples more than 3 standard deviations from the window's
///   mean are rejected and the 75th percentile of the rest is reported (``percentile75``), as the
///   seed design does;
/// - the smoothed RTT, its variation and the minimum RTT of RFC 6298 §2 (α = 1/8, β = 1/4), with
///   the acknowledgement-delay adjustment of RFC 9002 §5.3 when a sample comes from a QUIC ACK.
///
/// All figures are in nanoseconds internally and exposed as `Duration`. Stores nothing on the heap.
public struct RTTEstimator: Sendable {
    /// How many recent samples the percentile is computed over.
    public static let windowSize = 16

    private var window = SampleWindow(capacity: RTTEstimator.windowSize)
    private var smoothedNanoseconds: Int64 = 0
    private var variationNanoseconds: Int64 = 0
    private var minimumNanoseconds: Int64 = .max
    private var latestNanoseconds: Int64 = 0
    private var percentileNanoseconds: Int64 = 0
    private var lastRejectedCount = 0

    /// Number of samples taken so far (not bounded by the window).
    public private(set) var sampleCount = 0

    /// An estimator with no samples.
    public init() {}

    /// The most recent sample after the ACK-delay adjustment (zero before the first sample).
    public var latest: Duration { .nanoseconds(latestNanoseconds) }
    /// SRTT of RFC 6298 (zero before the first sample).
    public var smoothed: Duration { .nanoseconds(smoothedNanoseconds) }
    /// RTTVAR of RFC 6298 (zero before the first sample).
    public var variation: Duration { .nanoseconds(variationNanoseconds) }
    /// The smallest unadjusted sample seen (zero before the first sample), RFC 9002 §5.2.
    public var minimum: Duration { .nanoseconds(sampleCount == 0 ? 0 : minimumNanoseconds) }
    /// The 75th percentile of the last 16 samples once those beyond 3σ of their mean are
    /// rejected (zero before the first sample).
    public var percentile75: Duration { .nanoseconds(percentileNanoseconds) }
    /// How many of the current window's samples the 3σ rule rejected at the last update.
    public var rejectedOutliers: Int { lastRejectedCount }
    /// RFC 6298 §2.3's retransmission-style timeout, SRTT + max(G, 4·RTTVAR), with a 1 ms
    /// clock granularity G (zero before the first sample).
    public var retransmissionTimeout: Duration {
        .nanoseconds(smoothedNanoseconds + Swift.max(1_000_000, 4 * variationNanoseconds))
    }

    /// Adds one sample.
    ///
    /// - Parameters:
    ///   - roundTrip: time from sending the ping to receiving its pong or acknowledgement; negative
    ///     values are treated as zero.
    ///   - ackDelay: the peer's reported ACK delay (QUIC), already capped by the caller at the
    ///     peer's `max_ack_delay`; `nil` or zero for dialects whose pong is immediate. It is
    ///     subtracted only when that leaves at least the minimum RTT (RFC 9002 §5.3).
    /// - Returns: the adjusted sample in nanoseconds, which is also what the window and the
    ///   smoothing use.
    @discardableResult
    public mutating func add(roundTrip: Duration, ackDelay: Duration? = nil) -> Duration {
        .nanoseconds(addSample(roundTrip.nanosecondCount, ackDelay: ackDelay?.nanosecondCount ?? 0))
    }

    @discardableResult
    mutating func addSample(_ roundTrip: Int64, ackDelay: Int64) -> Int64 {
        let latestRTT = Swift.max(0, roundTrip)
        minimumNanoseconds = Swift.min(minimumNanoseconds, latestRTT)
        var adjusted = latestRTT
        let delay = Swift.max(0, ackDelay)
        if latestRTT >= minimumNanoseconds.addingSaturating(delay) {
            adjusted = latestRTT - delay
        }
        latestNanoseconds = adjusted
        if sampleCount == 0 {
            smoothedNanoseconds = adjusted
            variationNanoseconds = adjusted / 2
        } else {
            let deviation = (smoothedNanoseconds - adjusted).magnitude
            variationNanoseconds = (3 * variationNanoseconds + Int64(deviation)) / 4
            smoothedNanoseconds = (7 * smoothedNanoseconds + adjusted) / 8
        }
        sampleCount += 1
        window.append(adjusted)
        updatePercentile()
        return adjusted
    }

    private mutating func updatePercentile() {
        let (mean, deviation) = window.meanAndStandardDeviation
        let limit = 3 * deviation
        var kept: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64,
                   Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var keptCount = 0
        window.withSamples { samples in
            withUnsafeMutablePointer(to: &kept) { tuple in
                tuple.withMemoryRebound(to: Int64.self, capacity: RTTEstimator.windowSize) { sorted in
                    for sample in samples where (Double(sample) - mean).magnitude <= limit {
                        // Insertion sort: at most 16 elements.
                        var position = keptCount
                        while position > 0 && sorted[position - 1] > sample {
                            sorted[position] = sorted[position - 1]
                            position -= 1
                        }
                        sorted[position] = sample
                        keptCount += 1
                    }
                    lastRejectedCount = samples.count - keptCount
                    // Nearest-rank 75th percentile: the ⌈0.75·n⌉-th smallest.
                    let rank = (3 * keptCount + 3) / 4
                    percentileNanoseconds = keptCount == 0 ? latestNanoseconds : sorted[rank - 1]
                }
            }
        }
    }
}
