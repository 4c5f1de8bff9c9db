#!/usr/bin/env python3
"""WebSocket (RFC 6455) interop checks for swift-heartbeat's `--dialect ws`.

Pinned peers (install them first, as run.sh does for the others):
  python3 -m pip install websockets==17.4 wsproto==1.3.2     (wsproto brings h11)

Usage:
  websocket_interop.py HB                     every check against the hb binary at path HB
  websocket_interop.py --offline              the checks that need no hb: spec/vectors/websocket.json
                                              against wsproto and against this file's model of
                                              spec/websocket.md, and the wsproto differential run
                                              against that model instead of `hb decode`
  websocket_interop.py reverse FRAMES EXPECTED --sender-role client|server
                                              wsproto parses FRAMES (raw frames written by our
                                              encoder as that role, no handshake) and must report
                                              exactly the items of EXPECTED: a JSON list in the
                                              jsonl shape below, where a business item may add
                                              "data" (hex) and "fin" (bool) to be checked too.
                                              wsproto stops at a Close, so a Close must come last;
                                              a client's frames must all be masked, a server's none
  websocket_interop.py model-hb decode --dialect ws --format jsonl [--role server] [--max-frame-size N] [--handshake]
                                              (internal) this file's model standing in for `hb decode`

With HB, this file runs `hb probe --dialect ws ws://127.0.0.1:PORT/ --count N --interval 0.2`
(against a websockets server; exit 0 and a line containing "time=" per reply), `hb serve --dialect ws
--port P` (a websockets client pings it and expects text and binary messages echoed, as the tcp
dialect echoes DATA, and its Close answered with 1000; "connected" in its output), and
`hb decode --dialect ws --format jsonl [--role server] --max-frame-size 262144` (standard input;
--role is the RECEIVER's role, client by default; exit 0 decoded, 1 on an error line), whose output it
expects (one JSON object per line, the error line last):
  {"item":"ping","payload":"<hex>"}           a Ping; the whole application data, 0-125 octets, unmasked
  {"item":"pong","payload":"<hex>"}           a Pong, likewise
  {"item":"business","type":<opcode>,"length":<payload length>}   text, binary, continuation, close
  {"item":"error","code":"<NAME>","offset":N} PROTOCOL_ERROR, MESSAGE_TOO_BIG,
                                              INVALID_FRAME_PAYLOAD_DATA, HANDSHAKE_ERROR or TRUNCATED
A ping line may carry "ack":false (as the other dialects' do); nothing else is tolerated.
Exit status: 0 when every check passed, 1 otherwise. A missing peer is a failure, never a skip.
"""
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

import websockets
import wsproto
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve
from websockets.client import ClientProtocol
from websockets.server import ServerProtocol
from websockets.uri import parse_uri
from wsproto.frame_protocol import FrameProtocol, Opcode, ParseFailed

from interop_support import check, failures, free_port, wait_for_port

