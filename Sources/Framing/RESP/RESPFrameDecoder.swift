/// Splits a RESP stream (Redis serialization protocol, RESP2 and RESP3; spec/resp.md) into whole
/// top-level values: each value is one item, nested aggregates and the attributes that annotate
/// it included.
///
/// - A server (`role: .server`) reads commands: `PING` and `PING <message>` — an array of bulk
///   strings or an inline command, the name in any case — are heartbeat requests, the message (if
///   any) the ping's payload; every other value is a business frame.
/// - A client (`role: .client`) reads replies: in the in-order mode (`pingMessage` nil) `+PONG` is
///   a pong; in the echo mode a bulk string `<pingMessage><8 payload octets>` is the pong carrying
///   those digits' 8 octets; either may also come as the RESP2 subscribed-mode array
///   `["pong", <message>]`. Every other value is a business frame; a line that opens with no type
///   octet is a protocol error.
/// - A capture (`role: nil`) reads both directions: everything above.
///
/// A business frame's type is the type octet of the value (of the annotated value, past any
/// attributes; `RESPFrame.inlineCommandType`, 0, for an inline command), its length and octets
/// the whole value's. Lengths and counts are checked against `maxFrameSize`, which bounds the
/// whole value, as soon as they are read: a bulk string's declared length, and every aggregate's
/// count times the smallest value (3 octets), before any of it is buffered.
public struct RESPFrameDecoder: StreamFrameDecoder {
    /// Whose view this is: a server reads commands, a client replies, nil either.
    public let role: ConnectionRole?
    /// The largest top-level value accepted, in octets, everything included.
    public let maxFrameSize: Int
    /// The deepest nesting of aggregates and attributes accepted (1: an array of scalars).
    public let maxDepth: Int
    /// The message prefix of our echo-mode PINGs; nil in the in-order mode (bare PING, `+PONG`).
    public let pingMessage: [UInt8]?
    /// Where the scan of a value gathered across chunks stopped (see `resumeBoundary`).
    var checkpoint = RESPScan()

    /// A decoder for what a `role` endpoint reads.
    /// - Parameters:
    ///   - role: who reads: a client reads replies, a server commands; nil reads a capture of either.
    ///   - maxFrameSize: the largest value, clamped to 64...2^40.
    ///   - maxDepth: the deepest nesting, clamped to 1...64.
    ///   - pingMessage: nil for the in-order mode; the echo-mode message prefix otherwise.
    public init(role: ConnectionRole?, maxFrameSize: Int = RESPFrame.defaultMaxFrameSize, maxDepth: Int = RESPFrame.defaultMaxDepth,
                pingMessage: String? = nil) {
        self.role = role
        self.maxFrameSize = min(max(maxFrameSize, 64), 1 << 40)
        self.maxDepth = min(max(maxDepth, 1), RESPFrame.maxDepthLimit)
        self.pingMessage = pingMessage.map { Array($0.utf8) }
    }

    public static var dialect: Dialect { .resp }

    /// PROTOCOL_ERROR for everything: Redis answers every framing failure with
    /// `-ERR Protocol error: ...` and closes.
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        WireErrorCode.RESP.protocolError
    }

    /// A value is at most `maxFrameSize` octets.
    public var maxFrameLength: Int { maxFrameSize }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        var scan = RESPScan()
        do { return try self.scan(prefix, &scan) } catch { throw error.reason }
    }

    /// Resumes the scan where the last call for the same value stopped — at the start of the
    /// element it was reading, its line's terminator search where it had got to — so that a
    /// value gathered a few octets at a time costs linear time however deeply it nests.
    public mutating func resumeBoundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        do { return try scan(prefix, &checkpoint) } catch { throw error.reason }
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        checkpoint = RESPScan()
        return classify(frame)
    }
}

/// How far a scan of one top-level value has got: the next value to read and the aggregates
/// still open around it. Resuming from it reads only octets not yet read (the header line of the
/// value at `cursor` aside, which is short or resumes at `lineResume`).
struct RESPScan: Sendable {
    /// Where the next value starts.
    var cursor = 0
    /// Where the terminator search of the line at `cursor` resumes (0: from its start).
    var lineResume = 0
    /// Values still to read, this one included: every open aggregate's remaining elements, the
    /// top-level value, and the value each open attribute annotates.
    var outstanding = 1
    /// Open aggregates and attributes.
    var depth = 0
    /// For each open level, its remaining elements shifted left once, the low bit set for an attribute.
    var levels = InlineArray<64, Int>(repeating: 0)
}

