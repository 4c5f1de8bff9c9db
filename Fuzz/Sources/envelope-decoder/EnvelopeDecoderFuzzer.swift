// Fuzz target: the TCP envelope decoder, whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bit 0 set = no preface; bits 1–3 the maximum
// frame size), then the byte stream, fed in one piece and then ended.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func envelopeDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .envelope, options: input.byte())
    checkWholeStream(setup, input.rest())
    return 0
}
