#!/usr/bin/env python3
"""Writes the named seeds of corpus/streaming-differential/: streams whose business frames are
longer than their chunks (so that streaming mode hands them over in pieces), in every dialect
that streams, cut into MTU-sized, odd and one-octet chunks, plus each with one octet flipped.
Layout: see Sources/streaming-differential/StreamingDifferentialFuzzer.swift. Deterministic."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "streaming-differential")
ENVELOPE, HTTP2, WEBSOCKET, TLS, MQTT = 0, 1, 3, 4, 5
CHUNKINGS = {"mtu": [11 | 0x80], "odd": [7, 0x81, 0, 3], "bytewise": []}


def payload(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def varint(v):  # QUIC-style varint (envelope)
    if v < 64:
        return bytes([v])
    if v < 16384:
        return struct.pack(">H", v | 0x4000)
    return struct.pack(">I", v | 0x80000000)


def envelope():
    out = b"HBEAT\x00\x00\x01"[:0]
    frames = [varint(0) + varint(n) + payload(n, n) for n in (3000, 17, 1500)]
    ping = varint(1) + varint(8) + payload(8, 1)
    return frames[0] + ping + frames[1] + frames[2]


def http2():
    def frame(t, flags, sid, body):
        return struct.pack(">I", len(body))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + body
    ping = frame(6, 0, 0, payload(8, 2))
    return frame(0, 0, 1, payload(4000, 1)) + ping + frame(1, 4, 3, payload(2000, 2)) + frame(0, 1, 3, payload(1600, 3))


def websocket():  # unmasked server frames: binary, a fragmented text message, a ping
    def frame(op, fin, body):
        n = len(body)
        head = bytes([(0x80 if fin else 0) | op])
        head += bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n)
        return head + body
    return frame(2, True, payload(3000, 4)) + frame(9, True, b"ping") + frame(1, False, b"a" * 2000) + frame(0, True, b"b" * 300)


def tls():
    def record(t, body):
        return bytes([t, 3, 3]) + struct.pack(">H", len(body)) + body
    return record(22, payload(4000, 5)) + record(23, payload(2500, 6)) + record(24, bytes([1, 0, 16]) + payload(32, 7))


def mqtt():
    def remaining(n):
        out = b""
        while True:
            byte, n = n & 0x7F, n >> 7
            out += bytes([byte | (0x80 if n else 0)])
            if not n:
                return out
    publish = b"\x00\x03a/b" + payload(3000, 8)
    return b"\x30" + remaining(len(publish)) + publish + b"\xc0\x00" + b"\x30" + remaining(len(publish)) + publish


STREAMS = {"envelope": (ENVELOPE, 4 | 3, envelope()), "http2": (HTTP2, 1, http2()), "websocket": (WEBSOCKET, 0, websocket()),
           "tls": (TLS, 0, tls()), "mqtt": (MQTT, 4, mqtt())}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (dialect, options, stream) in STREAMS.items():
        for chunking, sizes in CHUNKINGS.items():
            if chunking == "bytewise" and len(stream) > 3000:
                stream_used = stream[:3000]
            else:
                stream_used = stream
            head = bytes([dialect, options, len(sizes)] + sizes)
            with open(os.path.join(OUT, f"seed-{name}-{chunking}"), "wb") as f:
                f.write(head + stream_used)
            flipped = bytearray(stream_used)
            flipped[len(flipped) // 3] ^= 0x40
            with open(os.path.join(OUT, f"seed-{name}-{chunking}-flipped"), "wb") as f:
                f.write(head + bytes(flipped))


if __name__ == "__main__":
    main()