extension RESPFrameDecoder {
    // MARK: Boundary

    /// Scans the value that starts at octet 0 of `prefix` from `state`, which is left at the
    /// value it could not finish.
    func scan(_ prefix: RawSpan, _ state: inout RESPScan) throws(RESPFailure) -> FrameBoundary {
        let count = prefix.byteCount
        while true {
            let start = state.cursor
            // The values after this one take 3 octets at least each.
            let after = (state.outstanding - 1) * RESPFrame.minimumValueLength
            // Ask for one octet at a time wherever the next octet may break a rule, so that an
            // input ending early fails the same way however it was cut.
            guard start < count else { return .needMore(start + 1) }
            let type = prefix.unsafeLoad(fromByteOffset: start, as: UInt8.self)
            guard RESPFrame.TypeOctet.isTypeOctet(type) else {
                guard start == 0, role != .client else {
                    throw .rule(.unknownType, "octet 0x\(String(type, radix: 16)) at \(start) opens no RESP value")
                }
                return try inlineBoundary(prefix, &state)
            }
            // The line must end where the values still to come fit: octets past that are never read.
            let lineLimit = maxFrameSize - after
            let line: (contentEnd: Int, next: Int)
            switch prefix.extracting(0..<min(count, lineLimit)).lineEnd(from: start + 1, resumingAt: state.lineResume, rule: .crlf) {
            case .strayTerminator(let at):
                throw .rule(.terminator, "a CR or LF at \(at) that is not a CR LF ending a line")
            case .needMore:
                guard count < lineLimit else { throw .frameTooLarge(length: UInt64(lineLimit + 1), limit: maxFrameSize) }
                state.lineResume = max(start + 1, count - 1)
                return .needMore(count + 1)
            case .line(let contentEnd, let next):
                line = (contentEnd, next)
            }
            let content = (start + 1)..<line.contentEnd
            var end = line.next
            switch type {
            case RESPFrame.TypeOctet.simpleString, RESPFrame.TypeOctet.simpleError:
                break
            case RESPFrame.TypeOctet.integer:
                guard prefix.parseInteger(content) != nil else { throw .rule(.integer, "integer \(prefix.quoted(content)) at \(start)") }
            case RESPFrame.TypeOctet.null:
                guard content.isEmpty else { throw .rule(.null, "null with content at \(start)") }
            case RESPFrame.TypeOctet.boolean:
                guard content.count == 1, prefix.isOneOf(content.lowerBound, 0x74, 0x66) else {
                    throw .rule(.boolean, "boolean \(prefix.quoted(content)) at \(start): it must be t or f")
                }
            case RESPFrame.TypeOctet.double:
                guard prefix.isDouble(content) else { throw .rule(.double, "double \(prefix.quoted(content)) at \(start)") }
            case RESPFrame.TypeOctet.bigNumber:
                guard prefix.isBigNumber(content) else { throw .rule(.bigNumber, "big number \(prefix.quoted(content)) at \(start)") }
            case RESPFrame.TypeOctet.bulkString, RESPFrame.TypeOctet.bulkError, RESPFrame.TypeOctet.verbatimString:
                guard let length = prefix.parseLength(content, allowsNull: type == RESPFrame.TypeOctet.bulkString) else {
                    throw .rule(.length, "length \(prefix.quoted(content)) at \(start)")
                }
                guard length >= 0 else { break }
                end = line.next + length + 2
                try fits(end + after)
                let atOnce = state.depth == 0 && state.outstanding == 1
                if type == RESPFrame.TypeOctet.verbatimString {
                    guard length >= 4 else { throw .rule(.verbatim, "verbatim string of \(length) octets at \(start): it needs a 3-octet format and a colon") }
                    guard line.next + 3 < count else {
                        state.lineResume = 0
                        return .needMore(line.next + 4)
                    }
                    guard prefix.unsafeLoad(fromByteOffset: line.next + 3, as: UInt8.self) == 0x3A else {
                        throw .rule(.verbatim, "verbatim string at \(start) without a colon after its format")
                    }
                }
                guard end <= count else {
                    // Only the closing CR LF can break a rule now: wait for it.
                    state.lineResume = 0
                    return atOnce ? .frame(length: end) : .needMore(end)
                }
                guard prefix.unsafeLoad(fromByteOffset: end - 2, as: UInt8.self) == 0x0D,
                      prefix.unsafeLoad(fromByteOffset: end - 1, as: UInt8.self) == 0x0A else {
                    throw .rule(.terminator, "bulk string at \(start) not followed by CR LF at \(end - 2)")
                }
            default:
                // An aggregate: array, set, push (n values), map, attribute (n pairs).
                guard let declared = prefix.parseLength(content, allowsNull: type == RESPFrame.TypeOctet.array) else {
                    throw .rule(.length, "count \(prefix.quoted(content)) at \(start)")
                }
                guard declared >= 0 else { break }
                let isAttribute = type == RESPFrame.TypeOctet.attribute
                let perElement = type == RESPFrame.TypeOctet.map || isAttribute ? 2 : 1
                guard declared <= maxFrameSize / (RESPFrame.minimumValueLength * perElement) else {
                    throw .frameTooLarge(length: UInt64(declared) * UInt64(RESPFrame.minimumValueLength * perElement), limit: maxFrameSize)
                }
                let elements = declared * perElement
                // An attribute leaves the value it annotates still to read.
                let added = elements + (isAttribute ? 1 : 0)
                try fits(line.next + (added * RESPFrame.minimumValueLength) + after)
                guard elements > 0 else {
                    if isAttribute { state.cursor = line.next; state.lineResume = 0; continue }
                    break
                }
                guard state.depth < maxDepth else { throw .rule(.depth, "aggregate at \(start) nested deeper than \(maxDepth)") }
                state.levels[state.depth] = elements << 1 | (isAttribute ? 1 : 0)
                state.depth += 1
                state.outstanding += added - 1
                state.cursor = line.next
                state.lineResume = 0
                continue
            }
            // One whole value ends at `end`: close the aggregates it completes.
            state.cursor = end
            state.lineResume = 0
            state.outstanding -= 1
            while state.depth > 0 {
                let level = state.levels[state.depth - 1]
                let remaining = (level >> 1) - 1
                if remaining > 0 {
                    state.levels[state.depth - 1] = remaining << 1 | (level & 1)
                    break
                }
                state.depth -= 1
                // A completed attribute is not a value of its parent: the value it annotates is.
                if level & 1 == 1 { break }
            }
            if state.depth == 0 && state.outstanding == 0 { return .frame(length: end) }
        }
    }

