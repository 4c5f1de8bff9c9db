#!/usr/bin/env python3
"""TLS Heartbeat (RFC 6520) interop checks for swift-heartbeat's `--dialect tls`, against tlslite-ng.

Pinned peer (install it first, as run.sh does): python3 -m pip install tlslite-ng==0.8.2

Usage:
  tls_interop.py HB                  every check against the hb binary at path HB:
    - spec/vectors/tls.json read with tlslite-ng's RecordHeader3 and Heartbeat classes and the rule
      its TLS record layer applies to a heartbeat (tlsrecordlayer.py: parse, ignore on SyntaxError,
      answer a request only with >= 16 octets of padding), item for item;
    - 10^4 random records written with tlslite-ng's classes (heartbeat requests and responses of
      0 to 16,365 payload octets, application data, handshake records) and 2,000 malformed heartbeat
      messages (Heartbleed payload_length overflows, padding under 16, unknown types) through
      `hb decode --dialect tls --format jsonl`: every valid message is reported with its payload,
      every malformed one is reported as nothing;
    - live, on loopback: `hb probe --dialect tls` against a peer built on tlslite-ng's classes
      (it answers with Heartbeat.create_response, and sends the CVE-2014-0160 request and other
      malformed ones first: hb must answer none of them), and a tlslite-ng client against
      `hb serve --dialect tls` (the Heartbleed request and variants answered by nothing; valid
      requests of 0 to 2,000 octets each answered by exactly one response carrying exactly its
      payload and >= 16 octets of padding; application data echoed; close_notify answered);
    - a real TLS 1.2 connection between a tlslite-ng client and server (heartbeat extension
      negotiated, anonymous DH), whose plaintext records a hook on tlslite-ng's RecordLayer
      captures: `hb decode --dialect tls` finds the client's request and the server's response.
  tls_interop.py reverse RECORDS EXPECTED
                                     tlslite-ng parses RECORDS (written by our encoder,
                                     `interop-frames tls`) and must find exactly EXPECTED.
Exit status: 0 when every check passed, 1 otherwise. A missing peer is a failure, never a skip.
"""
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

import tlslite
from tlslite.constants import ContentType, HeartbeatMessageType
from tlslite.messages import Heartbeat, RecordHeader3
from tlslite.utils.codec import Parser

from interop_support import check, failures

PINNED = "0.8.2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_HEARTBEAT = 1 << 14
MAX_PAYLOAD = MAX_HEARTBEAT - 3 - 16
HEARTBLEED = bytes.fromhex("1803020003014000")   # CVE-2014-0160: 3-octet record, payload_length 0x4000


# ============================================================ tlslite-ng's view of records
def record(content_type, fragment, version=(3, 3)):
    """A record written with tlslite-ng's RecordHeader3."""
    return bytes(RecordHeader3().create(version, content_type, len(fragment)).write()) + bytes(fragment)


def heartbeat_record(message_type, payload, padding_length):
    """A heartbeat record whose message is written by tlslite-ng's Heartbeat class."""
    return record(ContentType.heartbeat, Heartbeat().create(message_type, bytearray(payload), padding_length).write())


def tlslite_view(fragment):
    """What tlslite-ng's record layer makes of a heartbeat record's fragment (tlsrecordlayer.py
    _getMsg): ("ping"|"pong", payload) or None (ignored). Heartbeat.parse raises SyntaxError when
    payload_length overflows the record (the Heartbleed shape); a request with under 16 octets of
    padding is ignored; unknown types are ignored. Two deliberate differences of ours (spec/tls.md
    §4.2) are applied and named by `difference`: a response with under 16 octets of padding
    (tlslite-ng hands it to its callback) and a record over 2^14 octets (tlslite-ng's record layer
    fails it with record_overflow) are discarded."""
    try:
        message = Heartbeat().parse(Parser(bytearray(fragment)))
    except SyntaxError:
        return None, None
    if len(fragment) > MAX_HEARTBEAT:
        return None, "over 2^14"
    if message.message_type == HeartbeatMessageType.heartbeat_request:
        return (("ping", bytes(message.payload)) if len(message.padding) >= 16 else None), None
    if message.message_type == HeartbeatMessageType.heartbeat_response:
        return (("pong", bytes(message.payload)) if len(message.padding) >= 16 else None), \
            (None if len(message.padding) >= 16 else "short padding on a response")
    return None, None


