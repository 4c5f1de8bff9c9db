// Fuzz target: the QUIC packet-payload demuxer, whole packets.
// Input: one option octet; bit 0 clear = the rest is one packet payload, set = packets each
// prefixed by a QUIC varint length. Each packet is fed whole, in order.
import FuzzSupport
import Framing

@_cdecl("LLVMFuzzerTestOneInput")
public func quicDecoderFuzzer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let lengthPrefixed = input.byte() & 1 == 1
    let (stream, packets) = quicPackets(&input, lengthPrefixed: lengthPrefixed)
    checkQUICPackets(stream, packets)
    return 0
}
