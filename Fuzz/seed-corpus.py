#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into Fuzz/corpus/<target>/: one file per test
vector in spec/vectors/ (vector-*), with the option and split octets each target reads first,
and hand-written edge cases (edge-*). Plain Python 3, no dependencies; deterministic, so running
it again rewrites the same files. Inputs the fuzzer found are kept beside these by
`Fuzz/run.sh --merge` (see README.md)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "spec", "vectors")
CORPUS = os.path.join(HERE, "corpus")

# Keep in step with DemuxerSetup.swift.
ENVELOPE_MAX_FRAME_SIZES = [16384, 64, 0, 1000, 16385, 65536, 1 << 20, 16777215]
HTTP2_MAX_FRAME_SIZES = [16384, 16383, 16385, 65536, 1 << 20, 16777215, 0, (1 << 63) - 1]
WS_MAX_FRAME_SIZES = [65536, 125, 0, 1000, 126, 1 << 20, 124, (1 << 63) - 1]
# WebSocket option bits 0-1: our role; bits 2-3: the handshake policy; bits 4-6: the frame size.
WS_ROLES = {None: 0, "client": 1, "server": 2}
WS_HANDSHAKES = {"optional": 0, "none": 1, "request": 2, "response": 3}
# Longer vectors are left out: libFuzzer's -max_len defaults to the longest corpus input, and the
# longest so far (the 16 KiB frame-max vectors) keeps the runs fast.
MAX_SEED_LENGTH = 16400
DIALECTS = {"envelope": 0, "http2": 1, "quic": 2, "websocket": 3}
DIALECTS["tls"] = 4
DIALECTS["mqtt"] = 5
# MQTT option bits 0-1: our role (0 capture, 1 client, 2 server); bit 2: opened; bits 4-6: the size.
MQTT_MAX_FRAME_SIZES = [1 << 20, 16, 0, 127, 128, 16384, 2097152, (1 << 63) - 1]
DIALECTS["amqp"] = 6
DIALECTS["resp"] = 7
DIALECTS["lines"] = 8
# RESP option bits 0-1: our role (0 a capture); bit 2: the echo mode; bits 3-5: the value size; bits 6-7: the depth.
RESP_MAX_FRAME_SIZES = [1 << 20, 64, 0, 100, 1000, 65536, 16, (1 << 63) - 1]
RESP_MAX_DEPTHS = [32, 1, 0, 100]
# Text-lines option bits 0-2: the maximum line length.
LINES_MAX_FRAME_SIZES = [8192, 4, 0, 16, 100, 65536, 3, (1 << 63) - 1]

MAGIC = bytes([0x89, 0x48, 0x42, 0x0D, 0x0A, 0x1A, 0x0A])
ENVELOPE_PREFACE = MAGIC + b"\x01"
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def varint(value, width=None):
    if width is None:
        width = 1 if value < 1 << 6 else 2 if value < 1 << 14 else 4 if value < 1 << 30 else 8
    prefix = {1: 0, 2: 1, 4: 2, 8: 3}[width] << (width * 8 - 2)
    return (prefix | value).to_bytes(width, "big")


def envelope_options(options):
    options = options or {}
    index = ENVELOPE_MAX_FRAME_SIZES.index(options.get("maxFrameSize", 16384))
    return (index << 1) | (1 if options.get("preface") == "none" else 0)


def http2_options(options):
    options = options or {}
    index = HTTP2_MAX_FRAME_SIZES.index(options.get("maxFrameSize", 16384))
    policy = {"none": 0, "required": 1, "optional": 2}[options.get("preface", "none")]
    return (index << 2) | policy


def ws_options(options):
    """The option octet of a WebSocket vector: a server with a handshake expects the request, a
    client the response."""
    options = options or {}
    role = options.get("role")
    if options.get("handshake"):
        handshake = "request" if role == "server" else "response" if role == "client" else "optional"
    else:
        handshake = "none" if role else "optional"
    index = WS_MAX_FRAME_SIZES.index(options.get("maxFrameSize", 65536))
    return (index << 4) | (WS_HANDSHAKES[handshake] << 2) | WS_ROLES[role]


