#!/usr/bin/env python3
"""RESP and text-lines interoperability (Interop/run.sh).

  resp_interop.py BIN_DIR

- hiredis (pip `hiredis`, an independent C reader) agrees with our delimiting of 10^4 random
  RESP2/RESP3 values: our decoder (interop-frames resp-delimit, random chunks) and hiredis.Reader
  (three random chunkings of the whole stream, and each of our delimited values on its own)
  find the same values. hiredis 3.5.0 knowingly differs on two RESP3 types, left out of the
  random values and checked separately: it refuses `!` bulk errors, and it reads an attribute
  `|` as a value of its own where RESP3 (and we) make it part of the value it annotates.
- redis-server, started here on a free loopback port and stopped at the end even on failure:
  `hb probe --dialect resp` (bare PING, in order) and `.../echo` (PING <message>, echo) print
  RTTs; every RESP3 type redis sends (`DEBUG PROTOCOL ...` after `HELLO 3`) is read by
  `hb decode --role client` as exactly one value of the right length.
- `hb serve --dialect resp` answers redis-cli's PING, PING <message> and an unknown command.
- Text lines: `hb probe --dialect lines` against a Python asyncio line server answering PING
  with PONG; a Python client against `hb serve --dialect lines` (its PINGs answered, ours
  answered, a line echoed).

A missing peer is a failure, never a skip.
"""
import asyncio
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import hiredis

BIN = sys.argv[1]
HB = os.path.join(BIN, "hb")
FRAMES = os.path.join(BIN, "interop-frames")
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- random RESP values
CRLF = b"\r\n"


class Value:
    """A RESP value: its encoding and what hiredis should return for it (`expected`)."""

    def __init__(self, octets, expected, type_octet):
        self.octets, self.expected, self.type_octet = octets, expected, type_octet


def line(kind, text):
    return kind + text + CRLF


def random_value(rng, depth=0):
    kinds = "+-:$_#,(=" + ("*%~>" if depth < 5 else "")
    kind = rng.choice(kinds)
    k = kind.encode()
    if kind in "+-":
        text = bytes(rng.randrange(0x20, 0x7F) for _ in range(rng.randrange(0, 12)))
        return Value(line(k, text), ("error", text) if kind == "-" else text, ord(kind))
    if kind == ":":
        number = rng.randrange(-(1 << 63), 1 << 63)
        return Value(line(k, str(number).encode()), number, ord(kind))
    if kind == "$":
        if rng.random() < 0.1:
            return Value(b"$-1\r\n", None, ord(kind))
        data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 5, 40, 300])))
        return Value(line(k, str(len(data)).encode()) + data + CRLF, data, ord(kind))
    if kind == "=":
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))
        return Value(line(k, str(len(data) + 4).encode()) + b"txt:" + data + CRLF, data, ord(kind))
    if kind == "_":
        return Value(b"_\r\n", None, ord(kind))
    if kind == "#":
        flag = rng.random() < 0.5
        return Value(b"#t\r\n" if flag else b"#f\r\n", flag, ord(kind))
    if kind == ",":
        text = rng.choice(["1.5", "-0.25e-3", "inf", "-inf", "nan", "42", "3.25E+7", "0"])
        return Value(line(k, text.encode()), float(text), ord(kind))
    if kind == "(":
        digits = str(rng.randrange(10 ** 40)).encode()
        return Value(line(k, digits), digits, ord(kind))
    if kind == "*" and rng.random() < 0.1:
        return Value(b"*-1\r\n", None, ord(kind))
    count = rng.randrange(0, 5)
    head = line(k, str(count).encode())
    if kind == "%":
        keys, body, mapping = set(), b"", {}
        for _ in range(count):
            key = bytes(rng.randrange(0x61, 0x7B) for _ in range(6))
            if key in keys:
                continue
            keys.add(key)
            value = random_value(rng, depth + 1)
            body += line(b"+", key) + value.octets
            mapping[key] = value.expected
        return Value(line(k, str(len(keys)).encode()) + body, mapping, ord(kind))
    elements = [random_value(rng, depth + 1) for _ in range(count)]
    return Value(head + b"".join(e.octets for e in elements), [e.expected for e in elements], ord(kind))


def normalised(value):
    """hiredis' reply in the shape of `Value.expected` (errors as ("error", text))."""
    if isinstance(value, hiredis.ReplyError):
        return ("error", str(value).encode("latin-1", "surrogateescape"))
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    return value


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) == type(b) and a == b


NOT_ENOUGH = object()


def hiredis_reader():
    # Simple errors come back as values, not exceptions; "no whole reply yet" is told apart from
    # RESP3's false.
    return hiredis.Reader(replyError=hiredis.ReplyError, notEnoughData=NOT_ENOUGH)


