import Framing

/// A small deterministic random source for property tests.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// A value whose shortest varint encoding is 1, 2, 4 or 8 octets, equally likely.
    mutating func varintValue(max: UInt64 = Varint.max) -> UInt64 {
        let limits: [UInt64] = [63, 16383, (1 << 30) - 1, Varint.max]
        return UInt64.random(in: 0...min(limits.randomElement(using: &self)!, max), using: &self)
    }

    /// Cuts `bytes` into chunks of random sizes, empty chunks included.
    mutating func chunks(of bytes: [UInt8]) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let size = Int.random(in: 0...min(bytes.count - index, Bool.random(using: &self) ? 7 : 4096), using: &self)
            chunks.append(Array(bytes[index..<(index + size)]))
            index += size
        }
        return chunks
    }
}

/// An item with its handed-over octets copied out, for comparisons.
struct Received: Equatable, CustomStringConvertible {
    var item: DemuxedItem
    var bytes: [UInt8]

    init(_ item: DemuxedItem, _ bytes: [UInt8]) {
        self.item = item
        self.bytes = bytes
    }

    init(_ item: DemuxedItem, _ span: RawSpan) {
        self.init(item, span.withUnsafeBytes { Array($0) })
    }

    var description: String { "\(item) \(bytes.count) octets" }
}

/// Feeds `chunks` and then ends the input, collecting items and the error.
func demux(_ demuxer: inout Demuxer, _ chunks: [[UInt8]]) -> (items: [Received], error: FramingError?) {
    var items: [Received] = []
    do {
        for chunk in chunks {
            try demuxer.feed(chunk) { item, bytes in items.append(Received(item, bytes)) }
        }
        try demuxer.finish()
        return (items, nil)
    } catch {
        return (items, error)
    }
}
