// The PING path of every built-in dialect, shared by `codec-ping` (plain timing and callgrind)
// and the `Codec` benchmark suite (ordo-one/benchmark, with malloc counts): a dialect's pings as
// a server reads them, a pass that demuxes them with `Demuxer(dialect:)` and answers each ping with
// the dialect's encoder into a reused buffer, and the bare unsafe walk that is the ceiling.
import Framing

/// One dialect's PING path over a fixed input.
public struct PingPathCase {
    /// The dialect's name (`tcp`, `http2`, ...), or `walk` for the bare walk.
    public var name: String
    /// Pings in the input.
    public var count: Int
    /// Demuxes (and answers) the whole input once; returns a checksum of the answers.
    public var pass: () -> Int
}

/// `count` pings as a server reads them, from the dialect's own encoder.
public func pingInput(_ dialect: Dialect, _ count: Int) -> [UInt8] {
    var input: [UInt8] = []
    for index in 0..<count {
        dialect.appendPing(HeartbeatPayload(sequence: UInt32(truncatingIfNeeded: index), timestampMilliseconds: 7), to: &input)
    }
    return input
}

/// What a stream dialect's passes keep between them: one demuxer (a stream that goes on), the
/// server's encoder and the reused output buffer. A pass moves them out and back, so it
/// allocates nothing once warm.
final class StreamState<Encoder: StreamFrameEncoder> {
    var demuxer: Demuxer?
    var encoder: Encoder
    var output: [UInt8] = []

    init(_ demuxer: Demuxer, _ encoder: Encoder) {
        self.demuxer = demuxer
        self.encoder = encoder
        output.reserveCapacity(16_384 + 256)
    }
}

/// A stream dialect's pass, specialised for `D`: the run-time `Demuxer` (as `hb` and the
/// transports use it) fed the whole input at once, and `D`'s server encoder answering every
/// `.ping`. The envelope's preface is fed once, before the first pass.
func streamCase<D: StreamDialect>(_ stream: D, _ dialect: Dialect, _ count: Int) -> PingPathCase {
    let input = pingInput(dialect, count)
    var demuxer = Demuxer(dialect: dialect)
    if dialect == .envelope {
        var preface: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &preface)
        do { try demuxer.feed(preface) { _, _ in } } catch { fatalError("tcp preface: \(error)") }
    }
    let state = StreamState(demuxer, stream.makeEncoder(role: .server, randomSeed: 1))
    return PingPathCase(name: dialect.name, count: count) {
        // Locals, so that the closure below borrows them without dynamic exclusivity checks.
        var demuxer = state.demuxer.take()!
        var encoder = state.encoder
        var output: [UInt8] = []
        swap(&output, &state.output)
        defer {
            state.demuxer = demuxer
            state.encoder = encoder
            swap(&output, &state.output)
        }
        var answered = 0
        do {
            try demuxer.feed(input) { item, bytes in
                switch item {
                case .ping:
                    // A writer's buffer: answers accumulate and are handed to the socket when
                    // 16 KiB are pending (as after each read); the capacity is kept.
                    if output.count >= 16_384 {
                        answered &+= output.count
                        output.removeAll(keepingCapacity: true)
                    }
                    encoder.appendPong(echoing: bytes, to: &output)
                case .pong, .business, .quicPing, .quicAck:
                    answered &+= 1
                }
            }
        } catch {
            fatalError("\(dialect.name): \(error)")
        }
        return answered
    }
}

/// Feeds `bytes` as packets of `size` octets, one feed each.
func feedPackets(_ demuxer: inout Demuxer, _ bytes: RawSpan, size: Int, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
    var start = 0
    while start < bytes.byteCount {
        try demuxer.feed(bytes.extracting(start..<(start + size)), body)
        start += size
    }
}

/// QUIC: `count` packets of PING + 16 PADDING, one feed each.
func quicCase(_ count: Int) -> PingPathCase {
    let packet: [UInt8] = [0x01] + [UInt8](repeating: 0, count: 16)
    var input: [UInt8] = []
    for _ in 0..<count { input += packet }
    let state = StreamState<HTTP2FrameEncoder>(Demuxer(dialect: .quic), HTTP2Dialect().makeEncoder(role: .server, randomSeed: 1))
    return PingPathCase(name: "quic", count: count) {
        var demuxer = state.demuxer.take()!
        defer { state.demuxer = demuxer }
        var seen = 0
        do {
            try feedPackets(&demuxer, input.span.bytes, size: packet.count) { item, _ in
                if case .quicPing = item { seen &+= 1 }
            }
        } catch {
            fatalError("quic: \(error)")
        }
        return seen
    }
}

/// The ceiling: a walk over the same HTTP/2 PINGs with unchecked loads that knows nothing but
/// frame headers, writing each ACK into a fixed buffer with one 17-octet copy and a flag store.
func walkCase(_ count: Int) -> PingPathCase {
    let input = pingInput(.http2, count)
    let output = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
    return PingPathCase(name: "walk", count: count) {
        var answered = 0
        input.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            var at = 0
            while at + 9 <= raw.count {
                let length = Int(base.load(fromByteOffset: at, as: UInt8.self)) << 16
                    | Int(base.load(fromByteOffset: at + 1, as: UInt8.self)) << 8
                    | Int(base.load(fromByteOffset: at + 2, as: UInt8.self))
                if base.load(fromByteOffset: at + 3, as: UInt8.self) == 6 {
                    output.copyMemory(from: base + at, byteCount: 17)
                    output.storeBytes(of: 1, toByteOffset: 4, as: UInt8.self)
                    answered &+= Int(output.load(fromByteOffset: 16, as: UInt8.self))
                }
                at += 9 + length
            }
        }
        return answered
    }
}

/// The names `pingPathCase` knows: every built-in dialect, then `walk`.
public let pingPathNames = DialectRegistry.builtIn.map(\.name) + ["walk"]

/// The case named `name` (a dialect name or `walk`) over `count` pings; nil for other names.
public func pingPathCase(_ name: String, _ count: Int) -> PingPathCase? {
    if name == "walk" { return walkCase(count) }
    guard let dialect = DialectRegistry.dialect(named: name) else { return nil }
    switch dialect {
    case .envelope: return streamCase(EnvelopeDialect(), dialect, count)
    case .http2: return streamCase(HTTP2Dialect(), dialect, count)
    case .quic: return quicCase(count)
    case .webSocket: return streamCase(WebSocketDialect(performsHandshake: false), dialect, count)
    case .tls: return streamCase(TLSDialect(), dialect, count)
    case .mqtt: return streamCase(MQTTDialect(performsConnect: false), dialect, count)
    case .amqp: return streamCase(AMQPDialect(), dialect, count)
    case .resp: return streamCase(RESPDialect(), dialect, count)
    case .lines: return streamCase(LinesDialect(), dialect, count)
    default: return nil
    }
}