def read_all(reader):
    values = []
    while True:
        value = reader.gets()
        if value is NOT_ENOUGH:
            return values
        values.append(value)


def hiredis_agreement(count=10_000, seed=None):
    seed = seed if seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    values = [random_value(rng) for _ in range(count)]
    stream = b"".join(v.octets for v in values)
    with tempfile.TemporaryDirectory() as scratch:
        path_in, path_out = os.path.join(scratch, "in.bin"), os.path.join(scratch, "out.txt")
        with open(path_in, "wb") as out:
            out.write(stream)
        subprocess.run([FRAMES, "resp-delimit", str(seed), path_in, path_out], check=True, stdout=subprocess.DEVNULL)
        ours = open(path_out).read().split("\n")[:-1]
    expected = [f"business {v.type_octet} {len(v.octets)}" for v in values]
    check(ours == expected, f"our decoder delimits {count} random RESP values as generated (seed {seed}, {len(stream)} octets)")
    # hiredis, on the whole stream in random chunks.
    for chunking in range(3):
        reader, index, replies = hiredis_reader(), 0, []
        while index < len(stream):
            size = rng.choice([1, 2, 3, 7, 64, 1000, 70000])
            reader.feed(stream[index:index + size])
            index += size
            replies += read_all(reader)
        agree = len(replies) == count and all(same(normalised(r), v.expected) for r, v in zip(replies, values))
        check(agree, f"hiredis reads the same {count} values from the stream in random chunks (chunking {chunking + 1}, {len(replies)} values)")
    # hiredis, on each value as we delimited it: exactly one value, nothing left over.
    offset, mismatches = 0, 0
    for line_text, value in zip(ours, values):
        length = int(line_text.split()[2])
        reader = hiredis_reader()
        reader.feed(stream[offset:offset + length])
        replies = read_all(reader)
        if len(replies) != 1 or not same(normalised(replies[0]), value.expected) or reader.has_data():
            mismatches += 1
        offset += length
    check(mismatches == 0 and offset == len(stream), f"hiredis reads exactly one whole value from each of our {count} delimited values")


def hiredis_known_differences():
    reader = hiredis_reader()
    reader.feed(b"!3\r\nerr\r\n")
    try:
        reader.gets()
        refused = False
    except hiredis.ProtocolError:
        refused = True
    check(refused, "known difference: hiredis 3.5.0 refuses the RESP3 bulk error `!` (we delimit it: spec/resp.md §6)")
    reader = hiredis_reader()
    reader.feed(b"|1\r\n+a\r\n+b\r\n:5\r\n")
    check(len(read_all(reader)) == 2, "known difference: hiredis 3.5.0 reads an attribute as a value of its own (we: part of the value it annotates)")


def hb_decode(data, role="client"):
    result = subprocess.run([HB, "decode", "--dialect", "resp", "--format", "jsonl", "--role", role],
                            input=data, capture_output=True, check=False)
    return result.stdout.decode().splitlines()