    /// Throws `.frameTooLarge` unless a value of at least `length` octets fits `maxFrameSize`.
    private func fits(_ length: Int) throws(RESPFailure) {
        guard length <= maxFrameSize else { throw .frameTooLarge(length: UInt64(length), limit: maxFrameSize) }
    }

    /// An inline command: one line ending at LF (a CR before it belongs to the terminator).
    private func inlineBoundary(_ prefix: RawSpan, _ state: inout RESPScan) throws(RESPFailure) -> FrameBoundary {
        // Octets past `maxFrameSize` are never read: a line not ended by then is too long.
        switch prefix.extracting(0..<min(prefix.byteCount, maxFrameSize)).lineEnd(from: 0, resumingAt: state.lineResume, rule: .lf) {
        case .line(_, let next):
            return .frame(length: next)
        case .needMore, .strayTerminator:
            guard prefix.byteCount < maxFrameSize else { throw .frameTooLarge(length: UInt64(maxFrameSize + 1), limit: maxFrameSize) }
            state.lineResume = prefix.byteCount
            return .needMore(prefix.byteCount + 1)
        }
    }

    // MARK: Decode

    /// The item for one whole value that `scan` delimited.
    func classify(_ frame: RawSpan) -> DecodedFrame {
        let whole = DecodedFrame(item: .business(BusinessFrame(type: RESPFrame.inlineCommandType, length: frame.byteCount)), bytes: 0..<frame.byteCount)
        let first = frame.unsafeLoad(fromByteOffset: 0, as: UInt8.self)
        guard RESPFrame.TypeOctet.isTypeOctet(first) else { return classifyInline(frame) ?? whole }
        var cursor = 0
        while frame.unsafeLoad(fromByteOffset: cursor, as: UInt8.self) == RESPFrame.TypeOctet.attribute {
            cursor = attributeEnd(frame, at: cursor)
        }
        let type = frame.unsafeLoad(fromByteOffset: cursor, as: UInt8.self)
        if cursor == 0, role != .client, let ping = classifyCommand(frame) { return ping }
        if role != .server, let pong = classifyReply(frame, at: cursor) { return pong }
        return DecodedFrame(item: .business(BusinessFrame(type: UInt64(type), length: frame.byteCount)), bytes: 0..<frame.byteCount)
    }

