// Fuzz target: the text-lines decoder (spec/lines.md), whole-buffer.
// Input: one option octet (see `DemuxerSetup`: bits 0–2 the maximum line length), then the byte
// stream, fed in one piece and then ended.
//
// Checks what every whole-buffer target checks, and walks the stream independently: each item is
// the next line (up to its LF, a CR before the LF not content) — PING and PONG as heartbeats, any
// other content as business —; the stream ends where the items do, with TRUNCATED when a
// short unterminated line is left and LINE_TOO_LONG exactly when the next line cannot fit.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func linesDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let setup = DemuxerSetup(dialect: .lines, options: input.byte())
    let stream = input.rest()
    let outcome = checkWholeStream(setup, stream)
    var offset = 0
    for received in outcome.items {
        guard let lf = stream[offset...].firstIndex(of: 0x0A) else { fatalError("item \(received) at \(offset) with no LF after it") }
        let end = lf > offset && stream[lf - 1] == 0x0D ? lf - 1 : lf
        let content = stream[offset..<end]
        let expected: DemuxedItem = content.elementsEqual("PING".utf8) ? .ping(.empty) : content.elementsEqual("PONG".utf8) ? .pong(.empty)
            : .business(BusinessFrame(type: 0, length: content.count))
        check(received == Received(expected, slice: expected.isHeartbeat ? [] : content), "line at \(offset): \(received), expected \(expected)")
        offset = lf + 1
    }
    check(offset == outcome.offset, "lines cover \(offset) octets, the demuxer stopped at \(outcome.offset)")
    let rest = stream[offset...]
    let nextLF = rest.firstIndex(of: 0x0A)
    let tooLong: Bool
    if let nextLF {
        tooLong = (nextLF > offset && stream[nextLF - 1] == 0x0D ? nextLF - 1 : nextLF) - offset > setup.maxFrameSize
    } else {
        tooLong = rest.count >= setup.maxFrameSize + 2 || rest.count == setup.maxFrameSize + 1 && rest.last != 0x0D
    }
    switch outcome.error?.code.name {
    case nil: check(rest.isEmpty, "\(rest.count) octets left with no error")
    case "LINE_TOO_LONG"?: check(tooLong, "LINE_TOO_LONG at \(offset) for a line that fits")
    default: check(outcome.error?.reason == .truncated && !tooLong && nextLF == nil, "error \(outcome.error!) at \(offset)")
    }
    return 0
}
