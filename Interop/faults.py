#!/usr/bin/env python3
"""Fault tests on a real network path (issue 12 item 4); run by Interop/faults.sh as root.

  faults.py BIN_DIR RUN_ID [blackhole] [chaos] [restart]   (all three when none is named)

Two network namespaces, RUN_ID-s (server, 10.199.0.1/30) and RUN_ID-c (client, 10.199.0.2/30),
joined by a veth pair created inside them; `hb serve` runs in the server namespace and
`fault-client` in the client's. Everything is removed at the end, also when a check fails or on
SIGTERM/SIGINT (processes killed, namespaces deleted, which takes their veth and iptables rules).

- black hole: once a connection has 3 RTT samples, iptables DROPs everything both ways on the
  client's veth; the client (fixed ack timeout, first missed pong is fatal) must declare the peer
  dead within pingInterval + ackTimeout + one tick. 20 runs; median and worst.
- chaos: chaos-proxy (in the server namespace, in front of hb serve) adds 25 ms ± 10 ms each way
  (50 ms ± 20 ms per round trip) and freezes the link for 1 s at seeded random times; the client
  uses φ-accrual for 5 minutes: no peer-dead verdict, and its smoothed RTT within 10 % of 50 ms
  over the base RTT, measured at the same time by a control client through a proxy adding nothing.
  2 MiB echoed through the proxy (with jitter and stalls) come back in order.
- restart: `hb serve --log-data` is SIGKILLed under a reconnecting client that writes numbered
  business frames every 50 ms (hold policy), and restarted 1 s later on the same port: the client
  sees the EOF at once, reconnects on the backoff schedule, and every write reaches a server
  exactly once, in order (writes made while down reach the restarted server).
"""
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

from interop_support import check, failures

BIN, RUN_ID = sys.argv[1], sys.argv[2]
SCENARIOS = sys.argv[3:] or ["blackhole", "chaos", "restart"]
SERVER_NS, CLIENT_NS = RUN_ID + "-s", RUN_ID + "-c"
SERVER_IP, CLIENT_IP = "10.199.0.1", "10.199.0.2"
CHAOS_SECONDS = float(os.environ.get("HEARTBEAT_CHAOS_SECONDS", "300"))
processes = []


