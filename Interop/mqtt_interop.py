#!/usr/bin/env python3
"""MQTT 3.1.1 / 5.0 interop checks for swift-heartbeat's `--dialect mqtt` (spec/mqtt.md).

Real peers (run.sh installs them; a missing one is a failure, never a skip):
  mosquitto (Debian package; /usr/sbin/mosquitto)    python3 -m pip install paho-mqtt==2.2.0

Usage: mqtt_interop.py HB        HB is the path of the hb binary

Checks:
  1. mosquitto, started here on 127.0.0.1 on a free port with a minimal configuration, answers
     `hb probe --dialect mqtt 127.0.0.1:PORT` and `mqtt5://127.0.0.1:PORT` (CONNECT, CONNACK,
     PINGREQ/PINGRESP; exit 0, a "time=" line per reply). The output is printed.
  2. A paho-mqtt client (3.1.1 and 5.0) keeps a session with a 2 s Keep Alive alive against
     `hb serve --dialect mqtt` for 10.5 s: paho sees no disconnect, hb serve answered >= 4
     PINGREQs; a QoS 0 PUBLISH comes back (serve's echo); a raw client silent after CONNECT with
     Keep Alive 1 is declared dead by hb serve (1.5 x Keep Alive, MQTT 3.1.2.10) and disconnected.
  3. Delimiting agrees with paho's own codec: every packet a paho client writes (CONNECT,
     SUBSCRIBE, PUBLISH QoS 0-2 with payloads across the Remaining Length's octet boundaries,
     UNSUBSCRIBE, PINGREQ, DISCONNECT), captured by a fake broker, is split by paho's
     VariableByteIntegers.decode and by `hb decode --dialect mqtt --role server --format jsonl`,
     item for item; likewise 10^4 random packets whose Remaining Lengths paho encoded.
Exit status: 0 when every check passed, 1 otherwise.
"""
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

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.properties import VariableByteIntegers

from interop_support import check, failures, free_port, wait_for_port

PINNED = {"paho-mqtt": "2.2.0"}
HB = sys.argv[1] if len(sys.argv) > 1 else None