def ws_frame(opcode, payload=b"", fin=True, key=None, length=None, rsv=0):
    """A WebSocket frame, masked with the 4-octet `key` if given; `length` overrides the declared
    length (encoded minimally for its value)."""
    length = len(payload) if length is None else length
    out = bytes([(0x80 if fin else 0) | rsv | opcode])
    mask = 0x80 if key is not None else 0
    if length < 126:
        out += bytes([mask | length])
    elif length < 1 << 16:
        out += bytes([mask | 126]) + length.to_bytes(2, "big")
    else:
        out += bytes([mask | 127]) + length.to_bytes(8, "big")
    if key is not None:
        out += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def h2_frame(type_, flags, stream, payload=b"", length=None):
    length = len(payload) if length is None else length
    return length.to_bytes(3, "big") + bytes([type_, flags]) + stream.to_bytes(4, "big") + payload


def size_octets(sizes):
    """Chunk sizes as demux-differential reads them (< 128 exact, else a multiple of 128)."""
    out = []
    for size in sizes:
        if size < 128:
            out.append(size)
        elif size % 128 == 0 and size // 128 < 128:
            out.append(0x80 | size // 128)
        else:
            return None
    return bytes([len(out)] + out)


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def vectors(dialect):
    with open(os.path.join(VECTORS, dialect + ".json")) as f:
        return json.load(f)["vectors"]


def seed_from_vectors():
    for vector in vectors("envelope") + vectors("http2"):
        dialect = vector["dialect"]
        stream = bytes.fromhex(vector["input"])
        options = (envelope_options if dialect == "envelope" else http2_options)(vector.get("options"))
        name = "vector-" + vector["name"]
        write(dialect + "-decoder", name, bytes([options]) + stream)
        write("demux-differential", name + "-bytewise", bytes([DIALECTS[dialect], options, 0]) + stream)
        write("demux-differential", name + "-chunks", bytes([DIALECTS[dialect], options, 3, 5, 0, 0x81]) + stream)
        # dissector: dialect + JSON-lines bit, chunk size, capture (default options only).
        if not vector.get("options") or vector["options"].get("preface") == "optional":
            write("dissector", name, bytes([DIALECTS[dialect] | 4, 7]) + stream)
    for vector in vectors("websocket"):
        stream = bytes.fromhex(vector["input"])
        if len(stream) > MAX_SEED_LENGTH:
            continue  # would raise libFuzzer's -max_len for the whole run; roundtrip covers 64-bit lengths
        options = ws_options(vector.get("options"))
        name = "vector-" + vector["name"]
        ws = DIALECTS["websocket"]
        write("websocket-decoder", name, bytes([options]) + stream)
        write("demux-differential", name + "-bytewise", bytes([ws, options, 0]) + stream)
        write("demux-differential", name + "-chunks", bytes([ws, options, 3, 5, 0, 0x81]) + stream)
        # dissector: a capture (no role, optional handshake) of every vector.
        write("dissector", name, bytes([ws | 4, 7]) + stream)
    for vector in vectors("quic"):
        packets = [bytes.fromhex(p) for p in vector["packets"]]
        name = "vector-" + vector["name"]
        if len(packets) == 1:
            write("quic-decoder", name, b"\x00" + packets[0])
        write("quic-decoder", name + "-prefixed", b"\x01" + b"".join(varint(len(p)) + p for p in packets))
        sizes = size_octets([len(p) for p in packets]) if len(packets) > 1 else b"\x00"
        if sizes is not None:
            write("demux-differential", name, bytes([DIALECTS["quic"], 0]) + sizes + b"".join(packets))
        if len(packets) == 1:
            write("dissector", name, bytes([DIALECTS["quic"] | 4, 0]) + packets[0])


def resp_options(options):
    options = options or {}
    role = {None: 0, "client": 1, "server": 2}[options.get("role")]
    echo = 4 if options.get("pingMessage") else 0
    size = RESP_MAX_FRAME_SIZES.index(options.get("maxFrameSize", 1 << 20)) if options.get("maxFrameSize", 1 << 20) in RESP_MAX_FRAME_SIZES else 0
    depth = {32: 0, 1: 1, 64: 3}.get(options.get("maxDepth", 32))
    if depth is None:
        return None
    return role | echo | size << 3 | depth << 6


def lines_options(options):
    size = (options or {}).get("maxFrameSize", 8192)
    return LINES_MAX_FRAME_SIZES.index(size) if size in LINES_MAX_FRAME_SIZES else None


def seed_text_vectors():
    """RESP and text-lines vectors; a vector whose limits have no option octet is seeded as is."""
    for dialect, options_of in (("resp", resp_options), ("lines", lines_options)):
        for vector in vectors(dialect):
            stream = bytes.fromhex(vector["input"])
            options = options_of(vector.get("options"))
            if options is None or len(stream) > MAX_SEED_LENGTH:
                continue
            name = "vector-" + vector["name"]
            write(dialect + "-decoder", name, bytes([options]) + stream)
            write("demux-differential", name + "-bytewise", bytes([DIALECTS[dialect], options, 0]) + stream)
            write("demux-differential", name + "-chunks", bytes([DIALECTS[dialect], options, 3, 5, 0, 0x81]) + stream)
    # roundtrip: dialect, options, chunk size, then operations (see TextRoundTrips.swift).
    ops = bytes([0]) + bytes(range(8)) + bytes([1]) + bytes(range(8, 16)) + bytes([2, 6, 3, 1, 2]) + bytes([3, 1, 5, 5, 5, 1])
    ops += bytes([4, 12, 2, 9, 9, 9]) + bytes([5, 3, 1, 1, 1, 0, 3])
    for name, options in (("resp-capture", 0), ("resp-client-echo", 1 | 4), ("resp-server", 2), ("resp-small-shallow", 1 | 3 << 3 | 1 << 6)):
        write("roundtrip", "seed-" + name, bytes([DIALECTS["resp"], options, 3]) + ops)
    write("roundtrip", "seed-lines", bytes([DIALECTS["lines"], 0, 1]) + bytes([0, 1, 2, 1, 5, 104, 101, 108, 108, 111, 3, 1, 4, 80, 73, 78, 71]))
    write("roundtrip", "seed-lines-short", bytes([DIALECTS["lines"], 3, 0]) + bytes([2, 1, 40]) + bytes(range(40)) + bytes([0, 1]))


def seed_edges():
    ping = b"\x01\x08" + bytes(range(8))
    envelope = {
        "preface-only": ENVELOPE_PREFACE,
        "ping-no-preface": b"\x01" + ping,  # option bit 0: no preface
        "length-max-varint": ENVELOPE_PREFACE + b"\x00" + b"\xff" * 8,
        "length-limit-plus-one": ENVELOPE_PREFACE + b"\x00" + varint(16385),
        "length-at-limit-no-payload": ENVELOPE_PREFACE + b"\x00" + varint(16384, 4),
        "length-16m-limit-16m": bytes([7 << 1]) + ENVELOPE_PREFACE + b"\x00" + varint(16777215, 8),
        "type-8-octets": ENVELOPE_PREFACE + varint((1 << 62) - 1) + b"\x00",
        "type-non-minimal-8": ENVELOPE_PREFACE + varint(1, 8) + b"\x08" + bytes(8),
        "goaway-truncated-code": ENVELOPE_PREFACE + b"\x03\x01\x40",
        "goaway-8-octet-code": ENVELOPE_PREFACE + b"\x03\x09" + varint((1 << 62) - 1, 8) + b"x",
        "ping-lengths": ENVELOPE_PREFACE + b"".join(b"\x01" + varint(n) + bytes(n) for n in (8, 0, 7, 9, 16)),
        "truncated-length-varint": ENVELOPE_PREFACE + b"\x00\xc0\x00",
    }
    for name, data in envelope.items():
        data = data if name.endswith("no-preface") or name.startswith("length-16m") else b"\x00" + data
        write("envelope-decoder", "edge-" + name, data)
        write("demux-differential", "edge-envelope-" + name, bytes([0, data[0], 0]) + data[1:])

    h2_ping = h2_frame(6, 0, 0, bytes(8))
    http2 = {
        "ping-in-header-block": bytes([0]) + h2_frame(1, 0, 1, b"h") + h2_ping + h2_frame(9, 4, 1, b"c"),
        "ping-every-wrong-length": bytes([0]) + b"".join(h2_frame(6, 0, 0, bytes(n)) for n in range(17) if n != 8),
        "ping-on-stream-1": bytes([0]) + h2_frame(6, 0, 1, bytes(8)),
        "continuation-alone": bytes([0]) + h2_frame(9, 4, 1, b"c"),
        "continuation-other-stream": bytes([0]) + h2_frame(1, 0, 1) + h2_frame(9, 4, 3),
        "length-24-bit-max": bytes([0]) + h2_frame(0, 0, 1, length=(1 << 24) - 1),
        "length-24-bit-max-limit-16m": bytes([5 << 2]) + h2_frame(0, 0, 1, length=(1 << 24) - 1),
        "preface-then-ping": bytes([1]) + H2_PREFACE + h2_ping,
        "preface-broken-late": bytes([1]) + H2_PREFACE[:20] + b"X" + h2_ping,
        "optional-preface-9-octets": bytes([2]) + H2_PREFACE[:9] + h2_ping,
        "optional-absent": bytes([2]) + h2_ping,
        "push-promise-block": bytes([0]) + h2_frame(5, 0, 1, b"p") + h2_frame(9, 0, 1) + h2_frame(9, 4, 1) + h2_ping,
        "reserved-bit-stream": bytes([0]) + h2_frame(0, 0, 0x80000001, b"d"),
    }
    for name, data in http2.items():
        write("http2-decoder", "edge-" + name, data)
        write("demux-differential", "edge-http2-" + name, bytes([1, data[0], 0]) + data[1:])

    quic = {
        "ping-non-minimal-2": b"\x40\x01",
        "ping-non-minimal-8": varint(1, 8),
        "type-8-octets-unknown": varint((1 << 62) - 1),
        "unknown-0x1f": b"\x1f",
        "ack-underflow": b"\x02\x05\x00\x00\x06",
        "ack-many-ranges": b"\x02" + varint(1000) + b"\x00\x04\x01" + b"\x00\x00" * 4,
        "ack-ecn": b"\x03\x0a\x00\x00\x00\x01\x02\x03" + b"\x01",
        "stream-offset-overflow": b"\x0e\x00" + varint((1 << 62) - 1) + b"\x01x",
        "crypto-length-max": b"\x06\x00" + varint((1 << 62) - 1),
        "new-token-empty": b"\x07\x00",
        "ncid-length-0": b"\x18\x01\x00\x00" + bytes(16),
        "ncid-length-21": b"\x18\x01\x00\x15" + bytes(21 + 16),
        "max-streams-2-60-plus-1": b"\x12" + varint((1 << 60) + 1),
        "datagram-to-end": b"\x01\x30hello",
        "padding-then-ping": bytes(40) + b"\x01",
        "connection-close-reason-long": b"\x1c\x00\x00" + varint(1 << 20) + b"x",
        "stream-no-length": b"\x08\x04payload",
        "every-type-0x00-0x1e": bytes(range(0x1f)),
    }
    for name, data in quic.items():
        write("quic-decoder", "edge-" + name, b"\x00" + data)
        write("demux-differential", "edge-quic-" + name, bytes([2, 0, 0]) + data)

    key = bytes([0xA1, 0xB2, 0xC3, 0xD4])
    client, server, capture = 0x04 | 1, 0x04 | 2, 0  # handshake "none" for a role; capture: optional
    request = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    websocket = {
        "ping-every-length-masked": bytes([server]) + b"".join(ws_frame(9, bytes(range(n)), key=key) for n in (0, 1, 7, 8, 9, 125)),
        "pong-every-length": bytes([client]) + b"".join(ws_frame(10, bytes(range(n))) for n in (0, 1, 7, 8, 9, 125)),
        "fragments-interleaved-control": bytes([server]) + ws_frame(1, b"He", fin=False, key=key) + ws_frame(9, b"p", key=key)
        + ws_frame(0, b"ll", fin=False, key=key) + ws_frame(10, b"", key=key) + ws_frame(0, b"o", key=key),
        "length-126-16-bit": bytes([client]) + ws_frame(2, bytes(126)),
        "length-65535-16-bit-truncated": bytes([client]) + ws_frame(2, length=65535) + b"abc",
        "length-65536-64-bit-truncated": bytes([client]) + ws_frame(2, length=65536) + b"abc",
        "length-65537-over-default": bytes([client]) + ws_frame(2, length=65537),
        "length-1m-limit-1m": bytes([5 << 4 | client]) + ws_frame(2, length=1 << 20),
        "length-126-limit-clamped-125": bytes([1 << 4 | client]) + ws_frame(2, bytes(126)),
        "length-2-62-limit-max": bytes([7 << 4 | client]) + ws_frame(2, length=1 << 62),
        "length-2-63-high-bit": bytes([7 << 4 | client]) + ws_frame(2, length=1 << 63),
        "close-code-reason-masked": bytes([server]) + ws_frame(8, (1000).to_bytes(2, "big") + "bye ✓".encode(), key=key),
        "close-reason-split-utf8": bytes([client]) + ws_frame(8, (3000).to_bytes(2, "big") + "✓".encode()[:2]),
        "close-every-code-class": bytes([client]) + b"".join(ws_frame(8, c.to_bytes(2, "big")) for c in (1000, 1003, 1007, 1014, 3000, 4999)),
        "close-empty-then-data": bytes([client]) + ws_frame(8) + ws_frame(2, b"after"),
        "mask-key-zero": bytes([server]) + ws_frame(2, b"plain", key=bytes(4)),
        "capture-mixed-masking": bytes([capture]) + ws_frame(2, b"a", key=key) + ws_frame(2, b"b"),
        "capture-request-then-frames": bytes([capture]) + request + ws_frame(9, bytes(8), key=key),
        "capture-response-then-frames": bytes([capture]) + response + ws_frame(10, bytes(8)),
        "capture-G-not-GET": bytes([capture]) + b"GE" + b"T/ ",
        "request-then-masked-ping": bytes([2 << 2 | 2]) + request + ws_frame(9, bytes(8), key=key),
        "response-then-ping": bytes([3 << 2 | 1]) + response + ws_frame(9, bytes(8)),
        "dialect-server-handshake": bytes([0x04 | 3]) + request + ws_frame(1, b"hi", key=key),
        "dialect-client-no-handshake": bytes([0x08 | 3]) + ws_frame(1, b"hi"),
        "request-8192-no-end": bytes([2 << 2 | 2]) + b"GET / HTTP/1.1\r\n" + b"X" * 8200,
    }
    for name, data in websocket.items():
        write("websocket-decoder", "edge-" + name, data)
        write("demux-differential", "edge-ws-" + name, bytes([3, data[0], 2, 7, 0x81]) + data[1:])

    # roundtrip: dialect, options, chunk size, then operations (see RoundTripFuzzer.swift).
    roundtrip = {
        "envelope-every-op": bytes([0, 0, 7]) + bytes([0]) + bytes(range(8)) + bytes([1]) + bytes(range(8))
        + bytes([2, 5]) + b"hello" + bytes([3, 0x41, 0x00, 3]) + b"bye" + bytes([4, 0x05, 2]) + b"xy"
        + bytes([5, 3, 4]) + b"data" + bytes([6, 1, 0]),
        "envelope-long-data-16m-limit": bytes([0, 7 << 1, 200]) + bytes([2, 0x80, 0x01, 0x10, 0x00, 7]),
        "http2-every-op": bytes([1, 1, 5]) + bytes([0, 1]) + bytes(range(8)) + bytes([1, 0x00, 0x01, 0, 0, 0, 1, 3]) + b"abc"
        + bytes([2, 1, 0, 0, 0, 3, 2, 0, 1, 0x61, 0, 0]) + bytes([3, 0, 0, 0, 5, 0x0b, 14]) + b"too_many_pings"
        + bytes([4, 0, 0, 0, 1, 1, 0x80, 0x00, 0x40, 0x10, 9]),
        "quic-every-op": bytes([2]) + bytes([0, 3, 1, 2, 10, 1, 3, 1, 0, 0, 3, 20, 2, 5, 1, 2, 3]) + bytes([4, 1, 2, 3, 5, 1, 2])
        + bytes([6, 3]) + b"abc" + b"\x00" + bytes([7, 2]) + b"tok" + bytes([8, 4, 3]) + b"abc" + bytes([6, 9])
        + bytes([9, 1, 10, 1, 2, 11, 1, 5, 12, 1, 13, 1, 2, 14, 0, 5, 15, 5, 2, 3]) + b"cid!" + bytes(16)
        + bytes([16, 1, 17]) + bytes(8) + bytes([18]) + bytes(8) + bytes([19, 1, 1, 6, 3]) + b"bye" + bytes([20, 22, 21, 3]) + b"dgm" + b"\x00",
    }
    # WebSocket: options, chunk size, [encoder role flag for a capture], 8 seed octets,
    # [handshake choice for a capture], [8 key octets, host, path], then operations.
    seed = bytes(range(1, 9))
    ops_client = (bytes([0, 8]) + bytes(range(8)) + bytes([1, 3]) + b"abc" + bytes([2, 1, 5]) + b"hello"
                  + bytes([3, 1, 0, 2]) + b"He" + b"\x00" + bytes([2]) + b"ll" + b"\x01" + bytes([1]) + b"o" + b"\x02" + bytes([0x03, 0xe8, 3]) + b"bye"
                  + bytes([4, 0x80, 0x10, 4]) + "✓✓".encode()[:4] + bytes([5, 6, 0, 3]) + b"xyz" + bytes([7, 1]) + bytes(8)
                  + bytes([7, 0, 2]) + b"hi" + bytes([8, 1, 9, 8, 2, 0, 8, 4, 0, 8, 5, 0, 8, 6, 0]))
    roundtrip["ws-client-every-op"] = bytes([3, 0x04 | 1, 7]) + seed + ops_client
    roundtrip["ws-server-every-op-masked"] = bytes([3, 0x04 | 2, 0]) + seed + b"".join(
        bytes([op, 2]) + b"ab" + bytes([1, 2, 3, 4]) for op in (0, 1)) + bytes([2, 0, 3]) + b"abc" + bytes([0, 0, 0, 0]) + bytes([6, 0, 0x80, 0x01, 0x00, 0x01, 9])
    roundtrip["ws-capture-request-1m"] = bytes([3, 5 << 4, 251, 1]) + seed + bytes([1]) + bytes(range(8)) + bytes([1, 1]) + bytes([6, 1, 0x80, 0x01, 0x00, 0x01, 7])
    roundtrip["ws-dialect-client-response"] = bytes([3, 3, 3]) + seed + bytes(range(8)) + bytes([0, 0, 8, 3, 7])
    for name, data in roundtrip.items():
        write("roundtrip", "seed-" + name, data)

    # heartbeat-engine: 8 configuration octets, dialect, 4 octets of start time, then steps
    # (operation, fields; see HeartbeatEngineFuzzer.swift).
    fixed = bytes([0x00, 0x10, 0x00, 0x20, 0x00, 0x05, 0x00, 0x21])
    phi = bytes([0x00, 0x64, 0x03, 0xe8, 0x31, 0x16, 0x05, 0x21])
    ping_pong = bytes([9, 0, 0, 3, 0, 0, 0, 0, 2, 0, 1]) + bytes(range(8)) + bytes([4, 0, 1, 5, 0, 1, 8, 0, 1, 1])
    engine = {
        "fixed-ping-pong": fixed + b"\x00" + bytes(4) + ping_pong * 3 + bytes([0, 0xff, 0xff]) * 4,
        "phi-ping-pong-quic": phi + b"\x02" + bytes(4) + (bytes([9, 0, 0, 6, 0, 1, 3, 7, 0, 1, 1, 1, 0x10, 0, 1]) * 6),
        "flood-of-pings": fixed + b"\x01" + bytes(4) + (bytes([2, 0, 0]) + bytes(8)) * 40,
        "time-backwards": phi + b"\x00" + bytes([0, 0, 0x10, 0]) + bytes([0x10, 0xff, 0xff, 9, 0, 0, 0x12, 0x80, 0]) * 8,
        "slow-frame": bytes([0, 1, 0, 1, 0x04, 0x01, 0, 0]) + b"\x01" + bytes(4) + bytes([8, 0, 1, 1, 0, 0x0f, 0xff]),
    }
    for name, data in engine.items():
        write("heartbeat-engine", "seed-" + name, data)


def seed_tls():
    """tls-decoder, demux-differential and roundtrip seeds from spec/vectors/tls.json."""
    limits = {None: 0, 1000: 3, 64: 1}
    tls = DIALECTS["tls"]
    for vector in vectors("tls"):
        stream = bytes.fromhex(vector["input"])
        if len(stream) > MAX_SEED_LENGTH:
            continue
        options = limits[(vector.get("options") or {}).get("maxFrameSize")]
        name = "vector-" + vector["name"]
        write("tls-decoder", name, bytes([options]) + stream)
        write("demux-differential", name + "-bytewise", bytes([tls, options, 0]) + stream)
        write("demux-differential", name + "-chunks", bytes([tls, options, 3, 5, 0, 0x81]) + stream)
    # roundtrip: dialect, options, chunk size, version, seed (8), operations (see TLSRoundTrip.swift).
    operations = bytes([0] + list(range(8)) + [1, 20] + list(range(20)) + [2, 5, 1, 2, 3, 4, 5] + [3, 2, 3, 1, 2, 3]
                       + [4, 10, 0, 0, 9] + [4, 10, 1, 1, 3] + [4, 10, 2, 7] + [4, 0, 3, 2] + [5, 4, 1, 2, 3, 4, 0x33, 40])
    write("roundtrip", "seed-tls-every-operation", bytes([DIALECTS["tls"], 0, 7, 3]) + bytes(8) + operations)
    write("roundtrip", "seed-tls-limit-64", bytes([DIALECTS["tls"], 1, 1, 1]) + bytes(range(8)) + operations)
def mqtt_options(options):
    """The option octet of an MQTT vector (a limit not in the table falls back to the default)."""
    options = options or {}
    size = options.get("maxFrameSize", 1 << 20)
    index = MQTT_MAX_FRAME_SIZES.index(size) if size in MQTT_MAX_FRAME_SIZES else 0
    return (index << 4) | (4 if options.get("opened") else 0) | {None: 0, "client": 1, "server": 2}[options.get("role")]


def seed_mqtt():
    mqtt = DIALECTS["mqtt"]
    for vector in vectors("mqtt"):
        stream = bytes.fromhex(vector["input"])
        if len(stream) > MAX_SEED_LENGTH:
            continue
        options = mqtt_options(vector.get("options"))
        name = "vector-" + vector["name"]
        write("mqtt-decoder", name, bytes([options]) + stream)
        write("demux-differential", name + "-bytewise", bytes([mqtt, options, 0]) + stream)
        write("demux-differential", name + "-chunks", bytes([mqtt, options, 3, 5, 0, 0x81]) + stream)
    connect = bytes.fromhex("100c00044d515454040200000000")
    edges = {
        "capture-both-directions": bytes([0]) + connect + bytes.fromhex("20020000c000d0003003000161e000"),
        "server-session": bytes([2]) + connect + bytes.fromhex("c000820600010001610162020001e000"),
        "client-auth-connack": bytes([1]) + bytes.fromhex("f000200200003000d000"),
        "remaining-length-4-octets-limit-2m": bytes([6 << 4]) + bytes.fromhex("3080808001"),
        "remaining-length-max-limit-max": bytes([7 << 4]) + bytes.fromhex("30ffffff7f"),
        "limit-clamped-16": bytes([1 << 4]) + bytes.fromhex("3010") + bytes(16) + bytes.fromhex("3011") + bytes(17),
        "every-first-octet": bytes([0]) + b"".join(bytes([t << 4 | f, 0]) for t in range(1, 16) for f in range(16)),
        "dialect-default": bytes([3]) + bytes.fromhex("c000d000"),
    }
    for name, data in edges.items():
        write("mqtt-decoder", "edge-" + name, data)
        write("demux-differential", "edge-mqtt-" + name, bytes([mqtt, data[0], 2, 7, 0x81]) + data[1:])
        if data[0] & 3 in (0, 3):  # dissector: a capture, JSON lines (bit 2) of MQTT (bit 3)
            write("dissector", "edge-mqtt-" + name, bytes([8 | 4, 7]) + data[1:])
    # roundtrip: dialect, options, chunk size, encoder role flag, then operations (see mqttRoundTrip).
    write("roundtrip", "seed-mqtt-every-op", bytes([DIALECTS["mqtt"], 0, 7, 1, 0]) + bytes(8) + bytes([1, 0, 2, 0x32, 3, 0, 1, 0x61, 3, 8, 2, 0, 1])
          + bytes([4, 1, 7, 4, 2, 9, 4, 3, 1, 4, 4, 0]))
    write("roundtrip", "seed-mqtt-limit-2m", bytes([DIALECTS["mqtt"], 6 << 4, 251, 0, 4, 4, 0, 4, 5, 9]))


# dissector octet 0 with bit 3 set: bits 0-1 and 4 index these (see DissectorFuzzer.swift).
DISSECTOR_LATER_DIALECTS = ["mqtt", "tls", "amqp", "resp", "lines"]


def seed_dissector():
    """The dissector's TLS, AMQP, RESP and text-lines seeds: every vector of theirs (the dissector
    reads each with its dialect's capture defaults), JSON lines, 7-octet chunks."""
    for dialect in ("tls", "amqp", "resp", "lines"):
        index = DISSECTOR_LATER_DIALECTS.index(dialect)
        selector = 8 | 4 | (index & 3) | (index & 4) << 2
        for vector in vectors(dialect):
            stream = bytes.fromhex(vector["input"])
            if len(stream) <= MAX_SEED_LENGTH:
                write("dissector", "vector-" + vector["name"], bytes([selector, 7]) + stream)


if __name__ == "__main__":
    seed_from_vectors()
    seed_text_vectors()
    seed_edges()
    seed_tls()
    seed_mqtt()
    seed_dissector()
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))), "files")
