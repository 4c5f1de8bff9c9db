public import Framing

/// One row of a retry schedule: from `failures` consecutive failures on, wait `delay` ± `jitter`.
public struct BackoffStep: Hashable, Sendable {
    /// The number of consecutive failures from which this row applies (≥ 1).
    public var failures: Int
    /// The nominal wait before the next retry ping.
    public var delay: Duration
    /// The relative spread of the wait, 0 to 1: the wait is uniform in delay·(1 ± jitter).
    public var jitter: Double

    /// A row of the schedule.
    public init(failures: Int, delay: Duration, jitter: Double) {
        self.failures = failures
        self.delay = delay
        self.jitter = jitter
    }
}

/// When to retry a ping after consecutive missed pongs: a step function of the failure count,
/// with uniform jitter so that many connections that failed together do not retry together.
public struct BackoffSchedule: Hashable, Sendable {
    /// The rows, by increasing `failures`; the first row must start at 1 failure.
    public var steps: [BackoffStep]

    /// A schedule from `steps`, which must be non-empty, start at 1 failure and increase.
    public init(steps: [BackoffStep]) {
        self.steps = steps
        validate()
    }

    /// The default table: after 1 failure 100 ms ±20 %, after 3 failures 400 ms ±30 %, after 5 or
    /// more 1,200 ms ±50 %.
    public static let standard = BackoffSchedule(steps: [
        BackoffStep(failures: 1, delay: .milliseconds(100), jitter: 0.2),
        BackoffStep(failures: 3, delay: .milliseconds(400), jitter: 0.3),
        BackoffStep(failures: 5, delay: .milliseconds(1_200), jitter: 0.5),
    ])

    /// Checks the documented bounds.
    public func validate() {
        precondition(!steps.isEmpty && steps[0].failures == 1, "backoff schedule must start at 1 failure")
        for index in steps.indices {
            let step = steps[index]
            precondition(step.delay >= .zero, "backoff delay must be >= 0")
            precondition(step.jitter >= 0 && step.jitter <= 1, "backoff jitter must be 0...1")
            if index > 0 { precondition(step.failures > steps[index - 1].failures, "backoff rows must increase") }
        }
    }

    /// The row that applies after `failures` consecutive failures (`failures` ≥ 1).
    public func step(afterFailures failures: Int) -> BackoffStep {
        // An index loop: a `for … in` over the array allocated in debug builds (measured).
        var chosen = 0
        while chosen + 1 < steps.count && steps[chosen + 1].failures <= failures { chosen += 1 }
        return steps[chosen]
    }

    /// The wait after `failures` consecutive failures, drawn uniformly from delay·(1 ± jitter).
    public func delay(afterFailures failures: Int, using random: inout SplitMix64) -> Duration {
        .nanoseconds(delayNanoseconds(afterFailures: failures, using: &random))
    }

    func delayNanoseconds(afterFailures failures: Int, using random: inout SplitMix64) -> Int64 {
        let step = step(afterFailures: failures)
        let nominal = Double(step.delay.nanosecondCount)
        let factor = 1 + step.jitter * (2 * random.nextUnitInterval() - 1)
        return Int64(nominal * factor)
    }
}