def tlslite_items(data, stop=None):
    """The items of a record stream as tlslite-ng reads it (up to `stop` octets): (items, differences)."""
    items, differences, offset = [], [], 0
    stop = len(data) if stop is None else stop
    while offset + 5 <= stop:
        header = RecordHeader3().parse(Parser(bytearray(data[offset:offset + 5])))
        fragment = data[offset + 5:offset + 5 + header.length]
        if len(fragment) < header.length or offset + 5 + header.length > stop:
            break
        if header.type == ContentType.heartbeat:
            item, difference = tlslite_view(fragment)
            if item:
                items.append({"item": item[0], "payload": item[1].hex()})
            if difference:
                differences.append(difference)
        else:
            items.append({"item": "business", "type": header.type, "data": bytes(fragment).hex()})
        offset += 5 + header.length
    return items, differences


def decode(hb, data):
    result = subprocess.run([hb, "decode", "--dialect", "tls", "--format", "jsonl"], input=data, capture_output=True, timeout=120)
    return [json.loads(line) for line in result.stdout.decode().splitlines() if line], result.returncode


# ============================================================ checks
def vectors_against_tlslite():
    with open(os.path.join(ROOT, "spec", "vectors", "tls.json")) as file:
        vectors = json.load(file)["vectors"]
    known = 0
    for vector in vectors:
        data = bytes.fromhex(vector["input"])
        error = vector["error"]
        items, differences = tlslite_items(data, error["offset"] if error and error["code"] != "TRUNCATED" else None)
        if differences:
            known += 1
        check(f"tlslite-ng reads vector {vector['name']} as its items", items == vector["items"],
              f"tlslite {items} != vector {vector['items']}")
    print(f"     ({known} vectors where our discard differs knowingly from tlslite-ng's record layer, spec/tls.md §4.2)")


def random_records(rng, count):
    """Random records written with tlslite-ng's classes, and the items hb decode must report."""
    stream, expected = bytearray(), []
    for _ in range(count):
        kind = rng.randrange(10)
        if kind < 4:
            message_type = rng.choice([HeartbeatMessageType.heartbeat_request, HeartbeatMessageType.heartbeat_response])
            length = rng.choice([0, 1, 8, MAX_PAYLOAD, rng.randrange(200), rng.randrange(MAX_PAYLOAD + 1)])
            padding = 16 if length + 3 + 16 == MAX_HEARTBEAT else rng.randrange(16, min(64, MAX_HEARTBEAT - 3 - length) + 1)
            payload = rng.randbytes(length)
            stream += heartbeat_record(message_type, payload, padding)
            expected.append({"item": "ping" if message_type == 1 else "pong", "payload": payload.hex()})
        elif kind < 6:
            stream += malformed_heartbeat(rng)
        else:
            content_type = rng.choice([ContentType.application_data, ContentType.application_data, ContentType.handshake,
                                       ContentType.change_cipher_spec])
            fragment = rng.randbytes(rng.choice([0, rng.randrange(300), rng.randrange((1 << 14) + 2048 + 1)]))
            stream += record(content_type, fragment)
            expected.append({"item": "business", "type": content_type, "length": len(fragment)})
    return bytes(stream), expected


def malformed_heartbeat(rng):
    """A heartbeat record RFC 6520 §4 has us discard, written from tlslite-ng's Heartbeat."""
    kind = rng.randrange(4)
    payload = rng.randbytes(rng.randrange(64))
    if kind == 0:      # Heartbleed: payload_length overstates what the record holds
        message = bytearray(Heartbeat().create(1, bytearray(payload), 16).write())
        claimed = rng.choice([len(payload) + 17, 0x4000, 0xFFFF, rng.randrange(len(payload) + 17, 0x10000)])
        message[1:3] = claimed.to_bytes(2, "big")
        return record(ContentType.heartbeat, message)
    if kind == 1:      # padding shorter than 16
        return heartbeat_record(rng.choice([1, 2]), payload, rng.randrange(16))
    if kind == 2:      # unknown HeartbeatMessageType
        return heartbeat_record(rng.choice([0, 3, 4, 127, 255]), payload, 16)
    return record(ContentType.heartbeat, bytes([1, 0x40, 0x00])[:rng.randrange(4)])   # CVE shape, or cut header