PINNED = {"websockets": "17.4", "wsproto": "1.3.2"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ============================================================ a model of spec/websocket.md
# Written from spec/websocket.md alone, to check the vectors and to stand in for `hb decode` in
# --offline runs. It is not the library's decoder.
TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
FIELD = re.compile(rf"^({TOKEN}):[ \t]*(.*?)[ \t]*$")
CODES = {"ws-handshake": "HANDSHAKE_ERROR", "frame-too-large": "MESSAGE_TOO_BIG", "ws-close-reason-utf8": "INVALID_FRAME_PAYLOAD_DATA",
         "truncated": "TRUNCATED"}
HANDSHAKE_LIMIT = 8192


def code_of(reason):
    for prefix, code in CODES.items():
        if reason.startswith(prefix):
            return code
    return "PROTOCOL_ERROR"


class Failure(Exception):
    def __init__(self, reason, offset):
        super().__init__(reason)
        self.reason, self.offset = reason, offset


def valid_close_code(code):
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def read_handshake(data, role):
    """Returns the offset of the first frame octet; raises Failure."""
    end = data[:HANDSHAKE_LIMIT].find(b"\r\n\r\n")
    if end < 0:
        raise Failure("ws-handshake-too-large" if len(data) >= HANDSHAKE_LIMIT else "truncated", 0)
    lines = data[:end].split(b"\r\n")
    if any(b"\r" in line or b"\n" in line for line in lines):
        raise Failure("ws-handshake-syntax", 0)
    try:
        text = [line.decode("latin-1") for line in lines]
    except UnicodeDecodeError:
        raise Failure("ws-handshake-syntax", 0)
    fields = []
    for line in text[1:]:
        match = FIELD.match(line)
        if not match:
            raise Failure("ws-handshake-syntax", 0)
        fields.append((match.group(1).lower(), match.group(2)))

    def values(name):
        return [v for n, v in fields if n == name]

    def upgrade_ok():
        return any(v.lower() == "websocket" for v in values("upgrade")) and \
            any("upgrade" in [t.strip().lower() for t in v.split(",")] for v in values("connection"))

    if role == "server":
        match = re.match(rf"^({TOKEN}) (\S+) (HTTP/\d\.\d)$", text[0])
        if not match:
            raise Failure("ws-handshake-syntax", 0)
        if match.group(1) != "GET" or match.group(3) != "HTTP/1.1" or len(values("host")) != 1:
            raise Failure("ws-handshake-request", 0)
        if not upgrade_ok():
            raise Failure("ws-handshake-upgrade", 0)
        keys = values("sec-websocket-key")
        if len(keys) != 1 or not re.fullmatch(r"[A-Za-z0-9+/]{22}==", keys[0]):
            raise Failure("ws-handshake-key", 0)
        if values("sec-websocket-version") != ["13"]:
            raise Failure("ws-handshake-version", 0)
    else:
        match = re.match(r"^(HTTP/\d\.\d) (\d{3}) (.*)$", text[0])
        if not match:
            raise Failure("ws-handshake-syntax", 0)
        if match.group(1) != "HTTP/1.1" or match.group(2) != "101":
            raise Failure("ws-handshake-status", 0)
        if not upgrade_ok():
            raise Failure("ws-handshake-upgrade", 0)
        accepts = values("sec-websocket-accept")
        if len(accepts) != 1 or not re.fullmatch(r"[A-Za-z0-9+/]{27}=", accepts[0]):
            raise Failure("ws-handshake-accept", 0)
        if values("sec-websocket-extensions") or values("sec-websocket-protocol"):
            raise Failure("ws-handshake-extension", 0)
    return end + 4


def model_decode(data, role="client", max_frame=65536, handshake=False):
    """spec/websocket.md §3-§5 over a whole input: (items, error) in the vectors' shapes."""
    items, offset, message_open = [], 0, False
    try:
        if handshake:
            offset = read_handshake(data, role)
        while offset < len(data):
            start = offset

            def need(count):
                if offset + count > len(data):
                    raise Failure("truncated", start)

            b0 = data[offset]
            fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
            control = opcode >= 8
            if rsv:
                raise Failure("ws-reserved-bits", start)
            if opcode not in (0, 1, 2, 8, 9, 10):
                raise Failure("ws-reserved-opcode", start)
            if control and not fin:
                raise Failure("ws-fragmented-control", start)
            if opcode == 0 and not message_open:
                raise Failure("ws-unexpected-continuation", start)
            if opcode in (1, 2) and message_open:
                raise Failure("ws-message-interrupted", start)
            need(2)
            masked, length = data[offset + 1] & 0x80, data[offset + 1] & 0x7F
            if role == "server" and not masked:
                raise Failure("ws-unmasked-client-frame", start)
            if role == "client" and masked:
                raise Failure("ws-masked-server-frame", start)
            if control and length > 125:
                raise Failure("ws-control-too-long", start)
            offset += 2
            if length == 126:
                need(2)
                length = int.from_bytes(data[offset:offset + 2], "big")
                offset += 2
                if length < 126:
                    raise Failure("ws-non-minimal-length", start)
            elif length == 127:
                need(8)
                length = int.from_bytes(data[offset:offset + 8], "big")
                offset += 8
                if length < 65536:
                    raise Failure("ws-non-minimal-length", start)
                if length >> 63:
                    raise Failure("ws-length-high-bit", start)
            if length > max_frame:
                raise Failure("frame-too-large", start)
            if opcode == 8 and length == 1:
                raise Failure("ws-close-length", start)
            key = b"\0\0\0\0"
            if masked:
                need(4)
                key = data[offset:offset + 4]
                offset += 4
            need(length)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(data[offset:offset + length]))
            offset += length
            if opcode == 8 and length >= 2:
                if not valid_close_code(int.from_bytes(payload[:2], "big")):
                    raise Failure("ws-close-code", start)
                try:
                    payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    raise Failure("ws-close-reason-utf8", start)
            if opcode == 9:
                items.append({"item": "ping", "payload": payload.hex()})
            elif opcode == 10:
                items.append({"item": "pong", "payload": payload.hex()})
            else:
                items.append({"item": "business", "type": opcode, "data": payload.hex(), "flags": b0 & 0xF0})
                if opcode in (0, 1, 2):
                    message_open = not fin
        return items, None
    except Failure as failure:
        return items, {"code": code_of(failure.reason), "offset": failure.offset, "reason": failure.reason}


