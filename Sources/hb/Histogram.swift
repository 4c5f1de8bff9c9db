import Glibc

/// The shape of a set of round-trip times, drawn in the terminal at the end of
/// `hb probe --histogram`: ping(8)'s min/avg/max/mdev summary says where the samples lie, the
/// histogram shows how they spread (one mode or two, a tail).
struct RTTHistogram: Equatable {
    /// One bar: the samples from `lower` (inclusive) to `upper` (exclusive, inclusive for the last
    /// bucket), in milliseconds.
    struct Bucket: Equatable {
        var lower: Double
        var upper: Double
        var count: Int
    }

    /// The bars, lowest first; empty for no samples.
    private(set) var buckets: [Bucket] = []
    /// How many samples were counted.
    private(set) var sampleCount = 0

    /// The most bars drawn.
    static let maxBuckets = 12

    /// Buckets `samples` (milliseconds, finite, not negative) into at most `maxBuckets` bars, about
    /// √n of them: logarithmic widths when the largest sample is at least four times the smallest
    /// (round trips have long tails), equal widths otherwise; one bar when all samples are equal.
    init(_ samples: [Double], maxBuckets: Int = RTTHistogram.maxBuckets) {
        let samples = samples.filter { $0.isFinite && $0 >= 0 }
        guard let low = samples.min(), let high = samples.max() else { return }
        sampleCount = samples.count
        let count = high > low ? min(max(maxBuckets, 1), max(2, Int(Double(samples.count).squareRoot().rounded(.up)))) : 1
        let logarithmic = low > 0 && high >= 4 * low
        var edges: [Double] = []
        for index in 0...count {
            let fraction = Double(index) / Double(count)
            edges.append(logarithmic ? low * pow(high / low, fraction) : low + (high - low) * fraction)
        }
        edges[count] = high
        buckets = (0..<count).map { Bucket(lower: edges[$0], upper: edges[$0 + 1], count: 0) }
        for sample in samples {
            var index = count - 1
            while index > 0 && sample < edges[index] { index -= 1 }
            buckets[index].count += 1
        }
    }

    /// The histogram drawn with block characters, one line per bar, bars `width` cells at most
    /// (the fullest bar is `width` long; eighths of a cell are drawn with partial blocks).
    func lines(width: Int = 40) -> [String] {
        guard let fullest = buckets.map(\.count).max(), fullest > 0 else { return [] }
        let labels = buckets.map { (fixed($0.lower, 3), fixed($0.upper, 3)) }
        let lowerWidth = labels.map(\.0.count).max() ?? 0, upperWidth = labels.map(\.1.count).max() ?? 0
        let countWidth = String(fullest).count
        var lines = ["rtt histogram (\(sampleCount) sample\(sampleCount == 1 ? "" : "s"), ms):"]
        for (bucket, label) in zip(buckets, labels) {
            let eighths = (bucket.count * width * 8 + fullest / 2) / fullest
            var bar = String(repeating: "█", count: eighths / 8)
            if eighths % 8 > 0 { bar += Self.partialBlocks[eighths % 8] }
            if bucket.count > 0 && bar.isEmpty { bar = Self.partialBlocks[1] }
            let cells = bar.count
            let percent = fixed(Double(bucket.count) * 100 / Double(sampleCount), 1)
            lines.append("  " + pad(label.0, lowerWidth) + " – " + pad(label.1, upperWidth) + " │" + bar
                         + String(repeating: " ", count: max(0, width - cells)) + " " + pad(String(bucket.count), countWidth)
                         + "  " + pad(percent, 5) + "%")
        }
        return lines
    }

    /// The buckets as a JSON array: `[{"from_ms":F,"to_ms":F,"count":N},...]`.
    var json: String {
        "[" + buckets.map { bucket in
            var object = JSONLine()
            object.add("from_ms", bucket.lower)
            object.add("to_ms", bucket.upper)
            object.add("count", bucket.count)
            return object.line
        }.joined(separator: ",") + "]"
    }

    /// Left-pads `text` with spaces to `width` characters.
    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// Eighths of a cell: index n is n/8 of a full block.
    private static let partialBlocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
}
