#!/usr/bin/env python3
"""The echo round trip of issue 10, side by side in one run: the C blocking ping-pong
(pingpong.c), ours (runtime-echo ours: the async API; runtime-echo loop: the loop-thread API) and SwiftNIO (runtime-echo nio), each unpinned and pinned to one CPU
(taskset -c 0), the implementations interleaved round by round so they share the machine's load.

Usage: echo.py --pingpong PATH --echo PATH [--echo-new PATH] [--impls c,ours,nio] [--rounds 20000]
               [--repeats 3] [--out FILE.json] [--samples-dir DIR]
--echo-new names a runtime-echo built against another library commit; its implementations are
reported as ours-new / loop-new. Prints every run and a table of medians (p50, p99, mean,
context switches and allocations per round trip, ratio of p50 to C's); --out writes them as JSON;
the last repeat's distribution (quantiles) goes into the JSON for the charts (charts.py);
--samples-dir keeps its raw round trips too.
"""
import argparse, json, os, statistics, subprocess, tempfile


def run(command, timeout):
    output = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    line = next((l for l in output.stdout.splitlines() if l.startswith("impl=")), None)
    if output.returncode != 0 or line is None:
        raise RuntimeError(f"{' '.join(command)} failed: {output.stdout} {output.stderr}")
    return {key: (value if key == "impl" else float(value)) for key, value in (pair.split("=") for pair in line.split())}


QUANTILES = [i / 200 for i in range(1, 200)] + [0.999]


def quantiles(path):
    """The round trips at QUANTILES (for the charts' distributions)."""
    with open(path) as f:
        values = sorted(float(line) for line in f if line.strip())
    return [[q, values[min(len(values) - 1, int(len(values) * q))]] for q in QUANTILES]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pingpong", required=True)
    parser.add_argument("--echo", required=True)
    parser.add_argument("--echo-new")
    parser.add_argument("--impls", default=None)
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out")
    parser.add_argument("--samples-dir")
    args = parser.parse_args()
    commands = {"c": [args.pingpong], "ours": [args.echo, "ours"], "nio": [args.echo, "nio"]}
    if args.echo_new:
        commands["ours-new"] = [args.echo_new, "ours"]
        commands["loop-new"] = [args.echo_new, "loop"]
    else:
        commands["loop"] = [args.echo, "loop"]
    impls = args.impls.split(",") if args.impls else list(commands)
    runs = []
    for repeat in range(args.repeats):
        for pinned in (False, True):
            for impl in impls:
                command = (["taskset", "-c", "0"] if pinned else []) + commands[impl] + [str(args.rounds)]
                samples = None
                if repeat == args.repeats - 1:
                    directory = args.samples_dir or tempfile.mkdtemp()
                    os.makedirs(directory, exist_ok=True)
                    samples = os.path.join(directory, f"echo-{impl}-{'pinned' if pinned else 'unpinned'}.txt")
                    command.append(samples)
                result = run(command, timeout=120)
                if samples:
                    result["quantiles_us"] = quantiles(samples)
                    if not args.samples_dir:
                        os.remove(samples)
                result.update(impl=impl, pinned=pinned, repeat=repeat, loadavg=open("/proc/loadavg").read().split()[0])
                runs.append(result)
                print(json.dumps({k: v for k, v in result.items() if k != "quantiles_us"}), flush=True)
    table = []
    for pinned in (False, True):
        c = statistics.median(r["p50_us"] for r in runs if r["impl"] == "c" and r["pinned"] == pinned) if "c" in impls else None
        for impl in impls:
            group = [r for r in runs if r["impl"] == impl and r["pinned"] == pinned]
            row = {"impl": impl, "pinned": pinned, "runs": len(group)}
            for key in ("p50_us", "p99_us", "mean_us", "csw_per_rt", "mallocs_per_rt"):
                row[key] = statistics.median(r[key] for r in group)
            row["p50_vs_c"] = row["p50_us"] / c if c else None
            table.append(row)
    print(f"\nmedians of {args.repeats} runs of {args.rounds} round trips:")
    print("impl      pinned  p50(us)  p99(us)  mean(us)  csw/rt  mallocs/rt  p50/C")
    for row in table:
        ratio = f"{row['p50_vs_c']:.2f}" if row["p50_vs_c"] else "-"
        print(f"{row['impl']:9} {'yes' if row['pinned'] else 'no':6} {row['p50_us']:8.2f} {row['p99_us']:8.2f} {row['mean_us']:9.2f}"
              f" {row['csw_per_rt']:7.2f} {row['mallocs_per_rt']:11.2f}  {ratio}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"runs": runs, "medians": table, "rounds": args.rounds}, f, indent=1)


if __name__ == "__main__":
    main()
