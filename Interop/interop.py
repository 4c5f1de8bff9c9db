#!/usr/bin/env python3
"""Interop checks of swift-heartbeat against real peers and reference implementations.

Usage: interop.py PATH_TO_HB. Every check must pass; a missing peer is a failure.
"""
import asyncio
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import h2.config
import h2.connection
import h2.events
import hyperframe.frame as hf
from aioquic.buffer import Buffer
from aioquic.quic.packet import pull_ack_frame

from interop_support import check, failures, free_port, wait_for_port

HB = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))






def probe(port, dialect, count=5):
    result = subprocess.run([HB, "probe", "--dialect", dialect, f"127.0.0.1:{port}", "--count", str(count), "--interval", "0.2"],
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


# --- nghttpd answers hb probe -------------------------------------------------------------
def nghttpd_probe():
    nghttpd = shutil.which("nghttpd")
    check("nghttpd is installed", nghttpd is not None)
    if not nghttpd:
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as docroot:
        server = subprocess.Popen([nghttpd, "--no-tls", "-a", "127.0.0.1", "-d", docroot, str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            check("nghttpd listens", wait_for_port(port))
            status, output = probe(port, "http2")
            print(output.rstrip())
            check("hb probe --dialect http2 gets 5 PING ACKs from nghttpd", status == 0 and output.count("reply from") == 5, output)
        finally:
            server.terminate()
            server.wait()


# --- a python-h2 server answers hb probe ------------------------------------------------------
def h2_server(port, ready, stop):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    listener.settimeout(0.2)
    ready.set()
    while not stop.is_set():
        try:
            client, _ = listener.accept()
        except socket.timeout:
            continue
        connection = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        connection.initiate_connection()
        client.sendall(connection.data_to_send())
        client.settimeout(0.2)
        while not stop.is_set():
            try:
                data = client.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            connection.receive_data(data)  # h2 acknowledges PINGs itself
            client.sendall(connection.data_to_send())
        client.close()
    listener.close()


def h2_probe():
    port = free_port()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=h2_server, args=(port, ready, stop), daemon=True)
    thread.start()
    ready.wait(5)
    status, output = probe(port, "http2")
    check("hb probe --dialect http2 gets 5 PING ACKs from a python-h2 server", status == 0 and output.count("reply from") == 5, output)
    stop.set()
    thread.join(5)


# --- hb serve answers a python-h2 client and an independent envelope client ------------------
def start_serve(dialect):
    port = free_port()
    server = subprocess.Popen([HB, "serve", "--dialect", dialect, "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    check(f"hb serve --dialect {dialect} listens", wait_for_port(port))
    return server, port


def h2_client_against_serve():
    server, port = start_serve("http2")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        connection.initiate_connection()
        payloads = [struct.pack(">II", i, 1000 + i) for i in range(3)]
        for payload in payloads:
            connection.ping(payload)
        sock.sendall(connection.data_to_send())
        acks, settings_acked = [], False
        deadline = time.time() + 5
        while time.time() < deadline and len(acks) < len(payloads):
            data = sock.recv(65536)
            if not data:
                break
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.PingAckReceived):
                    acks.append(event.ping_data)
                if isinstance(event, h2.events.SettingsAcknowledged):
                    settings_acked = True
            sock.sendall(connection.data_to_send())
        check("hb serve acknowledges a python-h2 client's PINGs with the same payloads", acks == payloads, f"{acks}")
        connection.close_connection()
        sock.sendall(connection.data_to_send())
        sock.close()
    finally:
        server.terminate()
        output = server.communicate(timeout=5)[0]
    check("hb serve logged the h2 connection", "connected" in output, output)


def envelope_client_against_serve():
    """A client written from spec/envelope.md alone, not from the Swift code."""
    server, port = start_serve("tcp")

    def varint(value):
        for length, prefix in ((1, 0), (2, 1), (4, 2), (8, 3)):
            if value < 1 << (length * 8 - 2):
                return ((prefix << (length * 8 - 2)) | value).to_bytes(length, "big")

    def read_varint(data, offset):
        length = 1 << (data[offset] >> 6)
        value = int.from_bytes(data[offset:offset + length], "big") & ((1 << (length * 8 - 2)) - 1)
        return value, offset + length

    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        preface = bytes([0x89, 0x48, 0x42, 0x0D, 0x0A, 0x1A, 0x0A, 0x01])
        ping = struct.pack(">II", 42, 1234)
        message = b"business bytes " * 100
        sock.sendall(preface + varint(1) + varint(8) + ping + varint(0) + varint(len(message)) + message)
        received, frames = b"", []
        deadline = time.time() + 5
        while time.time() < deadline:
            received += sock.recv(65536)
            if not received.startswith(preface[:min(len(received), 8)]):
                break
            offset, frames = 8, []
            while offset < len(received):
                try:
                    ftype, cursor = read_varint(received, offset)
                    length, cursor = read_varint(received, cursor)
                except IndexError:
                    break
                if cursor + length > len(received):
                    break
                frames.append((ftype, received[cursor:cursor + length]))
                offset = cursor + length
            if (2, ping) in frames and any(t == 0 for t, _ in frames) and b"".join(p for t, p in frames if t == 0) == message:
                break
        check("hb serve's envelope preface matches spec/envelope.md", received[:8] == preface, received[:8].hex())
        check("hb serve answers an envelope PING with a PONG echoing its payload", (2, ping) in frames, f"{frames[:4]}")
        check("hb serve echoes envelope DATA", b"".join(p for t, p in frames if t == 0) == message)
        sock.sendall(varint(3) + varint(1) + varint(0))  # GOAWAY NO_ERROR
        sock.close()
    finally:
        server.terminate()
        server.communicate(timeout=5)


# --- hyperframe and aioquic agree with our vectors and codecs ----------------------------------
def load(name):
    with open(os.path.join(ROOT, "spec", "vectors", name)) as f:
        return json.load(f)["vectors"]


def hyperframe_parse(data):
    frames, offset = [], 0
    while offset + 9 <= len(data):
        frame, length = hf.Frame.parse_frame_header(memoryview(data[offset:offset + 9]))
        if offset + 9 + length > len(data):
            break
        frame.parse_body(memoryview(data[offset + 9:offset + 9 + length]))
        frames.append((frame, data[offset + 9:offset + 9 + length]))
        offset += 9 + length
    return frames


def hyperframe_vectors():
    checked = 0
    for vector in load("http2.json"):
        if vector["error"] is not None:
            if vector["error"]["reason"] in ("heartbeat-length", "ping-on-stream"):
                # hyperframe rejects these PINGs too.
                data = bytes.fromhex(vector["input"])
                try:
                    frame, length = hf.Frame.parse_frame_header(memoryview(data[:9]))
                    frame.parse_body(memoryview(data[9:9 + length].ljust(length, b"\0")))
                    rejected = False
                except Exception:
                    rejected = True
                check(f"hyperframe rejects vector {vector['name']} too", rejected)
            continue
        data = bytes.fromhex(vector["input"])
        if data.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
            data = data[24:]
        parsed = hyperframe_parse(data)
        ours = vector["items"]
        ok = len(parsed) == len(ours)
        for (frame, payload), item in zip(parsed, ours):
            if item["item"] in ("ping", "pong"):
                ok &= isinstance(frame, hf.PingFrame) and frame.opaque_data.hex() == item["payload"] \
                    and (("ACK" in frame.flags) == (item["item"] == "pong"))
            else:
                ok &= frame.type == item["type"] and payload.hex() == item["data"] and frame.stream_id == item["stream"]
        check(f"hyperframe reads vector {vector['name']} as we do", ok)
        checked += 1
    check("hyperframe checked at least 20 HTTP/2 vectors", checked >= 20, str(checked))


def hb_decode(dialect, data):
    result = subprocess.run([HB, "decode", "--dialect", dialect, "--format", "jsonl"], input=data, capture_output=True, timeout=30)
    return result.returncode, [json.loads(line) for line in result.stdout.decode().splitlines()]


def hb_decode_reads_hyperframe():
    rng = random.Random(7)
    stream, expected = b"", []
    for _ in range(300):
        kind = rng.randrange(4)
        if kind == 0:
            frame = hf.PingFrame(0, opaque_data=rng.randbytes(8), flags=["ACK"] if rng.random() < 0.5 else [])
            expected.append({"item": "ping", "ack": "ACK" in frame.flags, "payload": frame.opaque_data.hex()})
        elif kind == 1:
            frame = hf.DataFrame(rng.randrange(1, 1 << 31, 2), data=rng.randbytes(rng.randrange(0, 16384)))
            expected.append({"item": "business", "type": 0, "length": len(frame.data)})
        elif kind == 2:
            frame = hf.WindowUpdateFrame(0, window_increment=rng.randrange(1, 1 << 31))
            expected.append({"item": "business", "type": 8, "length": 4})
        else:
            frame = hf.SettingsFrame(0, settings={hf.SettingsFrame.MAX_FRAME_SIZE: 16384})
            expected.append({"item": "business", "type": 4, "length": 6})
        stream += frame.serialize()
    status, items = hb_decode("http2", stream)
    check("hb decode reads 300 frames serialized by hyperframe", status == 0 and items == expected,
          f"status {status}, first difference at {next((i for i, (a, b) in enumerate(zip(items, expected)) if a != b), None)}")


def aioquic_vectors():
    for vector in load("varint.json"):
        data = bytes.fromhex(vector["input"])
        try:
            value = Buffer(data=data).pull_uint_var()
        except Exception:
            value = None
        check(f"aioquic decodes varint {vector['name']} as we do", value == vector["value"], f"{value}")
    acks = 0
    for vector in load("quic.json"):
        for item, packet in ((i, p) for i in vector["items"] if i["item"] == "quic-ack" for p in vector["packets"]):
            buffer = Buffer(data=bytes.fromhex(packet))
            while buffer.pull_uint_var() not in (2, 3):
                pass
            ranges, delay = pull_ack_frame(buffer)
            theirs = sorted([[r.start, r.stop - 1] for r in ranges], reverse=True)
            check(f"aioquic decodes the ACK of {vector['name']} as we do", theirs == item["ranges"] and delay == item["delay"],
                  f"{theirs} delay {delay}")
            acks += 1
    check("aioquic checked the ACK vectors", acks >= 4, str(acks))


nghttpd_probe()
h2_probe()
h2_client_against_serve()
envelope_client_against_serve()
hyperframe_vectors()
hb_decode_reads_hyperframe()
aioquic_vectors()
print()
if failures:
    print(f"{len(failures)} interop check(s) failed: {failures}")
    sys.exit(1)
print("all interop checks passed")
