#!/usr/bin/env bash
# A seconds-long run of the Codec suite (the PING path of every dialect, NIOHTTP2Handler, the bare
# walk) that fails when a PING path of ours or the walk allocates: the malloc threshold is 0 per pass
# of 1,000 pings above the harness floor (what ordo-one/benchmark itself allocates in an iteration
# that does nothing). NIO's count is printed, not checked. Used by .ci/run.
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
    verdict = ("ok" if over <= 0 else "FAIL (threshold 0 above the floor)") if checked else ""
    failed |= checked and not over <= 0
    detail = "  ".join(f"{metric}: {value:g}" for metric, value in sorted(values.items()) if metric != "Malloc (total)")
    print(f"{name:32} mallocs per pass (p99): {mallocs:6.0f} (floor {floor})  {verdict:10} {detail}")
if len(metrics) < 12:
    print(f"expected 12 benchmarks, found {len(metrics)}"); failed = True
sys.exit(1 if failed else 0)
PY
