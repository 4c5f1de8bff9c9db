#!/usr/bin/env bash
# Instructions per ping for every dialect's PING path (codec-ping), counted by callgrind on a
# stripped copy of the release build: Ir(3 passes) - Ir(1 pass) over 2 x PINGS pings, so the
# input's construction and the process's start cancel out. Repeatable on a busy machine.
#   Benchmarks/callgrind-ping.sh [PINGS] [DIALECT...]       (default 20000; every dialect + walk)
# CODEC_PING_BINARY names an already built codec-ping (e.g. one built against another commit).
set -euo pipefail
cd "$(dirname "$0")"
pings=${1:-20000}
shift $(( $# >= 1 ? 1 : 0 ))
dialects=("$@")
[ ${#dialects[@]} -gt 0 ] || dialects=(tcp http2 quic ws tls mqtt amqp resp lines walk)
binary=${CODEC_PING_BINARY:-}
if [ -z "$binary" ]; then
    swift build -c release --product codec-ping >/dev/null
    binary="$(swift build -c release --show-bin-path)/codec-ping"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$binary" "$scratch/codec-ping"
strip "$scratch/codec-ping"
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$scratch/out" "$scratch/codec-ping" --passes "$1" "$2" "$pings" \
        >/dev/null 2>"$scratch/log"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$scratch/log"
}
for dialect in "${dialects[@]}"; do
    one=$(instructions 1 "$dialect")
    three=$(instructions 3 "$dialect")
    awk -v d="$dialect" -v a="$one" -v b="$three" -v n="$pings" \
        'BEGIN { printf "%-8s %8.1f instructions/ping\n", d, (b - a) / (2 * n) }'
done
