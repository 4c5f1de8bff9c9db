#!/usr/bin/env python3
"""Charts of the runtime benchmarks (issue 10 item 7) from the JSON that echo.py and scale.py write:
  runtime-echo-rtt.png   echo round-trip distributions (CDF), ours vs SwiftNIO vs C, unpinned | pinned
  runtime-scale.png      RSS per connection, CPU per heartbeat and RTT p99 against connection count
Usage: charts.py --echo ECHO.json --scale SCALE.json [--out-dir docs/benchmarks] [--markdown]
--markdown prints the median tables as Markdown (BENCHMARKS.md) instead of drawing.
Needs matplotlib (pip install matplotlib==3.11.2).
"""
import argparse, json, os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

LABELS = {"c": "C blocking sockets", "ours": "ours, async API (main)", "nio": "SwiftNIO", "loop": "ours, loop-thread API",
          "ours-new": "ours, async API (runtime branch)", "loop-new": "ours, loop-thread API (runtime branch)",
          "hb": "hb serve (main)", "hb-new": "hb serve (runtime branch)",
          "hb-new@loops=1": "hb serve --loops 1 (runtime branch)", "hb-new@loops=2": "hb serve --loops 2 (runtime branch)", "nio@threads=2": "SwiftNIO, 2 loops"}
COLORS = {"c": "black", "ours": "tab:red", "nio": "tab:blue", "loop": "tab:green", "ours-new": "tab:orange", "loop-new": "tab:green",
          "hb": "tab:red", "hb-new": "tab:orange", "hb-new@loops=1": "tab:orange", "hb-new@loops=2": "tab:green", "nio@threads=2": "tab:cyan"}


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


def markdown(echo_path, scale_path):
    """The median tables as Markdown, for BENCHMARKS.md."""
    if echo_path:
        with open(echo_path) as f:
            data = json.load(f)
        print("| implementation | pinned | RTT p50 (µs) | RTT p99 (µs) | p50 / C | context switches / RT | mallocs / RT |")
        print("|---|---|---|---|---|---|---|")
        for row in data["medians"]:
            ratio = f"{row['p50_vs_c']:.2f}" if row.get("p50_vs_c") else "-"
            print(f"| {LABELS.get(row['impl'], row['impl'])} | {'yes' if row['pinned'] else 'no'} | {row['p50_us']:.1f} | "
                  f"{row['p99_us']:.1f} | {ratio} | {row['csw_per_rt']:.2f} | {row['mallocs_per_rt']:.1f} |")
        print()
    if scale_path:
        with open(scale_path) as f:
            data = json.load(f)
        print("| server | connections | threads | RSS / connection (B) | user CPU / hb (µs) | system CPU / hb (µs) | "
              "total CPU / hb (µs) | RTT p50 (µs) | RTT p99 (µs) | missed pongs | closed / dead verdicts |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for row in data["medians"]:
            print(f"| {LABELS.get(row['server'], row['server'])} | {row['connections']:,} | {row['threads']:.0f} | "
                  f"{row['rss_per_connection_bytes']:,.0f} | {row['user_us_per_heartbeat']:.1f} | {row['system_us_per_heartbeat']:.1f} | "
                  f"{row['cpu_us_per_heartbeat']:.1f} | {row['rtt_p50_us']:,.0f} | {row['rtt_p99_us']:,.0f} | {row['missed']:.0f} | "
                  f"{row['closed_by_server']:.0f} / {row['server_verdicts']:.0f} |")
        print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--echo")
    parser.add_argument("--scale")
    parser.add_argument("--out-dir", default="docs/benchmarks")
    parser.add_argument("--markdown", action="store_true", help="print the median tables as Markdown instead")
    args = parser.parse_args()
    if args.markdown:
        markdown(args.echo, args.scale)
        return
    os.makedirs(args.out_dir, exist_ok=True)
    if args.echo:
        echo_chart(args.echo, args.out_dir)
    if args.scale:
        scale_chart(args.scale, args.out_dir)


if __name__ == "__main__":
    main()
