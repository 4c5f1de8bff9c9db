#!/usr/bin/env python3
"""Writes spec/vectors/amqp.json: AMQP 0-9-1 framing vectors (spec/amqp.md).

The bytes are built here in plain Python from the AMQP 0-9-1 specification (§4.2: protocol header,
frame layout, heartbeat frame; §1.4.2: the Connection methods), independently of the Swift code;
the expected items and errors are written by hand next to each input.
Run it from anywhere: `python3 spec/vectors/generate_amqp.py`. The output is deterministic.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

HEADER = b"AMQP\x00\x00\x09\x01"          # §4.2.2
HEARTBEAT = bytes([0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xCE])  # 08 0000 00000000 CE, §4.2.7


def frame(ftype, channel, payload, size=None, end=0xCE):
    """type (1), channel (2), size (4), payload, frame-end (§4.2.3)."""
    return struct.pack(">BHI", ftype, channel, len(payload) if size is None else size) + payload + bytes([end])


def shortstr(text):
    data = text.encode()
    return bytes([len(data)]) + data


def longstr(data):
    return struct.pack(">I", len(data)) + data


def table(entries):
    """A field table of (name, type letter, value octets) entries (§4.2.5.5)."""
    body = b"".join(shortstr(name) + kind.encode() + value for name, kind, value in entries)
    return longstr(body)


def method(class_id, method_id, arguments=b""):
    return struct.pack(">HH", class_id, method_id) + arguments


START = method(10, 10, bytes([0, 9]) + table([
    ("capabilities", "F", table([("publisher_confirms", "t", b"\x01"), ("consumer_cancel_notify", "t", b"\x01")])),
    ("product", "S", longstr(b"RabbitMQ")), ("version", "S", longstr(b"3.10.8")),
]) + longstr(b"AMQPLAIN PLAIN") + longstr(b"en_US"))
START_OK = method(10, 11, table([("product", "S", longstr(b"swift-heartbeat"))]) + shortstr("PLAIN")
                  + longstr(b"\x00guest\x00guest") + shortstr("en_US"))
TUNE = method(10, 30, struct.pack(">HIH", 2047, 131072, 60))
TUNE_OK = method(10, 31, struct.pack(">HIH", 2047, 131072, 1))
OPEN = method(10, 40, shortstr("/") + b"\x00\x00")
CHANNEL_OPEN = method(20, 10, shortstr(""))
PUBLISH = method(60, 40, struct.pack(">H", 0) + shortstr("") + shortstr("queue") + b"\x00")
CONTENT_HEADER = struct.pack(">HHQH", 60, 0, 10, 0)  # class, weight, body size, property flags (§4.2.6.1)

vectors = []


def biz(ftype, channel, data):
    return {"item": "business", "type": ftype, "stream": channel, "data": data.hex()}


PING = {"item": "ping", "payload": ""}
PROTOCOL_HEADER_ITEM = {"item": "business", "type": 256, "stream": 0, "data": HEADER.hex()}


def err(code, offset, reason):
    return {"code": code, "offset": offset, "reason": reason}


def V(name, description, data, items, error=None, role=None, max_frame=None, reference="AMQP 0-9-1 §4.2.3"):
    options = {}
    if role:
        options["role"] = role
    if max_frame:
        options["maxFrameSize"] = max_frame
    vector = {"name": name, "dialect": "amqp", "description": description, "reference": reference,
              "input": data.hex(), "items": items, "error": error}
    if options:
        vector["options"] = options
    vectors.append(vector)


V("amqp-heartbeat", "The heartbeat frame 08 0000 00000000 CE: a ping with no payload.", HEARTBEAT, [PING],
  reference="AMQP 0-9-1 §4.2.7")
V("amqp-heartbeats-two", "Two heartbeat frames back to back.", HEARTBEAT * 2, [PING, PING], reference="AMQP 0-9-1 §4.2.7")
V("amqp-method-start", "A RabbitMQ-like Connection.Start on channel 0: a method frame, business type 1.",
  frame(1, 0, START), [biz(1, 0, START)], reference="AMQP 0-9-1 §1.4.2.1")
V("amqp-method-tune", "Connection.Tune (channel-max 2047, frame-max 131072, heartbeat 60).", frame(1, 0, TUNE),
  [biz(1, 0, TUNE)], reference="AMQP 0-9-1 §1.4.2.5")
V("amqp-channel-open", "Channel.Open on channel 1.", frame(1, 1, CHANNEL_OPEN), [biz(1, 1, CHANNEL_OPEN)],
  reference="AMQP 0-9-1 §1.5.2.1")
V("amqp-publish-content", "Basic.Publish, its content header and two body frames on channel 1, a heartbeat between.",
  frame(1, 1, PUBLISH) + frame(2, 1, CONTENT_HEADER) + frame(3, 1, b"hello") + HEARTBEAT + frame(3, 1, b"world"),
  [biz(1, 1, PUBLISH), biz(2, 1, CONTENT_HEADER), biz(3, 1, b"hello"), PING, biz(3, 1, b"world")],
  reference="AMQP 0-9-1 §4.2.6")
V("amqp-body-empty", "A body frame with no payload.", frame(3, 2, b""), [biz(3, 2, b"")], reference="AMQP 0-9-1 §4.2.6.2")
V("amqp-body-channel-max", "A body frame on channel 65535.", frame(3, 65535, b"\x00\xff"), [biz(3, 65535, b"\x00\xff")])
V("amqp-frame-at-limit", "A body frame of exactly frame-max (4096) octets, header and frame-end included.",
  frame(3, 1, bytes(range(256)) * 15 + bytes(248)), [biz(3, 1, bytes(range(256)) * 15 + bytes(248))], max_frame=4096,
  reference="AMQP 0-9-1 §1.4.2.5 (frame-max)")
V("amqp-server-reads-header", "A server reads the protocol header (handed over as type 256), then StartOk.",
  HEADER + frame(1, 0, START_OK), [PROTOCOL_HEADER_ITEM, biz(1, 0, START_OK)], role="server",
  reference="AMQP 0-9-1 §4.2.2")
V("amqp-server-handshake", "A client's whole opening: header, StartOk, TuneOk, Open, then a heartbeat.",
  HEADER + frame(1, 0, START_OK) + frame(1, 0, TUNE_OK) + frame(1, 0, OPEN) + HEARTBEAT,
  [PROTOCOL_HEADER_ITEM, biz(1, 0, START_OK), biz(1, 0, TUNE_OK), biz(1, 0, OPEN), PING], role="server",
  reference="AMQP 0-9-1 §2.2.4")
V("amqp-capture-header", "A capture may begin with the protocol header.", HEADER + HEARTBEAT, [PROTOCOL_HEADER_ITEM, PING],
  reference="AMQP 0-9-1 §4.2.2")
V("amqp-client-reads-frames", "A client reads the server's frames from the first octet.", frame(1, 0, START) + HEARTBEAT,
  [biz(1, 0, START), PING], role="client")
V("amqp-server-no-header", "A server reading a frame where the protocol header belongs.", HEARTBEAT, [],
  err("FRAME_ERROR", 0, "preface-mismatch"), role="server", reference="AMQP 0-9-1 §4.2.2")
V("amqp-server-http", "A server reading an HTTP request: not AMQP.", b"GET / HTTP/1.1\r\n\r\n", [],
  err("FRAME_ERROR", 0, "preface-mismatch"), role="server", reference="AMQP 0-9-1 §4.2.2")
V("amqp-server-version-0-9-0", "A protocol header for another version (0-9-0).", b"AMQP\x00\x00\x09\x00", [],
  err("NOT_IMPLEMENTED", 0, "amqp-unsupported-version"), role="server", reference="AMQP 0-9-1 §4.2.2")
V("amqp-server-version-1-0", "An AMQP 1.0 protocol header.", b"AMQP\x00\x01\x00\x00", [],
  err("NOT_IMPLEMENTED", 0, "amqp-unsupported-version"), role="server", reference="AMQP 0-9-1 §4.2.2")
V("amqp-client-version-refused", "A server answers with its protocol header: it refused our version.",
  b"AMQP\x00\x00\x09\x01", [], err("NOT_IMPLEMENTED", 0, "amqp-version-refused"), role="client",
  reference="AMQP 0-9-1 §4.2.2")
V("amqp-truncated-protocol-header", "The stream ends inside the protocol header.", b"AMQ", [],
  err("TRUNCATED", 0, "truncated"), role="server")
V("amqp-capture-a-not-header", "A capture starting with 'A' that is not a protocol header: frame type 0x41.", b"AX",
  [], err("FRAME_ERROR", 0, "amqp-unknown-frame-type"))
V("amqp-unknown-frame-type-4", "Frame type 4 after a heartbeat: 501, at the second frame.",
  HEARTBEAT + frame(4, 0, b""), [PING], err("FRAME_ERROR", 8, "amqp-unknown-frame-type"))
V("amqp-unknown-frame-type-0", "Frame type 0.", frame(0, 0, b""), [], err("FRAME_ERROR", 0, "amqp-unknown-frame-type"))
V("amqp-heartbeat-channel", "A heartbeat on channel 1: an invalid heartbeat frame, 501 (§4.2.7).",
  frame(8, 1, b""), [], err("FRAME_ERROR", 0, "amqp-heartbeat-channel"), reference="AMQP 0-9-1 §4.2.7")
V("amqp-heartbeat-size", "A heartbeat with a 1-octet payload: an invalid heartbeat frame, 501.",
  frame(8, 0, b"\x00"), [], err("FRAME_ERROR", 0, "amqp-heartbeat-size"), reference="AMQP 0-9-1 §4.2.7")
V("amqp-frame-end", "A heartbeat whose frame-end is 0x00.", frame(8, 0, b"", end=0), [],
  err("FRAME_ERROR", 0, "amqp-frame-end"))
V("amqp-frame-end-later", "A body frame whose frame-end is 0xCF, after a good frame.",
  HEARTBEAT + frame(3, 1, b"abc", end=0xCF), [PING], err("FRAME_ERROR", 8, "amqp-frame-end"))
V("amqp-frame-too-large", "A body frame one octet over frame-max (4096): 501 from its header alone.",
  frame(3, 1, bytes(4089)), [], err("FRAME_ERROR", 0, "frame-too-large"), max_frame=4096,
  reference="AMQP 0-9-1 §1.4.2.5 (frame-max)")
V("amqp-frame-size-huge", "A header announcing 2^32-1 octets, with nothing after it: refused before buffering.",
  struct.pack(">BHI", 3, 1, 0xFFFFFFFF), [], err("FRAME_ERROR", 0, "frame-too-large"))
V("amqp-method-too-short", "A method frame of 3 octets: no room for class and method ids.",
  frame(1, 0, b"\x00\x0a\x00"), [], err("FRAME_ERROR", 0, "amqp-method-too-short"), reference="AMQP 0-9-1 §4.2.4")
V("amqp-content-header-too-short", "A content header frame of 13 octets.", frame(2, 1, bytes(13)), [],
  err("FRAME_ERROR", 0, "amqp-content-header-too-short"), reference="AMQP 0-9-1 §4.2.6.1")
V("amqp-connection-method-channel", "Connection.Tune on channel 1: 503 COMMAND_INVALID.", frame(1, 1, TUNE), [],
  err("COMMAND_INVALID", 0, "amqp-connection-method-channel"), reference="AMQP 0-9-1 §4.2.3")
V("amqp-truncated-frame-header", "The stream ends inside a frame header.", bytes.fromhex("0800"), [],
  err("TRUNCATED", 0, "truncated"))
V("amqp-truncated-payload", "The stream ends inside a body frame's payload, after a heartbeat.",
  HEARTBEAT + frame(3, 1, b"abcdef")[:10], [PING], err("TRUNCATED", 8, "truncated"))
V("amqp-truncated-frame-end", "The stream ends just before a frame-end.", frame(3, 1, b"abc")[:-1], [],
  err("TRUNCATED", 0, "truncated"))

with open(os.path.join(HERE, "amqp.json"), "w") as out:
    json.dump({"vectors": vectors}, out, indent=1)
    out.write("\n")
print(f"amqp.json: {len(vectors)} vectors")
