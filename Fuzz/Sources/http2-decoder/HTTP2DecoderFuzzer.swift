// Fuzz target: the HTTP/2 frame decoder, whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–1 the preface policy, bits 2–4
// SETTINGS_MAX_FRAME_SIZE), then the byte stream, fed in one piece and then ended.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func http2DecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .http2, options: input.byte())
    checkWholeStream(setup, input.rest())
    return 0
}
