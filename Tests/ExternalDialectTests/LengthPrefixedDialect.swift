// A dialect defined outside the library, through its public API only (no @testable import): a
// length-prefixed binary protocol whose messages are a 2-octet big-endian length and a body.
// A body `PING <n>` is a heartbeat request, `PONG <n>` its answer (n in decimal, echoed), `BYE`
// closes, anything else is the application's. This file is what a protocol implementer writes
// to plug their own protocol into the demuxer, the session and the connections.
public import Framing

/// The dialect: one type, conforming to `StreamDialect`.
public struct LengthPrefixedDialect: StreamDialect {
    public init() {}
    public var dialect: Dialect { Dialect(name: "lp") }
    public var liveness: LivenessModel { .echo }
    public func makeDecoder(role: ConnectionRole?, maxFrameSize: Int?) -> LengthPrefixedDecoder {
        LengthPrefixedDecoder(maxBodyLength: maxFrameSize ?? 4096)
    }
    public func makeEncoder(role: ConnectionRole, randomSeed: UInt64) -> LengthPrefixedEncoder { LengthPrefixedEncoder() }
    public var vocabulary: DissectorVocabulary { DissectorVocabulary { _ in "MESSAGE" } }
}

/// The dialect's own codes: 1 bad message, 2 calm down, 3 peer silent.
enum LengthPrefixedCodes {
    static let normal = WireErrorCode(value: 0, name: "NORMAL")
    static let badMessage = WireErrorCode(value: 1, name: "BAD_MESSAGE")
    static let calmDown = WireErrorCode(value: 2, name: "CALM_DOWN")
    static let silent = WireErrorCode(value: 3, name: "SILENT")
}

/// Business frames carry this type.
let messageType: UInt64 = 1

public struct LengthPrefixedDecoder: StreamFrameDecoder {
    let maxBodyLength: Int
    public static var dialect: Dialect { Dialect(name: "lp") }
    public static func wireCode(for reason: FramingError.Reason) -> WireErrorCode { LengthPrefixedCodes.badMessage }
    public var maxFrameLength: Int { 2 + maxBodyLength }

    public func boundary(of prefix: RawSpan) throws(FramingError.Reason) -> FrameBoundary {
        guard prefix.byteCount >= 2 else { return .needMore(2) }
        let length = Int(prefix.unsafeLoad(as: UInt8.self)) << 8 | Int(prefix.unsafeLoad(fromByteOffset: 1, as: UInt8.self))
        guard length <= maxBodyLength else { throw .frameTooLarge(length: UInt64(length), limit: maxBodyLength) }
        return .frame(length: 2 + length)
    }

    public mutating func decode(frame: RawSpan) throws(FramingError.Reason) -> DecodedFrame {
        let body = frame.extracting(2...)
        let isPing = starts(body, with: "PING ")
        if isPing || starts(body, with: "PONG ") {
            guard let number = decimal(body.extracting(5...)) else {
                throw .violation(RuleViolation("lp-bad-number", "a heartbeat's number is not a decimal UInt64", code: LengthPrefixedCodes.badMessage))
            }
            let payload = HeartbeatPayload(rawValue: number)
            return DecodedFrame(item: isPing ? .ping(payload) : .pong(payload), bytes: 2..<frame.byteCount)
        }
        return DecodedFrame(item: .business(BusinessFrame(type: messageType, length: body.byteCount)), bytes: 2..<frame.byteCount)
    }
}

public struct LengthPrefixedEncoder: StreamFrameEncoder {
    public var closeCodes: CloseCodes {
        CloseCodes(noError: LengthPrefixedCodes.normal, protocolError: LengthPrefixedCodes.badMessage,
                   enhanceYourCalm: LengthPrefixedCodes.calmDown, livenessTimeout: LengthPrefixedCodes.silent)
    }
    public var maxHeartbeatLength: Int { 2 + 5 + 20 }
    public var maxDataPayload: Int { 4096 }

    public mutating func appendPing(_ payload: HeartbeatPayload, to buffer: inout [UInt8]) {
        appendHeartbeat("PING ", payload.rawValue, to: &buffer)
    }
    public mutating func appendPong(echoing payload: RawSpan, to buffer: inout [UInt8]) {
        var number: UInt64 = 0
        for index in 0..<payload.byteCount { number = number << 8 | UInt64(payload.unsafeLoad(fromByteOffset: index, as: UInt8.self)) }
        appendHeartbeat("PONG ", number, to: &buffer)
    }
    public mutating func appendClose(code: WireErrorCode, reason: String, to buffer: inout [UInt8]) {
        let body = Array("BYE \(code.value) \(reason)".utf8)
        buffer.append(UInt8(body.count >> 8)); buffer.append(UInt8(truncatingIfNeeded: body.count))
        buffer.append(contentsOf: body)
    }
    public mutating func appendData(_ payload: RawSpan, type: UInt64?, to buffer: inout [UInt8]) {
        buffer.append(UInt8(payload.byteCount >> 8)); buffer.append(UInt8(truncatingIfNeeded: payload.byteCount))
        payload.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }
    public mutating func inbound(_ frame: BusinessFrame, payload: RawSpan, reply: inout [UInt8]) throws(FramingError.Reason) -> InboundDisposition {
        starts(payload, with: "BYE ") ? .peerClosing(code: 0, reason: "bye", deliver: false) : .deliver
    }

    /// `word` and the decimal digits of `number`, length-prefixed, without allocating.
    private func appendHeartbeat(_ word: StaticString, _ number: UInt64, to buffer: inout [UInt8]) {
        var digits = 1
        var rest = number / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let length = word.utf8CodeUnitCount + digits
        buffer.append(UInt8(length >> 8)); buffer.append(UInt8(truncatingIfNeeded: length))
        word.withUTF8Buffer { buffer.append(contentsOf: $0) }
        let start = buffer.count
        for _ in 0..<digits { buffer.append(0) }
        var value = number
        for index in stride(from: start + digits - 1, through: start, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }
}

func starts(_ bytes: RawSpan, with text: StaticString) -> Bool {
    guard bytes.byteCount >= text.utf8CodeUnitCount else { return false }
    return text.withUTF8Buffer { word in
        (0..<word.count).allSatisfy { bytes.unsafeLoad(fromByteOffset: $0, as: UInt8.self) == word[$0] }
    }
}

func decimal(_ bytes: RawSpan) -> UInt64? {
    guard bytes.byteCount > 0, bytes.byteCount <= 20 else { return nil }
    var value: UInt64 = 0
    for index in 0..<bytes.byteCount {
        let octet = bytes.unsafeLoad(fromByteOffset: index, as: UInt8.self)
        guard octet >= UInt8(ascii: "0"), octet <= UInt8(ascii: "9") else { return nil }
        let (times, overflow) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times.addingReportingOverflow(UInt64(octet - UInt8(ascii: "0")))
        guard !overflow, !overflow2 else { return nil }
        value = sum
    }
    return value
}
