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

/// Where a pass writes its answers: a writer's output buffer, whose answers are handed to the
/// socket when 16 KiB are pending (as after each read), its memory kept.
protocol AnswerBuffer {
    associatedtype Encoder: StreamFrameEncoder
    /// Writes the answer to the ping whose octets are `payload`; returns the octets handed off
    /// first to make room (0 while the buffer has room).
    mutating func answer(_ encoder: inout Encoder, echoing payload: RawSpan) -> Int
}

/// Answers appended to a `[UInt8]` with `appendPong(echoing:to:)`: for dialects whose encoder
/// does not write into raw memory (WebSocket, TLS, RESP).
struct ArrayAnswers<Encoder: StreamFrameEncoder>: AnswerBuffer {
    var output: [UInt8] = []

    init(_ encoder: Encoder) { output.reserveCapacity(16_384 + encoder.maxHeartbeatLength) }

    @inline(__always)
    mutating func answer(_ encoder: inout Encoder, echoing payload: RawSpan) -> Int {
        var handedOff = 0
        if output.count >= 16_384 {
            handedOff = output.count
            output.removeAll(keepingCapacity: true)
        }
        encoder.appendPong(echoing: payload, to: &output)
        return handedOff
    }
}

/// Raw memory, freed with its last user.
final class RawMemory {
    let bytes: UnsafeMutableRawBufferPointer
    init(byteCount: Int) { bytes = .allocate(byteCount: byteCount, alignment: 64) }
    deinit { bytes.deallocate() }
}

/// Answers written into raw memory with `writePong(echoing:into:)` (`PongWriting`): the fastest
/// answer API, no array's capacity and uniqueness checks.
struct RawAnswers<Encoder: PongWriting>: AnswerBuffer {
    let memory: RawMemory
    var used = 0

    init(_ encoder: Encoder) { memory = RawMemory(byteCount: 16_384 + encoder.maxHeartbeatLength) }

    @inline(__always)
    mutating func answer(_ encoder: inout Encoder, echoing payload: RawSpan) -> Int {
        var handedOff = 0
        if used >= 16_384 {
            handedOff = used
            used = 0
        }
        let bytes = memory.bytes
        used &+= encoder.writePong(echoing: payload, into: UnsafeMutableRawBufferPointer(start: bytes.baseAddress.unsafelyUnwrapped + used,
                                                                                          count: bytes.count &- used))
        return handedOff
    }
}

/// What a stream dialect's passes keep between them: one demuxer (a stream that goes on), the
/// server's encoder and the reused output buffer. A pass moves them out and back, so it
/// allocates nothing once warm.
final class StreamState<Answers: AnswerBuffer> {
    var demuxer: Demuxer?
    var encoder: Answers.Encoder
    var answers: Answers?

    init(_ demuxer: Demuxer, _ encoder: Answers.Encoder, _ answers: Answers) {
        self.demuxer = demuxer
        self.encoder = encoder
        self.answers = answers
    }
}

/// A stream dialect's pass, specialised for `D`: the run-time `Demuxer` (as `hb` and the
/// transports use it) fed the whole input at once, and `D`'s server encoder answering every
/// `.ping` into `answers`. The envelope's preface is fed once, before the first pass.
func streamCase<D: StreamDialect, Answers: AnswerBuffer>(_ stream: D, _ dialect: Dialect, _ count: Int,
                                                         _ answers: (D.Encoder) -> Answers) -> PingPathCase where Answers.Encoder == D.Encoder {
    let input = pingInput(dialect, count)
    var demuxer = Demuxer(dialect: dialect)
    if dialect == .envelope {
        var preface: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &preface)
        do { try demuxer.feed(preface) { _, _ in } } catch { fatalError("tcp preface: \(error)") }
    }
    let encoder = stream.makeEncoder(role: .server, randomSeed: 1)
    let state = StreamState(demuxer, encoder, answers(encoder))
    return PingPathCase(name: dialect.name, count: count) {
        // Locals, so that the closure below borrows them without dynamic exclusivity checks.
        var demuxer = state.demuxer.take()!
        var encoder = state.encoder
        var output = state.answers.take()!
        defer {
            state.demuxer = demuxer
            state.encoder = encoder
            state.answers = output
        }
        var answered = 0
        do {
            try demuxer.feed(input) { item, bytes in
                switch item {
                case .ping: answered &+= output.answer(&encoder, echoing: bytes)
                case .pong, .business, .quicPing, .quicAck: answered &+= 1
                }
            }
        } catch {
            fatalError("\(dialect.name): \(error)")
        }
        return answered
    }
}

/// A stream dialect's pass with the fastest answer its encoder offers: raw memory.
func streamCase<D: StreamDialect>(_ stream: D, _ dialect: Dialect, _ count: Int) -> PingPathCase where D.Encoder: PongWriting {
    streamCase(stream, dialect, count) { RawAnswers($0) }
}

/// A stream dialect's pass whose encoder answers into a `[UInt8]` only.
func streamCase<D: StreamDialect>(_ stream: D, _ dialect: Dialect, _ count: Int) -> PingPathCase {
    streamCase(stream, dialect, count) { ArrayAnswers($0) }
}

/// Feeds `bytes` as packets of `size` octets, one feed each.
func feedPackets(_ demuxer: inout Demuxer, _ bytes: RawSpan, size: Int, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError) {
    var start = 0
    while start < bytes.byteCount {
        try demuxer.feed(bytes.extracting(start..<(start + size)), body)
        start += size
    }
}

/// What QUIC's passes keep between them: one demuxer.
final class QUICState {
    var demuxer: Demuxer?
    init(demuxer: Demuxer) { self.demuxer = demuxer }
}

/// QUIC: `count` packets of PING + 16 PADDING, one feed each.
func quicCase(_ count: Int) -> PingPathCase {
    let packet: [UInt8] = [0x01] + [UInt8](repeating: 0, count: 16)
    var input: [UInt8] = []
    for _ in 0..<count { input += packet }
    // In a box of its own, moved out and back by each pass: a copy would share the demuxer's
    // storage and make the next feed copy it.
    let state = QUICState(demuxer: Demuxer(dialect: .quic))
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