    /// `PING` or `PING <message>` as an inline command: words separated by spaces or tabs.
    private func classifyInline(_ frame: RawSpan) -> DecodedFrame? {
        guard case .line(let contentEnd, _) = frame.lineEnd(from: 0, resumingAt: 0, rule: .lf) else { return nil }
        func isBlank(_ index: Int) -> Bool {
            let octet = frame.unsafeLoad(fromByteOffset: index, as: UInt8.self)
            return octet == 0x20 || octet == 0x09
        }
        var words: (first: Range<Int>?, second: Range<Int>?, count: Int) = (nil, nil, 0)
        var index = 0
        while index < contentEnd, words.count < 3 {
            if isBlank(index) { index += 1; continue }
            let begin = index
            while index < contentEnd, !isBlank(index) { index += 1 }
            if words.count == 0 { words.first = begin..<index } else if words.count == 1 { words.second = begin..<index }
            words.count += 1
        }
        guard let name = words.first, words.count <= 2, frame.equalsIgnoringASCIICase(name, TextWord.ping) else { return nil }
        guard let message = words.second else { return DecodedFrame(item: .ping(.empty), bytes: name.upperBound..<name.upperBound) }
        return DecodedFrame(item: .ping(HeartbeatPayload(prefixOf: frame.extracting(message))), bytes: message)
    }

    /// `*1\r\n$4\r\nPING\r\n` or `*2\r\n$4\r\nPING\r\n$<n>\r\n<message>\r\n`, the name in any case.
    private func classifyCommand(_ frame: RawSpan) -> DecodedFrame? {
        guard frame.unsafeLoad(fromByteOffset: 0, as: UInt8.self) == RESPFrame.TypeOctet.array,
              let (count, first) = header(frame, at: 0), count == 1 || count == 2,
              let name = bulk(frame, at: first), frame.equalsIgnoringASCIICase(name.content, TextWord.ping) else { return nil }
        guard count == 2 else { return DecodedFrame(item: .ping(.empty), bytes: name.end..<name.end) }
        guard let message = bulk(frame, at: name.end) else { return nil }
        return DecodedFrame(item: .ping(HeartbeatPayload(prefixOf: frame.extracting(message.content))), bytes: message.content)
    }

    /// `+PONG` (in-order mode), a bulk string `<pingMessage><8 payload octets>` (echo mode), or
    /// either answer as RESP2's subscribed-mode array `["pong", <message>]`.
    private func classifyReply(_ frame: RawSpan, at cursor: Int) -> DecodedFrame? {
        let type = frame.unsafeLoad(fromByteOffset: cursor, as: UInt8.self)
        var message: Range<Int>
        switch type {
        case RESPFrame.TypeOctet.simpleString where pingMessage == nil:
            guard let (content, next) = lineContent(frame, at: cursor), frame.equalsExactly(content, TextWord.pong) else { return nil }
            return DecodedFrame(item: .pong(.empty), bytes: next..<next)
        case RESPFrame.TypeOctet.bulkString where pingMessage != nil:
            guard let reply = bulk(frame, at: cursor) else { return nil }
            message = reply.content
        case RESPFrame.TypeOctet.array:
            guard let (count, first) = header(frame, at: cursor), count == 2,
                  let kind = bulk(frame, at: first), frame.equalsExactly(kind.content, TextWord.lowercasePong),
                  let reply = bulk(frame, at: kind.end) else { return nil }
            message = reply.content
            if pingMessage == nil {
                return message.isEmpty ? DecodedFrame(item: .pong(.empty), bytes: message) : nil
            }
        default:
            return nil
        }
        guard let prefix = pingMessage, message.count == prefix.count + HeartbeatPayload.byteCount else { return nil }
        for offset in 0..<prefix.count where frame.unsafeLoad(fromByteOffset: message.lowerBound + offset, as: UInt8.self) != prefix[offset] {
            return nil
        }
        message = (message.lowerBound + prefix.count)..<message.upperBound
        return DecodedFrame(item: .pong(HeartbeatPayload(frame, at: message.lowerBound)), bytes: message)
    }

