#!/usr/bin/env python3
"""AMQP 0-9-1 interop checks for swift-heartbeat's `--dialect amqp` (spec/amqp.md).

Pinned reference (run.sh installs it): python3 -m pip install pamqp==4.0.1
Real peer: rabbitmq-server (Debian), started here on 127.0.0.1 on free ports, as root.

Usage:
  amqp_interop.py HB INTEROP_FRAMES          every check
  amqp_interop.py --codec HB INTEROP_FRAMES  the pamqp checks only (no rabbitmq-server)

Checks:
  rabbitmq   rabbitmq-server starts on a free port (its own node name, data and log directories
             under a temporary directory, its own distribution and epmd ports); `hb probe --dialect
             amqp 127.0.0.1:PORT --interval 1 --count 6` must exit 0 reporting the peer alive, and
             `rabbitmqctl list_connections` must show the connection with a 1-second heartbeat
             while it runs. The server, its epmd and the directory are removed at the end, even on
             failure.
  forward    pamqp.frame.unmarshal reads 10^4 frames our encoder wrote (`interop-frames amqp`:
             heartbeats, Connection methods, Channel/Basic/Queue methods, content headers, bodies)
             and must find in each what the encoder says it put there.
  reverse    pamqp.frame.marshal writes 10^4 random frames (Connection methods with random field
             tables, other methods, content headers, bodies, heartbeats); `hb decode --dialect amqp
             --format jsonl` must print one item per frame (heartbeat {"item":"ping"}, else
             {"item":"business","type":T,"length":N}) and `interop-frames amqp-read` must read each
             frame's channel, length, body octets and Connection method arguments as pamqp wrote them.
Exit status: 0 when every check passed, 1 otherwise. A missing peer is a failure, never a skip.
"""
import datetime
import decimal
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pamqp
from pamqp import body, commands, frame, header, heartbeat

PINNED = {"pamqp": "4.0.1"}
COUNT = 10_000
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL " + message)
    return condition


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- rabbitmq-server