# ---------------------------------------------------------------- redis-server
def redis_roundtrip(port, command_octets, values=1):
    """Sends HELLO 3 and then `command_octets`; the reply octets holding `values` whole values."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        def read(count):
            data = b""
            while True:
                items = hb_decode(data)
                if len(items) == count and not any('"error"' in i for i in items):
                    return data, items
                data += conn.recv(65536)
        conn.sendall(command(b"HELLO", b"3"))
        read(1)
        conn.sendall(command_octets)
        return read(values)


def command(*words):
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)


def against_redis_server():
    port = free_port()
    scratch = tempfile.mkdtemp()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
                               "--dir", scratch, "--enable-debug-command", "yes"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        check(server.poll() is None, f"redis-server is listening on 127.0.0.1:{port}")
        for target in (f"127.0.0.1:{port}", f"127.0.0.1:{port}/echo"):
            probe = subprocess.run([HB, "probe", "--dialect", "resp", target, "--count", "5", "--interval", "0.2"],
                                   capture_output=True, text=True, timeout=30)
            print("\n".join("     " + l for l in probe.stdout.splitlines()))
            replies = [l for l in probe.stdout.splitlines() if "time=" in l]
            check(probe.returncode == 0 and len(replies) == 5, f"hb probe --dialect resp {target}: 5 replies with RTTs")
        # Every RESP3 type redis writes, read by our client-role decoder as one value.
        for kind, type_octet in [("string", 36), ("integer", 58), ("double", 44), ("bignum", 40), ("null", 95), ("array", 42),
                                 ("set", 126), ("map", 37), ("attrib", 36), ("push", 62), ("verbatim", 61), ("true", 35),
                                 ("false", 35)]:
            reply, items = redis_roundtrip(port, command(b"DEBUG", b"PROTOCOL", kind.encode()), 2 if kind == "push" else 1)
            expected = f'{{"item":"business","type":{type_octet},"length":{len(reply)}}}'
            if kind == "push":
                # The push comes first, then DEBUG's own reply: two values.
                ok = len(items) == 2 and f'"type":{type_octet}' in items[0]
            else:
                ok = items == [expected]
            check(ok, f"redis-server's RESP3 {kind} reply ({len(reply)} octets) is one value of type {type_octet}: {items}")
        # A pipelined burst: SET, PING, GET, PING ECHO: replies in order, pongs recognised.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(command(b"SET", b"k", b"v") + command(b"PING") + command(b"GET", b"k") + b"PING\r\n")
            data = b""
            while data.count(b"\r\n") < 5:
                data += conn.recv(65536)
        check(hb_decode(data) == ['{"item":"business","type":43,"length":5}', '{"item":"pong"}',
                                  '{"item":"business","type":36,"length":7}', '{"item":"pong"}'],
              f"pipelined replies from redis-server decode in order: {hb_decode(data)}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(scratch, ignore_errors=True)


def redis_cli_against_hb_serve():
    port = free_port()
    serve = subprocess.Popen([HB, "serve", "--dialect", "resp", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.5)
        cases = [(["PING"], "PONG"), (["PING", "hello there"], "hello there"), (["GET", "x"], "ERR unknown command")]
        for words, expected in cases:
            result = subprocess.run(["redis-cli", "-p", str(port), *words], capture_output=True, text=True, timeout=10)
            check(result.stdout.strip() == expected, f"redis-cli {' '.join(words)} against hb serve --dialect resp: {result.stdout.strip()!r}")
    finally:
        serve.terminate()
        serve.wait(timeout=10)


# ---------------------------------------------------------------- text lines
async def line_server(port, served):
    async def handle(reader, writer):
        served["connections"] += 1
        while line_bytes := await reader.readline():
            content = line_bytes.rstrip(b"\r\n")
            if content == b"PING":
                writer.write(b"PONG\r\n")
                served["pings"] += 1
            elif content != b"PONG":
                writer.write(content + b"\n")
            await writer.drain()
        writer.close()
    return await asyncio.start_server(handle, "127.0.0.1", port)


async def lines_probe():
    port, served = free_port(), {"connections": 0, "pings": 0}
    server = await line_server(port, served)
    async with server:
        probe = await asyncio.create_subprocess_exec(HB, "probe", "--dialect", "lines", f"127.0.0.1:{port}", "--count", "5",
                                                     "--interval", "0.2", stdout=asyncio.subprocess.PIPE)
        output, _ = await probe.communicate()
    text = output.decode()
    print("\n".join("     " + l for l in text.splitlines()))
    check(probe.returncode == 0 and text.count("time=") == 5 and served["pings"] == 5,
          f"hb probe --dialect lines against a Python asyncio line server: 5 replies ({served['pings']} PINGs served)")


async def lines_client_against_hb_serve():
    port = free_port()
    serve = await asyncio.create_subprocess_exec(HB, "serve", "--dialect", "lines", "--port", str(port), "--interval", "0.3",
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await asyncio.sleep(0.5)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pongs, echoes, pings_answered = 0, 0, 0
        writer.write(b"PING\r\nhello lines\n")
        deadline = asyncio.get_running_loop().time() + 2
        while asyncio.get_running_loop().time() < deadline:
            try:
                line_bytes = await asyncio.wait_for(reader.readline(), 0.2)
            except asyncio.TimeoutError:
                continue
            content = line_bytes.rstrip(b"\r\n")
            if content == b"PONG":
                pongs += 1
            elif content == b"PING":
                writer.write(b"PONG\n")
                pings_answered += 1
            elif content == b"hello lines":
                echoes += 1
        writer.close()
        check(pongs == 1 and echoes == 1 and pings_answered >= 3,
              f"a Python line client against hb serve --dialect lines: PONG {pongs}, echo {echoes}, its PINGs answered {pings_answered}")
    finally:
        serve.terminate()
        output, _ = await serve.communicate()
    log = output.decode()
    check("rtt" in log and "peer dead" not in log, "hb serve --dialect lines took RTT samples from the client's PONGs and kept it alive")


hiredis_agreement()
hiredis_known_differences()
against_redis_server()
redis_cli_against_hb_serve()
asyncio.run(lines_probe())
asyncio.run(lines_client_against_hb_serve())
print(f"\n{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
