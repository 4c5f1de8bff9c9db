#!/usr/bin/env python3
"""Writes the swift-heartbeat test vectors (spec/vectors/*.json).

The bytes are built here, in plain Python from the RFCs and spec/envelope.md, independently of
the Swift implementation; the expected items and errors are written by hand next to each input.
Run it from anywhere: `python3 spec/vectors/generate.py`. The output is deterministic.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(value, length=None):
    """QUIC variable-length integer (RFC 9000 §16), shortest form unless `length` is given."""
    if length is None:
        length = 1 if value < 1 << 6 else 2 if value < 1 << 14 else 4 if value < 1 << 30 else 8
    prefix = {1: 0, 2: 1, 4: 2, 8: 3}[length]
    assert value < 1 << (length * 8 - 2)
    return ((prefix << (length * 8 - 2)) | value).to_bytes(length, "big")


def hexs(data):
    return data.hex()


# ---------------------------------------------------------------- envelope (spec/envelope.md)
MAGIC = bytes([0x89, 0x48, 0x42, 0x0D, 0x0A, 0x1A, 0x0A])
PREFACE = MAGIC + bytes([1])


def env(ftype, payload, type_len=None, length_len=None):
    return varint(ftype, type_len) + varint(len(payload), length_len) + payload


def env_goaway(code, reason):
    return env(3, varint(code) + reason)


P1 = bytes.fromhex("0000000100000bb8")  # sequence 1, sent at 3,000 ms
P2 = bytes.fromhex("00000002000017a0")
PFF = bytes([0xFF] * 8)


def ping_item(payload):
    return {"item": "ping", "payload": hexs(payload)}


def pong_item(payload):
    return {"item": "pong", "payload": hexs(payload)}


def biz(ftype, data, flags=None, stream=None):
    item = {"item": "business", "type": ftype, "data": hexs(data)}
    if flags is not None:
        item["flags"] = flags
        item["stream"] = stream
    return item


def err(code, offset, reason):
    return {"code": code, "offset": offset, "reason": reason}


def stream_vector(dialect, name, description, data, items, error, options, reference):
    vector = {"name": name, "dialect": dialect, "description": description, "reference": reference,
              "input": hexs(data), "items": items, "error": error}
    if options:
        vector["options"] = options
    return vector


envelope = []


def E(name, description, data, items, error=None, options=None, reference="spec/envelope.md"):
    envelope.append(stream_vector("envelope", name, description, data, items, error, options, reference))


E("envelope-ping", "Preface then a PING: one ping item.", PREFACE + env(1, P1), [ping_item(P1)], reference="spec/envelope.md §5.2")
E("envelope-pong", "Preface then a PONG echoing the payload.", PREFACE + env(2, P1), [pong_item(P1)], reference="spec/envelope.md §5.3")
E("envelope-data", "A DATA frame is business data, payload handed over.", PREFACE + env(0, b"hello"), [biz(0, b"hello")], reference="spec/envelope.md §5.1")
E("envelope-data-empty", "An empty DATA frame is allowed.", PREFACE + env(0, b""), [biz(0, b"")])
E("envelope-goaway", "GOAWAY is passed on as a business frame of type 3.", PREFACE + env_goaway(0, b"bye"),
  [biz(3, varint(0) + b"bye")], reference="spec/envelope.md §5.4")
E("envelope-goaway-long-code", "GOAWAY with an 8-octet error code and a UTF-8 reason.",
  PREFACE + env_goaway(2**40, "délai".encode()), [biz(3, varint(2**40) + "délai".encode())])
E("envelope-goaway-empty", "GOAWAY without room for its error code is FRAME_SIZE_ERROR.", PREFACE + env(3, b""),
  [], err("FRAME_SIZE_ERROR", 8, "malformed-goaway"))
E("envelope-unknown-type", "An unknown frame type is passed on, never rejected.", PREFACE + env(0x21, b"\x01\x02"), [biz(0x21, b"\x01\x02")],
  reference="spec/envelope.md §5.5")
E("envelope-unknown-two-octet-type", "A two-octet (minimal) unknown type is passed on.", PREFACE + env(64, b"x"), [biz(64, b"x")])
E("envelope-unknown-type-between", "An unknown frame between heartbeats does not disturb them.",
  PREFACE + env(1, P1) + env(0x3f, b"ext") + env(2, P2), [ping_item(P1), biz(0x3f, b"ext"), pong_item(P2)])
E("envelope-non-minimal-type", "A frame type in a longer encoding than needed is PROTOCOL_ERROR.",
  PREFACE + env(1, P1, type_len=2), [], err("PROTOCOL_ERROR", 8, "non-minimal-frame-type"), reference="spec/envelope.md §4")
E("envelope-non-minimal-length", "A length may use a longer encoding than needed.", PREFACE + env(0, b"abc", length_len=4), [biz(0, b"abc")])
E("envelope-bad-magic-http", "A peer speaking HTTP/1.1 fails at the first octet.", b"GET / HTTP/1.1\r\n\r\n", [],
  err("PREFACE_ERROR", 0, "preface-mismatch"), reference="spec/envelope.md §3")
E("envelope-bad-magic-tls", "A peer speaking TLS fails at the first octet.", bytes.fromhex("160301020001"), [],
  err("PREFACE_ERROR", 0, "preface-mismatch"))
E("envelope-bad-magic-late", "A magic that differs at its last octet still fails at once.", MAGIC[:6] + b"\x0d\x01", [],
  err("PREFACE_ERROR", 0, "preface-mismatch"))
E("envelope-bad-version", "Version 2 is not spoken: VERSION_ERROR.", MAGIC + b"\x02" + env(1, P1), [],
  err("VERSION_ERROR", 0, "unsupported-version"))
E("envelope-ping-short", "A PING with 7 payload octets is FRAME_SIZE_ERROR.", PREFACE + env(1, P1[:7]), [],
  err("FRAME_SIZE_ERROR", 8, "heartbeat-length"), reference="spec/envelope.md §5.2")
E("envelope-ping-long", "A PING with 9 payload octets is FRAME_SIZE_ERROR.", PREFACE + env(1, P1 + b"\x00"), [],
  err("FRAME_SIZE_ERROR", 8, "heartbeat-length"))
E("envelope-pong-empty", "A PONG without payload is FRAME_SIZE_ERROR.", PREFACE + env(2, b""), [],
  err("FRAME_SIZE_ERROR", 8, "heartbeat-length"), reference="spec/envelope.md §5.3")
E("envelope-frame-too-large", "A DATA frame declaring 16,385 octets fails as soon as its length is read.",
  PREFACE + varint(0) + varint(16385), [], err("FRAME_SIZE_ERROR", 8, "frame-too-large"), reference="spec/envelope.md §4")
E("envelope-frame-huge", "A length of 2^62-1 fails at the header, without waiting for (or allocating) the payload.",
  PREFACE + varint(0) + varint(2**62 - 1), [], err("FRAME_SIZE_ERROR", 8, "frame-too-large"))
E("envelope-frame-max", "A DATA frame of exactly the maximum (16,384 octets) is accepted.", PREFACE + env(0, bytes(range(256)) * 64),
  [biz(0, bytes(range(256)) * 64)])
E("envelope-larger-limit-truncated", "With a 1 MiB limit, a 70,000-octet frame cut short is TRUNCATED at its start.",
  PREFACE + env(1, P1) + varint(0) + varint(70000) + b"abc", [ping_item(P1)], err("TRUNCATED", 18, "truncated"),
  options={"maxFrameSize": 1048576})
E("envelope-truncated-preface", "Input that ends inside the preface is TRUNCATED at offset 0.", PREFACE[:5], [], err("TRUNCATED", 0, "truncated"))
E("envelope-truncated-header", "Input that ends inside a frame header is TRUNCATED at the frame's start.",
  PREFACE + env(0, b"ok") + b"\x00", [biz(0, b"ok")], err("TRUNCATED", 12, "truncated"))
E("envelope-truncated-payload", "Input that ends inside a PING's payload is TRUNCATED at the frame's start.",
  PREFACE + env(1, P1)[:6], [], err("TRUNCATED", 8, "truncated"))
E("envelope-mixed", "DATA, PING, DATA, PONG, GOAWAY in one stream, in order.",
  PREFACE + env(0, b"a" * 40) + env(1, P1) + env(0, b"b" * 70) + env(2, P2) + env_goaway(7, b"dead"),
  [biz(0, b"a" * 40), ping_item(P1), biz(0, b"b" * 70), pong_item(P2), biz(3, varint(7) + b"dead")])
E("envelope-no-preface", "A decoder configured without a preface reads frames from the first octet.",
  env(1, PFF) + env(0, b"z"), [ping_item(PFF), biz(0, b"z")], options={"preface": "none"})
E("envelope-error-after-items", "Items before an error are reported; the error stops the stream.",
  PREFACE + env(0, b"x") + env(1, P1) + env(1, b"\x00" * 4) + env(0, b"never"), [biz(0, b"x"), ping_item(P1)],
  err("FRAME_SIZE_ERROR", 21, "heartbeat-length"))
E("envelope-empty", "Empty input: no items, no error (the stream may end before the preface).", b"", [])

# ---------------------------------------------------------------- HTTP/2 (RFC 9113)
CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2(ftype, flags, stream, payload, length=None):
    length = len(payload) if length is None else length
    return length.to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


http2 = []


def H(name, description, data, items, error=None, options=None, reference="RFC 9113"):
    http2.append(stream_vector("http2", name, description, data, items, error, options, reference))


H("h2-ping", "PING without ACK is a heartbeat request.", h2(6, 0, 0, P1), [ping_item(P1)], reference="RFC 9113 §6.7")
H("h2-ping-ack", "PING with ACK answers our ping.", h2(6, 1, 0, P1), [pong_item(P1)], reference="RFC 9113 §6.7")
H("h2-ping-unknown-flags", "Undefined flags on PING are ignored.", h2(6, 0xFE, 0, PFF), [ping_item(PFF)], reference="RFC 9113 §4.1")
H("h2-ping-reserved-bit", "The reserved stream bit is ignored: stream 0x80000000 is stream 0.", h2(6, 1, 0x80000000, P2),
  [pong_item(P2)], reference="RFC 9113 §4.1")
for bad in (0, 7, 9, 16):
    H(f"h2-ping-length-{bad}", f"PING with a {bad}-octet payload is FRAME_SIZE_ERROR.", h2(6, 0, 0, bytes(bad)), [],
      err("FRAME_SIZE_ERROR", 0, "heartbeat-length"), reference="RFC 9113 §6.7")
H("h2-ping-length-header-only", "A PING header announcing 12 octets fails before its payload arrives.", h2(6, 0, 0, b"", length=12), [],
  err("FRAME_SIZE_ERROR", 0, "heartbeat-length"))
H("h2-ping-stream-1", "PING on stream 1 is PROTOCOL_ERROR.", h2(6, 0, 1, P1), [], err("PROTOCOL_ERROR", 0, "ping-on-stream"),
  reference="RFC 9113 §6.7")
H("h2-ping-stream-and-length", "PING with a bad length and a bad stream: the length is checked first (as nghttp2 and Go do).",
  h2(6, 0, 3, bytes(4)), [], err("FRAME_SIZE_ERROR", 0, "heartbeat-length"))
H("h2-data", "DATA is business data with its flags and stream.", h2(0, 1, 1, b"hello"), [biz(0, b"hello", 1, 1)], reference="RFC 9113 §6.1")
H("h2-data-empty", "An empty DATA frame.", h2(0, 0, 3, b""), [biz(0, b"", 0, 3)])
H("h2-headers", "HEADERS with END_HEADERS.", h2(1, 4, 1, b"\x82\x86"), [biz(1, b"\x82\x86", 4, 1)], reference="RFC 9113 §6.2")
H("h2-priority", "PRIORITY.", h2(2, 0, 3, bytes(5)), [biz(2, bytes(5), 0, 3)], reference="RFC 9113 §6.3")
H("h2-rst-stream", "RST_STREAM.", h2(3, 0, 1, bytes([0, 0, 0, 8])), [biz(3, bytes([0, 0, 0, 8]), 0, 1)], reference="RFC 9113 §6.4")
H("h2-settings", "SETTINGS with one parameter.", h2(4, 0, 0, bytes([0, 5, 0, 0, 0x40, 0])), [biz(4, bytes([0, 5, 0, 0, 0x40, 0]), 0, 0)],
  reference="RFC 9113 §6.5")
H("h2-settings-ack", "SETTINGS ACK.", h2(4, 1, 0, b""), [biz(4, b"", 1, 0)])
H("h2-goaway", "GOAWAY with ENHANCE_YOUR_CALM and debug data.", h2(7, 0, 0, bytes([0, 0, 0, 0, 0, 0, 0, 0x0b]) + b"too_many_pings"),
  [biz(7, bytes([0, 0, 0, 0, 0, 0, 0, 0x0b]) + b"too_many_pings", 0, 0)], reference="RFC 9113 §6.8")
H("h2-window-update", "WINDOW_UPDATE.", h2(8, 0, 0, bytes([0, 1, 0, 0])), [biz(8, bytes([0, 1, 0, 0]), 0, 0)], reference="RFC 9113 §6.9")
H("h2-unknown-type", "An unknown frame type is passed on as business data.", h2(0xFA, 0x33, 5, b"ext"), [biz(0xFA, b"ext", 0x33, 5)],
  reference="RFC 9113 §4.1, §5.5")
H("h2-header-block", "HEADERS, CONTINUATION, CONTINUATION with END_HEADERS, then a PING.",
  h2(1, 0, 1, b"a") + h2(9, 0, 1, b"b") + h2(9, 4, 1, b"c") + h2(6, 0, 0, P1),
  [biz(1, b"a", 0, 1), biz(9, b"b", 0, 1), biz(9, b"c", 4, 1), ping_item(P1)], reference="RFC 9113 §6.10")
H("h2-ping-inside-header-block", "A PING between HEADERS without END_HEADERS and its CONTINUATION is PROTOCOL_ERROR.",
  h2(1, 0, 1, b"a") + h2(6, 0, 0, P1) + h2(9, 4, 1, b"b"), [biz(1, b"a", 0, 1)],
  err("PROTOCOL_ERROR", 10, "header-block-interrupted"), reference="RFC 9113 §6.10")
H("h2-ping-inside-push-promise", "A PING inside a PUSH_PROMISE header block is PROTOCOL_ERROR.",
  h2(5, 0, 1, bytes([0, 0, 0, 2]) + b"x") + h2(6, 1, 0, P1), [biz(5, bytes([0, 0, 0, 2]) + b"x", 0, 1)],
  err("PROTOCOL_ERROR", 14, "header-block-interrupted"))
H("h2-data-inside-header-block", "DATA inside a header block is PROTOCOL_ERROR.",
  h2(1, 0, 1, b"a") + h2(9, 0, 1, b"b") + h2(0, 0, 1, b"d"), [biz(1, b"a", 0, 1), biz(9, b"b", 0, 1)],
  err("PROTOCOL_ERROR", 20, "header-block-interrupted"))
H("h2-continuation-other-stream", "CONTINUATION on another stream than the open header block is PROTOCOL_ERROR.",
  h2(1, 0, 1, b"a") + h2(9, 4, 3, b"b"), [biz(1, b"a", 0, 1)], err("PROTOCOL_ERROR", 10, "header-block-interrupted"))
H("h2-continuation-alone", "CONTINUATION without an open header block is PROTOCOL_ERROR.", h2(9, 4, 1, b"b"), [],
  err("PROTOCOL_ERROR", 0, "unexpected-continuation"))
H("h2-frame-max", "A frame of exactly SETTINGS_MAX_FRAME_SIZE (16,384) is accepted.", h2(0, 0, 1, bytes(range(256)) * 64),
  [biz(0, bytes(range(256)) * 64, 0, 1)], reference="RFC 9113 §4.2")
H("h2-frame-too-large", "A frame header announcing 16,385 octets is FRAME_SIZE_ERROR before its payload.",
  h2(0, 0, 1, b"", length=16385), [], err("FRAME_SIZE_ERROR", 0, "frame-too-large"), reference="RFC 9113 §4.2")
H("h2-frame-too-large-unknown-type", "The size limit applies to unknown types too.", h2(0x20, 0, 0, b"", length=2**24 - 1), [],
  err("FRAME_SIZE_ERROR", 0, "frame-too-large"))
H("h2-larger-limit", "With SETTINGS_MAX_FRAME_SIZE 2^24-1 a 2^24-1 frame is awaited, then TRUNCATED when the input ends.",
  h2(6, 0, 0, P1) + h2(0, 0, 1, b"part", length=2**24 - 1), [ping_item(P1)], err("TRUNCATED", 17, "truncated"),
  options={"maxFrameSize": 2**24 - 1})
H("h2-preface-required", "A server requiring the client preface skips it and reads SETTINGS.",
  CLIENT_PREFACE + h2(4, 0, 0, b"") + h2(6, 0, 0, P1), [biz(4, b"", 0, 0), ping_item(P1)], options={"preface": "required"},
  reference="RFC 9113 §3.4")
H("h2-preface-required-wrong", "An HTTP/1.1 request where the preface is required is PROTOCOL_ERROR.",
  b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", [], err("PROTOCOL_ERROR", 0, "preface-mismatch"), options={"preface": "required"})
H("h2-preface-required-missing", "Frames without the required preface are PROTOCOL_ERROR.", h2(4, 0, 0, b""), [],
  err("PROTOCOL_ERROR", 0, "preface-mismatch"), options={"preface": "required"})
H("h2-preface-optional-present", "An optional preface is skipped when present.", CLIENT_PREFACE + h2(6, 1, 0, P2),
  [pong_item(P2)], options={"preface": "optional"})
H("h2-preface-optional-absent", "An optional preface may be absent: frames from the first octet.", h2(6, 1, 0, P2) + h2(0, 0, 1, b""),
  [pong_item(P2), biz(0, b"", 0, 1)], options={"preface": "optional"})
H("h2-truncated-header", "Input that ends inside a frame header is TRUNCATED.", h2(6, 0, 0, P1)[:5], [], err("TRUNCATED", 0, "truncated"))
H("h2-truncated-payload", "Input that ends inside a payload is TRUNCATED at the frame's start.",
  h2(0, 0, 1, b"abc") + h2(6, 0, 0, P1)[:12], [biz(0, b"abc", 0, 1)], err("TRUNCATED", 12, "truncated"))
H("h2-mixed", "DATA frames with PINGs between them, in order.",
  h2(0, 0, 1, b"x" * 100) + h2(6, 0, 0, P1) + h2(0, 0, 3, b"y" * 33) + h2(6, 1, 0, P2) + h2(0, 1, 1, b""),
  [biz(0, b"x" * 100, 0, 1), ping_item(P1), biz(0, b"y" * 33, 0, 3), pong_item(P2), biz(0, b"", 1, 1)])

# ---------------------------------------------------------------- QUIC (RFC 9000, RFC 9221)
quic = []


def Q(name, description, packets, items, error=None, reference="RFC 9000 §19"):
    if isinstance(packets, bytes):
        packets = [packets]
    quic.append({"name": name, "dialect": "quic", "description": description, "reference": reference,
                 "packets": [hexs(p) for p in packets], "items": items, "error": error})


def qbiz(frame):
    return {"item": "business", "type": None, "data": hexs(frame)}


def qf(ftype, *fields):
    out = varint(ftype)
    for f in fields:
        out += varint(f) if isinstance(f, int) else f
    return out


def qb(ftype, frame):
    item = qbiz(frame)
    item["type"] = ftype
    return item


QPING = {"item": "quic-ping"}


def ack(largest, delay, first, ranges=(), ecn=None):
    frame = qf(3 if ecn else 2, largest, delay, len(ranges), first)
    for gap, length in ranges:
        frame += varint(gap) + varint(length)
    if ecn:
        for count in ecn:
            frame += varint(count)
    # Expected ranges, largest first.
    expected = [[largest - first, largest]]
    smallest = largest - first
    for gap, length in ranges:
        hi = smallest - gap - 2
        lo = hi - length
        expected.append([lo, hi])
        smallest = lo
    item = {"item": "quic-ack", "largest": largest, "delay": delay, "ranges": expected}
    if ecn:
        item["ecn"] = list(ecn)
    return frame, item


Q("quic-ping", "PING (type 0x01) is a heartbeat.", b"\x01", [QPING], reference="RFC 9000 §19.2")
Q("quic-padding-ping", "A PADDING run is skipped; the PING after it is reported.", bytes(20) + b"\x01", [QPING], reference="RFC 9000 §19.1")
Q("quic-ping-padding", "PING then PADDING to the end of the packet.", b"\x01" + bytes(1000), [QPING])
Q("quic-padding-only", "A packet of PADDING reports nothing.", bytes(37), [])
Q("quic-two-pings", "Two PINGs in one packet are two heartbeats.", b"\x01\x01", [QPING, QPING])
frame, item = ack(10, 5, 3)
Q("quic-ack", "ACK with only a first range: 7..10.", frame, [item], reference="RFC 9000 §19.3")
frame, item = ack(100, 25, 2, [(3, 4), (0, 0)])
Q("quic-ack-ranges", "ACK with two more ranges: 98..100, 89..93, 87..87.", frame, [item], reference="RFC 9000 §19.3.1")
frame, item = ack(2**30, 2**20, 0, ecn=(1, 2, 3))
Q("quic-ack-ecn", "ACK_ECN (type 0x03) with its three counts.", frame, [item], reference="RFC 9000 §19.3.2")
frame, item = ack(0, 0, 0)
Q("quic-ack-zero", "ACK of packet 0 alone.", frame, [item])
Q("quic-ack-first-range-underflow", "A first range reaching below packet 0 is FRAME_ENCODING_ERROR.", qf(2, 3, 0, 0, 4), [],
  err("FRAME_ENCODING_ERROR", 0, "ack-range-underflow"), reference="RFC 9000 §19.3.1")
Q("quic-ack-gap-underflow", "A later range reaching below packet 0 is FRAME_ENCODING_ERROR.", b"\x01" + qf(2, 10, 0, 1, 2, 6, 1), [QPING],
  err("FRAME_ENCODING_ERROR", 1, "ack-range-underflow"))
Q("quic-ack-truncated", "An ACK cut short by the end of the packet is FRAME_ENCODING_ERROR.", qf(2, 10, 0, 2, 1, 1), [],
  err("FRAME_ENCODING_ERROR", 0, "frame-truncated"), reference="RFC 9000 §12.4")
Q("quic-ack-huge-range-count", "A range count of 2^62-1 with no ranges following is cut short, not a long loop.",
  qf(2, 10, 0, 2**62 - 1, 1), [], err("FRAME_ENCODING_ERROR", 0, "frame-truncated"))
Q("quic-reset-stream", "RESET_STREAM.", qf(4, 4, 0x10c, 1000), [qb(4, qf(4, 4, 0x10c, 1000))], reference="RFC 9000 §19.4")
Q("quic-stop-sending", "STOP_SENDING.", qf(5, 8, 1), [qb(5, qf(5, 8, 1))], reference="RFC 9000 §19.5")
crypto = qf(6, 0, 5, b"hello")
Q("quic-crypto", "CRYPTO with offset and data.", crypto + b"\x01", [qb(6, crypto), QPING], reference="RFC 9000 §19.6")
Q("quic-crypto-truncated", "CRYPTO whose data runs past the packet is FRAME_ENCODING_ERROR.", qf(6, 0, 50, b"short"), [],
  err("FRAME_ENCODING_ERROR", 0, "frame-truncated"))
Q("quic-crypto-offset-overflow", "CRYPTO with offset + length above 2^62-1 is FRAME_ENCODING_ERROR.", qf(6, 2**62 - 2, 2, b"ab"), [],
  err("FRAME_ENCODING_ERROR", 0, "stream-offset-overflow"))
token = qf(7, 4, b"tokn")
Q("quic-new-token", "NEW_TOKEN.", token, [qb(7, token)], reference="RFC 9000 §19.7")
Q("quic-new-token-empty", "NEW_TOKEN with an empty token is FRAME_ENCODING_ERROR.", qf(7, 0), [],
  err("FRAME_ENCODING_ERROR", 0, "empty-token"), reference="RFC 9000 §19.7")
for ftype in range(0x08, 0x10):
    off = ftype & 0x04
    ln = ftype & 0x02
    body = varint(4) + (varint(1000) if off else b"") + (varint(3) if ln else b"") + b"abc"
    frame = varint(ftype) + body
    if ln:
        Q(f"quic-stream-{ftype:02x}", f"STREAM type 0x{ftype:02x} with a Length field, then a PING.", frame + b"\x01",
          [qb(ftype, frame), QPING], reference="RFC 9000 §19.8")
    else:
        Q(f"quic-stream-{ftype:02x}", f"STREAM type 0x{ftype:02x} without Length runs to the end of the packet (the 0x01 is data).",
          frame + b"\x01", [qb(ftype, frame + b"\x01")], reference="RFC 9000 §19.8")
Q("quic-stream-offset-overflow", "STREAM with offset + length above 2^62-1 is FRAME_ENCODING_ERROR.",
  varint(0x0e) + varint(0) + varint(2**62 - 1) + varint(1) + b"x", [], err("FRAME_ENCODING_ERROR", 0, "stream-offset-overflow"),
  reference="RFC 9000 §19.8")
Q("quic-max-data", "MAX_DATA.", qf(0x10, 2**20), [qb(0x10, qf(0x10, 2**20))], reference="RFC 9000 §19.9")
Q("quic-max-stream-data", "MAX_STREAM_DATA.", qf(0x11, 0, 65536), [qb(0x11, qf(0x11, 0, 65536))], reference="RFC 9000 §19.10")
Q("quic-max-streams-bidi", "MAX_STREAMS (bidirectional) at the 2^60 limit.", qf(0x12, 2**60), [qb(0x12, qf(0x12, 2**60))],
  reference="RFC 9000 §19.11")
Q("quic-max-streams-uni-too-large", "MAX_STREAMS above 2^60 is FRAME_ENCODING_ERROR.", qf(0x13, 2**60 + 1), [],
  err("FRAME_ENCODING_ERROR", 0, "stream-count-too-large"), reference="RFC 9000 §19.11")
Q("quic-data-blocked", "DATA_BLOCKED.", qf(0x14, 77), [qb(0x14, qf(0x14, 77))], reference="RFC 9000 §19.12")
Q("quic-stream-data-blocked", "STREAM_DATA_BLOCKED.", qf(0x15, 4, 77), [qb(0x15, qf(0x15, 4, 77))], reference="RFC 9000 §19.13")
Q("quic-streams-blocked-uni", "STREAMS_BLOCKED (unidirectional).", qf(0x17, 3), [qb(0x17, qf(0x17, 3))], reference="RFC 9000 §19.14")
Q("quic-streams-blocked-too-large", "STREAMS_BLOCKED above 2^60 is FRAME_ENCODING_ERROR.", qf(0x16, 2**61), [],
  err("FRAME_ENCODING_ERROR", 0, "stream-count-too-large"), reference="RFC 9000 §19.14")
ncid = qf(0x18, 2, 1) + bytes([8]) + bytes(range(8)) + bytes(range(16))
Q("quic-new-connection-id", "NEW_CONNECTION_ID with an 8-octet ID and a reset token.", ncid, [qb(0x18, ncid)], reference="RFC 9000 §19.15")
Q("quic-new-connection-id-zero-length", "NEW_CONNECTION_ID with a 0-octet ID is FRAME_ENCODING_ERROR.",
  qf(0x18, 2, 1) + bytes([0]) + bytes(16), [], err("FRAME_ENCODING_ERROR", 0, "connection-id-length"))
Q("quic-new-connection-id-21", "NEW_CONNECTION_ID with a 21-octet ID is FRAME_ENCODING_ERROR.",
  qf(0x18, 2, 1) + bytes([21]) + bytes(21 + 16), [], err("FRAME_ENCODING_ERROR", 0, "connection-id-length"))
Q("quic-new-connection-id-retire", "Retire Prior To above Sequence Number is FRAME_ENCODING_ERROR.",
  qf(0x18, 1, 2) + bytes([4]) + bytes(4 + 16), [], err("FRAME_ENCODING_ERROR", 0, "retire-prior-to-too-large"))
Q("quic-retire-connection-id", "RETIRE_CONNECTION_ID.", qf(0x19, 9), [qb(0x19, qf(0x19, 9))], reference="RFC 9000 §19.16")
Q("quic-path-challenge", "PATH_CHALLENGE with 8 octets.", qf(0x1a, b"\x01" * 8), [qb(0x1a, qf(0x1a, b"\x01" * 8))], reference="RFC 9000 §19.17")
Q("quic-path-response", "PATH_RESPONSE with 8 octets.", qf(0x1b, b"\x02" * 8), [qb(0x1b, qf(0x1b, b"\x02" * 8))], reference="RFC 9000 §19.18")
Q("quic-path-challenge-short", "PATH_CHALLENGE with 7 octets left is FRAME_ENCODING_ERROR.", qf(0x1a, b"\x01" * 7), [],
  err("FRAME_ENCODING_ERROR", 0, "frame-truncated"))
close = qf(0x1c, 0x0a, 0x01, 4, b"oops")
Q("quic-connection-close", "CONNECTION_CLOSE (transport) with frame type and reason.", close, [qb(0x1c, close)], reference="RFC 9000 §19.19")
close_app = qf(0x1d, 0x100, 0)
Q("quic-connection-close-app", "CONNECTION_CLOSE (application) without reason.", close_app, [qb(0x1d, close_app)])
Q("quic-handshake-done", "HANDSHAKE_DONE.", b"\x1e\x01", [qb(0x1e, b"\x1e"), QPING], reference="RFC 9000 §19.20")
dgram = qf(0x31, 3, b"dgm")
Q("quic-datagram-length", "DATAGRAM with a Length field (0x31).", dgram + b"\x01", [qb(0x31, dgram), QPING], reference="RFC 9221 §4")
Q("quic-datagram-to-end", "DATAGRAM without Length (0x30) runs to the end of the packet.", b"\x30\x01\x01", [qb(0x30, b"\x30\x01\x01")],
  reference="RFC 9221 §4")
Q("quic-non-minimal-ping", "PING encoded in two octets is PROTOCOL_VIOLATION.", b"\x01" + varint(1, 2), [QPING],
  err("PROTOCOL_VIOLATION", 1, "non-minimal-frame-type"), reference="RFC 9000 §12.4")
Q("quic-non-minimal-padding", "PADDING encoded in two octets is PROTOCOL_VIOLATION.", varint(0, 2), [],
  err("PROTOCOL_VIOLATION", 0, "non-minimal-frame-type"))
Q("quic-non-minimal-ack-8", "ACK encoded in eight octets is PROTOCOL_VIOLATION.", varint(2, 8) + b"\x00\x00\x00\x00", [],
  err("PROTOCOL_VIOLATION", 0, "non-minimal-frame-type"))
Q("quic-unknown-type", "Type 0x1f is not defined: FRAME_ENCODING_ERROR.", b"\x1f", [], err("FRAME_ENCODING_ERROR", 0, "unknown-frame-type"),
  reference="RFC 9000 §12.4")
Q("quic-unknown-type-two-octets", "Type 0x40 (two octets, minimal) is unknown: FRAME_ENCODING_ERROR.", varint(0x40),
  [], err("FRAME_ENCODING_ERROR", 0, "unknown-frame-type"))
Q("quic-type-truncated", "A frame type cut short (first octet announces two) is FRAME_ENCODING_ERROR.", b"\x01\x40", [QPING],
  err("FRAME_ENCODING_ERROR", 1, "frame-truncated"))
Q("quic-empty", "An empty payload reports nothing.", b"", [])
frame, item = ack(7, 1, 1)
mixed_stream = varint(0x0a) + varint(0) + varint(2) + b"hi"
Q("quic-mixed", "ACK, PING, STREAM and PADDING in one packet.", frame + b"\x01" + mixed_stream + bytes(5),
  [item, QPING, qb(0x0a, mixed_stream)])
Q("quic-two-packets", "Packets are fed one by one; error offsets count from the first packet's first octet.",
  [b"\x01" + bytes(3), qf(0x10, 5) + b"\x1f"], [QPING, qb(0x10, qf(0x10, 5))], err("FRAME_ENCODING_ERROR", 6, "unknown-frame-type"))

# ---------------------------------------------------------------- varints (RFC 9000 §16, Appendix A.1)
varints = [
    {"name": "rfc9000-a1-8", "input": "c2197c5eff14e88c", "value": 151288809941952652, "length": 8, "minimal": True,
     "reference": "RFC 9000 Appendix A.1"},
    {"name": "rfc9000-a1-4", "input": "9d7f3e7d", "value": 494878333, "length": 4, "minimal": True, "reference": "RFC 9000 Appendix A.1"},
    {"name": "rfc9000-a1-2", "input": "7bbd", "value": 15293, "length": 2, "minimal": True, "reference": "RFC 9000 Appendix A.1"},
    {"name": "rfc9000-a1-1", "input": "25", "value": 37, "length": 1, "minimal": True, "reference": "RFC 9000 Appendix A.1"},
    {"name": "rfc9000-a1-2-non-minimal", "input": "4025", "value": 37, "length": 2, "minimal": False, "reference": "RFC 9000 Appendix A.1"},
]
for value, length in [(0, 1), (63, 1), (64, 2), (16383, 2), (16384, 4), (2**30 - 1, 4), (2**30, 8), (2**62 - 1, 8), (0, 8)]:
    varints.append({"name": f"boundary-{value}-{length}", "input": hexs(varint(value, length)), "value": value, "length": length,
                    "minimal": {1: 1, 2: 2, 4: 4, 8: 8}[length] == (1 if value < 64 else 2 if value < 16384 else 4 if value < 2**30 else 8),
                    "reference": "RFC 9000 §16"})
for cut in ["40", "80ffff", "c0000000000000"]:
    varints.append({"name": f"truncated-{cut}", "input": cut, "value": None, "length": None, "minimal": None,
                    "reference": "RFC 9000 §16"})


def write(name, vectors):
    with open(os.path.join(HERE, name), "w") as out:
        json.dump({"vectors": vectors}, out, indent=1, ensure_ascii=False)
        out.write("\n")


write("envelope.json", envelope)
write("http2.json", http2)
write("quic.json", quic)
write("varint.json", varints)
print(f"envelope {len(envelope)}, http2 {len(http2)}, quic {len(quic)}, varint {len(varints)}")
