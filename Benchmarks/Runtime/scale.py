#!/usr/bin/env python3
"""The scale run of issue 10: one server process against C load generators (loadgen.c) in separate
processes, each from its own 127.0.0.x source address, every connection sending one envelope PING
per interval and timing the PONG.

Servers (one or more, interleaved in one run so they share the machine's load; a suffix
@loops=N (hb, hb-new: hb serve --loops N) or @threads=N (nio) runs N event loops, else one):
  hb      hb serve --dialect tcp (release build) --interval 3600: it only answers, as the NIO server
  hb-new  the same from another build (e.g. branch runtime), given with --hb-new
  nio     nio-heartbeat-server: SwiftNIO with our envelope codec in a ChannelHandler and an
          IdleStateHandler (3 s read timeout)
For each run: server threads, RSS growth per connection, user/system CPU per heartbeat over a
fixed window (/proc/PID/stat ticks; total also from /proc/PID/task/*/schedstat in ns), RTT p50/p99,
missed/late pongs, connections the server closed, the server's own verdicts (hb: peer_dead and
closing events; nio: idle closes). Every step is bounded in time; every process is stopped.

Usage: scale.py --hb PATH --nio PATH --loadgen PATH [--hb-new PATH] [--counts 1000,10000,19000]
                [--servers hb,hb-new,hb-new@loops=2,nio] [--repeats 3] [--warmup 3] [--window 10] [--out FILE.json]
Prints one line per run and a table of medians; --out writes every run as JSON.
"""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, time

PER_PROCESS = 5000  # connections per load generator (its fd limit is 20,000)


def read_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["Threads"])


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    user, system = int(parts[11]) / ticks, int(parts[12]) / ticks
    scheduled = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                scheduled += int(f.read().split()[0])
        except OSError:
            pass
    return user, system, scheduled / 1e9


def readline(process, deadline, what):
    """The process's next stdout line, or an exception once `deadline` (monotonic) passes."""
    import select
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"{what}: ended early")
            return line.strip()
    raise RuntimeError(f"{what}: timed out")


def start_server(kind, paths, workdir):
    log = open(os.path.join(workdir, "server.log"), "w")
    binary, _, variant = kind.partition("@")
    threads = variant.split("=")[1] if variant else "1"
    if kind.startswith("hb"):
        command = [paths[binary], "serve", "--dialect", "tcp", "--port", "0", "--format", "jsonl", "--interval", "3600",
                   "--timeout", "3"] + (["--loops", threads] if variant else [])
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        first = json.loads(readline(process, time.monotonic() + 20, kind))
        port = int(first["address"].rsplit(":", 1)[1])
        # The rest of hb's jsonl log goes to a file, read once the run ends.
        drain = subprocess.Popen(["cat"], stdin=process.stdout, stdout=log)
    else:
        process = subprocess.Popen([paths["nio"], "--port", "0", "--threads", threads, "--idle", "3"], stdout=subprocess.PIPE,
                                   stderr=log, text=True)
        port = int(readline(process, time.monotonic() + 20, kind).split()[1])
        drain = None
    return process, port, log, drain


def server_verdicts(kind, log_path):
    with open(log_path) as f:
        text = f.read()
    if kind.startswith("hb"):
        return sum(1 for line in text.splitlines() if '"event":"peer_dead"' in line or '"event":"closing"' in line)
    return text.count("idle-close")


