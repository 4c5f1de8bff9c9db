#if canImport(Glibc)
import Glibc  // math only: exp, log, cos, sqrt
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Framing

/// The statistics of one direction of a simulated network path.
///
/// One-way delay is lognormal (median `medianDelay`, shape `sigma`), heavy-tailed; on top of it
/// the path stalls now and then for 1–2 s (a Poisson process of `stallsPerHour` episodes whose
/// length is uniform in `stallDuration`): a packet sent during a stall leaves when it ends, as
/// on a Wi-Fi roam or a mobile handover. Each packet is lost independently with `lossRate`.
public struct LinkModel: Hashable, Sendable {
    /// Median one-way delay.
    public var medianDelay: Duration
    /// Standard deviation of the delay's logarithm (0.6: p99 ≈ 4× the median).
    public var sigma: Double
    /// Probability that a packet is lost, 0 to 1.
    public var lossRate: Double
    /// Mean number of stall episodes per hour and direction.
    public var stallsPerHour: Double
    /// Range of a stall's length.
    public var stallDuration: ClosedRange<Duration>

    /// A model; the defaults are the link: 50 ms median, heavy tail, 1–2 s stalls, 1 % loss.
    public init(medianDelay: Duration = .milliseconds(50), sigma: Double = 0.6, lossRate: Double = 0.01,
                stallsPerHour: Double = 12, stallDuration: ClosedRange<Duration> = .seconds(1) ... .seconds(2)) {
        self.medianDelay = medianDelay
        self.sigma = sigma
        self.lossRate = lossRate
        self.stallsPerHour = stallsPerHour
        self.stallDuration = stallDuration
    }
}

/// One direction of a simulated path: decides when (or whether) a packet sent at a time arrives.
/// Deterministic for a given model and random source.
public struct LinkDirection: Sendable {
    /// The statistics it follows.
    public let model: LinkModel
    private var stallStart: Int64
    private var stallEnd: Int64

    /// A direction whose first stall is drawn from `random`, starting at time 0.
    public init(model: LinkModel, random: inout SplitMix64) {
        self.model = model
        stallStart = 0
        stallEnd = 0
        drawNextStall(after: 0, random: &random)
    }

    /// When a packet sent at `sentAt` arrives, or `nil` when it is lost. Send times must not decrease.
    public mutating func deliver(sentAt: Int64, random: inout SplitMix64) -> Int64? {
        while sentAt >= stallEnd { drawNextStall(after: stallEnd, random: &random) }
        let departure = sentAt >= stallStart ? stallEnd : sentAt
        let lost = random.nextUnitInterval() < model.lossRate
        let delay = Double(model.medianDelay.nanosecondCount) * exp(model.sigma * standardNormal(&random))
        return lost ? nil : departure + Int64(delay)
    }

    private mutating func drawNextStall(after time: Int64, random: inout SplitMix64) {
        guard model.stallsPerHour > 0 else {
            stallStart = .max
            stallEnd = .max
            return
        }
        let meanGap = 3_600e9 / model.stallsPerHour
        let gap = -log(1 - random.nextUnitInterval()) * meanGap
        let shortest = Double(model.stallDuration.lowerBound.nanosecondCount)
        let longest = Double(model.stallDuration.upperBound.nanosecondCount)
        stallStart = time + Int64(gap)
        stallEnd = stallStart + Int64(shortest + (longest - shortest) * random.nextUnitInterval())
    }
}

/// A standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
func standardNormal(_ random: inout SplitMix64) -> Double {
    let u1 = 1 - random.nextUnitInterval()  // (0, 1]
    let u2 = random.nextUnitInterval()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}
