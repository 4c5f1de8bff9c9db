/// Decodes the TCP envelope (spec/envelope.md): the 8-octet preface, then frames of
/// type (varint) · length (varint) · payload.
public struct EnvelopeFrameDecoder: StreamFrameDecoder {

    /// The largest payload accepted, in octets (spec/envelope.md §4). Bigger frames fail with
    /// FRAME_SIZE_ERROR as soon as their length is read.
    public let maxFrameSize: Int

    /// Whether the preface is still to come.
    public private(set) var awaitingPreface: Bool

    /// A decoder for one direction of a connection.
    /// - Parameters:
    ///   - maxFrameSize: the largest payload accepted, clamped to `EnvelopeFrame.maxFrameSizeRange`.
    ///   - expectPreface: false to decode from a frame boundary after the preface.
    public init(maxFrameSize: Int = EnvelopeFrame.defaultMaxFrameSize, expectPreface: Bool = true) {
        self.maxFrameSize = min(max(maxFrameSize, EnvelopeFrame.maxFrameSizeRange.lowerBound),
                                EnvelopeFrame.maxFrameSizeRange.upperBound)
        self.awaitingPreface = expectPreface
    }

    /// Type and length take at most 8 octets each.
    public var maxFrameLength: Int { 16 + maxFrameSize }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        if awaitingPreface { return try prefaceBoundary(prefix) }
        var cursor = 0
        guard let type = prefix.readVarint(at: &cursor) else {
            return .needMore(prefix.isEmpty ? 1 : Varint.encodedLength(firstByte: prefix.unsafeLoad(as: UInt8.self)))
        }
        guard type.isMinimal else { throw .nonMinimalFrameType(type.value) }
        guard let length = prefix.readVarint(at: &cursor) else {
            let lengthStart = type.encodedLength
            guard prefix.byteCount > lengthStart else { return .needMore(lengthStart + 1) }
            return .needMore(lengthStart + Varint.encodedLength(firstByte: prefix.unsafeLoad(fromByteOffset: lengthStart, as: UInt8.self)))
        }
        guard length.value <= UInt64(maxFrameSize) else {
            throw .frameTooLarge(length: length.value, limit: maxFrameSize)
        }
        if type.value == EnvelopeFrame.FrameType.ping || type.value == EnvelopeFrame.FrameType.pong,
           length.value != UInt64(HeartbeatPayload.byteCount) {
            throw .heartbeatLength(frameType: type.value, length: length.value)
        }
        return .frame(length: cursor + Int(length.value))
    }

    private func prefaceBoundary(_ prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        let magic = EnvelopeFrame.magic.span
        let seen = min(prefix.byteCount, magic.count)
        for index in 0..<seen where prefix.unsafeLoad(fromByteOffset: index, as: UInt8.self) != magic[index] {
            throw .prefaceMismatch(at: index)
        }
        // One octet at a time, so that each is compared as it arrives (§3) however the stream is cut.
        guard prefix.byteCount >= EnvelopeFrame.prefaceLength else { return .needMore(prefix.byteCount + 1) }
        let version = prefix.unsafeLoad(fromByteOffset: magic.count, as: UInt8.self)
        guard version == EnvelopeFrame.version else { throw .unsupportedVersion(version) }
        return .frame(length: EnvelopeFrame.prefaceLength)
    }

    /// PING and PONG (one-octet type and length, §5.2) in one step, each octet read once; every
    /// other frame, and the preface, in steps.
    public mutating func decodeFront(of input: RawSpan, _ body: (DemuxedItem, RawSpan) -> Void) throws(FramingError.Reason) -> FrameBoundary {
        let heartbeatLength = 2 + HeartbeatPayload.byteCount
        if input.byteCount >= heartbeatLength, !awaitingPreface,
           input.unsafeLoad(fromByteOffset: 1, as: UInt8.self) == UInt8(HeartbeatPayload.byteCount) {
            let type = UInt64(input.unsafeLoad(as: UInt8.self))
            if type == EnvelopeFrame.FrameType.ping || type == EnvelopeFrame.FrameType.pong {
                let payload = HeartbeatPayload(rawValue: UInt64(bigEndian: input.unsafeLoadUnaligned(fromByteOffset: 2, as: UInt64.self)))
                body(type == EnvelopeFrame.FrameType.ping ? .ping(payload) : .pong(payload), input.extracting(unchecked: 2..<heartbeatLength))
                return .frame(length: heartbeatLength)
            }
        }
        return try decodeFrontInSteps(of: input, body)
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        if awaitingPreface {
            awaitingPreface = false
            return DecodedFrame(item: nil, bytes: 0..<0)
        }
        // `boundary(of:)` checked both varints: the type is read again, the length only skipped
        // (the payload runs to the frame's end).
        var cursor = 0
        guard let type = frame.readVarint(at: &cursor), cursor < frame.byteCount else {
            preconditionFailure("decode(frame:) called on octets that boundary(of:) did not delimit")
        }
        cursor += Varint.encodedLength(firstByte: frame.unsafeLoad(fromByteOffset: cursor, as: UInt8.self))
        let payload = cursor..<frame.byteCount
        switch type.value {
        case EnvelopeFrame.FrameType.ping:
            return DecodedFrame(item: .ping(HeartbeatPayload(frame, at: cursor)), bytes: payload)
        case EnvelopeFrame.FrameType.pong:
            return DecodedFrame(item: .pong(HeartbeatPayload(frame, at: cursor)), bytes: payload)
        case EnvelopeFrame.FrameType.goAway:
            _ = try EnvelopeGoAway.readCode(frame.extracting(payload))
            fallthrough
        default:
            return DecodedFrame(item: .business(BusinessFrame(type: type.value, length: payload.count)), bytes: payload)
        }
    }
}

extension EnvelopeGoAway {
    /// Reads a GOAWAY payload's error code, checking the payload can hold it.
    static func readCode(_ payload: RawSpan) throws(FramingError.Reason) -> Varint {
        var cursor = 0
        guard let code = payload.readVarint(at: &cursor) else { throw .malformedGoAway }
        return code
    }
}