def run_once(kind, count, args, paths, workdir):
    server, port, log, drain = start_server(kind, paths, workdir)
    generators = []
    try:
        time.sleep(0.5)
        rss_idle, _ = read_status(server.pid)
        split = [PER_PROCESS] * (count // PER_PROCESS) + ([count % PER_PROCESS] if count % PER_PROCESS else [])
        for index, share in enumerate(split):
            samples = os.path.join(workdir, f"samples-{index}.txt")
            generators.append((subprocess.Popen(
                [paths["loadgen"], "127.0.0.1", str(port), f"127.0.0.{index + 2}", str(share), "1000",
                 str(int(args.warmup + args.window + 90)), samples], stdout=subprocess.PIPE, text=True), samples))
        deadline = time.monotonic() + 90
        for generator, _ in generators:
            line = readline(generator, deadline, "loadgen")
            if not line.startswith("ready"):
                raise RuntimeError(f"loadgen: {line}")
        time.sleep(args.warmup)
        for generator, _ in generators:
            generator.send_signal(signal.SIGUSR1)
        before = cpu(server.pid)
        time.sleep(args.window)
        after = cpu(server.pid)
        rss, threads = read_status(server.pid)
        for generator, _ in generators:
            generator.send_signal(signal.SIGUSR2)
        totals = {}
        for generator, _ in generators:
            line = readline(generator, time.monotonic() + 20, "loadgen result")
            for pair in line.split()[1:]:
                key, value = pair.split("=")
                totals[key] = totals.get(key, 0) + int(value)
            generator.wait(timeout=20)
        rtts = []
        for _, samples in generators:
            with open(samples) as f:
                rtts.extend(int(line) for line in f if line.strip())
        rtts.sort()
    finally:
        for generator, _ in generators:
            if generator.poll() is None:
                generator.kill()
                generator.wait()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if drain:
            drain.wait(timeout=10)
        log.close()
    heartbeats = max(1, totals["pongs"])
    user, system = after[0] - before[0], after[1] - before[1]
    percentile = lambda q: rtts[min(len(rtts) - 1, int(len(rtts) * q))] if rtts else None
    return {
        "server": kind, "connections": count, "threads": threads, "window_s": args.window,
        "rss_idle_bytes": rss_idle, "rss_bytes": rss, "rss_per_connection_bytes": (rss - rss_idle) / count,
        "heartbeats": totals["pongs"], "pings": totals["pings"],
        "user_us_per_heartbeat": user * 1e6 / heartbeats, "system_us_per_heartbeat": system * 1e6 / heartbeats,
        "cpu_us_per_heartbeat": (user + system) * 1e6 / heartbeats,
        "scheduled_us_per_heartbeat": (after[2] - before[2]) * 1e6 / heartbeats,
        "rtt_p50_us": percentile(0.5), "rtt_p99_us": percentile(0.99),
        "missed": totals["missed"], "late": totals["late"], "closed_by_server": totals["closed"],
        "goaways": totals["goaways"], "server_verdicts": server_verdicts(kind, log.name),
        "loadavg": open("/proc/loadavg").read().split()[0],
        "rtt_histogram_us": histogram(rtts),
    }


def histogram(rtts):
    """Counts per power-of-two-ish bucket (upper bounds in µs), for the charts."""
    bounds = [int(25 * 1.25 ** i) for i in range(60)]
    counts, index = [0] * len(bounds), 0
    for value in rtts:
        while index < len(bounds) - 1 and value > bounds[index]:
            index += 1
        counts[index] += 1
    return {"bounds_us": bounds, "counts": counts}


COLUMNS = ["threads", "rss_per_connection_bytes", "user_us_per_heartbeat", "system_us_per_heartbeat", "cpu_us_per_heartbeat",
           "scheduled_us_per_heartbeat", "rtt_p50_us", "rtt_p99_us", "missed", "late", "closed_by_server", "server_verdicts"]


def medians(runs):
    table = {}
    for run in runs:
        table.setdefault((run["server"], run["connections"]), []).append(run)
    result = []
    for (kind, count), group in sorted(table.items(), key=lambda item: (item[0][1], item[0][0])):
        row = {"server": kind, "connections": count, "runs": len(group)}
        for column in COLUMNS:
            values = [run[column] for run in group if run[column] is not None]
            row[column] = statistics.median(values) if values else None
        result.append(row)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hb", required=True)
    parser.add_argument("--hb-new")
    parser.add_argument("--nio", required=True)
    parser.add_argument("--loadgen", required=True)
    parser.add_argument("--servers", default=None, help="comma-separated: hb, hb-new, nio, each optionally @loops=N / @threads=N")
    parser.add_argument("--counts", default="1000,10000,19000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--out")
    args = parser.parse_args()
    paths = {"hb": args.hb, "hb-new": args.hb_new, "nio": args.nio, "loadgen": args.loadgen}
    servers = args.servers.split(",") if args.servers else (["hb", "hb-new", "nio"] if args.hb_new else ["hb", "nio"])
    runs = []
    for repeat in range(args.repeats):
        for count in [int(c) for c in args.counts.split(",")]:
            for kind in servers:
                with tempfile.TemporaryDirectory() as workdir:
                    run = run_once(kind, count, args, paths, workdir)
                run["repeat"] = repeat
                runs.append(run)
                print(json.dumps({k: v for k, v in run.items() if k != "rtt_histogram_us"}), flush=True)
    table = medians(runs)
    print("\nmedians of", args.repeats, "runs:")
    print("server          conns  threads  RSS/conn(B)  user/hb(us)  sys/hb(us)  cpu/hb(us)  sched/hb(us)  p50(us)  p99(us)  missed  late  closed  verdicts")
    for row in table:
        print(f"{row['server']:15} {row['connections']:6} {row['threads']:7} {row['rss_per_connection_bytes']:11.0f} "
              f"{row['user_us_per_heartbeat']:11.2f} {row['system_us_per_heartbeat']:11.2f} {row['cpu_us_per_heartbeat']:11.2f} "
              f"{row['scheduled_us_per_heartbeat']:12.2f} {row['rtt_p50_us']:8} {row['rtt_p99_us']:8} {row['missed']:7} "
              f"{row['late']:5} {row['closed_by_server']:7} {row['server_verdicts']:9}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"runs": runs, "medians": table, "machine": machine(), "args": vars(args)}, f, indent=1)


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    return {"cpu": model, "cores": os.cpu_count(), "kernel": os.uname().release}


if __name__ == "__main__":
    main()
