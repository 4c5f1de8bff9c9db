import Framing

/// A demuxer configuration chosen by one option octet of the input, so that the fuzzer explores
/// limits and preface policies as well as bytes.
///
/// Option octet, TCP envelope: bit 0 set = no preface expected; bits 1–3 index
/// `envelopeMaxFrameSizes`. HTTP/2: bits 0–1 the preface policy (0 none, 1 required,
/// 2 optional, 3 the `Demuxer(dialect: .http2)` default); bits 2–4 index `http2MaxFrameSizes`.
/// QUIC has no options. Option 0 is each dialect's default demuxer.
public struct DemuxerSetup: CustomStringConvertible {
    /// Requested envelope maximum payload sizes; out-of-range values test the clamping.
    public static let envelopeMaxFrameSizes = [16_384, 64, 0, 1_000, 16_385, 65_536, 1 << 20, 16_777_215]
    /// Requested HTTP/2 SETTINGS_MAX_FRAME_SIZE values; out-of-range values test the clamping.
    public static let http2MaxFrameSizes = [16_384, 16_383, 16_385, 65_536, 1 << 20, 16_777_215, 0, Int.max]

    public let dialect: Dialect
    public let options: UInt8
    /// The largest payload the decoder accepts, after clamping (0 for QUIC).
    public let maxFrameSize: Int
    /// The most octets the demuxer may buffer: one maximum-size frame with its header (0 for QUIC).
    public let maxFrameLength: Int
    private let make: () -> Demuxer

    public init(dialect: Dialect, options: UInt8) {
        self.dialect = dialect
        self.options = options
        switch dialect {
        case .envelope:
            let decoder = EnvelopeFrameDecoder(maxFrameSize: Self.envelopeMaxFrameSizes[Int(options >> 1) & 7],
                                               expectPreface: options & 1 == 0)
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            make = options == 0 ? { Demuxer(dialect: .envelope) } : { Demuxer(decoder) }
        case .http2:
            let policies: [HTTP2FrameDecoder.PrefacePolicy] = [.none, .required, .optional, .optional]
            let requested = Self.http2MaxFrameSizes[Int(options >> 2) & 7]
            let decoder = HTTP2FrameDecoder(maxFrameSize: requested, preface: policies[Int(options & 3)])
            maxFrameSize = decoder.maxFrameSize
            maxFrameLength = decoder.maxFrameLength
            make = options & 3 == 3 ? { Demuxer(dialect: .http2, maxFrameSize: requested) } : { Demuxer(decoder) }
        default:
            precondition(dialect == .quic, "no fuzz setup for \(dialect)")
            maxFrameSize = 0
            maxFrameLength = 0
            make = { Demuxer(dialect: .quic) }
        }
    }

    /// A fresh demuxer with this configuration.
    public func makeDemuxer() -> Demuxer {
        let demuxer = make()
        check(demuxer.dialect == dialect, "demuxer for \(dialect) reports \(demuxer.dialect)")
        check(demuxer.offset == 0 && demuxer.bufferedByteCount == 0 && demuxer.failure == nil, "fresh demuxer is not fresh")
        return demuxer
    }

    public var description: String { "\(dialect) options 0x\(String(options, radix: 16)) maxFrameSize \(maxFrameSize)" }
}