def sh(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def setup():
    sh("ip", "netns", "add", SERVER_NS)
    sh("ip", "netns", "add", CLIENT_NS)
    # Created inside the namespaces: the veth names never appear in the host's namespace.
    sh("ip", "-n", CLIENT_NS, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", SERVER_NS)
    for ns, ip in ((SERVER_NS, SERVER_IP), (CLIENT_NS, CLIENT_IP)):
        sh("ip", "-n", ns, "addr", "add", ip + "/30", "dev", "veth0")
        sh("ip", "-n", ns, "link", "set", "veth0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


def teardown():
    for process in processes:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait()
    for ns in (SERVER_NS, CLIENT_NS):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


class Process:
    """A program in a namespace whose JSON lines are read as they come (stderr is passed through)."""

    def __init__(self, ns, *command):
        self.popen = subprocess.Popen(["ip", "netns", "exec", ns, *command], stdout=subprocess.PIPE, text=True)
        self.events, self.lines = [], queue.Queue()
        processes.append(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            self.lines.put(event)
        self.lines.put(None)

    def expect(self, predicate, timeout):
        """The next event matching `predicate` within `timeout` seconds, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if event is None:
                return None
            if predicate(event):
                return event
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        self.popen.wait(timeout=10)


def serve(port, *extra):
    server = Process(SERVER_NS, f"{BIN}/hb", "serve", "--dialect", "tcp", "--host", SERVER_IP, "--port", str(port),
                     "--format", "jsonl", *extra)
    check(f"hb serve listens on {SERVER_IP}:{port}", server.expect(lambda e: e["event"] == "listening", 20) is not None)
    return server


def client(port, *options):
    return Process(CLIENT_NS, f"{BIN}/fault-client", f"{SERVER_IP}:{port}", *options)


def event(name):
    return lambda e: e["event"] == name


def blackhole():
    """20 half-open connections: DROP both ways, time to the peer-dead verdict."""
    # One tick: the loop runs a due timer within 1 ms (epoll's resolution) plus its scheduling
    # delay, a few ms on a machine shared with builds; 10 ms covers both.
    interval, timeout, tick = 0.2, 0.2, 0.010
    bound = interval + timeout + tick
    phases = random.Random(12)
    server = serve(7001, "--interval", "1", "--timeout", "1")
    detections, latenesses = [], []
    for run in range(20):
        probe = client(7001, "--interval", str(interval), "--timeout", str(timeout), "--detector", "fixed", "--missed", "1")
        steady = all(probe.expect(event("rtt"), 5) for _ in range(3))
        if not check(f"black hole run {run + 1}: connection steady (3 RTT samples)", steady):
            probe.stop()
            continue
        # At a random phase of the ping schedule, not right after a pong.
        time.sleep(phases.uniform(0, interval))
        sh("ip", "netns", "exec", CLIENT_NS, "iptables", "-w", "-A", "INPUT", "-i", "veth0", "-j", "DROP")
        sh("ip", "netns", "exec", CLIENT_NS, "iptables", "-w", "-A", "OUTPUT", "-o", "veth0", "-j", "DROP")
        # Both rules in place: the path is black. CLOCK_MONOTONIC, the clock of the client's timestamps.
        dropped = time.monotonic()
        dead = probe.expect(event("peer_dead"), 5)
        sh("ip", "netns", "exec", CLIENT_NS, "iptables", "-w", "-F")
        probe.stop()
        if not check(f"black hole run {run + 1}: peer declared dead", dead is not None):
            continue
        # Half-open: the verdict came from the missed pong, the socket never saw an EOF or reset.
        check(f"black hole run {run + 1}: by the ack timeout, the socket still open ({dead['reason']})",
              "fixed ack timeout" in dead["reason"] and not any(e["event"] == "closed" and e["t"] <= dead["t"] for e in probe.events))
        detection = dead["t"] - dropped
        # The verdict's lateness after the deadline of the ping it judged: the tick.
        pings = [e for e in probe.events if e["event"] == "ping" and e["deadline"] <= dead["t"]]
        latenesses.append(dead["t"] - pings[-1]["deadline"])
        detections.append(detection)
        check(f"black hole run {run + 1}: detected in {detection * 1e3:.1f} ms <= {bound * 1e3:.0f} ms", detection <= bound)
    server.stop()
    if detections:
        print(f"black hole: {len(detections)} runs, detection median {statistics.median(detections) * 1e3:.1f} ms, "
              f"worst {max(detections) * 1e3:.1f} ms, best {min(detections) * 1e3:.1f} ms "
              f"(bound {bound * 1e3:.0f} ms = pingInterval {interval * 1e3:.0f} + ackTimeout {timeout * 1e3:.0f} "
              f"+ tick {tick * 1e3:.0f}); verdict after its deadline: median {statistics.median(latenesses) * 1e3:.2f} ms, "
              f"worst {max(latenesses) * 1e3:.2f} ms")
    check("black hole: 20 runs measured", len(detections) == 20)


# A plain echo server, and a client that streams a pattern through the proxy in chunks of random
# sizes and checks that the echo comes back byte for byte (the proxy keeps each direction's order).
ECHO_SERVER = """
import json, socket, sys, threading
listener = socket.create_server((sys.argv[1], int(sys.argv[2])))
print(json.dumps({"event": "listening"}), flush=True)
def echo(connection):
    while data := connection.recv(65536):
        connection.sendall(data)
    connection.close()
while True:
    threading.Thread(target=echo, args=(listener.accept()[0],), daemon=True).start()
"""
ORDER_CLIENT = """
import json, random, socket, sys, threading, time
chooser = random.Random(5)
pattern = bytes(chooser.randrange(256) for _ in range(1 << 21))
connection = socket.create_connection((sys.argv[1], int(sys.argv[2])))
def send():
    sent = 0
    while sent < len(pattern):
        size = chooser.choice([1, 7, 100, 1500, 20000])
        connection.sendall(pattern[sent:sent + size])
        sent += size
        time.sleep(0.0005)
threading.Thread(target=send, daemon=True).start()
received = bytearray()
while len(received) < len(pattern) and (data := connection.recv(65536)):
    received += data
print(json.dumps({"event": "order", "octets": len(received), "same": bytes(received) == pattern}), flush=True)
"""


def proxy_order():
    """2 MiB through chaos-proxy with jitter and stalls, echoed: the same octets in the same order."""
    echo = Process(SERVER_NS, sys.executable, "-c", ECHO_SERVER, SERVER_IP, "7005")
    check("echo server listens", echo.expect(event("listening"), 10) is not None)
    proxy = Process(SERVER_NS, f"{BIN}/chaos-proxy", "--listen", f"{SERVER_IP}:7006", "--connect", f"{SERVER_IP}:7005",
                    "--delay", "5", "--jitter", "5", "--stall-every", "0.5", "--stall", "100", "--seed", "3")
    check("chaos-proxy listens", proxy.expect(event("listening"), 10) is not None)
    result = Process(CLIENT_NS, sys.executable, "-c", ORDER_CLIENT, SERVER_IP, "7006").expect(event("order"), 120)
    proxy.stop()
    echo.stop()
    stalls = sum(e["event"] == "stall" for e in proxy.events)
    check(f"chaos-proxy keeps byte order: 2 MiB echoed through 5 ms ± 5 ms each way and {stalls} stalls of 100 ms",
          result is not None and result["same"] and result["octets"] == 1 << 21, f"{result}")


def rtt_samples(process):
    return [e for e in process.events if e["event"] == "rtt"]


def chaos():
    """5 minutes through chaos-proxy: no false verdict, smoothed RTT within 10 % of the added delay."""
    proxy_order()
    server = serve(7002, "--interval", "30")

    def proxy(port, *options):
        # Real-time priority: the proxy stands for the network; on this busy machine a late wake-up
        # would add ~1.5 ms to every delay it draws (measured: late_ms 1.4-1.7 without, 0.1 with).
        process = Process(SERVER_NS, "chrt", "-f", "10", f"{BIN}/chaos-proxy", "--listen", f"{SERVER_IP}:{port}",
                          "--connect", f"{SERVER_IP}:7002", *options)
        check("chaos-proxy listens", process.expect(event("listening"), 10) is not None)
        return process

    # 50 ms ± 20 ms added per round trip; the link freezes for 1 s every 60 s on average.
    added = 50.0
    chaotic = proxy(7003, "--delay", "25", "--jitter", "10", "--stall-every", "60", "--stall", "1000", "--seed", "7")
    # The control: at the same time, the same client through a proxy that adds nothing, so that the
    # base RTT (veth, proxy, both ends waking up on a loaded machine) is measured under the same load.
    plain = proxy(7007, "--delay", "0")
    # A link known to stall for 1 s: φ-accrual learns the 50 ms ± 20 ms round trips, and 1 s of
    # acceptable pause keeps a stall from counting as a missed pong; 3 missed pongs in a row (each
    # capped at 3 s) declare the peer dead, so a peer that really dies is found in about 10 s.
    settings = ("--detector", "phi", "--interval", "0.5", "--timeout", "3", "--pause", "1", "--missed", "3",
                "--duration", str(CHAOS_SECONDS))
    watched = client(7003, *settings)
    control = client(7007, *settings)
    control.popen.wait(timeout=CHAOS_SECONDS + 60)
    plain.stop()
    base = statistics.median(e["rtt_ms"] for e in rtt_samples(control))
    print(f"chaos: base RTT (control through a proxy adding nothing, same time): median {base:.3f} ms over "
          f"{len(rtt_samples(control))} samples, {sum(e['event'] == 'peer_dead' for e in control.events)} peer-dead verdicts")
    watched.popen.wait(timeout=CHAOS_SECONDS + 60)
    forwarded = chaotic.expect(event("closed"), 10) or {"late_ms": float("nan"), "chunks": 0}
    chaotic.stop()
    server.stop()
    samples = rtt_samples(watched)
    stalls = [e for e in chaotic.events if e["event"] == "stall"]
    verdicts = [e for e in watched.events if e["event"] == "peer_dead"]
    missed = [e for e in watched.events if e["event"] == "pong_missed"]
    closes = [e for e in watched.events if e["event"] == "closed"]
    check("chaos: no peer-dead verdict", not verdicts, f"{len(verdicts)}: {verdicts[:3]}")
    check("chaos: the connection lasted the whole run (closed by the client only)",
          len(closes) == 1 and closes[0]["error"] == "the connection is closed" and samples and samples[-1]["t"] - samples[0]["t"] > CHAOS_SECONDS - 5,
          f"{closes}")
    check("chaos: stalls happened", len(stalls) > 0)
    if not samples:
        return check("chaos: RTT samples", False)
    srtt = statistics.median(e["srtt_ms"] for e in samples)
    error = (srtt - base - added) / added
    within = sum(abs(e["srtt_ms"] - base - added) <= 0.1 * added for e in samples) / len(samples)
    # The samples whose round trip overlapped no stall: what the proxy's delay alone gives.
    clean = [e["rtt_ms"] for e in samples
             if not any(s["t"] - 1.2 <= e["t"] <= s["t"] + s["ms"] / 1e3 + 0.2 for s in stalls)]
    print(f"chaos: {CHAOS_SECONDS:.0f} s, {len(samples)} RTT samples, {len(stalls)} stalls of 1 s, {len(verdicts)} peer-dead "
          f"verdicts, {len(missed)} pongs missed; smoothed RTT median {srtt:.2f} ms = base {base:.3f} + {srtt - base:.2f} ms "
          f"(configured {added:.0f}: error {error * 100:+.1f} %); {within * 100:.0f} % of samples had an SRTT within 10 %; "
          f"RTT of the {len(clean)} samples clear of stalls over base: median {statistics.median(clean) - base:.2f}, mean {statistics.fmean(clean) - base:.2f} ms; "
          f"largest RTT {max(e['rtt_ms'] for e in samples):.0f} ms; the proxy released its {forwarded['chunks']} chunks "
          f"{forwarded['late_ms']:.3f} ms late on average (each way)")
    check(f"chaos: smoothed RTT within 10 % of the configured {added:.0f} ms", abs(error) <= 0.10, f"{error * 100:+.1f} %")


def restart():
    """SIGKILL hb serve under a reconnecting client; held writes reach the restarted server once, in order."""
    port = 7004
    first = serve(port, "--log-data", "--interval", "30")
    writer = client(port, "--reconnect", "--interval", "1", "--timeout", "1", "--missed", "2",
                    "--writes", "80", "--write-every", "0.05", "--linger", "2")
    check("restart: the client is up", writer.expect(lambda e: e["event"] == "health" and e["state"] == "up", 10) is not None)
    check("restart: the first server receives writes", all(first.expect(event("data"), 5) for _ in range(10)))
    killed = time.monotonic()  # just before the signal: nothing can react earlier
    first.stop(signal.SIGKILL)
    time.sleep(1.0)
    second = serve(port, "--log-data", "--interval", "30")
    listening = time.monotonic()
    writer.popen.wait(timeout=60)
    time.sleep(0.2)
    second.stop()

    health = [e for e in writer.events if e["event"] == "health"]
    down = next((e for e in health if e["t"] >= killed - 0.5 and e["state"] == "down"), None)
    if not check("restart: the client went down after the kill", down is not None, f"{health}"):
        return
    seen = down["t"] - killed
    print(f"restart: down {seen * 1e3:+.1f} ms after SIGKILL ({down['reason']}); health: " +
          ", ".join(f"{e['state']}@{(e['t'] - killed) * 1e3:+.0f}ms" for e in health))
    # At once: long before the heartbeat (1 s interval + 1 s timeout, 2 misses) could notice.
    check(f"restart: EOF seen at once ({seen * 1e3:.1f} ms after SIGKILL)", seen < 0.1 and ("EOF" in down["reason"] or "reset" in down["reason"]),
          down["reason"])

    # Backoff: after k consecutive failures the wait is 100 ms ±20 % (k < 3), 400 ms ±30 % (k < 5), 1.2 s ±50 %.
    def schedule(failures):
        return (0.1, 0.2) if failures < 3 else (0.4, 0.3) if failures < 5 else (1.2, 0.5)
    failures_in_row, waits_ok = 0, True
    for e in health:
        if e["state"] == "up":
            failures_in_row = 0
        elif e["state"] == "down" and "next_attempt" in e:
            failures_in_row += 1
            delay, jitter = schedule(failures_in_row)
            wait = e["next_attempt"] - e["t"]
            waits_ok &= delay * (1 - jitter) - 0.001 <= wait <= delay * (1 + jitter) + 0.001
    check("restart: every retry waited as the backoff schedule says", waits_ok)
    up = next((e for e in health if e["t"] > down["t"] and e["state"] == "up"), None)
    scheduled = [e["next_attempt"] for e in health if e["state"] == "down" and e.get("next_attempt", 0) >= listening]
    if check("restart: reconnected", up is not None and scheduled):
        # The first attempt scheduled after the server listened again succeeds.
        check(f"restart: reconnected {(up['t'] - listening) * 1e3:.0f} ms after the server listened, "
              f"at its first attempt since ({(scheduled[0] - listening) * 1e3:.0f} ms)", up["t"] <= scheduled[0] + 0.1)

    def received(server):
        return [bytes.fromhex(e["hex"]).decode() for e in server.events if e["event"] == "data"]
    writes = [e for e in writer.events if e["event"] == "write"]
    check("restart: every write accepted", all("error" not in e for e in writes), f"{[e for e in writes if 'error' in e]}")
    before, after = received(first), received(second)
    numbers = [int(p[1:]) for p in before + after]
    held = [int(e["payload"][1:]) for e in writes if down["t"] <= e["t"] < (up["t"] if up else float("inf"))]
    lost = [e["report"] for e in writer.events if e["event"] == "report" and "possibly lost" in e["report"]]
    print(f"restart: {len(writes)} writes; first server received {len(before)}, restarted server {len(after)}; "
          f"{len(held)} made while down (w{held[0] if held else '-'}..w{held[-1] if held else '-'}); reports: "
          + "; ".join(e["report"] for e in writer.events if e["event"] == "report"))
    check("restart: no write received twice, all in order", numbers == sorted(set(numbers)), f"{numbers}")
    check("restart: writes made while down reach the restarted server, in order", bool(held) and all(n in [int(p[1:]) for p in after] for n in held))
    missing = sorted(set(range(1, len(writes) + 1)) - set(numbers))
    check(f"restart: a write missing from both servers was reported possibly lost ({missing or 'none missing'})",
          not missing or lost, f"{missing} missing, reports {lost}")


def main():
    def interrupted(number, _):
        raise SystemExit(f"interrupted by signal {number}")
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, interrupted)
    try:
        setup()
        for scenario in SCENARIOS:
            started = time.monotonic()
            print(f"--- {scenario}")
            {"blackhole": blackhole, "chaos": chaos, "restart": restart}[scenario]()
            print(f"--- {scenario}: {time.monotonic() - started:.0f} s")
    finally:
        teardown()
    if failures:
        print(f"{len(failures)} fault check(s) failed: {failures}")
        sys.exit(1)
    print("all fault checks passed")


if __name__ == "__main__":
    main()
