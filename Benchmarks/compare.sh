#!/usr/bin/env bash
# Runs one benchmark against the library at two commits, side by side in one run, so a change
# is measured against its baseline on the same machine at the same time.
#   Benchmarks/compare.sh BASE_COMMIT [BENCHMARK] [ARGS...]     (default benchmark: ping-ack)
# The benchmark's source is taken from the working tree and built against each commit's library.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: compare.sh BASE_COMMIT [BENCHMARK] [ARGS...]}
benchmark=${2:-ping-ack}
shift $(( $# >= 2 ? 2 : 1 ))
scratch=$(mktemp -d)
trap 'git worktree remove --force "$scratch/base" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git worktree add -q --detach "$scratch/base" "$base"
mkdir -p "$scratch/base/Benchmarks/Sources/$benchmark"
cp "Benchmarks/Sources/$benchmark/main.swift" "$scratch/base/Benchmarks/Sources/$benchmark/"
cp Benchmarks/Package.swift "$scratch/base/Benchmarks/Package.swift"
for tree in "$scratch/base" "$PWD"; do
    swift build -c release --package-path "$tree/Benchmarks" --product "$benchmark" 2>&1 | grep -E "error|Compiling|Build complete" | tail -3
done
for round in 1 2 3; do
    echo "--- round $round: base $base"
    "$(swift build -c release --package-path "$scratch/base/Benchmarks" --show-bin-path)/$benchmark" "$@"
    echo "--- round $round: working tree $(git rev-parse --short HEAD)"
    "$(swift build -c release --package-path Benchmarks --show-bin-path)/$benchmark" "$@"
done
