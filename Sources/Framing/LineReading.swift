// One line scanner for the text dialects: Redis RESP (whose lines end with CR LF, RESP spec
// "RESP protocol description") and plain text lines (spec/lines.md, LF with an optional CR before
// it). Both dialects find a line's end here, so the rules — and the resumable scan that keeps a
// line gathered a few octets at a time linear — live in one place.

/// How a line must end.
@usableFromInline
enum LineTerminatorRule: Sendable {
    /// CR LF, and neither CR nor LF anywhere else in the line (RESP type lines).
    case crlf
    /// LF, with an optional CR just before it that is part of the terminator; a CR elsewhere is
    /// content (text lines, RESP inline commands).
    case lf
}

/// Where a line ends, as far as the octets seen tell.
@usableFromInline
enum LineEnd: Hashable, Sendable {
    /// The line's content is `start..<contentEnd`; the next line starts at `next`.
    case line(contentEnd: Int, next: Int)
    /// No terminator yet: at least this many more octets (1 or 2) are needed past the end of the input.
    case needMore(Int)
    /// A CR or LF where the rule forbids it, at this offset.
    case strayTerminator(at: Int)
}

extension RawSpan {
    /// Finds the end of the line that starts at `start`, scanning from `resume` (≥ `start`): the
    /// caller knows no terminator begins in `start..<resume` (an earlier scan of a shorter prefix
    /// ended there), so a line that arrives a few octets at a time is scanned once.
    @inlinable
    func lineEnd(from start: Int, resumingAt resume: Int, rule: LineTerminatorRule) -> LineEnd {
        var index = Swift.max(start, resume)
        while index < byteCount {
            let octet = unsafeLoad(fromByteOffset: index, as: UInt8.self)
            if octet == 0x0A {
                switch rule {
                case .lf:
                    let contentEnd = index > start && unsafeLoad(fromByteOffset: index - 1, as: UInt8.self) == 0x0D ? index - 1 : index
                    return .line(contentEnd: contentEnd, next: index + 1)
                case .crlf:
                    return .strayTerminator(at: index)
                }
            }
            if octet == 0x0D, rule == .crlf {
                guard index + 1 < byteCount else { return .needMore(1) }
                guard unsafeLoad(fromByteOffset: index + 1, as: UInt8.self) == 0x0A else { return .strayTerminator(at: index) }
                return .line(contentEnd: index, next: index + 2)
            }
            index += 1
        }
        // A CR LF line needs both octets still; an LF line one (its CR, if any, may be the last seen).
        return .needMore(rule == .crlf ? 2 : 1)
    }

    /// Whether the octets in `range` are exactly `word` (ASCII), letters compared without case.
    @inlinable
    func equalsIgnoringASCIICase(_ range: Range<Int>, _ word: [UInt8]) -> Bool {
        guard range.count == word.count else { return false }
        for offset in 0..<word.count {
            let octet = unsafeLoad(fromByteOffset: range.lowerBound + offset, as: UInt8.self)
            let wanted = word[offset]
            let lowered = octet >= 0x41 && octet <= 0x5A ? octet | 0x20 : octet
            if lowered != (wanted >= 0x41 && wanted <= 0x5A ? wanted | 0x20 : wanted) { return false }
        }
        return true
    }

    /// Whether the octets in `range` are exactly `word`, case included.
    @inlinable
    func equalsExactly(_ range: Range<Int>, _ word: [UInt8]) -> Bool {
        guard range.count == word.count else { return false }
        for offset in 0..<word.count where unsafeLoad(fromByteOffset: range.lowerBound + offset, as: UInt8.self) != word[offset] {
            return false
        }
        return true
    }
}

/// The words the text dialects look for, as octets.
@usableFromInline
enum TextWord {
    /// `PING`.
    @usableFromInline static let ping: [UInt8] = Array("PING".utf8)
    /// `PONG`.
    @usableFromInline static let pong: [UInt8] = Array("PONG".utf8)
    /// `pong`: RESP2's subscribed-mode answer to PING.
    @usableFromInline static let lowercasePong: [UInt8] = Array("pong".utf8)
    /// `-1`: a RESP null length.
    @usableFromInline static let minusOne: [UInt8] = Array("-1".utf8)
    /// `inf`, `-inf`, `+inf`, `nan`: the RESP3 doubles that are words.
    @usableFromInline static let infinity: [UInt8] = Array("inf".utf8)
    @usableFromInline static let negativeInfinity: [UInt8] = Array("-inf".utf8)
    @usableFromInline static let positiveInfinity: [UInt8] = Array("+inf".utf8)
    @usableFromInline static let notANumber: [UInt8] = Array("nan".utf8)
}
