#if canImport(Glibc)
import Glibc  // math only: erfc, log, log10
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the φ-accrual failure detector (Hayashibara et al., 2004), named as in Akka's
/// implementation.
public struct PhiAccrualConfiguration: Hashable, Sendable {
    /// The suspicion level φ at which an awaited pong counts as missed. φ = 8 means the pong
    /// would still arrive with probability 10⁻⁸ under the learned distribution. Must be > 0.5.
    public var threshold: Double
    /// A floor for the learned standard deviation, so that a very steady link does not make the
    /// detector hair-triggered. Must be > 0.
    public var minimumStandardDeviation: Duration
    /// Added to the learned mean: a pause the link may take without raising suspicion (a stall
    /// allowance). Must be ≥ 0.
    public var acceptablePause: Duration
    /// The round-trip guess used before the first sample: the history starts with the two samples
    /// estimate ± estimate/4, as Akka does. Must be > 0.
    public var firstEstimate: Duration
    /// How many recent samples the distribution is learned from, 2 to 32.
    public var sampleWindow: Int

    /// A configuration; the defaults are those chosen by the simulation in docs/heartbeat.md.
    public init(
        threshold: Double = 8,
        minimumStandardDeviation: Duration = .milliseconds(100),
        acceptablePause: Duration = .milliseconds(150),
        firstEstimate: Duration = .milliseconds(500),
        sampleWindow: Int = 32
    ) {
        self.threshold = threshold
        self.minimumStandardDeviation = minimumStandardDeviation
        self.acceptablePause = acceptablePause
        self.firstEstimate = firstEstimate
        self.sampleWindow = sampleWindow
    }

    /// Checks the documented bounds; the engine calls it when it is created.
    public func validate() {
        precondition(threshold > 0.5, "phi threshold must be > 0.5")
        precondition(minimumStandardDeviation > .zero, "minimumStandardDeviation must be > 0")
        precondition(acceptablePause >= .zero, "acceptablePause must be >= 0")
        precondition(firstEstimate > .zero, "firstEstimate must be > 0")
        precondition((2...SampleWindow.maximumCapacity).contains(sampleWindow), "sampleWindow must be 2...32")
    }
}

/// The φ-accrual detector applied to solicited heartbeats.
///
/// Hayashibara's suspicion is φ(t) = −log₁₀ P_later(t − t_last), with P_later taken from a normal
/// distribution fitted to recent heartbeat inter-arrival times. Our heartbeats are solicited: a
/// pong is due one round trip after its ping. So the distribution is learned from ping→pong
/// times and the clock starts at the ping (docs/heartbeat.md explains why this beats inter-pong
/// intervals, which fold the ping interval and every lost ping into the distribution).
/// Mean and standard deviation come from the last ``PhiAccrualConfiguration/sampleWindow``
/// samples; the standard deviation is floored and the acceptable pause added to the mean, as in
/// Akka's `PhiAccrualFailureDetector`.
public struct PhiAccrualDetector: Sendable {
    /// The settings the detector was made with.
    public let configuration: PhiAccrualConfiguration
    private var history: SampleWindow
    /// Standard-normal quantile at which φ equals the threshold; depends on the threshold only.
    private let thresholdQuantile: Double
    private var meanNanoseconds: Double = 0
    private var deviationNanoseconds: Double = 0
    private var timeoutNanoseconds: Int64 = 0

    /// A detector whose history holds the two first-estimate samples.
    public init(configuration: PhiAccrualConfiguration = .init()) {
        configuration.validate()
        self.configuration = configuration
        self.history = SampleWindow(capacity: configuration.sampleWindow)
        self.thresholdQuantile = PhiAccrualDetector.quantile(forPhi: configuration.threshold)
        let estimate = configuration.firstEstimate.nanosecondCount
        history.append(estimate - estimate / 4)
        history.append(estimate + estimate / 4)
        refresh()
    }

    /// Learns one ping→pong time.
    public mutating func add(sample: Duration) { addSample(sample.nanosecondCount) }

    mutating func addSample(_ nanoseconds: Int64) {
        history.append(Swift.max(0, nanoseconds))
        refresh()
    }

    private mutating func refresh() {
        let (mean, deviation) = history.meanAndStandardDeviation
        meanNanoseconds = mean + Double(configuration.acceptablePause.nanosecondCount)
        deviationNanoseconds = Swift.max(deviation, Double(configuration.minimumStandardDeviation.nanosecondCount))
        let timeout = meanNanoseconds + thresholdQuantile * deviationNanoseconds
        timeoutNanoseconds = timeout >= Double(Int64.max) ? .max : Int64(timeout.rounded(.up))
    }

    /// The learned mean ping→pong time plus the acceptable pause.
    public var mean: Duration { .nanoseconds(Int64(meanNanoseconds)) }
    /// The learned standard deviation, at least the configured minimum.
    public var standardDeviation: Duration { .nanoseconds(Int64(deviationNanoseconds)) }
    /// The time after a ping at which φ reaches the threshold: the detector's current timeout.
    public var timeout: Duration { .nanoseconds(timeoutNanoseconds) }
    var timeoutInNanoseconds: Int64 { timeoutNanoseconds }

    /// Suspicion φ that the pong of a ping sent `elapsed` ago is not coming (0 for no suspicion,
    /// growing without bound; `+infinity` never occurs for finite input).
    public func phi(elapsed: Duration) -> Double { phi(elapsedNanoseconds: elapsed.nanosecondCount) }

    func phi(elapsedNanoseconds: Int64) -> Double {
        let y = (Double(elapsedNanoseconds) - meanNanoseconds) / deviationNanoseconds
        return Swift.max(0, PhiAccrualDetector.phi(quantile: y))
    }

    /// −log₁₀ of the standard normal upper tail at `y`, with the asymptotic expansion where erfc
    /// underflows.
    static func phi(quantile y: Double) -> Double {
        if y < 30 {
            return -log10(0.5 * erfc(y / 2.0.squareRoot()))
        }
        // log Q(y) ≈ −y²/2 − log(y·√(2π)) for large y.
        return (y * y / 2 + log(y * (2 * Double.pi).squareRoot())) / log(10.0)
    }

    /// The standard-normal quantile at which ``phi(quantile:)`` equals `phi`, by bisection.
    static func quantile(forPhi target: Double) -> Double {
        var low = -10.0, high = 1_000.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if phi(quantile: middle) < target { low = middle } else { high = middle }
        }
        return high
    }
}
