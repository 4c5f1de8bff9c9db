#!/usr/bin/env python3
"""Chart of DATA-path throughput against chunk size from framing-throughput's CSV.

    swift run -c release framing-throughput --csv /tmp/data-path.csv
    pip install matplotlib==3.11.2   (the version checked here)
    python3 Benchmarks/data-path-chart.py /tmp/data-path.csv docs/benchmarks/data-path-throughput.svg
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "memcpy": "memcpy (ceiling)",
    "naive": "naive gathering walk",
    "whole": "ours, whole frame",
    "streaming": "ours, streaming",
    "nio": "NIOHTTP2Handler (EmbeddedChannel)",
}
STYLES = {"memcpy": "k--", "naive": "k:", "whole": "o-", "streaming": "s-", "nio": "^-"}


def main(source, target):
    series = {}
    with open(source) as f:
        for row in csv.DictReader(f):
            series.setdefault(row["method"], []).append((int(row["chunk"]), float(row["gbps"])))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, label in LABELS.items():
        points = sorted(series.get(method, []))
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], STYLES[method], label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    chunks = sorted({p[0] for points in series.values() for p in points})
    ax.set_xticks(chunks)
    ax.set_xticklabels([f"{c:,}" for c in chunks])
    ax.set_xlabel("chunk size fed (octets)")
    ax.set_ylabel("throughput (GB/s, log)")
    ax.set_title("HTTP/2: 16 KiB DATA frames + 1 PING per 100")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