def as_jsonl_items(items, error):
    """The vectors' items and error in `hb decode --format jsonl`'s shape."""
    out = []
    for item in items:
        if item["item"] == "business":
            out.append({"item": "business", "type": item["type"], "length": len(item["data"]) // 2})
        else:
            out.append({"item": item["item"], "payload": item["payload"]})
    if error:
        out.append({"item": "error", "code": error["code"], "offset": error["offset"]})
    return out


JSONL_KEYS = {"ping": {"item", "payload"}, "pong": {"item", "payload"}, "business": {"item", "type", "length"},
              "error": {"item", "code", "offset"}}


def parse_jsonl(text):
    """Parses `hb decode`'s jsonl strictly; raises ValueError on any line outside the documented shape."""
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        item = json.loads(line)
        if not isinstance(item, dict) or item.get("item") not in JSONL_KEYS:
            raise ValueError(f"line {number}: unknown item {line!r}")
        if item["item"] == "ping" and item.get("ack", False) is False:
            item.pop("ack", None)
        if set(item) != JSONL_KEYS[item["item"]]:
            raise ValueError(f"line {number}: keys {sorted(item)} are not {sorted(JSONL_KEYS[item['item']])}")
        if item["item"] in ("ping", "pong"):
            if not re.fullmatch(r"(?:[0-9a-f]{2}){0,125}", item["payload"]):
                raise ValueError(f"line {number}: payload is not 0-125 octets of lowercase hex")
        elif item["item"] == "business":
            if item["type"] not in (0, 1, 2, 8) or not isinstance(item["length"], int) or item["length"] < 0:
                raise ValueError(f"line {number}: bad business item")
        else:
            if item["code"] not in ("PROTOCOL_ERROR", "MESSAGE_TOO_BIG", "INVALID_FRAME_PAYLOAD_DATA", "HANDSHAKE_ERROR", "TRUNCATED") \
                    or not isinstance(item["offset"], int) or number != len(text.splitlines()):
                raise ValueError(f"line {number}: bad error item (or not the last line)")
        items.append(item)
    return items


def model_decode_main(arguments):
    role = "server" if "--role" in arguments and arguments[arguments.index("--role") + 1] == "server" else "client"
    max_frame = int(arguments[arguments.index("--max-frame-size") + 1]) if "--max-frame-size" in arguments else 65536
    items, error = model_decode(sys.stdin.buffer.read(), role, max_frame, "--handshake" in arguments)
    for item in as_jsonl_items(items, error):
        print(json.dumps(item, separators=(",", ":")))
    return 1 if error else 0


# ============================================================ wsproto as a reader
WSPROTO_CODES = {1002: "PROTOCOL_ERROR", 1007: "INVALID_FRAME_PAYLOAD_DATA"}


def wsproto_read(data, role):
    """wsproto's reading of `data` (frames only) by a receiver in `role`: (items, error code or None).
    Items are the vectors' shapes; wsproto stops after a Close and waits (no error) on a cut frame."""
    receiver = FrameProtocol(client=(role == "client"), extensions=[])
    receiver.receive_bytes(data)
    items, pending = [], {}
    try:
        for frame in receiver.received_frames():
            payload = frame.payload
            if frame.opcode == Opcode.CLOSE:
                code, reason = payload
                payload = b"" if code == 1005 else int(code).to_bytes(2, "big") + reason.encode()
            elif isinstance(payload, str):
                payload = payload.encode()
            # wsproto hands data frames over in pieces as they arrive; join a frame's pieces.
            key = "data" if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION) else None
            if key and not frame.frame_finished:
                pending.setdefault("opcode", frame.opcode)
                pending["payload"] = pending.get("payload", b"") + payload
                continue
            if key and pending:
                payload = pending["payload"] + payload
                pending.clear()
            if frame.opcode == Opcode.PING:
                items.append({"item": "ping", "payload": payload.hex()})
            elif frame.opcode == Opcode.PONG:
                items.append({"item": "pong", "payload": payload.hex()})
            else:
                items.append({"opcode": int(frame.opcode), "payload": payload.hex(), "fin": frame.message_finished})
        return items, None
    except ParseFailed as failure:
        return items, WSPROTO_CODES.get(int(failure.code), f"close code {int(failure.code)}")


def wsproto_items_match(theirs, ours):
    """wsproto reports a message's type on every fragment and only whether the *message* ended; our
    items carry the frame's opcode and FIN. Compare what both say."""
    if len(theirs) != len(ours):
        return False
    for t, o in zip(theirs, ours):
        if o["item"] in ("ping", "pong"):
            if t != o:
                return False
        elif "opcode" not in t or t["payload"] != o["data"] or bool(o["flags"] & 0x80) != t["fin"] \
                or (o["type"] != 0 and t["opcode"] != o["type"]):
            return False
    return True


# Vectors where wsproto 1.3.2 and spec/websocket.md knowingly differ: name → what wsproto does.
# Each is checked to still behave this way, so a change on either side shows up.
WSPROTO_DIFFERS = {
    "ws-frames-after-close": "stops reading after a Close",
    "ws-text-invalid-utf8-passed-on": "validates text UTF-8 (1007); the heartbeat layer passes text on",
    "ws-close-code-1014": "does not know 1014 Bad Gateway (IANA-registered after RFC 6455) and rejects it",
    "ws-close-length-1": "waits for the 1-octet payload before looking at a Close",
    "ws-frame-too-large": "has no frame size limit",
    "ws-frame-too-large-huge": "has no frame size limit",
    "ws-frame-too-large-configured": "has no frame size limit",
    "ws-reserved-opcode-3": "reads two octets before judging the first (fed one more, it agrees)",
    "ws-reserved-opcode-7": "reads two octets before judging the first (fed one more, it agrees)",
    "ws-reserved-opcode-b": "reads two octets before judging the first (fed one more, it agrees)",
    "ws-reserved-opcode-f": "reads two octets before judging the first (fed one more, it agrees)",
}


def vectors_against_wsproto_and_model():
    with open(os.path.join(ROOT, "spec", "vectors", "websocket.json")) as f:
        vectors = json.load(f)["vectors"]
    check("websocket.json holds at least 45 vectors", len(vectors) >= 45, str(len(vectors)))
    reasons = set()
    for vector in vectors:
        options = vector.get("options", {})
        role, handshake = options.get("role", "client"), options.get("handshake", False)
        max_frame = options.get("maxFrameSize", 65536)
        data = bytes.fromhex(vector["input"])
        items, error = model_decode(data, role, max_frame, handshake)
        check(f"the spec model reads vector {vector['name']} as the vector says",
              items == vector["items"] and error == vector["error"], f"model {items[-2:]} {error}")
        if vector["error"]:
            reasons.add(vector["error"]["reason"])
        # wsproto reads frames only; give it what follows a good handshake block.
        if handshake:
            if vector["error"] and vector["error"]["reason"].startswith("ws-handshake") or vector["error"] == \
                    {"code": "TRUNCATED", "offset": 0, "reason": "truncated"}:
                continue  # wsproto has no HTTP parser; the model checked these above
            data = data[data.index(b"\r\n\r\n") + 4:]
        theirs, their_error = wsproto_read(data, role)
        name = vector["name"]
        if name in WSPROTO_DIFFERS:
            expected_difference = {
                "ws-frames-after-close": lambda: their_error is None and len(theirs) == 1,
                "ws-text-invalid-utf8-passed-on": lambda: their_error == "INVALID_FRAME_PAYLOAD_DATA",
                "ws-close-code-1014": lambda: their_error == "PROTOCOL_ERROR",
                "ws-close-length-1": lambda: their_error is None and theirs == [],
            }.get(name, lambda: their_error is None and wsproto_items_match(theirs, vector["items"]))
            if name.startswith("ws-reserved-opcode"):
                expected_difference = lambda: their_error is None and theirs == [] and \
                    wsproto_read(data + b"\x00", role) == ([], "PROTOCOL_ERROR")
            check(f"wsproto differs on vector {name} as documented ({WSPROTO_DIFFERS[name]})", expected_difference(),
                  f"{theirs[-2:]} {their_error}")
            continue
        error = vector["error"]
        if error is None:
            ok = their_error is None and wsproto_items_match(theirs, vector["items"])
        elif error["code"] == "TRUNCATED":
            ok = their_error is None and wsproto_items_match(theirs, vector["items"])  # wsproto waits for more
        else:
            ok = their_error == error["code"] and wsproto_items_match(theirs, vector["items"])
        check(f"wsproto reads vector {name} as we do", ok, f"wsproto {theirs[-2:]} {their_error}")
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", open(os.path.join(ROOT, "spec", "websocket.md")).read(), re.M))
    check("every reason in spec/websocket.md §8 has a vector", listed <= reasons, str(sorted(listed - reasons)))
    check("every vector reason is listed in spec/websocket.md §8", reasons <= listed, str(sorted(reasons - listed)))


# Handshake vectors where websockets 17.4's sans-I/O protocol and spec/websocket.md knowingly differ.
WEBSOCKETS_DIFFERS = {
    "ws-handshake-server-no-host": "does not require Host (RFC 6455 §4.2.1 does; so do we)",
    "ws-handshake-server-too-large": "bounds each line (8,192) and the field count (128), not the whole block",
}


def handshake_vectors_against_websockets():
    """websockets' own handshake code (sans-I/O) accepts the header blocks we accept and rejects
    the ones we reject; a client-role vector is checked with the RFC 6455 §1.3 key as the one sent."""
    with open(os.path.join(ROOT, "spec", "vectors", "websocket.json")) as f:
        vectors = [v for v in json.load(f)["vectors"] if v.get("options", {}).get("handshake")]
    for vector in vectors:
        data, role, error = bytes.fromhex(vector["input"]), vector["options"]["role"], vector["error"]
        handshake_error = error is not None and error["code"] == "HANDSHAKE_ERROR"
        if role == "server":
            protocol = ServerProtocol()
            protocol.receive_data(data)
            events = protocol.events_received()
            status = protocol.accept(events[0]).status_code if events else None
            accepted = status == 101 and protocol.handshake_exc is None
        else:
            protocol = ClientProtocol(parse_uri("ws://server.example.com/chat"))
            protocol.send_request(protocol.connect())
            protocol.key = "dGhlIHNhbXBsZSBub25jZQ=="  # the key the RFC's response answers
            protocol.data_to_send()
            protocol.receive_data(data)
            events = protocol.events_received()
            accepted = bool(events) and protocol.handshake_exc is None
        truncated = error == {"code": "TRUNCATED", "offset": 0, "reason": "truncated"}
        if vector["name"] in WEBSOCKETS_DIFFERS:
            check(f"websockets differs on vector {vector['name']} as documented ({WEBSOCKETS_DIFFERS[vector['name']]})", accepted)
        elif truncated:
            check(f"websockets waits for the rest of vector {vector['name']}", not events and protocol.handshake_exc is None,
                  str(protocol.handshake_exc))
        else:
            check(f"websockets {'rejects' if handshake_error else 'accepts'} the header block of vector {vector['name']}",
                  accepted != handshake_error, str(protocol.handshake_exc))


# ============================================================ wsproto writes, hb decode reads
def random_stream(rng, sender_role, frames):
    """`frames` frames serialized by wsproto's FrameProtocol for a sender in `sender_role` (a client
    masks): pings, pongs, text and binary messages, some fragmented with control frames between the
    fragments, payload lengths across the 7-, 16- and 64-bit forms, and a Close last. Returns the
    bytes and the items a receiver must report."""
    sender = FrameProtocol(client=(sender_role == "client"), extensions=[])
    out, items = bytearray(), []

    def control():
        payload = rng.randbytes(rng.choice([0, 1, 8, 8, 8, rng.randrange(126)]))
        kind = "ping" if rng.random() < 0.5 else "pong"
        out.extend(sender.ping(payload) if kind == "ping" else sender.pong(payload))
        items.append({"item": kind, "payload": payload.hex()})

    def data_payload(text):
        size = rng.choice([0, rng.randrange(1, 126), rng.randrange(1, 126), rng.randrange(126, 65536) if rng.random() < 0.1 else 200,
                           rng.randrange(65536, 100000) if rng.random() < 0.02 else 125])
        if text:
            piece = "".join(rng.choice("aé⏱😴 z") for _ in range(size // 3))
            return piece, len(piece.encode())
        return rng.randbytes(size), size

    count = 0
    while count < frames - 1:
        roll = rng.random()
        if roll < 0.4:
            control()
            count += 1
        else:
            text = rng.random() < 0.5
            fragments = 1 if roll < 0.75 else rng.randrange(2, 6)
            for index in range(fragments):
                payload, length = data_payload(text)
                last = index == fragments - 1
                out.extend(sender.send_data(payload, fin=last))
                items.append({"item": "business", "type": (1 if text else 2) if index == 0 else 0, "length": length})
                count += 1
                while not last and rng.random() < 0.3:
                    control()
                    count += 1
    code = rng.choice([1000, 1001, 1003, 1008, 1011, 3000, 4999])
    reason = rng.choice(["", "bye", "délai"])
    out.extend(sender.close(code, reason))
    items.append({"item": "business", "type": 8, "length": 2 + len(reason.encode())})
    return bytes(out), items


def decode_with(hb_command, data, role, max_frame=262144):
    arguments = hb_command + ["decode", "--dialect", "ws", "--format", "jsonl", "--max-frame-size", str(max_frame)]
    if role == "server":
        arguments += ["--role", "server"]
    result = subprocess.run(arguments, input=data, capture_output=True, timeout=120)
    try:
        return result.returncode, parse_jsonl(result.stdout.decode()), result.stderr.decode()
    except (ValueError, UnicodeDecodeError) as exc:  # not the documented jsonl: a failure, reported by the caller
        return result.returncode, [{"item": "unparsable output", "why": str(exc)}], result.stderr.decode()


def frame_offsets(data, role):
    """The offset of each frame in a well-formed stream."""
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        length = data[offset + 1] & 0x7F
        header = 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if data[offset + 1] & 0x80 else 0)
        if length >= 126:
            length = int.from_bytes(data[offset + 2:offset + (4 if length == 126 else 10)], "big")
        offset += header + length
    return offsets


def wsproto_differential(hb_command, total_frames=10000, seed=6455):
    """10^4 frames from wsproto, both roles; hb decode must report exactly what was written, and
    wsproto's own reader must agree."""
    rng = random.Random(seed)
    streams, written = 0, 0
    while written < total_frames:
        sender_role = "client" if streams % 2 == 0 else "server"
        receiver_role = "server" if sender_role == "client" else "client"
        count = min(500, total_frames - written)
        data, expected = random_stream(rng, sender_role, max(count, 2))
        written += len(expected)
        streams += 1
        theirs, their_error = wsproto_read(data, receiver_role)
        as_ours = [t if "item" in t else {"item": "business", "type": t["opcode"], "length": len(t["payload"]) // 2} for t in theirs]
        # wsproto names a continuation by its message's type: compare types only on first fragments.
        agree = their_error is None and len(as_ours) == len(expected) and all(
            a == e or (a.get("item") == "business" and e["item"] == "business" and e["type"] == 0 and a["length"] == e["length"])
            for a, e in zip(as_ours, expected))
        check(f"wsproto reads back its own stream {streams} ({receiver_role} reading {len(expected)} frames)", agree, str(their_error))
        status, items, stderr = decode_with(hb_command, data, receiver_role)
        first = next((i for i, (a, b) in enumerate(zip(items, expected)) if a != b), None)
        if not check(f"hb decode --role {receiver_role} reads wsproto stream {streams} ({len(expected)} frames, {len(data)} octets)",
                     status == 0 and items == expected,
                     f"status {status}, {len(items)} items, first difference at {first}: "
                     f"{items[first] if first is not None else None} vs {expected[first] if first is not None else None} {stderr[:200]}"):
            keep = tempfile.NamedTemporaryFile(prefix=f"ws-stream-{streams}-{receiver_role}-", suffix=".bin", delete=False)
            keep.write(data)
            keep.close()
            print(f"     the stream is in {keep.name}")
    check("the differential wrote at least 10^4 frames", written >= total_frames, str(written))


def mutated_streams(hb_command, count=300, seed=9):
    """Valid wsproto frames with one rule of spec/websocket.md §4.1 broken in one frame: hb decode
    must stop there with wsproto's close code and that frame's offset."""
    rng = random.Random(seed)
    mutations = ["rsv", "opcode", "control-fin", "mask", "non-minimal", "close-code", "close-utf8", "continuation",
                 "control-length"]
    for index in range(count):
        sender_role = rng.choice(["client", "server"])
        receiver_role = "server" if sender_role == "client" else "client"
        sender = FrameProtocol(client=(sender_role == "client"), extensions=[])
        prefix = b"".join(bytes(sender.ping(rng.randbytes(8))) if rng.random() < 0.5 else bytes(sender.send_data(rng.randbytes(10)))
                          for _ in range(rng.randrange(4)))
        mutation = mutations[index % len(mutations)]
        frame = bytearray(sender.send_data(rng.randbytes(rng.randrange(1, 100))))
        masked = sender_role == "client"
        if mutation == "rsv":
            frame[0] |= rng.choice([0x40, 0x20, 0x10])
        elif mutation == "opcode":
            frame[0] = (frame[0] & 0xF0) | rng.choice([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
        elif mutation == "control-fin":
            frame = bytearray(sender.ping(rng.randbytes(4)))
            frame[0] &= 0x7F
        elif mutation == "mask":
            # The frame as the other role would write it: masked where it must not be, or not masked.
            other = FrameProtocol(client=not masked, extensions=[])
            frame = bytearray(other.send_data(rng.randbytes(20)))
        elif mutation == "non-minimal":
            body = bytes(frame[2 + (4 if masked else 0):])
            key = bytes(frame[2:6]) if masked else b""
            length = len(body)
            if rng.random() < 0.5:
                frame = bytearray([frame[0], (frame[1] & 0x80) | 126]) + length.to_bytes(2, "big") + key + body
            else:
                frame = bytearray([frame[0], (frame[1] & 0x80) | 127]) + length.to_bytes(8, "big") + key + body
        elif mutation == "close-code":
            frame = bytearray(raw_close(sender_role, rng.choice([0, 999, 1004, 1005, 1006, 1015, 1016, 2500, 2999, 5000, 65535])
                                        .to_bytes(2, "big") + b"x", rng))
        elif mutation == "close-utf8":
            frame = bytearray(raw_close(sender_role, (1000).to_bytes(2, "big") + rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80",
                                                                                               b"ok\xe2\x8f"]), rng))
        elif mutation == "continuation":
            frame[0] = frame[0] & 0xF0  # a lone continuation
        elif mutation == "control-length":
            frame = bytearray([0x89, (0x80 if masked else 0) | 126, 0, 126]) + (b"\1\2\3\4" if masked else b"") + bytes(126)
        data = prefix + bytes(frame) + bytes(sender.ping(b"after"))
        offset = len(prefix)
        theirs, their_error = wsproto_read(data, receiver_role)
        expected_code = "INVALID_FRAME_PAYLOAD_DATA" if mutation == "close-utf8" else "PROTOCOL_ERROR"
        model_items, model_error = model_decode(data, receiver_role)
        check(f"mutation {index} ({mutation}): wsproto and the spec model agree",
              their_error == expected_code and model_error is not None and model_error["code"] == expected_code
              and model_error["offset"] == offset, f"wsproto {their_error}, model {model_error}")
        status, items, _ = decode_with(hb_command, data, receiver_role)
        check(f"mutation {index} ({mutation}): hb decode stops at offset {offset} with {expected_code}",
              status == 1 and items and items[-1] == {"item": "error", "code": expected_code, "offset": offset}
              and items[:-1] == as_jsonl_items(model_items, None), f"status {status}, last {items[-1:] if items else None}")


def raw_close(sender_role, payload, rng):
    """A Close frame with a payload wsproto's close() would refuse to write."""
    if sender_role == "server":
        return bytes([0x88, len(payload)]) + payload
    key = rng.randbytes(4)
    return bytes([0x88, 0x80 | len(payload)]) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


# ============================================================ our encoder's frames, read by wsproto
def reverse_check(frames_path, expected_path, sender_role):
    """`frames_path`: raw frames our encoder wrote as `sender_role` (no handshake); `expected_path`:
    a JSON list of the items they carry, in the jsonl shape (business items may add "data": hex and
    "fin": bool). wsproto, as the other role, must read exactly those items and no error."""
    with open(frames_path, "rb") as f:
        data = f.read()
    with open(expected_path) as f:
        expected = json.load(f)
    receiver_role = "server" if sender_role == "client" else "client"
    theirs, their_error = wsproto_read(data, receiver_role)
    check(f"wsproto ({receiver_role}) reads {frames_path} without error", their_error is None, str(their_error))
    check(f"wsproto reads {len(expected)} items from {frames_path}", len(theirs) == len(expected), f"{len(theirs)}")
    for index, (t, e) in enumerate(zip(theirs, expected)):
        if e["item"] in ("ping", "pong"):
            ok = t == {"item": e["item"], "payload": e["payload"]}
        else:
            ok = "opcode" in t and len(t["payload"]) // 2 == e["length"] and (e["type"] == 0 or t["opcode"] == e["type"]) \
                and ("data" not in e or t["payload"] == e["data"]) and ("fin" not in e or t["fin"] == e["fin"])
        check(f"item {index} of {frames_path} is {e}", ok, str(t))
    offsets = frame_offsets(data, receiver_role) if their_error is None else []
    masked = [bool(data[o + 1] & 0x80) for o in offsets]
    check(f"every frame of {frames_path} is {'masked' if sender_role == 'client' else 'unmasked'}",
          masked and all(m == (sender_role == "client") for m in masked))
    if sender_role == "client" and len(offsets) >= 2 and all(masked):
        keys = []
        for o in offsets:
            length = data[o + 1] & 0x7F
            start = o + 2 + (2 if length == 126 else 8 if length == 127 else 0)
            keys.append(data[start:start + 4])
        check(f"the masking keys of {frames_path} are not all the same (RFC 6455 §5.3: a fresh key per frame)",
              len(set(keys)) > 1, keys[0].hex())


# ============================================================ live peers


class WebsocketsServer:
    """A websockets server on 127.0.0.1 in a thread of its own, echoing messages."""

    def __init__(self, ping_interval=None):
        self.port, self.ping_interval = free_port(), ping_interval
        self.ready, self.closes, self.messages = threading.Event(), [], []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(),), daemon=True)

    async def handler(self, connection):
        try:
            async for message in connection:
                self.messages.append(message)
                await connection.send(message)
        except websockets.ConnectionClosed:
            pass
        self.closes.append((connection.close_code, connection.close_reason))

    async def main(self):
        self.stop = asyncio.Event()
        async with ws_serve(self.handler, "127.0.0.1", self.port, ping_interval=self.ping_interval, ping_timeout=2):
            self.ready.set()
            await self.stop.wait()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def probe_websockets_server(hb):
    """(a) hb probe --dialect ws against a websockets server: exit 0, three replies."""
    with WebsocketsServer() as server:
        check("the websockets server listens", wait_for_port(server.port))
        result = subprocess.run([hb, "probe", "--dialect", "ws", f"ws://127.0.0.1:{server.port}/", "--count", "3", "--interval", "0.2"],
                                capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        print(output.rstrip())
        replies = [line for line in output.splitlines() if "time=" in line]
        check("hb probe --dialect ws gets 3 pongs from a websockets server", result.returncode == 0 and len(replies) >= 3,
              f"exit {result.returncode}: {output[-500:]}")
        time.sleep(0.2)
        check("hb probe closed with a Close the websockets server accepted (1000)", [c for c, _ in server.closes] == [1000],
              str(server.closes))
    # The server pings too (every 0.15 s, closing with 1011 after 2 s unanswered): hb must pong them.
    with WebsocketsServer(ping_interval=0.15) as server:
        result = subprocess.run([hb, "probe", "--dialect", "ws", f"ws://127.0.0.1:{server.port}/", "--count", "15", "--interval", "0.2"],
                                capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        check("hb probe answers a pinging websockets server for 3 s and stays connected",
              result.returncode == 0 and sum("time=" in line for line in output.splitlines()) >= 15, f"exit {result.returncode}: {output[-500:]}")
        time.sleep(0.2)
        check("the pinging websockets server saw no keepalive timeout", all(c != 1011 for c, _ in server.closes), str(server.closes))


def websockets_client_against_serve(hb):
    """(b) a websockets client pings hb serve --dialect ws, gets its pongs and its text echoed."""
    port = free_port()
    server = subprocess.Popen([hb, "serve", "--dialect", "ws", "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        check("hb serve --dialect ws listens", wait_for_port(port))

        async def client():
            results = {}
            async with ws_connect(f"ws://127.0.0.1:{port}/", ping_interval=None, open_timeout=5, close_timeout=5) as connection:
                payloads = [bytes.fromhex("0000000%d00000bb8" % i) for i in range(3)] + [b"", bytes(range(125))]
                waiters = [await connection.ping(p) for p in payloads]
                latencies = []
                for waiter in waiters:
                    latencies.append(await asyncio.wait_for(waiter, 5))
                results["pongs"] = len(latencies)
                await connection.send("héllo, heartbeat")
                results["echo"] = await asyncio.wait_for(connection.recv(), 5)
                await connection.send(b"\x00\x01binary" * 1000)
                results["binary"] = await asyncio.wait_for(connection.recv(), 5)
                results["extensions"] = connection.response.headers.get("Sec-WebSocket-Extensions")
            results["close"] = (connection.close_code, connection.close_reason)
            return results

        try:
            results = asyncio.run(client())
        except Exception as exc:  # a failed handshake, a timeout, a protocol error: all are failures
            results = {"exception": repr(exc)}
        check("hb serve answers 5 websockets pings (8, 0 and 125 octets) with matching pongs", results.get("pongs") == 5, str(results))
        check("hb serve echoes a websockets text message", results.get("echo") == "héllo, heartbeat", str(results.get("echo"))[:100])
        check("hb serve echoes a websockets binary message", results.get("binary") == b"\x00\x01binary" * 1000)
        check("hb serve negotiates no extension", "extensions" in results and results["extensions"] is None, str(results))
        check("hb serve answers the client's Close with 1000", results.get("close", (None,))[0] == 1000, str(results.get("close")))
    finally:
        server.terminate()
        output = server.communicate(timeout=5)[0]
    check("hb serve logged the ws connection", "connected" in output, output[-500:])


# ============================================================ main
def versions():
    check(f"websockets is the pinned {PINNED['websockets']}", websockets.__version__ == PINNED["websockets"], websockets.__version__)
    check(f"wsproto is the pinned {PINNED['wsproto']}", wsproto.__version__ == PINNED["wsproto"], wsproto.__version__)


def self_tests():
    """Tests of this file's own parts: the jsonl parser and the model as a stand-in for hb decode."""
    good = '{"item":"ping","ack":false,"payload":"00"}\n{"item":"pong","payload":""}\n{"item":"business","type":8,"length":2}\n' \
           '{"item":"error","code":"TRUNCATED","offset":9}\n'
    check("the jsonl parser reads the documented shape", parse_jsonl(good) == [
        {"item": "ping", "payload": "00"}, {"item": "pong", "payload": ""}, {"item": "business", "type": 8, "length": 2},
        {"item": "error", "code": "TRUNCATED", "offset": 9}])
    for bad in ('{"item":"ping","payload":"0"}', '{"item":"ping","ack":true,"payload":"00"}', '{"item":"business","type":3,"length":1}',
                '{"item":"business","type":2,"length":1,"flags":128}', '{"item":"error","code":"TRUNCATED","offset":0}\n{"item":"pong","payload":""}',
                '{"item":"pong","payload":"' + "00" * 126 + '"}', '{"item":"quic-ping"}'):
        try:
            parse_jsonl(bad)
            rejected = False
        except ValueError:
            rejected = True
        check(f"the jsonl parser rejects {bad[:60]!r}", rejected)


def part(function, *arguments):
    """Runs one group of checks; an exception (a missing binary, a timeout, a crash) is a failure."""
    try:
        function(*arguments)
    except Exception as exc:
        check(f"{function.__name__} ran to the end", False, repr(exc))


def main(arguments):
    if arguments[:2] == ["model-hb", "decode"]:
        return model_decode_main(arguments[2:])
    versions()
    if arguments[:1] == ["reverse"]:
        if len(arguments) != 5 or arguments[3] != "--sender-role" or arguments[4] not in ("client", "server"):
            print(__doc__)
            return 2
        part(reverse_check, arguments[1], arguments[2], arguments[4])
    elif arguments == ["--offline"]:
        model = [sys.executable, os.path.abspath(__file__), "model-hb"]
        for function, *rest in ((self_tests,), (vectors_against_wsproto_and_model,), (handshake_vectors_against_websockets,),
                                (wsproto_differential, model), (mutated_streams, model, 90)):
            part(function, *rest)
    elif len(arguments) == 1 and not arguments[0].startswith("-"):
        hb = arguments[0]
        check(f"{hb} is executable", os.access(hb, os.X_OK))
        for function, *rest in ((self_tests,), (vectors_against_wsproto_and_model,), (handshake_vectors_against_websockets,),
                                (probe_websockets_server, hb), (websockets_client_against_serve, hb), (wsproto_differential, [hb]),
                                (mutated_streams, [hb])):
            part(function, *rest)
    else:
        print(__doc__)
        return 2
    print()
    if failures:
        print(f"{len(failures)} websocket interop check(s) failed: {failures[:20]}")
        return 1
    print("all websocket interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