def differential(hb, seed=6520):
    rng = random.Random(seed)
    stream, expected = random_records(rng, 10000)
    ours, status = decode(hb, stream)
    check("hb decode reads 10^4 tlslite-ng records with no error", status == 0 and not any(i.get("item") == "error" for i in ours),
          str([i for i in ours if i.get("item") == "error"][:1]))
    check("hb decode reports exactly tlslite-ng's items (malformed heartbeats as nothing)", ours == expected,
          next((f"#{n}: ours {a} expected {b}" for n, (a, b) in enumerate(zip(ours, expected)) if a != b), f"{len(ours)} vs {len(expected)}"))
    # tlslite-ng's record-layer rule agrees on the malformed ones: none would be answered.
    malformed = [malformed_heartbeat(rng) for _ in range(2000)]
    views = [tlslite_view(m[5:]) for m in malformed]
    check("tlslite-ng's record layer would answer none of 2,000 malformed requests either", all(view is None for view, _ in views))
    ours, status = decode(hb, b"".join(malformed))
    check("hb decode reports nothing for 2,000 malformed heartbeat messages", status == 0 and ours == [], str(ours[:2]))
    print(f"     ({len(stream)} octets, {len(expected)} items; {sum(1 for _, d in views if d)} malformed responses tlslite-ng would still hand to its callback)")


def reverse(records_path, expected_path):
    with open(records_path, "rb") as file:
        data = file.read()
    with open(expected_path) as file:
        expected = json.load(file)
    offset, index, mismatches = 0, 0, []
    while offset < len(data):
        header = RecordHeader3().parse(Parser(bytearray(data[offset:offset + 5])))
        fragment = bytes(data[offset + 5:offset + 5 + header.length])
        want = expected[index] if index < len(expected) else None
        if header.version != (3, 3) or len(fragment) != header.length:
            mismatches.append(f"record {index}: version {header.version}, {len(fragment)} of {header.length} octets")
        elif header.type == ContentType.heartbeat:
            message = Heartbeat().parse(Parser(bytearray(fragment)))
            got = {"item": "ping" if message.message_type == 1 else "pong", "payload": bytes(message.payload).hex(), "padding": len(message.padding)}
            if got != want:
                mismatches.append(f"record {index}: {str(got)[:120]} != {str(want)[:120]}")
        else:
            got = {"item": "business", "type": header.type, "length": header.length, "data": fragment.hex()}
            if got != want:
                mismatches.append(f"record {index}: {str(got)[:120]} != {str(want)[:120]}")
        offset += 5 + header.length
        index += 1
    check(f"tlslite-ng parses the {index} records our encoder wrote as the items expected", not mismatches and index == len(expected),
          "; ".join(mismatches[:3]) + f" ({index} records, {len(expected)} expected)")


