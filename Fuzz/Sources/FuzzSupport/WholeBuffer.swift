import Framing

/// The whole-buffer decoder check shared by `envelope-decoder`, `http2-decoder` and `websocket-decoder`: demux `stream`
/// in one feed and check what must hold of the outcome (see `demux`), that complete frames are
/// handed over in place, in order, and that the items reported before the end or the error are
/// exactly those of the input cut there. Returns the outcome.
@discardableResult
public func checkWholeStream(_ setup: DemuxerSetup, _ stream: [UInt8]) -> DemuxOutcome {
    // One demux checks the outcome and (WebSocket aside: masked payloads are unmasked copies) that
    // complete frames are handed over in place, in order.
    let outcome = demux(setup, stream, ranges: [0..<stream.count], inPlace: setup.dialect != .webSocket)
    if setup.dialect == .webSocket { checkWebSocketWire(setup, stream, outcome) }
    if setup.dialect == .http2 { checkHeaderBlocks(outcome.items) }
    if setup.dialect == .envelope, setup.options & 1 == 0, outcome.offset > 0 {
        var preface: [UInt8] = []
        EnvelopeFrame.appendPreface(to: &preface)
        check(Array(stream.prefix(preface.count)) == preface, "envelope frames accepted without the preface")
    }
    // The outcome up to the cut is the outcome of the input cut there. (A cut at the end is the
    // input itself: nothing to demux again.)
    let cut = outcome.error?.offset ?? outcome.offset
    if cut < stream.count {
        let prefix = demux(setup, stream, ranges: [0..<cut])
        check(prefix.error == nil, "the input up to the cut at \(cut) fails: \(String(describing: prefix.error))")
        check(prefix.items == outcome.items, "the input cut at \(cut) gives \(prefix.items.count) items, not \(outcome.items.count)")
        check(prefix.offset == cut && prefix.bufferedByteCount == 0, "the input cut at \(cut) stops at \(prefix.offset)")
    }
    return outcome
}

/// No frame other than a CONTINUATION on the same stream — a PING included — is reported inside
/// a HEADERS or PUSH_PROMISE header block (RFC 9113 §6.10), and no CONTINUATION outside one.
func checkHeaderBlocks(_ items: [Received]) {
    var open: UInt32?
    for received in items {
        guard case .business(let frame) = received.item else {
            check(open == nil, "\(received.item) inside the header block of stream \(open!)")
            continue
        }
        let type = UInt8(truncatingIfNeeded: frame.type)
        if let stream = open {
            check(type == HTTP2Frame.FrameType.continuation && frame.streamID == stream,
                  "frame type \(type) on stream \(frame.streamID) inside the header block of stream \(stream)")
        } else {
            check(type != HTTP2Frame.FrameType.continuation, "CONTINUATION outside a header block")
        }
        switch type {
        case HTTP2Frame.FrameType.headers, HTTP2Frame.FrameType.pushPromise, HTTP2Frame.FrameType.continuation:
            open = frame.flags & HTTP2Frame.Flags.endHeaders == 0 ? frame.streamID : nil
        default:
            break
        }
    }
}

/// QUIC packets from the input, in one array with the range of each packet: the whole input as
/// one packet, or packets each prefixed by its length as a QUIC varint (the last one takes what is
/// left when the length says more).
public func quicPackets(_ input: inout FuzzInput, lengthPrefixed: Bool) -> (stream: [UInt8], packets: [Range<Int>]) {
    guard lengthPrefixed else {
        let stream = input.rest()
        return (stream, [0..<stream.count])
    }
    var stream: [UInt8] = []
    stream.reserveCapacity(input.remaining)
    var packets: [Range<Int>] = []
    while !input.isAtEnd {
        let length = Int(min(input.varintValue(), UInt64(input.remaining)))
        let start = stream.count
        for _ in 0..<length { stream.append(input.byte()) }
        packets.append(start..<stream.count)
    }
    return (stream, packets)
}

/// The whole-packet QUIC check: demux the packets (ranges of `stream`, fed one by one) and check
/// the outcome (see `demux`), and that the items before an error are those of the packets cut at
/// the error.
public func checkQUICPackets(_ stream: [UInt8], _ packets: [Range<Int>]) {
    let setup = DemuxerSetup(dialect: .quic, options: 0)
    let outcome = demux(setup, stream, ranges: packets)
    check(outcome.bufferedByteCount == 0, "QUIC demuxer buffered \(outcome.bufferedByteCount) octets")
    guard let error = outcome.error else {
        check(outcome.offset == stream.count, "QUIC offset \(outcome.offset) is not the octets fed")
        return
    }
    var cutPackets: [Range<Int>] = []
    for packet in packets {
        if error.offset < packet.upperBound {
            cutPackets.append(packet.lowerBound..<error.offset)
            break
        }
        cutPackets.append(packet)
    }
    let prefix = demux(setup, stream, ranges: cutPackets)
    check(prefix.error == nil, "the packets cut at \(error.offset) fail: \(String(describing: prefix.error))")
    check(prefix.items == outcome.items, "the packets cut at \(error.offset) give other items")
}
