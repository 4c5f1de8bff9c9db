/// Splits a text-lines stream into lines (spec/lines.md): a line ends at LF, a CR just before
/// the LF belongs to the terminator; `PING` and `PONG` are the heartbeats, every other line a
/// business frame of type 0 whose length and octets are the line's content, terminator excluded.
///
/// A line longer than `maxLineLength` fails (`.frameTooLarge`, LINE_TOO_LONG) as soon as that
/// many octets and one more that is not its terminator are seen, before it is buffered whole. A
/// line gathered a few octets at a time is scanned once (`boundary(of:lengthAtLeast:)`).
public struct LinesFrameDecoder: StreamFrameDecoder {
    /// The longest line accepted, in octets, terminator excluded.
    public let maxLineLength: Int

    /// The default maximum line length: 8,192 octets.
    public static let defaultMaxLineLength = 8192

    /// `PING\n`.
    static let pingLine: [UInt8] = Array("PING\n".utf8)
    /// `PONG\n`.
    static let pongLine: InlineArray<5, UInt8> = [0x50, 0x4F, 0x4E, 0x47, 0x0A]

    /// A decoder for lines of at most `maxLineLength` octets (clamped to 4...2^40, so `PING` fits).
    public init(maxLineLength: Int = LinesFrameDecoder.defaultMaxLineLength) {
        self.maxLineLength = min(max(maxLineLength, 4), 1 << 40)
    }

    public static var dialect: Dialect { .lines }

    /// LINE_TOO_LONG for a line over the maximum; PROTOCOL_ERROR otherwise (no other rule exists).
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode {
        if case .frameTooLarge = reason { return WireErrorCode.Lines.lineTooLong }
        return WireErrorCode.Lines.protocolError
    }

    /// The longest line with its CR LF.
    public var maxFrameLength: Int { maxLineLength + 2 }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        try boundary(of: prefix, lengthAtLeast: 0)
    }

    /// The line is at least `minimumLength` octets with its LF, so no LF lies before
    /// `minimumLength - 1`: the scan resumes there.
    public func boundary(of prefix: RawSpan, lengthAtLeast minimumLength: Int) throws(FramingError.Reason) -> FrameBoundary {
        switch prefix.lineEnd(from: 0, resumingAt: max(0, minimumLength - 1), rule: .lf) {
        case .line(let contentEnd, let next):
            // The length reported is the least the octets seen prove however they were cut:
            // one past the maximum.
            guard contentEnd <= maxLineLength else { throw .frameTooLarge(length: UInt64(maxLineLength) + 1, limit: maxLineLength) }
            return .frame(length: next)
        case .needMore, .strayTerminator:
            // Content of maxLineLength octets can still be followed by CR LF; past that, or with
            // the octet after them not a CR, the line is too long whatever comes next.
            let seen = prefix.byteCount
            if seen >= maxLineLength + 2
                || (seen == maxLineLength + 1 && prefix.unsafeLoad(fromByteOffset: maxLineLength, as: UInt8.self) != 0x0D) {
                throw .frameTooLarge(length: UInt64(maxLineLength) + 1, limit: maxLineLength)
            }
            return .needMore(seen + 1)
        }
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        guard case .line(let contentEnd, _) = frame.lineEnd(from: 0, resumingAt: frame.byteCount - 1, rule: .lf) else {
            preconditionFailure("decode(frame:) called on octets that boundary(of:) did not delimit")
        }
        if frame.equalsExactly(0..<contentEnd, TextWord.ping) { return DecodedFrame(item: .ping(.empty), bytes: 0..<0) }
        if frame.equalsExactly(0..<contentEnd, TextWord.pong) { return DecodedFrame(item: .pong(.empty), bytes: 0..<0) }
        return DecodedFrame(item: .business(BusinessFrame(type: 0, length: contentEnd)), bytes: 0..<contentEnd)
    }
}
