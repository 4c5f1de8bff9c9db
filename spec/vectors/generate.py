#!/usr/bin/env python3
"""Writes the swift-heartbeat test vectors (spec/vectors/*.json).

The bytes are built here, in plain Python from the RFCs, spec/envelope.md and spec/websocket.md,
independently of the Swift implementation; the expected items and errors are written by hand next
to each input.
Run it from anywhere: `python3 spec/vectors/generate.py`. The output is deterministic.
"""
import base64
import hashlib
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

# ---------------------------------------------------------------- WebSocket (RFC 6455, spec/websocket.md)
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3
RFC_MASK = bytes.fromhex("37fa213d")  # RFC 6455 §5.7


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


assert ws_accept(RFC_KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


def wsf(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None, form=None):
    """One frame (RFC 6455 §5.2). `mask`: the 4-octet key, or None for an unmasked frame; `length`
    overrides the length field (the payload written is still `payload`); `form` forces the length
    encoding: 7, 16 or 64 bits."""
    n = len(payload) if length is None else length
    if form is None:
        form = 7 if n <= 125 else 16 if n <= 0xFFFF else 64
    out = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    mbit = 0x80 if mask is not None else 0
    if form == 7:
        out += bytes([mbit | n])
    elif form == 16:
        out += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        out += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if mask is not None:
        out += mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def wsbiz(opcode, data, fin=True):
    return {"item": "business", "type": opcode, "data": hexs(data), "flags": 0x80 if fin else 0}


def close_payload(code, reason=b""):
    return code.to_bytes(2, "big") + reason


def http_block(first_line, fields):
    return (first_line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n").encode()


RFC_REQUEST_FIELDS = [("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                      ("Sec-WebSocket-Key", RFC_KEY), ("Origin", "http://example.com"),
                      ("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Version", "13")]
RFC_REQUEST = http_block("GET /chat HTTP/1.1", RFC_REQUEST_FIELDS)  # RFC 6455 §1.2
RESPONSE_FIELDS = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ws_accept(RFC_KEY))]
RESPONSE = http_block("HTTP/1.1 101 Switching Protocols", RESPONSE_FIELDS)


def replace_field(fields, name, value):
    """`fields` with the field `name` replaced by `value` (removed when value is None)."""
    out = []
    for n, v in fields:
        if n == name:
            if value is not None:
                out.append((n, value))
        else:
            out.append((n, v))
    return out


websocket = []


def W(name, description, data, items, error=None, role="client", max_frame=None, handshake=False, reference="RFC 6455 §5.2"):
    options = {"role": role}
    if max_frame is not None:
        options["maxFrameSize"] = max_frame
    if handshake:
        options["handshake"] = True
    websocket.append(stream_vector("websocket", name, description, data, items, error, options, reference))


M1 = bytes.fromhex("a1b2c3d4")
M0 = bytes(4)
HELLO = b"Hello"
BIN256 = bytes(range(256))
BIN64K = bytes((i * 7 + 3) & 0xFF for i in range(65536))
PROTO = "PROTOCOL_ERROR"

# RFC 6455 §5.7, verbatim.
W("ws-rfc6455-5.7-unmasked-text", "RFC 6455 §5.7: a single-frame unmasked text message \"Hello\".",
  bytes.fromhex("810548656c6c6f"), [wsbiz(1, HELLO)], reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-masked-text", "RFC 6455 §5.7: a single-frame masked text message \"Hello\", read by a server.",
  bytes.fromhex("818537fa213d7f9f4d5158"), [wsbiz(1, HELLO)], role="server", reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-fragmented-text", "RFC 6455 §5.7: a fragmented unmasked text message \"Hel\" + \"lo\": two business items.",
  bytes.fromhex("010348656c") + bytes.fromhex("80026c6f"), [wsbiz(1, b"Hel", fin=False), wsbiz(0, b"lo")], reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-unmasked-ping", "RFC 6455 §5.7: an unmasked Ping \"Hello\" is a heartbeat request.",
  bytes.fromhex("890548656c6c6f"), [ping_item(HELLO)], reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-masked-pong", "RFC 6455 §5.7: a masked Pong \"Hello\" (answering the ping above), read by a server.",
  bytes.fromhex("8a8537fa213d7f9f4d5158"), [pong_item(HELLO)], role="server", reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-binary-256", "RFC 6455 §5.7: 256 octets of binary in one unmasked frame, 16-bit length (7E 0100).",
  bytes.fromhex("827e0100") + BIN256, [wsbiz(2, BIN256)], reference="RFC 6455 §5.7")
W("ws-rfc6455-5.7-binary-64k", "RFC 6455 §5.7: 64 KiB of binary in one unmasked frame, 64-bit length (7F 0000000000010000); "
  "exactly the default maximum payload, so accepted.",
  bytes.fromhex("827f0000000000010000") + BIN64K, [wsbiz(2, BIN64K)], reference="RFC 6455 §5.7; spec/websocket.md §4.2")
assert wsf(2, BIN64K)[:10] == bytes.fromhex("827f0000000000010000")
assert wsf(1, HELLO, mask=RFC_MASK) == bytes.fromhex("818537fa213d7f9f4d5158")

# Heartbeats.
W("ws-ping-empty", "A Ping with no application data.", wsf(9), [ping_item(b"")], reference="RFC 6455 §5.5.2")
W("ws-ping-125", "A Ping with the largest control payload, 125 octets.", wsf(9, bytes(range(125))), [ping_item(bytes(range(125)))],
  reference="RFC 6455 §5.5")
W("ws-ping-125-masked", "A masked 125-octet Ping read by a server: the payload is reported unmasked.",
  wsf(9, bytes(range(125, 250)), mask=M1), [ping_item(bytes(range(125, 250)))], role="server", reference="RFC 6455 §5.3, §5.5")
W("ws-ping-empty-masked", "A masked Ping with no payload still carries its masking key.", wsf(9, mask=M1), [ping_item(b"")],
  role="server", reference="RFC 6455 §5.3")
W("ws-ping-ours", "Our ping layout: 8 octets, sequence then milliseconds (spec/websocket.md §6.1).", wsf(9, P1), [ping_item(P1)],
  reference="spec/websocket.md §6.1")
W("ws-pong-ours", "A Pong echoing our 8-octet ping.", wsf(10, P1), [pong_item(P1)], reference="spec/websocket.md §6.1")
W("ws-pong-empty", "An empty Pong (e.g. unsolicited, RFC 6455 §5.5.3) is a pong item; matching is the session's business.",
  wsf(10), [pong_item(b"")], reference="RFC 6455 §5.5.3")
W("ws-pong-masked-zero-key", "A Pong masked with the all-zero key, read by a server.", wsf(10, P2, mask=M0), [pong_item(P2)],
  role="server", reference="RFC 6455 §5.3")
W("ws-control-between-fragments", "Ping and Pong between the fragments of a binary message are allowed.",
  wsf(2, b"ab", fin=False) + wsf(9, P1) + wsf(0, b"cd", fin=False) + wsf(10, P2) + wsf(0, b"ef"),
  [wsbiz(2, b"ab", fin=False), ping_item(P1), wsbiz(0, b"cd", fin=False), pong_item(P2), wsbiz(0, b"ef")], reference="RFC 6455 §5.4")
W("ws-close-between-fragments", "A Close between fragments is allowed too (it is a control frame).",
  wsf(1, b"x", fin=False, mask=M1) + wsf(8, close_payload(1001), mask=M1),
  [wsbiz(1, b"x", fin=False), wsbiz(8, close_payload(1001))], role="server", reference="RFC 6455 §5.4")

# Business frames.
W("ws-binary-empty", "An empty binary frame.", wsf(2), [wsbiz(2, b"")])
W("ws-text-invalid-utf8-passed-on", "Text payloads are not UTF-8-validated by the heartbeat layer: passed on as bytes.",
  wsf(1, b"\xff\xfe\xc0\xaf"), [wsbiz(1, b"\xff\xfe\xc0\xaf")], reference="spec/websocket.md §7")
W("ws-three-fragments", "A binary message in three fragments.",
  wsf(2, b"one", fin=False) + wsf(0, b"two", fin=False) + wsf(0, b"three"),
  [wsbiz(2, b"one", fin=False), wsbiz(0, b"two", fin=False), wsbiz(0, b"three")], reference="RFC 6455 §5.4")
W("ws-empty-fragments", "Empty first and middle fragments are allowed.",
  wsf(1, b"", fin=False) + wsf(0, b"", fin=False) + wsf(0, b"z"), [wsbiz(1, b"", fin=False), wsbiz(0, b"", fin=False), wsbiz(0, b"z")])
W("ws-length-125-126", "125 octets in the 7-bit form, then 126 in the 16-bit form (the smallest it may hold).",
  wsf(2, b"a" * 125) + wsf(2, b"b" * 126), [wsbiz(2, b"a" * 125), wsbiz(2, b"b" * 126)], reference="RFC 6455 §5.2")
W("ws-masked-binary-16", "A masked 300-octet binary frame (16-bit length), read by a server.", wsf(2, BIN256 + BIN256[:44], mask=M1),
  [wsbiz(2, BIN256 + BIN256[:44])], role="server", reference="RFC 6455 §5.3")
W("ws-close-empty", "A Close without payload (no status code) is valid.", wsf(8), [wsbiz(8, b"")], reference="RFC 6455 §5.5.1")
W("ws-close-1000-reason", "Close 1000 with a reason.", wsf(8, close_payload(1000, b"bye")), [wsbiz(8, close_payload(1000, b"bye"))],
  reference="RFC 6455 §5.5.1")
W("ws-close-utf8-reason", "Close 1001 with a multi-octet UTF-8 reason.", wsf(8, close_payload(1001, "délai ⏱ 😴".encode())),
  [wsbiz(8, close_payload(1001, "délai ⏱ 😴".encode()))], reference="RFC 6455 §5.5.1")
W("ws-close-reason-123", "Close with the longest reason that fits a control frame (2 + 123 octets).",
  wsf(8, close_payload(1000, b"r" * 123)), [wsbiz(8, close_payload(1000, b"r" * 123))], reference="RFC 6455 §5.5")
for code in (1003, 1007, 1011, 1014, 3000, 4999):
    W(f"ws-close-code-{code}", f"Close code {code} is valid (RFC 6455 §7.4, IANA registry).", wsf(8, close_payload(code)),
      [wsbiz(8, close_payload(code))], reference="RFC 6455 §7.4; spec/websocket.md §6.2")
W("ws-close-masked", "A masked Close 1000 read by a server (spec/websocket.md §10).", bytes.fromhex("888237fa213d3412"),
  [wsbiz(8, close_payload(1000))], role="server", reference="spec/websocket.md §10")
W("ws-frames-after-close", "The decoder keeps reporting frames after a Close (the session stops reading).",
  wsf(8, close_payload(1000)) + wsf(9, b"late"), [wsbiz(8, close_payload(1000)), ping_item(b"late")], reference="spec/websocket.md §7")
W("ws-mixed", "Text, Ping, binary, Pong and Close in one stream, in order.",
  wsf(1, b"a" * 40) + wsf(9, P1) + wsf(2, b"b" * 200) + wsf(10, P2) + wsf(8, close_payload(1000)),
  [wsbiz(1, b"a" * 40), ping_item(P1), wsbiz(2, b"b" * 200), pong_item(P2), wsbiz(8, close_payload(1000))])
W("ws-mixed-masked", "The same kinds of frames, masked with a different key each, read by a server.",
  wsf(1, b"a" * 40, mask=M1) + wsf(9, P1, mask=RFC_MASK) + wsf(2, b"b" * 200, mask=M0) + wsf(10, P2, mask=bytes.fromhex("ffffffff")),
  [wsbiz(1, b"a" * 40), ping_item(P1), wsbiz(2, b"b" * 200), pong_item(P2)], role="server")
W("ws-end-inside-message", "Input ending at a frame boundary is clean even while a fragmented message is open.",
  wsf(1, b"part", fin=False), [wsbiz(1, b"part", fin=False)], reference="spec/websocket.md §4.1")
W("ws-empty", "Empty input: no items, no error.", b"", [])

# Frame errors (spec/websocket.md §4.1), in the table's order.
for rsv, bit in ((4, "RSV1"), (2, "RSV2"), (1, "RSV3")):
    W(f"ws-reserved-bits-{bit.lower()}", f"{bit} set without a negotiated extension is PROTOCOL_ERROR.", wsf(1, b"x", rsv=rsv), [],
      err(PROTO, 0, "ws-reserved-bits"), reference="RFC 6455 §5.2")
W("ws-reserved-bits-on-ping-after-items", "RSV1 on a Ping after a good frame: the error's offset is the bad frame's.",
  wsf(2, b"ok") + wsf(9, P1, rsv=4), [wsbiz(2, b"ok")], err(PROTO, 4, "ws-reserved-bits"), reference="RFC 6455 §5.2")
W("ws-reserved-bits-before-opcode", "RSV2 and a reserved opcode: the RSV bits are checked first.", bytes([0xA3, 0x00]), [],
  err(PROTO, 0, "ws-reserved-bits"), reference="spec/websocket.md §4.1")
for op in (0x3, 0x7, 0xB, 0xF):
    W(f"ws-reserved-opcode-{op:x}", f"Reserved opcode 0x{op:X} is PROTOCOL_ERROR, detected from the first octet alone.",
      bytes([0x80 | op]), [], err(PROTO, 0, "ws-reserved-opcode"), reference="RFC 6455 §5.2")
W("ws-fragmented-ping", "A Ping without FIN is PROTOCOL_ERROR.", wsf(9, b"x", fin=False), [], err(PROTO, 0, "ws-fragmented-control"),
  reference="RFC 6455 §5.5")
W("ws-fragmented-close", "A Close without FIN, inside a message, is PROTOCOL_ERROR.",
  wsf(1, b"a", fin=False) + wsf(8, b"", fin=False), [wsbiz(1, b"a", fin=False)], err(PROTO, 3, "ws-fragmented-control"),
  reference="RFC 6455 §5.5")
W("ws-unexpected-continuation", "A continuation frame with no message open is PROTOCOL_ERROR.", wsf(0, b"lo"), [],
  err(PROTO, 0, "ws-unexpected-continuation"), reference="RFC 6455 §5.4")
W("ws-continuation-after-final", "A continuation after the message's final fragment is PROTOCOL_ERROR.",
  wsf(2, b"a", fin=False) + wsf(0, b"b") + wsf(0, b"c"), [wsbiz(2, b"a", fin=False), wsbiz(0, b"b")],
  err(PROTO, 6, "ws-unexpected-continuation"), reference="RFC 6455 §5.4")
W("ws-message-interrupted", "A new text frame while a fragmented message is open is PROTOCOL_ERROR.",
  wsf(2, b"a", fin=False) + wsf(9, b"") + wsf(1, b"b"), [wsbiz(2, b"a", fin=False), ping_item(b"")],
  err(PROTO, 5, "ws-message-interrupted"), reference="RFC 6455 §5.4")
W("ws-unmasked-client-frame", "A server rejects an unmasked client frame.", wsf(1, HELLO), [], err(PROTO, 0, "ws-unmasked-client-frame"),
  role="server", reference="RFC 6455 §5.1")
W("ws-unmasked-client-ping-after-items", "A server rejects an unmasked Ping after a masked one.",
  wsf(9, P1, mask=M1) + wsf(9, P2), [ping_item(P1)], err(PROTO, 14, "ws-unmasked-client-frame"), role="server",
  reference="RFC 6455 §5.1")
W("ws-masked-server-frame", "A client rejects a masked server frame.", wsf(2, HELLO, mask=M1), [], err(PROTO, 0, "ws-masked-server-frame"),
  reference="RFC 6455 §5.1")
W("ws-masked-server-pong", "A client rejects a masked Pong, detected from the first two octets.", wsf(10, P1, mask=M1)[:2], [],
  err(PROTO, 0, "ws-masked-server-frame"), reference="RFC 6455 §5.1")
W("ws-control-too-long-ping", "A Ping announcing 126 octets (16-bit form) fails at its second octet, before the length arrives.",
  bytes([0x89, 126]), [], err(PROTO, 0, "ws-control-too-long"), reference="RFC 6455 §5.5")
W("ws-control-too-long-close", "A masked Close of 200 octets read by a server is PROTOCOL_ERROR.",
  wsf(8, close_payload(1000, b"x" * 198), mask=M1), [], err(PROTO, 0, "ws-control-too-long"), role="server", reference="RFC 6455 §5.5")
W("ws-control-too-long-pong-64", "A Pong with the 64-bit length form is PROTOCOL_ERROR.", wsf(10, b"", length=0, form=64), [],
  err(PROTO, 0, "ws-control-too-long"), reference="RFC 6455 §5.5")
W("ws-unmasked-before-too-long", "An unmasked, oversized client Ping: the masking rule is checked first.", bytes([0x89, 126, 0, 200]), [],
  err(PROTO, 0, "ws-unmasked-client-frame"), role="server", reference="spec/websocket.md §4.1")
W("ws-non-minimal-length-16", "A 16-bit length of 5 (7 bits suffice) is PROTOCOL_ERROR.", wsf(2, HELLO, form=16), [],
  err(PROTO, 0, "ws-non-minimal-length"), reference="RFC 6455 §5.2")
W("ws-non-minimal-length-16-125", "A 16-bit length of 125, one below the smallest allowed, is PROTOCOL_ERROR.",
  wsf(2, b"", length=125, form=16), [], err(PROTO, 0, "ws-non-minimal-length"), reference="RFC 6455 §5.2")
W("ws-non-minimal-length-64", "A 64-bit length of 65,535 (16 bits suffice) is PROTOCOL_ERROR, before the payload.",
  wsf(2, b"", length=65535, form=64), [], err(PROTO, 0, "ws-non-minimal-length"), reference="RFC 6455 §5.2")
W("ws-non-minimal-length-64-small", "A 64-bit length of 3, masked, read by a server: PROTOCOL_ERROR.",
  wsf(1, b"abc", mask=M1, form=64), [], err(PROTO, 0, "ws-non-minimal-length"), role="server", reference="RFC 6455 §5.2")
W("ws-length-high-bit", "A 64-bit length with its most significant bit set is PROTOCOL_ERROR.",
  wsf(2, b"", length=1 << 63, form=64), [], err(PROTO, 0, "ws-length-high-bit"), reference="RFC 6455 §5.2")
W("ws-frame-too-large", "A frame of 65,537 octets (default maximum 65,536) fails once its length is read.",
  wsf(2, b"", length=65537), [], err("MESSAGE_TOO_BIG", 0, "frame-too-large"), reference="spec/websocket.md §4.2")
W("ws-frame-too-large-huge", "A length of 2^63-1 fails at the header, without waiting for (or allocating) the payload.",
  wsf(2, b"", length=(1 << 63) - 1), [], err("MESSAGE_TOO_BIG", 0, "frame-too-large"), reference="spec/websocket.md §4.2")
W("ws-frame-too-large-configured", "With a maximum of 1,000, a masked 1,001-octet frame fails before its masking key arrives.",
  wsf(9, P1, mask=M1) + wsf(2, b"", length=1001, mask=M1)[:4], [ping_item(P1)], err("MESSAGE_TOO_BIG", 14, "frame-too-large"),
  role="server", max_frame=1000, reference="spec/websocket.md §4.2")
W("ws-frame-max-configured", "With a maximum of 1,000, a 1,000-octet frame is accepted.", wsf(2, b"m" * 1000), [wsbiz(2, b"m" * 1000)],
  max_frame=1000, reference="spec/websocket.md §4.2")
W("ws-close-length-1", "A Close with a 1-octet payload is PROTOCOL_ERROR, detected from the length.", bytes([0x88, 0x01]), [],
  err(PROTO, 0, "ws-close-length"), reference="RFC 6455 §5.5.1")
for code, why in ((0, "below 1000"), (999, "below 1000"), (1004, "reserved"), (1005, "local-only (no status)"),
                  (1006, "local-only (abnormal closure)"), (1015, "local-only (TLS failure)"), (1016, "unassigned"),
                  (2999, "unassigned"), (5000, "above 4999"), (65535, "above 4999")):
    W(f"ws-close-code-{code}-invalid", f"Close code {code} ({why}) is PROTOCOL_ERROR.", wsf(8, close_payload(code, b"x")), [],
      err(PROTO, 0, "ws-close-code"), reference="RFC 6455 §7.4; spec/websocket.md §6.2")
W("ws-close-code-masked-invalid", "A masked Close with code 1005, read by a server, is PROTOCOL_ERROR.",
  wsf(9, b"", mask=M1) + wsf(8, close_payload(1005), mask=M1), [ping_item(b"")], err(PROTO, 6, "ws-close-code"), role="server",
  reference="RFC 6455 §7.4.1")
INVALID = "INVALID_FRAME_PAYLOAD_DATA"
for name, bad in (("bytes", b"\xff\xfe"), ("overlong", b"\xc0\xaf"), ("surrogate", b"\xed\xa0\x80"),
                  ("above-10ffff", b"\xf4\x90\x80\x80"), ("cut-off", "ok ⏱".encode()[:-1])):
    W(f"ws-close-reason-utf8-{name}", f"A Close reason that is not UTF-8 ({name}) is INVALID_FRAME_PAYLOAD_DATA.",
      wsf(8, close_payload(1000, bad)), [], err(INVALID, 0, "ws-close-reason-utf8"), reference="RFC 6455 §5.5.1, §8.1")
W("ws-truncated-first-octet", "Input that ends after a frame's first octet is TRUNCATED.", bytes([0x82]), [], err("TRUNCATED", 0, "truncated"))
W("ws-truncated-extended-length", "Input that ends inside a 64-bit length is TRUNCATED.",
  wsf(9, P1) + wsf(2, BIN64K)[:6], [ping_item(P1)], err("TRUNCATED", 10, "truncated"))
W("ws-truncated-masking-key", "Input that ends inside a masking key is TRUNCATED.", wsf(9, P1, mask=M1)[:4], [],
  err("TRUNCATED", 0, "truncated"), role="server")
W("ws-truncated-payload", "Input that ends inside a payload is TRUNCATED at the frame's start; nothing partial is reported.",
  wsf(1, b"hello") + wsf(2, b"world")[:5], [wsbiz(1, b"hello")], err("TRUNCATED", 7, "truncated"))
W("ws-truncated-close", "A Close cut inside its code is TRUNCATED, not a close-code error.", wsf(8, close_payload(1000))[:3], [],
  err("TRUNCATED", 0, "truncated"))
W("ws-larger-limit-truncated", "With a 1 MiB maximum, a 70,000-octet frame cut short is TRUNCATED at its start.",
  wsf(9, P1) + wsf(2, b"", length=70000) + b"abc", [ping_item(P1)], err("TRUNCATED", 10, "truncated"), max_frame=1048576)

# The opening handshake (spec/websocket.md §3).
HS = "HANDSHAKE_ERROR"
W("ws-handshake-server-rfc", "A server reads the RFC 6455 §1.2 request, then masked frames right after it.",
  RFC_REQUEST + wsf(9, P1, mask=M1) + wsf(1, HELLO, mask=RFC_MASK), [ping_item(P1), wsbiz(1, HELLO)], role="server", handshake=True,
  reference="RFC 6455 §1.2, §4.2.1")
W("ws-handshake-client-rfc", "A client reads the RFC 6455 §1.3 101 response (accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=), then frames.",
  RESPONSE + wsf(10, P1) + wsf(2, b"\x00\x01"), [pong_item(P1), wsbiz(2, b"\x00\x01")], handshake=True,
  reference="RFC 6455 §1.3, §4.1")
W("ws-handshake-server-case", "Field names and the Upgrade value are case-insensitive; Connection may list other tokens.",
  http_block("GET /?q=1 HTTP/1.1", [("host", "127.0.0.1:8080"), ("UPGRADE", "WebSocket"), ("connection", "keep-alive, Upgrade"),
                                     ("sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA=="), ("SEC-WEBSOCKET-VERSION", "13")]) + wsf(9, b"", mask=M1),
  [ping_item(b"")], role="server", handshake=True, reference="RFC 6455 §4.2.1")
W("ws-handshake-client-only", "A 101 response with no frames after it: no items, no error.", RESPONSE, [], handshake=True)
W("ws-handshake-client-status", "A non-101 status is HANDSHAKE_ERROR (reported with the status line).",
  http_block("HTTP/1.1 403 Forbidden", [("Content-Length", "0")]), [], err(HS, 0, "ws-handshake-status"), handshake=True,
  reference="RFC 6455 §4.1")
W("ws-handshake-client-http10", "A 101 from HTTP/1.0 is HANDSHAKE_ERROR.", http_block("HTTP/1.0 101 Switching Protocols", RESPONSE_FIELDS),
  [], err(HS, 0, "ws-handshake-status"), handshake=True)
W("ws-handshake-client-no-accept", "A 101 without Sec-WebSocket-Accept is HANDSHAKE_ERROR.",
  http_block("HTTP/1.1 101 Switching Protocols", replace_field(RESPONSE_FIELDS, "Sec-WebSocket-Accept", None)), [],
  err(HS, 0, "ws-handshake-accept"), handshake=True, reference="RFC 6455 §4.1")
W("ws-handshake-client-bad-accept", "An accept value that is not base64 of 20 octets is HANDSHAKE_ERROR.",
  http_block("HTTP/1.1 101 Switching Protocols", replace_field(RESPONSE_FIELDS, "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xO==")), [],
  err(HS, 0, "ws-handshake-accept"), handshake=True)
W("ws-handshake-client-no-upgrade", "A 101 without Upgrade: websocket is HANDSHAKE_ERROR.",
  http_block("HTTP/1.1 101 Switching Protocols", replace_field(RESPONSE_FIELDS, "Upgrade", "h2c")), [],
  err(HS, 0, "ws-handshake-upgrade"), handshake=True)
W("ws-handshake-client-extension", "A 101 selecting an extension we did not offer is HANDSHAKE_ERROR.",
  http_block("HTTP/1.1 101 Switching Protocols", RESPONSE_FIELDS + [("Sec-WebSocket-Extensions", "permessage-deflate")]), [],
  err(HS, 0, "ws-handshake-extension"), handshake=True, reference="RFC 6455 §4.1")
W("ws-handshake-server-post", "A POST request is HANDSHAKE_ERROR.", http_block("POST /chat HTTP/1.1", RFC_REQUEST_FIELDS), [],
  err(HS, 0, "ws-handshake-request"), role="server", handshake=True, reference="RFC 6455 §4.2.1")
W("ws-handshake-server-no-host", "A request without Host is HANDSHAKE_ERROR.",
  http_block("GET /chat HTTP/1.1", replace_field(RFC_REQUEST_FIELDS, "Host", None)), [], err(HS, 0, "ws-handshake-request"),
  role="server", handshake=True, reference="RFC 6455 §4.2.1")
W("ws-handshake-server-no-connection-upgrade", "Connection without the upgrade token is HANDSHAKE_ERROR.",
  http_block("GET /chat HTTP/1.1", replace_field(RFC_REQUEST_FIELDS, "Connection", "keep-alive")), [],
  err(HS, 0, "ws-handshake-upgrade"), role="server", handshake=True)
W("ws-handshake-server-short-key", "A key decoding to 15 octets is HANDSHAKE_ERROR.",
  http_block("GET /chat HTTP/1.1", replace_field(RFC_REQUEST_FIELDS, "Sec-WebSocket-Key", base64.b64encode(bytes(15)).decode())), [],
  err(HS, 0, "ws-handshake-key"), role="server", handshake=True, reference="RFC 6455 §4.2.1")
W("ws-handshake-server-two-keys", "Two Sec-WebSocket-Key fields are HANDSHAKE_ERROR.",
  http_block("GET /chat HTTP/1.1", RFC_REQUEST_FIELDS + [("Sec-WebSocket-Key", RFC_KEY)]), [], err(HS, 0, "ws-handshake-key"),
  role="server", handshake=True, reference="RFC 6455 §11.3.1")
W("ws-handshake-server-version-8", "Sec-WebSocket-Version 8 is HANDSHAKE_ERROR (the server answers 426).",
  http_block("GET /chat HTTP/1.1", replace_field(RFC_REQUEST_FIELDS, "Sec-WebSocket-Version", "8")), [],
  err(HS, 0, "ws-handshake-version"), role="server", handshake=True, reference="RFC 6455 §4.4")
W("ws-handshake-server-bare-lf", "A field line ending in a bare LF is HANDSHAKE_ERROR.",
  RFC_REQUEST.replace(b"Upgrade: websocket\r\n", b"Upgrade: websocket\n"), [],
  err(HS, 0, "ws-handshake-syntax"), role="server", handshake=True)
W("ws-handshake-server-space-before-colon", "Whitespace between a field name and its colon is HANDSHAKE_ERROR.",
  RFC_REQUEST.replace(b"Upgrade: websocket", b"Upgrade : websocket"), [], err(HS, 0, "ws-handshake-syntax"),
  role="server", handshake=True, reference="RFC 9112 §5.1")
BIG_FIELDS = RFC_REQUEST_FIELDS + [("X-Filler", "")]
filler = 8192 - len(http_block("GET /chat HTTP/1.1", BIG_FIELDS))
W("ws-handshake-server-8192", "A request block of exactly 8,192 octets is accepted.",
  http_block("GET /chat HTTP/1.1", replace_field(BIG_FIELDS, "X-Filler", "f" * filler)) + wsf(9, b"", mask=M1), [ping_item(b"")],
  role="server", handshake=True, reference="spec/websocket.md §3.4")
assert len(http_block("GET /chat HTTP/1.1", replace_field(BIG_FIELDS, "X-Filler", "f" * filler))) == 8192
W("ws-handshake-server-too-large", "A request block of 8,193 octets is HANDSHAKE_ERROR as soon as octet 8,192 arrives without the end.",
  http_block("GET /chat HTTP/1.1", replace_field(BIG_FIELDS, "X-Filler", "f" * (filler + 1))), [],
  err(HS, 0, "ws-handshake-too-large"), role="server", handshake=True, reference="spec/websocket.md §3.4")
W("ws-handshake-truncated", "Input that ends inside the header block is TRUNCATED at offset 0.", RESPONSE[:-2], [],
  err("TRUNCATED", 0, "truncated"), handshake=True)
W("ws-handshake-then-frame-error", "Frame offsets count from the first octet of the handshake.",
  RFC_REQUEST + wsf(9, P1, mask=M1) + wsf(9, P2), [ping_item(P1)],
  err(PROTO, len(RFC_REQUEST) + 14, "ws-unmasked-client-frame"), role="server", handshake=True)


def write(name, vectors):
    with open(os.path.join(HERE, name), "w") as out:
        json.dump({"vectors": vectors}, out, indent=1, ensure_ascii=False)
        out.write("\n")


write("envelope.json", envelope)
write("http2.json", http2)
write("quic.json", quic)
write("varint.json", varints)
write("websocket.json", websocket)
print(f"envelope {len(envelope)}, http2 {len(http2)}, quic {len(quic)}, varint {len(varints)}, websocket {len(websocket)}")