    /// The content range and the next value's offset of the line value at `cursor`.
    private func lineContent(_ frame: RawSpan, at cursor: Int) -> (Range<Int>, Int)? {
        guard case .line(let contentEnd, let next) = frame.lineEnd(from: cursor + 1, resumingAt: 0, rule: .crlf) else { return nil }
        return ((cursor + 1)..<contentEnd, next)
    }

    /// An aggregate's or bulk string's declared length and where its body starts.
    private func header(_ frame: RawSpan, at cursor: Int) -> (Int, Int)? {
        guard let (content, next) = lineContent(frame, at: cursor),
              let length = frame.parseLength(content, allowsNull: false) else { return nil }
        return (length, next)
    }

    /// The bulk string at `cursor`: its content and where the next value starts; nil for another type.
    private func bulk(_ frame: RawSpan, at cursor: Int) -> (content: Range<Int>, end: Int)? {
        guard cursor < frame.byteCount, frame.unsafeLoad(fromByteOffset: cursor, as: UInt8.self) == RESPFrame.TypeOctet.bulkString,
              let (length, next) = header(frame, at: cursor), next + length + 2 <= frame.byteCount else { return nil }
        return (next..<(next + length), next + length + 2)
    }

    /// Where the attribute at `cursor` of a delimited value ends: its pairs, not the value it annotates.
    private func attributeEnd(_ frame: RawSpan, at cursor: Int) -> Int {
        guard let (pairs, next) = header(frame, at: cursor) else { preconditionFailure("an attribute that scan did not delimit") }
        var end = next
        for _ in 0..<(2 * pairs) {
            var scan = RESPScan()
            guard case .frame(let length)? = try? RESPFrameDecoder(role: .client, maxFrameSize: maxFrameSize, maxDepth: maxDepth)
                .scan(frame.extracting(end...), &scan) else { preconditionFailure("an attribute that scan did not delimit") }
            end += length
        }
        return end
    }
}

// MARK: - Line contents

extension RawSpan {
    /// Whether the octet at `index` is `one` or `other`.
    func isOneOf(_ index: Int, _ one: UInt8, _ other: UInt8) -> Bool {
        let octet = unsafeLoad(fromByteOffset: index, as: UInt8.self)
        return octet == one || octet == other
    }

    /// A RESP length or count: decimal digits without leading zeros, or `-1` (a null) where
    /// `allowsNull`. Saturates at 2^41 (past any `maxFrameSize`); nil when malformed.
    func parseLength(_ range: Range<Int>, allowsNull: Bool) -> Int? {
        if allowsNull, equalsExactly(range, TextWord.minusOne) { return -1 }
        guard !range.isEmpty, range.count == 1 || unsafeLoad(fromByteOffset: range.lowerBound, as: UInt8.self) != 0x30 else { return nil }
        var value = 0
        for index in range {
            let digit = unsafeLoad(fromByteOffset: index, as: UInt8.self) &- 0x30
            guard digit < 10 else { return nil }
            value = Swift.min(value * 10 + Int(digit), 1 << 41)
        }
        return value
    }

