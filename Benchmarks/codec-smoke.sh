#!/usr/bin/env bash
# A seconds-long run of the Codec suite (the PING path of every dialect, NIOHTTP2Handler, the bare
# walk) that fails when a PING path of ours or the walk allocates: the threshold is 0 mallocs per
# pass. An iteration is 8 passes (125 pings each), so one allocation per pass counts at least 8 above
# the harness floor (what ordo-one/benchmark itself allocates in an iteration that does nothing).
# That floor differs between the benchmark's processes (16 or 18 on this machine: CI once saw 18 for
# two cases against a floor of 16, with nothing of ours allocating), so a difference below 8 is the
# harness's noise and passes. NIO's count is printed, not checked. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CODEC_BENCHMARK_SECONDS=${CODEC_BENCHMARK_SECONDS:-1} swift package --allow-writing-to-package-directory benchmark \
    --target Codec --no-progress --format jsonSmallerIsBetter --path "$out"
python3 - "$out" <<'PY'
import glob, json, sys
rows = [row for path in glob.glob(sys.argv[1] + "/*.json") for row in json.load(open(path))]
metrics = {}
for row in rows:
    name, metric = row["name"].rsplit(" - ", 1)
    metrics.setdefault(name, {})[metric] = row["value"]
floor = metrics.get("PING path harness floor", {}).get("Malloc (total)")
failed = floor is None
for name in sorted(metrics):
    values = metrics[name]
    mallocs = values.get("Malloc (total)", float("nan"))
    checked = "NIOHTTP2Handler" not in name and "floor" not in name
    over = mallocs - (floor or 0)
    # 8 passes per iteration: an allocation per pass shows as >= 8 over the floor.
    verdict = ("ok" if over < 8 else "FAIL (an allocation per pass)") if checked else ""
    failed |= checked and not over < 8
    detail = "  ".join(f"{metric}: {value:g}" for metric, value in sorted(values.items()) if metric != "Malloc (total)")
    print(f"{name:32} mallocs per iteration (p99): {mallocs:6.0f} (floor {floor})  {verdict:10} {detail}")
if len(metrics) < 12:
    print(f"expected 12 benchmarks, found {len(metrics)}"); failed = True
sys.exit(1 if failed else 0)
PY
