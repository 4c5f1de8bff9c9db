#!/usr/bin/env python3
"""Writes spec/vectors/tls.json: TLS Heartbeat (RFC 6520) on plaintext TLS records (spec/tls.md).

The bytes are built here, in plain Python from RFC 5246 §6.2 and RFC 6520 §4, independently of the
Swift implementation; the expected items and errors are written by hand next to each input.
Run it from anywhere: `python3 spec/vectors/generate_tls.py`. The output is deterministic.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

HEARTBEAT, APPLICATION_DATA, HANDSHAKE, ALERT, CHANGE_CIPHER_SPEC = 24, 23, 22, 21, 20
REQUEST, RESPONSE = 1, 2
TLS12 = 0x0303
MAX_RECORD = (1 << 14) + 2048       # RFC 5246 §6.2.3, TLSCiphertext
MAX_HEARTBEAT = 1 << 14             # RFC 6520 §4

P1 = bytes.fromhex("0000000100000bb8")  # our layout: sequence 1, sent at 3,000 ms
P2 = bytes.fromhex("00000002000017a0")
PAD16 = bytes(range(0xA0, 0xB0))        # any content: the receiver ignores it


def record(ctype, fragment, version=TLS12, length=None):
    """A TLSPlaintext record (RFC 5246 §6.2.1); `length` overrides the real fragment length."""
    return bytes([ctype]) + version.to_bytes(2, "big") + (len(fragment) if length is None else length).to_bytes(2, "big") + fragment


def message(mtype, payload, padding=PAD16, payload_length=None):
    """A HeartbeatMessage (RFC 6520 §4); `payload_length` overrides the real payload length."""
    claimed = len(payload) if payload_length is None else payload_length
    return bytes([mtype]) + claimed.to_bytes(2, "big") + payload + padding


def heartbeat(mtype, payload, padding=PAD16, version=TLS12, payload_length=None):
    return record(HEARTBEAT, message(mtype, payload, padding, payload_length), version)


def ping(payload):
    return {"item": "ping", "payload": payload.hex()}


def pong(payload):
    return {"item": "pong", "payload": payload.hex()}


def biz(ctype, data):
    return {"item": "business", "type": ctype, "data": data.hex()}


def err(code, offset, reason):
    return {"code": code, "offset": offset, "reason": reason}


vectors = []


def T(name, description, data, items, error=None, max_frame=None, reference="RFC 6520 §4"):
    vector = {"name": name, "dialect": "tls", "description": description, "reference": reference,
              "input": data.hex(), "items": items, "error": error}
    if max_frame is not None:
        vector["options"] = {"maxFrameSize": max_frame}
    vectors.append(vector)


LONG = bytes((i * 7) & 0xFF for i in range(100))
MAXP = bytes(i & 0xFF for i in range(MAX_HEARTBEAT - 3 - 16))   # 16,365 octets: a 2^14-octet record

# Heartbeat messages that are answered or matched (RFC 6520 §4, spec/tls.md §4.1).
T("tls-request-ours", "Our heartbeat_request: 8-octet payload (sequence, milliseconds), 16 octets of padding.",
  heartbeat(REQUEST, P1), [ping(P1)], reference="RFC 6520 §4; spec/tls.md §4.1")
T("tls-response-ours", "A heartbeat_response echoing our 8-octet payload.", heartbeat(RESPONSE, P1), [pong(P1)],
  reference="RFC 6520 §4; spec/tls.md §4.1")
T("tls-request-empty-payload", "payload_length 0 and 16 octets of padding: a ping with an empty payload.",
  heartbeat(REQUEST, b""), [ping(b"")])
T("tls-response-empty-payload", "A response with an empty payload.", heartbeat(RESPONSE, b""), [pong(b"")])
T("tls-request-100-octets", "A 100-octet payload: longer than our 8, echoed whole.", heartbeat(REQUEST, LONG), [ping(LONG)])
T("tls-request-long-padding", "200 octets of padding after the payload: more than the minimum is allowed.",
  heartbeat(REQUEST, P2, padding=bytes(200)), [ping(P2)])
T("tls-padding-content-ignored", "Padding of 0xFF octets: its content is ignored.",
  heartbeat(REQUEST, P1, padding=b"\xff" * 16), [ping(P1)])
T("tls-request-at-2^14", "A request filling a 2^14-octet record: 16,365 payload octets and 16 of padding.",
  heartbeat(REQUEST, MAXP), [ping(MAXP)], reference="RFC 6520 §4; spec/tls.md §4.2")
T("tls-request-version-0301", "A request in a TLS 1.0 (0x0301) record.", heartbeat(REQUEST, P1, version=0x0301), [ping(P1)],
  reference="spec/tls.md §3.2")
T("tls-request-version-0300", "A request in an SSL 3.0 (0x0300) record: the lowest version accepted.",
  heartbeat(REQUEST, P1, version=0x0300), [ping(P1)], reference="spec/tls.md §3.2")
T("tls-request-version-0304", "0x0304, the highest version accepted.", heartbeat(REQUEST, P2, version=0x0304), [ping(P2)],
  reference="spec/tls.md §3.2")

# Business records (spec/tls.md §3.3).
T("tls-application-data", "An application_data record: business type 23, its fragment whole.",
  record(APPLICATION_DATA, b"hello, heartbeat"), [biz(23, b"hello, heartbeat")], reference="RFC 5246 §6.2.1")
T("tls-application-data-empty", "A zero-length application_data record (RFC 5246 §6.2.1 allows it).",
  record(APPLICATION_DATA, b""), [biz(23, b"")], reference="RFC 5246 §6.2.1")
T("tls-handshake-record", "A handshake record (a ClientHello's first octets): business type 22.",
  record(HANDSHAKE, bytes.fromhex("010000280303")), [biz(22, bytes.fromhex("010000280303"))], reference="RFC 5246 §6.2.1")
T("tls-change-cipher-spec", "change_cipher_spec: business type 20.", record(CHANGE_CIPHER_SPEC, b"\x01"),
  [biz(20, b"\x01")], reference="RFC 5246 §7.1")
T("tls-alert-close-notify", "An alert record (warning, close_notify): business type 21.", record(ALERT, b"\x01\x00"),
  [biz(21, b"\x01\x00")], reference="RFC 5246 §7.2.1")
T("tls-mixed-stream", "Request, data, response, handshake, data: every record in order.",
  heartbeat(REQUEST, P1) + record(APPLICATION_DATA, b"a") + heartbeat(RESPONSE, P2) + record(HANDSHAKE, b"\x14")
  + record(APPLICATION_DATA, b"bc"),
  [ping(P1), biz(23, b"a"), pong(P2), biz(22, b"\x14"), biz(23, b"bc")], reference="spec/tls.md §3")
BIG = bytes(i & 0xFF for i in range(MAX_RECORD))
T("tls-record-at-limit", "An application_data record of 2^14 + 2048 octets: the largest accepted.",
  record(APPLICATION_DATA, BIG), [biz(23, BIG)], reference="RFC 5246 §6.2.3; spec/tls.md §3.4")
T("tls-record-at-configured-limit", "A 1,000-octet record with maxFrameSize 1,000: accepted.",
  record(APPLICATION_DATA, bytes(1000)), [biz(23, bytes(1000))], max_frame=1000, reference="spec/tls.md §3.4")

# Discarded heartbeat messages: no item, no error, decoding goes on (RFC 6520 §4, spec/tls.md §4.2).
HEARTBLEED = record(HEARTBEAT, bytes([REQUEST, 0x40, 0x00]), version=0x0302)
T("tls-heartbleed-cve-2014-0160", "The original CVE-2014-0160 request: a TLS 1.1 record of 3 octets claiming a "
  "payload_length of 0x4000. Discarded silently: no item, never answered.", HEARTBLEED, [],
  reference="RFC 6520 §4; CVE-2014-0160; spec/tls.md §4.2")
T("tls-heartbleed-then-request", "After a discarded Heartbleed request the next record decodes normally.",
  HEARTBLEED + heartbeat(REQUEST, P1), [ping(P1)], reference="RFC 6520 §4; spec/tls.md §4.2")
T("tls-heartbleed-ffff", "A 3-octet record claiming payload_length 0xFFFF: discarded.",
  record(HEARTBEAT, bytes([REQUEST, 0xFF, 0xFF])), [])
T("tls-heartbleed-with-payload", "8 payload octets and padding present, payload_length 0x4000: discarded.",
  heartbeat(REQUEST, P1, payload_length=0x4000), [])
T("tls-payload-overflow-by-one", "payload_length one more than the octets after it (no padding left): discarded.",
  record(HEARTBEAT, bytes([REQUEST, 0x00, 0x19]) + P1 + PAD16), [])
T("tls-padding-15", "Padding of 15 octets: 3 + payload_length + 16 > record length, discarded.",
  heartbeat(REQUEST, P1, padding=PAD16[:15]), [], reference="RFC 6520 §4")
T("tls-padding-none", "A request whose payload fills the record, no padding: discarded.",
  heartbeat(REQUEST, P1, padding=b""), [], reference="RFC 6520 §4")
T("tls-response-padding-15", "A response with 15 octets of padding: discarded, never matched.",
  heartbeat(RESPONSE, P1, padding=PAD16[:15]), [])
T("tls-response-heartbleed", "A response claiming more payload than its record holds: discarded.",
  heartbeat(RESPONSE, P1, payload_length=0x0100), [])
T("tls-heartbeat-empty-record", "A heartbeat record of 0 octets: no type, discarded.", record(HEARTBEAT, b""), [])
T("tls-heartbeat-two-octets", "A heartbeat record of 2 octets: payload_length cut, discarded.",
  record(HEARTBEAT, bytes([REQUEST, 0x00])), [])
T("tls-unknown-message-type-0", "HeartbeatMessageType 0: discarded silently (RFC 6520 §4).", heartbeat(0, P1), [])
T("tls-unknown-message-type-3", "HeartbeatMessageType 3: discarded silently.", heartbeat(3, P1), [])
T("tls-unknown-message-type-255", "HeartbeatMessageType 255 then a valid request: only the request is reported.",
  heartbeat(255, P1) + heartbeat(REQUEST, P2), [ping(P2)])
OVER = bytes(MAX_HEARTBEAT - 3 - 16 + 1)
T("tls-heartbeat-over-2^14", "A well-formed request in a record of 2^14 + 1 octets: over the heartbeat limit, discarded.",
  heartbeat(REQUEST, OVER), [], reference="RFC 6520 §4; spec/tls.md §4.2")
T("tls-discards-between-records", "Data, a Heartbleed request, padding-short response, data: only the data records.",
  record(APPLICATION_DATA, b"x") + HEARTBLEED + heartbeat(RESPONSE, P1, padding=b"") + record(APPLICATION_DATA, b"y"),
  [biz(23, b"x"), biz(23, b"y")], reference="spec/tls.md §4.2")

# Record-layer errors (spec/tls.md §3).
T("tls-content-type-25", "Content type 25 is not known here: UNEXPECTED_MESSAGE (RFC 5246 §6).",
  record(25, b"abc"), [], err("UNEXPECTED_MESSAGE", 0, "tls-content-type"), reference="RFC 5246 §6; spec/tls.md §3.1")
T("tls-content-type-0", "Content type 0: UNEXPECTED_MESSAGE as soon as its octet arrives.", b"\x00",
  [], err("UNEXPECTED_MESSAGE", 0, "tls-content-type"), reference="spec/tls.md §3.1")
T("tls-content-type-19", "Content type 19, just below change_cipher_spec: UNEXPECTED_MESSAGE.", record(19, b""),
  [], err("UNEXPECTED_MESSAGE", 0, "tls-content-type"), reference="spec/tls.md §3.1")
T("tls-not-tls-http", "An HTTP request is no TLS: 'G' (0x47) is no content type.", b"GET / HTTP/1.1\r\n\r\n",
  [], err("UNEXPECTED_MESSAGE", 0, "tls-content-type"), reference="spec/tls.md §3.1")
T("tls-sslv2-client-hello", "An SSLv2-format ClientHello (first octet 0x80) is not read: UNEXPECTED_MESSAGE.",
  bytes.fromhex("802e0103010015"), [], err("UNEXPECTED_MESSAGE", 0, "tls-content-type"), reference="spec/tls.md §3.1")
T("tls-content-type-after-ping", "A request, then content type 99: the error is at the second record (offset 32).",
  heartbeat(REQUEST, P1) + record(99, b""), [ping(P1)], err("UNEXPECTED_MESSAGE", 32, "tls-content-type"),
  reference="spec/tls.md §3.1")
T("tls-version-0200", "Record version 0x0200: PROTOCOL_VERSION.", record(APPLICATION_DATA, b"x", version=0x0200), [],
  err("PROTOCOL_VERSION", 0, "tls-record-version"), reference="spec/tls.md §3.2")
T("tls-version-0305", "Record version 0x0305: PROTOCOL_VERSION.", record(APPLICATION_DATA, b"x", version=0x0305), [],
  err("PROTOCOL_VERSION", 0, "tls-record-version"), reference="spec/tls.md §3.2")
T("tls-version-major-only", "Major version 4 fails before the minor octet arrives.", bytes([APPLICATION_DATA, 4]), [],
  err("PROTOCOL_VERSION", 0, "tls-record-version"), reference="spec/tls.md §3.2")
T("tls-version-feff", "DTLS 1.0's version 0xFEFF on a TLS stream: PROTOCOL_VERSION.",
  heartbeat(REQUEST, P1, version=0xFEFF), [], err("PROTOCOL_VERSION", 0, "tls-record-version"), reference="spec/tls.md §3.2")
T("tls-record-overflow", "A record of 2^14 + 2049 octets: RECORD_OVERFLOW from its header alone.",
  record(APPLICATION_DATA, b"", length=MAX_RECORD + 1), [], err("RECORD_OVERFLOW", 0, "frame-too-large"),
  reference="RFC 5246 §6.2.3; spec/tls.md §3.4")
T("tls-record-overflow-ffff", "A heartbeat record claiming 65,535 octets: RECORD_OVERFLOW before any is buffered.",
  record(HEARTBEAT, bytes([REQUEST, 0xFF, 0xEC]), length=0xFFFF), [], err("RECORD_OVERFLOW", 0, "frame-too-large"),
  reference="RFC 5246 §6.2.3; spec/tls.md §3.4")
T("tls-record-overflow-after-items", "A request and data, then a record over the limit at offset 38.",
  heartbeat(REQUEST, P1) + record(APPLICATION_DATA, b"a") + record(ALERT, b"", length=0x4801),
  [ping(P1), biz(23, b"a")], err("RECORD_OVERFLOW", 38, "frame-too-large"), reference="spec/tls.md §3.4")
T("tls-record-over-configured-limit", "A 1,001-octet record with maxFrameSize 1,000: RECORD_OVERFLOW.",
  record(APPLICATION_DATA, bytes(1001)), [], err("RECORD_OVERFLOW", 0, "frame-too-large"), max_frame=1000,
  reference="spec/tls.md §3.4")
T("tls-heartbeat-over-configured-limit", "A 100-octet heartbeat record with maxFrameSize 64: the record limit applies first.",
  heartbeat(REQUEST, bytes(81)), [], err("RECORD_OVERFLOW", 0, "frame-too-large"), max_frame=64,
  reference="spec/tls.md §3.4")
T("tls-truncated-header", "The input ends inside a record header: TRUNCATED.", bytes([HEARTBEAT, 3, 3]), [],
  err("TRUNCATED", 0, "truncated"), reference="spec/tls.md §3.5")
T("tls-truncated-fragment", "The input ends inside a request's fragment, after a complete request: TRUNCATED at 32.",
  heartbeat(REQUEST, P1) + heartbeat(REQUEST, P2)[:20], [ping(P1)], err("TRUNCATED", 32, "truncated"),
  reference="spec/tls.md §3.5")
T("tls-truncated-heartbleed", "A Heartbleed header whose record is cut short: TRUNCATED, still no answer.",
  HEARTBLEED[:6], [], err("TRUNCATED", 0, "truncated"), reference="spec/tls.md §3.5")

with open(os.path.join(HERE, "tls.json"), "w") as out:
    json.dump({"vectors": vectors}, out, indent=1, ensure_ascii=False)
    out.write("\n")
print(f"tls {len(vectors)}")