# --- 1. mosquitto answers hb probe ---------------------------------------------------------------
def mosquitto_probe():
    binary = "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    check("mosquitto is installed", binary is not None)
    if not binary:
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        config = os.path.join(directory, "mosquitto.conf")
        with open(config, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        server = subprocess.Popen([binary, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            check("mosquitto listens", wait_for_port(port))
            for target in (f"127.0.0.1:{port}", f"mqtt5://127.0.0.1:{port}"):
                result = subprocess.run([HB, "probe", "--dialect", "mqtt", target, "--count", "5", "--interval", "0.2"],
                                        capture_output=True, text=True, timeout=60)
                output = result.stdout + result.stderr
                print(output.rstrip())
                check(f"hb probe --dialect mqtt {target} gets 5 PINGRESPs from mosquitto",
                      result.returncode == 0 and output.count("time=") == 5, output)
        finally:
            server.terminate()
            server.wait()


# --- 2. paho keeps a session alive against hb serve ----------------------------------------------
class Serve:
    """`hb serve --dialect mqtt` on a free port, its output collected."""

    def __init__(self):
        self.process = subprocess.Popen([HB, "serve", "--dialect", "mqtt", "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.process.stdout:
                self.lines.append(line.rstrip())
                match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
                if match:
                    self.port = int(match.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(30)

    def wait_for(self, pattern, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.lines:
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        return None

    def stop(self):
        self.process.terminate()
        self.process.wait()


def paho_session(serve, protocol, name, connection):
    disconnects, connacks = [], []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"paho-{name}", protocol=protocol)
    client.on_connect = lambda c, u, flags, reason, properties: connacks.append(reason)
    client.on_disconnect = lambda c, u, flags, reason, properties: disconnects.append(reason)
    client.connect("127.0.0.1", serve.port, keepalive=2)
    client.loop_start()
    time.sleep(10.5)
    check(f"paho {name}: CONNACK accepted", len(connacks) == 1 and not connacks[0].is_failure, str(connacks))
    check(f"paho {name}: no disconnect in 10.5 s with a 2 s Keep Alive", disconnects == [], str(disconnects))
    client.disconnect()
    client.loop_stop()
    line = serve.wait_for(rf"conn {connection}: closed .*pings received \d+")
    pings = int(re.search(r"pings received (\d+)", line).group(1)) if line else 0
    check(f"paho {name}: hb serve answered >= 4 PINGREQs ({pings})", pings >= 4, "\n".join(serve.lines))
    check(f"paho {name}: hb serve read the DISCONNECT", serve.wait_for(rf"conn {connection}: peer sent GOAWAY code 0") is not None)


def paho_echo(serve):
    received = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-echo", protocol=mqtt.MQTTv311)
    client.on_message = lambda c, u, message: received.append((message.topic, message.payload))
    client.connect("127.0.0.1", serve.port, keepalive=30)
    client.loop_start()
    client.publish("hb/echo", b"x" * 300, qos=0).wait_for_publish(5)
    deadline = time.time() + 5
    while not received and time.time() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    check("hb serve echoes a QoS 0 PUBLISH to paho", received == [("hb/echo", b"x" * 300)], str(received))


def silent_client(serve):
    with socket.create_connection(("127.0.0.1", serve.port), timeout=10) as sock:
        # CONNECT, MQTT 3.1.1, clean session, Keep Alive 1 s, client id "silent".
        body = b"\x00\x04MQTT\x04\x02\x00\x01" + b"\x00\x06silent"
        sock.sendall(bytes([0x10, len(body)]) + body)
        connack = sock.recv(4)
        check("hb serve answers CONNECT with CONNACK 20 02 00 00", connack == b"\x20\x02\x00\x00", connack.hex())
        start = time.time()
        rest = b""
        try:
            while True:
                chunk = sock.recv(64)
                if not chunk:
                    break
                rest += chunk
        except socket.timeout:
            pass
        elapsed = time.time() - start
    check(f"hb serve closes a client silent for 1.5 x its Keep Alive of 1 s (closed after {elapsed:.2f} s, sent {rest.hex() or 'nothing'})",
          1.0 <= elapsed < 5 and rest == b"", f"{elapsed:.2f} s")
    check("hb serve logs the silent client dead", serve.wait_for(r"peer dead") is not None, "\n".join(serve.lines))


def serve_checks():
    serve = Serve()
    check("hb serve --dialect mqtt listens", serve.port is not None, "\n".join(serve.lines))
    if serve.port is None:
        serve.stop()
        return
    try:
        paho_session(serve, mqtt.MQTTv311, "3.1.1", 1)
        paho_session(serve, mqtt.MQTTv5, "5.0", 2)
        paho_echo(serve)
        silent_client(serve)
    finally:
        serve.stop()


# --- 3. delimiting agrees with paho's codec ------------------------------------------------------
def paho_split(stream):
    """(type, flags, remaining length) of each packet, split with paho's Variable Byte Integer decoder."""
    packets, offset = [], 0
    while offset < len(stream):
        first = stream[offset]
        length, width = VariableByteIntegers.decode(stream[offset + 1:offset + 5])
        packets.append((first >> 4, first & 0x0F, length))
        offset += 1 + width + length
    return packets


def hb_decode(stream, role=None):
    arguments = [HB, "decode", "--dialect", "mqtt", "--format", "jsonl", "--max-frame-size", "268435455"]
    if role:
        arguments += ["--role", role]
    result = subprocess.run(arguments, input=stream, capture_output=True, timeout=120)
    return result.returncode, [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]


def expected_items(packets):
    items = []
    for packet_type, _, length in packets:
        if packet_type == 12:
            items.append({"item": "ping"})
        elif packet_type == 13:
            items.append({"item": "pong"})
        else:
            items.append({"item": "business", "type": packet_type, "length": length})
    return items


def capture_paho(protocol):
    """Everything a paho client writes through a session, read by a fake broker that accepts it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    captured = bytearray()

    def broker():
        connection, _ = listener.accept()
        connection.settimeout(20)
        connack = b"\x20\x03\x00\x00\x00" if protocol == mqtt.MQTTv5 else b"\x20\x02\x00\x00"
        sent_connack = False
        offset = 0  # of the first packet not yet answered
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                captured.extend(chunk)
                if not sent_connack:
                    connection.sendall(connack)
                    sent_connack = True
                # Answer each whole PINGREQ with a PINGRESP, so that paho keeps the session.
                while offset + 2 <= len(captured):
                    try:
                        length, width = VariableByteIntegers.decode(bytes(captured[offset + 1:offset + 5]))
                    except Exception:
                        break
                    if offset + 1 + width + length > len(captured):
                        break
                    if captured[offset] == 0xC0:
                        connection.sendall(b"\xd0\x00")
                    offset += 1 + width + length
        except socket.timeout:
            pass
        connection.close()

    thread = threading.Thread(target=broker)
    thread.start()
    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-capture", protocol=protocol)
    client.on_connect = lambda *args: connected.set()
    client.connect("127.0.0.1", port, keepalive=1)
    client.loop_start()
    connected.wait(10)
    client.subscribe([("a/#", 1), ("b/+", 2)])
    for size in (0, 1, 100, 117, 118, 16_370, 16_371, 16_380, 70_000, 2_097_140, 2_097_160):
        for qos in (0, 1, 2):
            client.publish("t", b"\xab" * size, qos=qos, retain=size == 1)
    client.unsubscribe("a/#")
    time.sleep(2.5)  # Keep Alive 1 s: PINGREQs go out
    client.disconnect()
    client.loop_stop()
    thread.join()
    listener.close()
    return bytes(captured)


def delimiting_checks():
    for protocol, name in ((mqtt.MQTTv311, "3.1.1"), (mqtt.MQTTv5, "5.0")):
        stream = capture_paho(protocol)
        packets = paho_split(stream)
        status, items = hb_decode(stream, role="server")
        types = sorted({packet[0] for packet in packets})
        check(f"hb decode delimits paho {name}'s {len(packets)} packets ({len(stream)} octets, types {types}) as paho does",
              status == 0 and items == expected_items(packets) and 12 in types and 14 in types,
              f"status {status}, first difference at {next((i for i, (a, b) in enumerate(zip(items, expected_items(packets))) if a != b), None)}")

    rng = random.Random(9)
    stream = bytearray()
    for _ in range(10_000):
        packet_type = rng.randint(1, 15)
        if packet_type in (12, 13):
            stream += bytes([packet_type << 4, 0])
            continue
        flags = {3: rng.choice([0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]), 6: 2, 8: 2, 10: 2}.get(packet_type, 0)
        length = rng.choice([0, 1, 2, 126, 127, 128, 129, 200, 1000, 16_383, 16_384, 16_385, rng.randint(0, 600)])
        stream += bytes([packet_type << 4 | flags]) + VariableByteIntegers.encode(length) + bytes(rng.getrandbits(8) for _ in range(length))
    for length in (2_097_151, 2_097_152):
        stream += b"\x30" + VariableByteIntegers.encode(length) + bytes(length)
    packets = paho_split(bytes(stream))
    status, items = hb_decode(bytes(stream))
    check(f"hb decode delimits 10^4 random packets whose Remaining Lengths paho encoded ({len(stream)} octets) as paho does",
          status == 0 and items == expected_items(packets), f"status {status}")


def main():
    if HB is None:
        print(__doc__)
        return 2
    check(f"paho-mqtt is the pinned {PINNED['paho-mqtt']}", paho.mqtt.__version__ == PINNED["paho-mqtt"], paho.mqtt.__version__)
    mosquitto_probe()
    serve_checks()
    delimiting_checks()
    print(f"{len(failures)} MQTT check(s) failed: {failures}" if failures else "all MQTT checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