class RabbitMQ:
    """rabbitmq-server on 127.0.0.1:port, everything it writes under one temporary directory."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="hb-rabbitmq-")
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.node = f"hbinterop{self.port}@localhost"
        self.server = self.epmd = None
        self.env = dict(os.environ, RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_NODE_PORT=str(self.port),
                        RABBITMQ_NODENAME=self.node, RABBITMQ_MNESIA_BASE=self.base, RABBITMQ_LOG_BASE=self.base,
                        RABBITMQ_DIST_PORT=str(self.dist_port), RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.base, "plugins"),
                        ERL_EPMD_PORT=str(self.epmd_port))

    def start(self, timeout=90):
        server_path = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
        if not os.path.exists(server_path):
            raise RuntimeError("rabbitmq-server is not installed")
        with open(os.path.join(self.base, "plugins"), "w") as plugins:
            plugins.write("[].\n")
        # The Debian server runs as the rabbitmq user even when started by root.
        rabbitmq = pwd.getpwnam("rabbitmq")
        for path in (self.base, os.path.join(self.base, "plugins")):
            os.chown(path, rabbitmq.pw_uid, rabbitmq.pw_gid)
        # Our own epmd on its own port, so that nothing of the server's outlives this script.
        self.epmd = subprocess.Popen([shutil.which("epmd") or "/usr/bin/epmd", "-port", str(self.epmd_port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log = open(os.path.join(self.base, "server.out"), "w")
        started = time.monotonic()
        self.server = subprocess.Popen([server_path], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.server.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self.server.returncode}:\n{self.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    # An AMQP answer proves the listener is RabbitMQ's and ready.
                    connection.sendall(b"AMQP\x00\x00\x09\x01")
                    connection.settimeout(5)
                    if connection.recv(1) == b"\x01":
                        print(f"ok rabbitmq-server accepting AMQP on 127.0.0.1:{self.port} after {time.monotonic() - started:.1f} s")
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"rabbitmq-server did not accept connections in {timeout} s:\n{self.tail()}")

    def tail(self):
        try:
            with open(os.path.join(self.base, "server.out")) as out:
                return "".join(out.readlines()[-20:])
        except OSError:
            return ""

    def ctl(self, *arguments, timeout=30):
        return subprocess.run(["rabbitmqctl", "-n", self.node, *arguments], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def stop(self):
        if self.server is not None and self.server.poll() is None:
            try:
                self.ctl("stop", timeout=30)
            except (OSError, subprocess.SubprocessError):
                pass
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            if self.server.poll() is None:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(self.server.pid, sig)
                        self.server.wait(timeout=10)
                        break
                    except (ProcessLookupError, subprocess.TimeoutExpired):
                        pass
        if self.epmd is not None and self.epmd.poll() is None:
            self.epmd.terminate()
            self.epmd.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def rabbitmq_checks(hb):
    server = RabbitMQ()
    try:
        server.start()
        probe = subprocess.Popen([hb, "probe", "--dialect", "amqp", f"127.0.0.1:{server.port}", "--interval", "1", "--count", "6"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        listed = server.ctl("list_connections", "user", "timeout", "state", "--quiet", "--no-table-headers")
        output, _ = probe.communicate(timeout=60)
        print("--- hb probe --dialect amqp 127.0.0.1:PORT --interval 1 --count 6 (rabbitmq-server)")
        print(output.rstrip())
        print("--- rabbitmqctl list_connections user timeout state (during the probe)")
        print(listed.stdout.rstrip())
        check(probe.returncode == 0, f"hb probe against rabbitmq-server exited {probe.returncode}")
        check("6 beats sent" in output and "peer alive" in output and "peer dead" not in output,
              "hb probe did not report 6 beats and the peer alive")
        check(listed.returncode == 0 and any(line.split() == ["guest", "1", "running"] for line in listed.stdout.splitlines()),
              f"rabbitmqctl shows no running guest connection with a 1 s heartbeat: {listed.stdout!r} {listed.stderr!r}")
    except Exception as error:  # noqa: BLE001 - any failure to run the peer is a failure
        check(False, f"rabbitmq-server check: {error}")
    finally:
        server.stop()


# ---------------------------------------------------------------- forward: pamqp reads our frames

def forward(interop_frames, directory, seed):
    frames_path, expected_path = os.path.join(directory, "ours.bin"), os.path.join(directory, "ours.json")
    subprocess.run([interop_frames, "amqp", str(COUNT), str(seed), frames_path, expected_path], check=True, stdout=subprocess.DEVNULL)
    data = open(frames_path, "rb").read()
    expected = json.load(open(expected_path))
    position, bad = 0, 0
    for index, want in enumerate(expected):
        try:
            consumed, channel, value = frame.unmarshal(data[position:])
        except Exception as error:  # noqa: BLE001
            check(False, f"forward frame {index} at {position}: pamqp cannot read it: {error}")
            return
        position += consumed
        problem = compare_forward(want, channel, value)
        if problem:
            bad += 1
            if bad <= 10:
                check(False, f"forward frame {index}: {problem}: want {want}")
    check(position == len(data), f"forward: {len(data) - position} octets left after {len(expected)} frames")
    check(bad == 0, f"forward: {bad} of {len(expected)} frames differ")
    if bad == 0:
        print(f"ok pamqp {PINNED['pamqp']} read the {len(expected)} frames our encoder wrote (seed {seed})")


def compare_forward(want, channel, value):
    if channel != want["channel"]:
        return f"channel {channel}"
    kind = want["frame"]
    if kind == "heartbeat":
        return None if isinstance(value, heartbeat.Heartbeat) else f"not a heartbeat: {value!r}"
    if kind == "body":
        return None if isinstance(value, body.ContentBody) and value.value == bytes.fromhex(want["data"]) else "body differs"
    if kind == "header":
        if not isinstance(value, header.ContentHeader):
            return f"not a content header: {value!r}"
        got = (value.body_size, value.properties.content_type, value.properties.delivery_mode)
        return None if got == (want["body_size"], want["content_type"], want["delivery_mode"]) else f"header {got}"
    if getattr(value, "name", None) != want["name"]:
        return f"method {getattr(value, 'name', value)!r}"
    for field, expected in want["fields"].items():
        got = value.server_properties.get("product") if field == "product" else getattr(value, field)
        if got != expected:
            return f"{field} = {got!r}"
    return None


# ---------------------------------------------------------------- reverse: we read pamqp's frames

def random_table(rng, depth=0):
    table = {}
    for index in range(rng.randrange(0, 6)):
        kind = rng.randrange(9 if depth < 3 else 7)
        value = [rng.choice(["x", "hello", ""]), rng.randrange(-200, 200), rng.randrange(-2**62, 2**62), rng.random() < 0.5,
                 rng.uniform(-1e6, 1e6), decimal.Decimal(rng.randrange(-10**6, 10**6)).scaleb(-rng.randrange(0, 5)),
                 datetime.datetime(2000 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)), None, None][kind]
        if kind == 7:
            value = random_table(rng, depth + 1)
        elif kind == 8:
            value = [rng.randrange(100), "a", True]
        table[f"k{index}"] = value
    return table


def name(rng, length=20):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_.:") for _ in range(rng.randrange(length + 1)))


def random_frame(rng):
    """(pamqp value, channel, the Connection fields our reader must find or None)."""
    channel = rng.randrange(1, 65536)
    kind = rng.randrange(12)
    if kind == 0:
        return heartbeat.Heartbeat(), 0, None
    if kind <= 8:
        which = rng.randrange(8)
        if which == 0:
            product = name(rng)
            properties = dict(random_table(rng), product=product)
            return (commands.Connection.Start(server_properties=properties, mechanisms="AMQPLAIN PLAIN", locales="en_US"), 0,
                    ("Connection.Start", {"version_major": 0, "version_minor": 9, "product": product,
                                          "mechanisms": "AMQPLAIN PLAIN", "locales": "en_US"}))
        if which == 1:
            response = "\0" + name(rng) + "\0" + name(rng)
            return (commands.Connection.StartOk(client_properties=random_table(rng), mechanism="PLAIN", response=response), 0,
                    ("Connection.StartOk", {"mechanism": "PLAIN", "response": response, "locale": "en_US"}))
        if which in (2, 3):
            values = {"channel_max": rng.randrange(65536), "frame_max": rng.randrange(2**32), "heartbeat": rng.randrange(65536)}
            method = commands.Connection.Tune if which == 2 else commands.Connection.TuneOk
            return method(**values), 0, (method().name, values)
        if which == 4:
            host = "/" + name(rng)
            return commands.Connection.Open(virtual_host=host), 0, ("Connection.Open", {"virtual_host": host})
        if which == 5:
            return commands.Connection.OpenOk(), 0, ("Connection.OpenOk", {})
        if which == 6:
            values = {"reply_code": rng.choice([200, 320, 501, 541]), "reply_text": name(rng, 200),
                      "class_id": rng.randrange(100), "method_id": rng.randrange(100)}
            return commands.Connection.Close(**values), 0, ("Connection.Close", values)
        return commands.Connection.CloseOk(), 0, ("Connection.CloseOk", {})
    if kind == 9:
        method = rng.choice([commands.Channel.Open(), commands.Basic.Ack(delivery_tag=rng.randrange(2**63), multiple=True),
                             commands.Basic.Publish(exchange=name(rng), routing_key=name(rng), mandatory=rng.random() < 0.5),
                             commands.Queue.Declare(queue=name(rng), durable=True, arguments=random_table(rng))])
        return method, channel, None
    if kind == 10:
        properties = commands.Basic.Properties(content_type=rng.choice([None, "text/plain"]), delivery_mode=rng.choice([None, 1, 2]),
                                               headers=rng.choice([None, random_table(rng)]), priority=rng.choice([None, 5]))
        return header.ContentHeader(0, rng.randrange(2**53), properties), channel, None
    return body.ContentBody(bytes(rng.randrange(256) for _ in range(rng.randrange(300)))), channel, None


def reverse(hb, interop_frames, directory, seed):
    rng = random.Random(seed)
    chunks, hb_items, ours = [], [], []
    for _ in range(COUNT):
        value, channel, connection = random_frame(rng)
        octets = frame.marshal(value, channel)
        chunks.append(octets)
        size = len(octets) - 8
        if isinstance(value, heartbeat.Heartbeat):
            hb_items.append({"item": "ping"})
            ours.append({"frame": "heartbeat", "channel": 0})
            continue
        ftype = octets[0]
        hb_items.append({"item": "business", "type": ftype, "length": size})
        want = {"frame": {1: "method", 2: "header", 3: "body"}[ftype], "channel": channel, "length": size}
        if ftype == 1:
            want["class"], want["method"] = int.from_bytes(octets[7:9], "big"), int.from_bytes(octets[9:11], "big")
        if ftype == 3:
            want["data"] = value.value.hex()
        if connection:
            want["name"], want["fields"] = connection
        ours.append(want)
    path = os.path.join(directory, "pamqp.bin")
    with open(path, "wb") as out:
        out.write(b"".join(chunks))
    decoded = subprocess.run([hb, "decode", "--dialect", "amqp", "--format", "jsonl", path], capture_output=True, text=True)
    lines = [json.loads(line) for line in decoded.stdout.splitlines()]
    check(decoded.returncode == 0, f"reverse: hb decode exited {decoded.returncode}: {decoded.stdout[-300:]}")
    mismatches = [index for index, (got, want) in enumerate(zip(lines, hb_items)) if got != want]
    check(len(lines) == len(hb_items) and not mismatches,
          f"reverse: hb decode differs on {len(mismatches)} frames (first {mismatches[:1]}), {len(lines)} lines for {len(hb_items)} frames")
    read = subprocess.run([interop_frames, "amqp-read", path], capture_output=True, text=True)
    got_frames = [json.loads(line) for line in read.stdout.splitlines()]
    differing = [index for index, (got, want) in enumerate(zip(got_frames, ours)) if got != want]
    for index in differing[:5]:
        check(False, f"reverse frame {index}: read {got_frames[index]}, pamqp wrote {ours[index]}")
    check(len(got_frames) == len(ours) and not differing,
          f"reverse: our reader differs on {len(differing)} frames; {len(got_frames)} read of {len(ours)}")
    if not mismatches and not differing and len(lines) == len(got_frames) == COUNT:
        print(f"ok hb decode and our reader read the {COUNT} frames pamqp wrote (seed {seed})")


def main(arguments):
    codec_only = arguments[:1] == ["--codec"]
    if codec_only:
        arguments = arguments[1:]
    if len(arguments) != 2:
        print(__doc__)
        return 2
    hb, interop_frames = arguments
    # A terminated run still stops rabbitmq-server (the `finally` in rabbitmq_checks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    for package, version in PINNED.items():
        installed = __import__("importlib.metadata").metadata.version(package)
        check(installed == version, f"{package} {installed} installed; {version} pinned")
    seed = int(os.environ.get("AMQP_INTEROP_SEED", random.randrange(2**32)))
    with tempfile.TemporaryDirectory() as directory:
        forward(interop_frames, directory, seed)
        reverse(hb, interop_frames, directory, seed)
    if not codec_only:
        rabbitmq_checks(hb)
    print(f"amqp interop: {'FAILED' if failures else 'passed'} ({len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