    /// A RESP integer: an optional sign and decimal digits within a signed 64-bit integer.
    func parseInteger(_ range: Range<Int>) -> Int64? {
        var index = range.lowerBound
        var negative = false
        if index < range.upperBound, isOneOf(index, 0x2B, 0x2D) {
            negative = unsafeLoad(fromByteOffset: index, as: UInt8.self) == 0x2D
            index += 1
        }
        guard index < range.upperBound else { return nil }
        var magnitude: UInt64 = 0
        while index < range.upperBound {
            let digit = unsafeLoad(fromByteOffset: index, as: UInt8.self) &- 0x30
            guard digit < 10 else { return nil }
            let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(digit))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A RESP3 double: `[+|-]digits[.digits][(e|E)[+|-]digits]`, or `inf`, `-inf`, `nan` in any case.
    func isDouble(_ range: Range<Int>) -> Bool {
        if equalsIgnoringASCIICase(range, TextWord.infinity) || equalsIgnoringASCIICase(range, TextWord.negativeInfinity)
            || equalsIgnoringASCIICase(range, TextWord.positiveInfinity) || equalsIgnoringASCIICase(range, TextWord.notANumber) { return true }
        var index = range.lowerBound
        let end = range.upperBound
        skipSign(&index, end)
        guard skipDigits(&index, end) > 0 else { return false }
        if index < end, unsafeLoad(fromByteOffset: index, as: UInt8.self) == 0x2E {
            index += 1
            guard skipDigits(&index, end) > 0 else { return false }
        }
        if index < end, isOneOf(index, 0x45, 0x65) {
            index += 1
            skipSign(&index, end)
            guard skipDigits(&index, end) > 0 else { return false }
        }
        return index == end
    }

    /// Steps `index` over a `+` or `-` before `end`, if there is one.
    private func skipSign(_ index: inout Int, _ end: Int) {
        if index < end, isOneOf(index, 0x2B, 0x2D) { index += 1 }
    }

    /// Steps `index` over decimal digits before `end`; how many.
    private func skipDigits(_ index: inout Int, _ end: Int) -> Int {
        let begin = index
        while index < end, unsafeLoad(fromByteOffset: index, as: UInt8.self) &- 0x30 < 10 { index += 1 }
        return index - begin
    }

    /// A RESP3 big number: an optional sign and one or more decimal digits.
    func isBigNumber(_ range: Range<Int>) -> Bool {
        var start = range.lowerBound
        if start < range.upperBound, isOneOf(start, 0x2B, 0x2D) { start += 1 }
        guard start < range.upperBound else { return false }
        for index in start..<range.upperBound where unsafeLoad(fromByteOffset: index, as: UInt8.self) &- 0x30 >= 10 { return false }
        return true
    }

    /// The octets in `range` for an error message: at most 32, printable ASCII, others escaped.
    func quoted(_ range: Range<Int>) -> String {
        var text = "\""
        for index in range.prefix(32) {
            let octet = unsafeLoad(fromByteOffset: index, as: UInt8.self)
            text += (0x20..<0x7F).contains(octet) && octet != 0x22 ? String(UnicodeScalar(octet)) : "\\x\(String(octet, radix: 16))"
        }
        return text + (range.count > 32 ? "...\"" : "\"")
    }
}

// MARK: - Failures

/// A RESP rule a value breaks, or a value longer than the decoder's maximum.
enum RESPFailure: Error, Hashable {
    case rule(RESPRule, String)
    case frameTooLarge(length: UInt64, limit: Int)

    /// As the seam spells it.
    var reason: FramingError.Reason {
        switch self {
        case .rule(let rule, let detail):
            return .violation(RuleViolation(rule.identifier, detail, code: WireErrorCode.RESP.protocolError))
        case .frameTooLarge(let length, let limit):
            return .frameTooLarge(length: length, limit: limit)
        }
    }
}

/// The value rules, each with the identifier the vectors spell it with (spec/resp.md §4).
enum RESPRule: Hashable, Sendable, CaseIterable {
    case unknownType, terminator, length, integer, null, boolean, double, bigNumber, verbatim, depth

    /// The reason identifier (`RuleViolation.identifier`).
    var identifier: String {
        switch self {
        case .unknownType: return "resp-unknown-type"
        case .terminator: return "resp-terminator"
        case .length: return "resp-length"
        case .integer: return "resp-integer"
        case .null: return "resp-null"
        case .boolean: return "resp-boolean"
        case .double: return "resp-double"
        case .bigNumber: return "resp-big-number"
        case .verbatim: return "resp-verbatim"
        case .depth: return "resp-depth"
        }
    }
}
