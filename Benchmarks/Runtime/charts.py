#!/usr/bin/env python3
"""Charts of the runtime benchmarks (issue 10 item 7) from the JSON that echo.py and scale.py write:
  runtime-echo-rtt.png   echo round-trip distributions (CDF), ours vs SwiftNIO vs C, unpinned | pinned
  runtime-scale.png      RSS per connection, CPU per heartbeat and RTT p99 against connection count
Usage: charts.py --echo ECHO.json --scale SCALE.json --out-dir docs/benchmarks
Needs matplotlib (pip install matplotlib==3.11.2).
"""
import argparse, json, os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

LABELS = {"c": "C blocking sockets", "ours": "ours, async API (main)", "nio": "SwiftNIO",
          "ours-new": "ours, async API (runtime branch)", "loop-new": "ours, loop-thread API (runtime branch)",
          "hb": "hb serve (main)", "hb-new": "hb serve (runtime branch)"}
COLORS = {"c": "black", "ours": "tab:red", "nio": "tab:blue", "ours-new": "tab:orange", "loop-new": "tab:green",
          "hb": "tab:red", "hb-new": "tab:orange"}


def echo_chart(path, out_dir):
    with open(path) as f:
        data = json.load(f)
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for axis, pinned in zip(axes, (False, True)):
        for run in data["runs"]:
            if run["pinned"] != pinned or "quantiles_us" not in run:
                continue
            quantiles = run["quantiles_us"]
            axis.plot([value for _, value in quantiles], [q for q, _ in quantiles], label=LABELS.get(run["impl"], run["impl"]),
                      color=COLORS.get(run["impl"]))
        axis.set_xscale("log")
        axis.set_xlabel("8-octet echo round trip (µs, log scale)")
        axis.set_title("pinned (taskset -c 0)" if pinned else "unpinned")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction of round trips ≤ x")
    axes[1].legend(loc="lower right", fontsize=8)
    figure.suptitle(f"Echo round trip over loopback TCP, {data['rounds']} round trips each (last repeat)")
    figure.tight_layout()
    target = os.path.join(out_dir, "runtime-echo-rtt.png")
    figure.savefig(target, dpi=110)
    print("wrote", target)


def scale_chart(path, out_dir):
    with open(path) as f:
        data = json.load(f)
    rows = data["medians"]
    servers = sorted({row["server"] for row in rows})
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = [("rss_per_connection_bytes", "RSS growth per connection (bytes)"),
              ("cpu_us_per_heartbeat", "server CPU per heartbeat, user+system (µs)"),
              ("rtt_p99_us", "heartbeat RTT p99 (µs)")]
    for axis, (key, title) in zip(axes, panels):
        for server in servers:
            points = sorted((row["connections"], row[key]) for row in rows if row["server"] == server and row[key] is not None)
            axis.plot([x for x, _ in points], [y for _, y in points], marker="o", label=LABELS.get(server, server),
                      color=COLORS.get(server))
            if key == "cpu_us_per_heartbeat":
                user = sorted((row["connections"], row["user_us_per_heartbeat"]) for row in rows if row["server"] == server)
                axis.plot([x for x, _ in user], [y for _, y in user], marker=".", linestyle="--", color=COLORS.get(server),
                          label=f"{LABELS.get(server, server)}: user only")
        if key == "rss_per_connection_bytes":
            axis.axhline(1024, color="gray", linestyle=":", label="target: 1 KiB")
        axis.set_xlabel("connections, 1 heartbeat/s each")
        axis.set_title(title, fontsize=10)
        if key == "rtt_p99_us":
            axis.set_yscale("log")
        else:
            axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle(f"Scale run: one server process, medians of {data['args']['repeats']} runs, {data['args']['window']} s windows")
    figure.tight_layout()
    target = os.path.join(out_dir, "runtime-scale.png")
    figure.savefig(target, dpi=110)
    print("wrote", target)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--echo")
    parser.add_argument("--scale")
    parser.add_argument("--out-dir", default="docs/benchmarks")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    if args.echo:
        echo_chart(args.echo, args.out_dir)
    if args.scale:
        scale_chart(args.scale, args.out_dir)


if __name__ == "__main__":
    main()
