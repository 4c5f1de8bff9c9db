#!/usr/bin/env python3
"""Writes spec/vectors/mqtt.json: MQTT 3.1.1 / 5.0 vectors (spec/mqtt.md).

Packets are built here in plain Python from the OASIS standards (MQTT 3.1.1 §2, MQTT 5.0 §1.5.5,
§2.1) and spec/mqtt.md, independently of the Swift implementation; the expected items and errors
are written by hand next to each input. Run it from anywhere: `python3 spec/vectors/generate_mqtt.py`.
The output is deterministic.

Format: as the other vectors (README.md), with dialect "mqtt". Items are {"item": "ping"} for
PINGREQ, {"item": "pong"} for PINGRESP (no payload: they carry none), and
{"item": "business", "type": T, "flags": F, "data": HEX} for every other packet, where T is the
packet type (1-15), F the low nibble of the first octet and data the Remaining Length octets
(variable header and payload). Options: "role" is the RECEIVER's role, "server" (reads a client's
packets, CONNECT first) or "client" (reads a server's, CONNACK or AUTH first), absent for a capture
of either direction; "opened": true when the session was opened before the input (no CONNECT or
CONNACK expected first); "maxFrameSize" the largest Remaining Length accepted (default 1,048,576).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MALFORMED, PROTOCOL, TOO_LARGE = "MALFORMED_PACKET", "PROTOCOL_ERROR", "PACKET_TOO_LARGE"


def vbi(value, length=None):
    """A Variable Byte Integer (MQTT 5.0 §1.5.5), padded with continuation octets to `length`."""
    out = bytearray()
    while True:
        octet = value % 128
        value //= 128
        if value > 0:
            octet |= 0x80
        out.append(octet)
        if value == 0:
            break
    while length is not None and len(out) < length:
        out[-1] |= 0x80
        out.append(0)
    return bytes(out)


def packet(ptype, flags, body=b"", length=None):
    return bytes([ptype << 4 | flags]) + vbi(len(body) if length is None else length) + body


def string(text):
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


PINGREQ, PINGRESP = bytes.fromhex("c000"), bytes.fromhex("d000")
CONNECT_311 = packet(1, 0, string("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big") + string("hb0123456789abcdef"))
CONNECT_5 = packet(1, 0, string("MQTT") + bytes([5, 0x02]) + (30).to_bytes(2, "big")
                   + vbi(5) + bytes([0x11]) + (3600).to_bytes(4, "big") + string("c5"))
CONNACK_311 = packet(2, 0, bytes([0, 0]))
CONNACK_5 = packet(2, 0, bytes([0, 0]) + vbi(3) + bytes([0x13]) + (10).to_bytes(2, "big"))
PUBLISH_Q0 = packet(3, 0, string("a/b") + b"hi")
PUBLISH_Q1_RETAIN_DUP = packet(3, 0b1011, string("a/b") + (7).to_bytes(2, "big") + b"payload")
SUBSCRIBE = packet(8, 2, (1).to_bytes(2, "big") + string("a/#") + bytes([1]))
UNSUBSCRIBE = packet(10, 2, (2).to_bytes(2, "big") + string("a/#"))
DISCONNECT = packet(14, 0)


def ping():
    return {"item": "ping"}


def pong():
    return {"item": "pong"}


def biz(data):
    """The business item of a whole packet `data` (one whose Remaining Length is minimal)."""
    ptype, flags = data[0] >> 4, data[0] & 0x0F
    # The body is what follows the fixed header: the Remaining Length ends at its first octet < 0x80.
    width = 1
    while data[width] & 0x80:
        width += 1
    return {"item": "business", "type": ptype, "flags": flags, "data": data[1 + width:].hex()}


def items_of(stream_packets):
    return [ping() if p == PINGREQ else pong() if p == PINGRESP else biz(p) for p in stream_packets]


def err(code, offset, reason):
    return {"code": code, "offset": offset, "reason": reason}


vectors = []


def V(name, description, data, items, error=None, role=None, opened=False, max_frame=None, reference="MQTT 5.0 §2.1"):
    vector = {"name": name, "dialect": "mqtt", "description": description, "reference": reference,
              "input": data.hex(), "items": items, "error": error}
    options = {}
    if role:
        options["role"] = role
    if opened:
        options["opened"] = True
    if max_frame is not None:
        options["maxFrameSize"] = max_frame
    if options:
        vector["options"] = options
    vectors.append(vector)


# Heartbeats (§3.12, §3.13).
V("mqtt-pingreq", "PINGREQ C0 00 is a heartbeat request without payload.", PINGREQ, [ping()], reference="MQTT 5.0 §3.12")
V("mqtt-pingresp", "PINGRESP D0 00 answers it.", PINGRESP, [pong()], reference="MQTT 5.0 §3.13")
V("mqtt-client-session-311", "A server reads a 3.1.1 CONNECT, PINGREQs and DISCONNECT.",
  CONNECT_311 + PINGREQ + PUBLISH_Q0 + PINGREQ + DISCONNECT, items_of([CONNECT_311, PINGREQ, PUBLISH_Q0, PINGREQ, DISCONNECT]),
  role="server", reference="MQTT 3.1.1 §3.1, §3.12")
V("mqtt-client-session-5", "A server reads an MQTT 5 CONNECT with a Session Expiry property, then PINGREQ.",
  CONNECT_5 + PINGREQ, items_of([CONNECT_5, PINGREQ]), role="server", reference="MQTT 5.0 §3.1")
V("mqtt-server-session-5", "A client reads an MQTT 5 CONNACK with Server Keep Alive 10, PINGRESP, a PUBLISH.",
  CONNACK_5 + PINGRESP + PUBLISH_Q0, items_of([CONNACK_5, PINGRESP, PUBLISH_Q0]), role="client", reference="MQTT 5.0 §3.2")
V("mqtt-server-auth-first", "A client may read an MQTT 5 AUTH before CONNACK.",
  packet(15, 0, bytes([0x18]) + vbi(0)) + CONNACK_311, items_of([packet(15, 0, bytes([0x18]) + vbi(0)), CONNACK_311]),
  role="client", reference="MQTT 5.0 §4.12")

# Every packet type, each with its fixed flags (§2.1.3), in one capture.
EVERY = [CONNECT_311, CONNACK_311, PUBLISH_Q0, packet(4, 0, bytes([0, 1])), packet(5, 0, bytes([0, 2])), packet(6, 2, bytes([0, 2])),
         packet(7, 0, bytes([0, 2])), SUBSCRIBE, packet(9, 0, bytes([0, 1, 1])), UNSUBSCRIBE, packet(11, 0, bytes([0, 2])),
         PINGREQ, PINGRESP, DISCONNECT, packet(15, 0)]
V("mqtt-every-packet-type", "Types 1-15 in a capture of both directions: PINGREQ and PINGRESP are heartbeats, the rest business.",
  b"".join(EVERY), items_of(EVERY), reference="MQTT 5.0 §2.1.2, §2.1.3")
V("mqtt-publish-flags", "PUBLISH with DUP, QoS 1 and RETAIN (1011) is business with those flags.",
  PUBLISH_Q1_RETAIN_DUP, items_of([PUBLISH_Q1_RETAIN_DUP]), reference="MQTT 5.0 §3.3.1")
V("mqtt-publish-qos2", "PUBLISH QoS 2 (0100) is business.", packet(3, 4, string("t") + bytes([0, 9])),
  items_of([packet(3, 4, string("t") + bytes([0, 9]))]), reference="MQTT 5.0 §3.3.1")
V("mqtt-disconnect-5-reason", "An MQTT 5 DISCONNECT with reason code 0x8D is business (the session reads it as a close).",
  packet(14, 0, bytes([0x8D])), items_of([packet(14, 0, bytes([0x8D]))]), reference="MQTT 5.0 §3.14")

# Remaining Length (§1.5.5).
for value in (0, 127, 128, 16_383, 16_384):
    data = packet(3, 0, bytes(i % 251 for i in range(value)))
    V(f"mqtt-remaining-length-{value}", f"Remaining Length {value} in {len(vbi(value))} octet(s): {vbi(value).hex()}.",
      data, items_of([data]), max_frame=1 << 20, reference="MQTT 5.0 §1.5.5")
for value in (2_097_151, 2_097_152, 268_435_455):
    V(f"mqtt-remaining-length-{value}-accepted", f"Remaining Length {value} ({vbi(value).hex()}) within the limit: the packet is awaited (TRUNCATED).",
      packet(3, 0, length=value), [], err("TRUNCATED", 0, "truncated"), max_frame=value, reference="MQTT 5.0 §1.5.5")
    V(f"mqtt-remaining-length-{value}-over-limit", f"Remaining Length {value} ({vbi(value).hex()}) one over the limit: PACKET_TOO_LARGE before buffering.",
      packet(3, 0, length=value), [], err(TOO_LARGE, 0, "frame-too-large"), max_frame=value - 1, reference="MQTT 5.0 §1.5.5, §3.1.2.11.4")
V("mqtt-remaining-length-fifth-octet", "A fourth Remaining Length octet with its continuation bit set is malformed.",
  bytes.fromhex("30ffffff ff7f".replace(" ", "")), [], err(MALFORMED, 0, "mqtt-remaining-length-too-long"), reference="MQTT 5.0 §1.5.5")
V("mqtt-remaining-length-fifth-octet-zeros", "80 80 80 80 01 is malformed too, after a PINGREQ: the offset is the packet's.",
  PINGREQ + bytes.fromhex("308080808001"), [ping()], err(MALFORMED, 2, "mqtt-remaining-length-too-long"), reference="MQTT 5.0 §1.5.5")
V("mqtt-remaining-length-non-minimal-0", "0 in two octets (80 00) is malformed.", bytes.fromhex("308000"), [],
  err(MALFORMED, 0, "mqtt-remaining-length-non-minimal"), reference="MQTT 5.0 §1.5.5 [MQTT-1.5.5-1]")
V("mqtt-remaining-length-non-minimal-127", "127 in two octets (FF 00) is malformed.", bytes.fromhex("30ff00") + bytes(127), [],
  err(MALFORMED, 0, "mqtt-remaining-length-non-minimal"), reference="MQTT 5.0 §1.5.5 [MQTT-1.5.5-1]")
V("mqtt-remaining-length-non-minimal-4", "128 in four octets (80 81 80 00) is malformed.", bytes.fromhex("3080818000"), [],
  err(MALFORMED, 0, "mqtt-remaining-length-non-minimal"), reference="MQTT 5.0 §1.5.5 [MQTT-1.5.5-1]")
V("mqtt-packet-too-large-default", "The default limit is 1,048,576 octets of Remaining Length.",
  packet(3, 0, length=1_048_577), [], err(TOO_LARGE, 0, "frame-too-large"), reference="spec/mqtt.md §2.3")
V("mqtt-packet-at-default-limit", "1,048,576 is within the default limit: awaited.",
  packet(3, 0, length=1_048_576), [], err("TRUNCATED", 0, "truncated"), reference="spec/mqtt.md §2.3")

# Fixed header rules (§2.1).
V("mqtt-reserved-type-0", "Packet type 0 is reserved: malformed.", bytes.fromhex("0000"), [],
  err(MALFORMED, 0, "mqtt-reserved-packet-type"), reference="MQTT 5.0 §2.1.2")
V("mqtt-subscribe-flags-0000", "SUBSCRIBE must carry flags 0010.", packet(8, 0, SUBSCRIBE[2:]), [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3, §3.8.1")
V("mqtt-unsubscribe-flags-0000", "UNSUBSCRIBE must carry flags 0010.", packet(10, 0, UNSUBSCRIBE[2:]), [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3, §3.10.1")
V("mqtt-pubrel-flags-0000", "PUBREL must carry flags 0010.", packet(6, 0, bytes([0, 1])), [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3, §3.6.1")
V("mqtt-puback-flags-0010", "PUBACK must carry flags 0000.", packet(4, 2, bytes([0, 1])), [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3")
V("mqtt-pingreq-flags", "PINGREQ with flags 0001 is malformed.", bytes.fromhex("c100"), [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3, §3.12.1")
V("mqtt-pingresp-flags", "PINGRESP with flags 1000 is malformed.", PINGREQ + bytes.fromhex("d800"), [ping()],
  err(MALFORMED, 2, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3, §3.13.1")
V("mqtt-pingreq-length", "PINGREQ with a Remaining Length of 1 is malformed.", bytes.fromhex("c00100"), [],
  err(MALFORMED, 0, "mqtt-ping-length"), reference="MQTT 5.0 §3.12")
V("mqtt-pingresp-length", "PINGRESP with a Remaining Length of 2 is malformed.", bytes.fromhex("d0020000"), [],
  err(MALFORMED, 0, "mqtt-ping-length"), reference="MQTT 5.0 §3.13")
V("mqtt-publish-qos-3", "PUBLISH with both QoS bits set is malformed.", packet(3, 0b0110, string("t") + bytes([0, 1])), [],
  err(MALFORMED, 0, "mqtt-publish-qos-3"), reference="MQTT 5.0 §3.3.1.2")
V("mqtt-connect-flags", "CONNECT with flags 0001 is malformed.", bytes([0x11]) + CONNECT_311[1:], [],
  err(MALFORMED, 0, "mqtt-fixed-header-flags"), reference="MQTT 5.0 §2.1.3")

# Truncation.
V("mqtt-truncated-body", "Input ending inside a packet's body is TRUNCATED at its first octet.", PINGREQ + PUBLISH_Q0[:-1], [ping()],
  err("TRUNCATED", 2, "truncated"), reference="spec/mqtt.md §3")
V("mqtt-truncated-length", "Input ending inside the Remaining Length is TRUNCATED.", bytes.fromhex("3080"), [],
  err("TRUNCATED", 0, "truncated"), reference="spec/mqtt.md §3")
V("mqtt-truncated-header", "A lone first octet is TRUNCATED.", PINGRESP + bytes.fromhex("c0"), [pong()],
  err("TRUNCATED", 2, "truncated"), reference="spec/mqtt.md §3")

# Direction and order (roles).
V("mqtt-server-reads-pingresp", "A server reads no PINGRESP: only servers send it.", CONNECT_311 + PINGRESP, items_of([CONNECT_311]),
  err(PROTOCOL, len(CONNECT_311), "mqtt-wrong-direction"), role="server", reference="MQTT 5.0 §3.13")
V("mqtt-client-reads-pingreq", "A client reads no PINGREQ: servers never ping.", PINGREQ, [],
  err(PROTOCOL, 0, "mqtt-wrong-direction"), role="client", opened=True, reference="MQTT 5.0 §3.12")
V("mqtt-client-reads-subscribe", "A client reads no SUBSCRIBE.", SUBSCRIBE, [],
  err(PROTOCOL, 0, "mqtt-wrong-direction"), role="client", opened=True, reference="MQTT 5.0 §3.8")
V("mqtt-server-first-packet", "A server's first packet from a client must be CONNECT.", PINGREQ, [],
  err(PROTOCOL, 0, "mqtt-first-packet"), role="server", reference="MQTT 5.0 §3.1 [MQTT-3.1.0-1]")
V("mqtt-client-first-packet", "A client's first packet from a server must be CONNACK.", PUBLISH_Q0, [],
  err(PROTOCOL, 0, "mqtt-first-packet"), role="client", reference="MQTT 5.0 §3.2 [MQTT-3.2.0-1]")
V("mqtt-second-connect", "A second CONNECT is a protocol error.", CONNECT_311 + PINGREQ + CONNECT_311, items_of([CONNECT_311, PINGREQ]),
  err(PROTOCOL, len(CONNECT_311) + 2, "mqtt-second-opening"), role="server", reference="MQTT 5.0 §3.1 [MQTT-3.1.0-2]")
V("mqtt-second-connack", "A second CONNACK is a protocol error.", CONNACK_311 + CONNACK_311, items_of([CONNACK_311]),
  err(PROTOCOL, 4, "mqtt-second-opening"), role="client", reference="spec/mqtt.md §4.1")
V("mqtt-opened-server", "A server whose session was opened elsewhere reads packets at once.", PINGREQ + PUBLISH_Q0,
  items_of([PINGREQ, PUBLISH_Q0]), role="server", opened=True, reference="spec/mqtt.md §4")


def write():
    with open(os.path.join(HERE, "mqtt.json"), "w") as out:
        json.dump({"vectors": vectors}, out, indent=1, ensure_ascii=False)
        out.write("\n")
    print(f"mqtt {len(vectors)}")


write()