# ============================================================ live peers on loopback
def read_record(sock):
    """One record from `sock` (header, fragment), or None at the end of the stream."""
    def exactly(count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data
    head = exactly(5)
    if head is None:
        return None
    header = RecordHeader3().parse(Parser(bytearray(head)))
    fragment = exactly(header.length) if header.length else b""
    return None if fragment is None else (header, fragment)


def peer_against_probe(hb):
    """hb probe --dialect tls against a peer built on tlslite-ng's classes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    seen = {"requests": 0, "responses": 0, "answered": 0, "error": None}

    def serve():
        try:
            connection, _ = listener.accept()
            connection.settimeout(10)
            # The original Heartbleed request and other malformed ones first: hb must answer none.
            connection.sendall(HEARTBLEED + heartbeat_record(1, b"short padding", 15) + heartbeat_record(9, b"unknown type", 16))
            while True:
                got = read_record(connection)
                if got is None:
                    return
                header, fragment = got
                if header.type == ContentType.heartbeat:
                    message = Heartbeat().parse(Parser(bytearray(fragment)))
                    if message.message_type == HeartbeatMessageType.heartbeat_request:
                        seen["requests"] += 1
                        if len(message.padding) >= 16:
                            response = message.create_response()
                            connection.sendall(record(ContentType.heartbeat, response.write()))
                            seen["answered"] += 1
                    else:
                        seen["responses"] += 1
                elif header.type == ContentType.alert:
                    # hb's close_notify ends the conversation: answer it and stop reading (hb may
                    # already have closed, so reading on could only see its reset).
                    seen["alerts"] = seen.get("alerts", 0) + 1
                    try:
                        connection.sendall(record(ContentType.alert, b"\x01\x00"))
                    except OSError:
                        pass
                    return
        except Exception as exc:
            seen["error"] = repr(exc)
        finally:
            listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    result = subprocess.run([hb, "probe", "--dialect", "tls", f"127.0.0.1:{port}", "--count", "5", "--interval", "0.2"],
                            capture_output=True, text=True, timeout=60)
    thread.join(10)
    print("     " + result.stdout.strip().replace("\n", "\n     "))
    check("hb probe --dialect tls gets 5 replies from the tlslite-ng peer (exit 0)",
          result.returncode == 0 and result.stdout.count("time=") == 5, result.stdout + result.stderr)
    check("the tlslite-ng peer parsed 5 requests with >= 16 octets of padding and answered them", seen["answered"] == 5, str(seen))
    check("hb probe answered none of the Heartbleed, short-padding and unknown-type requests", seen["responses"] == 0 and not seen["error"], str(seen))


def client_against_serve(hb):
    """A client built on tlslite-ng's classes against hb serve --dialect tls."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    server = subprocess.Popen([hb, "serve", "--dialect", "tls", "--port", str(port), "--interval", "0.5"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results = {}
    try:
        deadline = time.time() + 10
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        rng = random.Random(6520)
        sizes = [0, 1, 8, 100, 1000, 2000]
        payloads = [rng.randbytes(size) for size in sizes]
        responses, requests_from_hb, echoes = [], 0, []
        with sock:
            # Nothing may answer these; anything that did would arrive before the first valid
            # request's response, since hb handles records in order.
            sock.sendall(HEARTBLEED + bytes.fromhex("180303000301ffff") + heartbeat_record(1, b"x" * 8, 15)
                         + heartbeat_record(3, b"y" * 8, 16) + record(ContentType.heartbeat, b""))
            for payload in payloads:
                # Application data between requests, so that hb's ping policing sees traffic.
                data = b"data before %d" % len(payload)
                sock.sendall(record(ContentType.application_data, data) + heartbeat_record(1, payload, rng.randrange(16, 40)))
                # Read up to this request's response: the echoed data, and hb's own requests, which
                # are answered with tlslite-ng's create_response.
                while True:
                    header, fragment = read_record(sock)
                    if header.type == ContentType.application_data:
                        echoes.append(bytes(fragment))
                        continue
                    message = Heartbeat().parse(Parser(bytearray(fragment)))
                    if message.message_type == HeartbeatMessageType.heartbeat_request:
                        requests_from_hb += 1
                        sock.sendall(record(ContentType.heartbeat, message.create_response().write()))
                        continue
                    responses.append((bytes(message.payload), len(message.padding)))
                    break
                time.sleep(0.3)
            sock.sendall(record(ContentType.alert, b"\x01\x00"))
            closing = []
            while (got := read_record(sock)) is not None:
                closing.append((got[0].type, bytes(got[1])))
        # The last echo may come after the last response (hb answers heartbeats on its loop thread).
        echoes += [fragment for content_type, fragment in closing if content_type == ContentType.application_data]
        results = {"responses": responses, "requests": requests_from_hb, "echoes": echoes, "closing": closing}
    except Exception as exc:
        results["exception"] = repr(exc)
    finally:
        # The connection's "closed" line may follow the client's close by a moment: wait for it
        # (at most 5 s) before stopping the server.
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
        reader.start()
        stop_waiting = time.time() + 5
        while time.time() < stop_waiting and not any("closed (" in line for line in lines):
            time.sleep(0.05)
        server.terminate()
        server.wait(timeout=10)
        reader.join(5)
        output = "".join(lines)
    check("hb serve answers each valid tlslite-ng request (0 to 2,000 octets) with exactly its payload, in order",
          [r[0] for r in results.get("responses", [])] == payloads, str(results)[:300])
    check("hb serve's responses carry >= 16 octets of padding", all(r[1] >= 16 for r in results.get("responses", [])) and results.get("responses"))
    check("hb serve answered none of the Heartbleed request and its variants (the first response answers the first valid request)",
          results.get("responses", [(None,)])[0][0] == payloads[0], str(results)[:300])
    check("hb serve echoed the application data", results.get("echoes") == [b"data before %d" % size for size in sizes], str(results.get("echoes")))
    check("hb serve's own requests were parsed and answered by tlslite-ng", results.get("requests", 0) >= 1, str(results)[:300])
    check("hb serve answered close_notify with close_notify", (ContentType.alert, b"\x01\x00") in results.get("closing", []),
          str(results.get("closing")))
    print("     " + "\n     ".join(output.strip().splitlines()[-3:]))
    check("hb serve logged the tls connection and its pongs", "connected" in output and "pongs sent 6" in output, output[-400:])


def real_tlslite_connection(hb):
    """A real TLS 1.2 connection between a tlslite-ng client and server (anonymous DH, the heartbeat
    extension negotiated by tlslite-ng itself) with a test hook on tlslite-ng's RecordLayer that
    copies every plaintext record (before encryption, after decryption) into a capture per
    direction. The client sends a heartbeat_request through tlslite-ng's API and the server's
    tlslite-ng answers it; `hb decode --dialect tls` must read each capture whole and find the
    request in the client's records and the response, with the same payload, in the server's."""
    from tlslite.api import HandshakeSettings, TLSConnection
    from tlslite.recordlayer import RecordLayer

    captures = {}
    send_record, recv_record = RecordLayer.sendRecord, RecordLayer.recvRecord

    def capture(layer, direction, content_type, data):
        version = getattr(layer, "version", (3, 3)) or (3, 3)
        captures.setdefault((threading.current_thread().name, direction), bytearray()).extend(record(content_type, data, version))

    def send(self, msg):
        capture(self, "sent", msg.contentType, bytes(msg.write()))
        return send_record(self, msg)

    def recv(self):
        for result in recv_record(self):
            if isinstance(result, tuple):
                capture(self, "received", result[0].type, bytes(result[1].bytes))
            yield result

    RecordLayer.sendRecord, RecordLayer.recvRecord = send, recv
    payload = b"swift-heartbeat via tlslite-ng " + bytes(range(40))
    responses = []
    try:
        client_socket, server_socket = socket.socketpair()
        client_socket.settimeout(20)
        server_socket.settimeout(20)

        def server():
            connection = TLSConnection(server_socket)
            settings = HandshakeSettings()
            settings.maxVersion = (3, 3)
            connection.handshakeServer(anon=True, settings=settings)
            connection.write(connection.read())
            connection.read()
            connection.close()

        thread = threading.Thread(target=server, name="server", daemon=True)
        thread.start()
        threading.current_thread().name = "client"
        client = TLSConnection(client_socket)
        settings = HandshakeSettings()
        settings.maxVersion = (3, 3)
        settings.heartbeat_response_callback = lambda message: responses.append(bytes(message.payload))
        client.handshakeClientAnonymous(settings=settings)
        negotiated = client.version == (3, 3) and client.heartbeat_supported
        client.send_heartbeat_request(bytearray(payload), 16)
        client.write(b"hello")
        echo = client.read()
        client.close()
        thread.join(20)
    finally:
        RecordLayer.sendRecord, RecordLayer.recvRecord = send_record, recv_record
        threading.current_thread().name = "MainThread"
    check("tlslite-ng negotiated TLS 1.2 with the heartbeat extension, answered the request, echoed data",
          negotiated and responses == [payload] and echo == b"hello", f"{negotiated} {responses} {echo}")
    client_items, status = decode(hb, bytes(captures.get(("client", "sent"), b"")))
    server_items, server_status = decode(hb, bytes(captures.get(("server", "sent"), b"")))
    types = sorted({item.get("type") for item in client_items + server_items if item["item"] == "business"})
    print(f"     client's plaintext: {len(client_items)} items, server's: {len(server_items)} items, business content types {types}")
    check("hb decode reads tlslite-ng's client plaintext records: the handshake and one heartbeat_request with our payload",
          status == 0 and [i for i in client_items if i["item"] in ("ping", "pong")] == [{"item": "ping", "payload": payload.hex()}]
          and {"item": "business", "type": 22} in [{"item": i["item"], "type": i.get("type")} for i in client_items], str(client_items)[:300])
    check("hb decode reads tlslite-ng's server plaintext records: its heartbeat_response echoes the payload",
          server_status == 0 and [i for i in server_items if i["item"] in ("ping", "pong")] == [{"item": "pong", "payload": payload.hex()}],
          str(server_items)[:300])
    for side in ("client", "server"):
        received, _ = decode(hb, bytes(captures.get((side, "received"), b"")))
        other = client_items if side == "server" else server_items
        check(f"what tlslite-ng's {side} received decodes as what the other side sent", received == other[:len(received)] and len(received) > 0,
              f"{received[:3]} vs {other[:3]}")


def part(function, *arguments):
    try:
        function(*arguments)
    except Exception as exc:
        check(f"{function.__name__} ran to the end", False, repr(exc))


def main(arguments):
    if arguments[:1] == ["reverse"] and len(arguments) == 3:
        part(reverse, arguments[1], arguments[2])
    elif len(arguments) == 1:
        hb = arguments[0]
        check(f"tlslite-ng is the pinned {PINNED}", tlslite.__version__ == PINNED, tlslite.__version__)
        part(vectors_against_tlslite)
        part(differential, hb)
        part(peer_against_probe, hb)
        part(client_against_serve, hb)
        part(real_tlslite_connection, hb)
    else:
        print(__doc__)
        return 2
    print(f"TLS interop: {len(failures)} failures" if failures else "TLS interop: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
