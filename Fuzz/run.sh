#!/usr/bin/env bash
# Builds the libFuzzer targets (with AddressSanitizer) and runs them on their committed corpora.
#
#   Fuzz/run.sh TARGET SECONDS [LIBFUZZER FLAGS...]   run one target for SECONDS
#   Fuzz/run.sh all SECONDS [LIBFUZZER FLAGS...]      run every target for SECONDS each, in turn
#   Fuzz/run.sh list                                  name the targets
#   Fuzz/run.sh merge TARGET                          minimise Fuzz/corpus/TARGET plus the inputs
#                                                     in $FUZZ_NEW_INPUTS into Fuzz/corpus/TARGET
#
# Fails (non-zero) on any crash, leak, timeout (> 10 s for one input), out-of-memory (RSS over
# 2 GiB, or one allocation over $FUZZ_MALLOC_LIMIT_MB MiB), and names the saved input. The
# committed corpus is only read: new inputs go to a temporary directory (set FUZZ_NEW_INPUTS to
# keep them somewhere), so CI never changes the working tree. Works from a fresh clone: it builds
# what it needs, incrementally.
#
# Environment: FUZZ_CONFIGURATION=release|debug (default release: 2–4× the executions of debug;
# preconditions and the targets' own checks stay on in both), FUZZ_NEW_INPUTS=DIR,
# FUZZ_MALLOC_LIMIT_MB (default 8: no input of a few KiB may make the library allocate more),
# FUZZ_BUILD=asan|volume (default asan: AddressSanitizer and comparison tracing, what CI runs;
# volume: neither, for long campaigns — 3–10× the executions; Swift's bounds, overflow and
# precondition checks and the targets' invariants still trap — built in .build-volume).
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
CONFIGURATION=${FUZZ_CONFIGURATION:-release}
MALLOC_LIMIT_MB=${FUZZ_MALLOC_LIMIT_MB:-8}

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

targets() {
    for dir in Sources/*/; do
        name=$(basename "$dir")
        [ "$name" = FuzzSupport ] || echo "$name"
    done
}

build() {
    local flags
    case "${FUZZ_BUILD:-asan}" in
        asan) flags=(-Xswiftc -sanitize=fuzzer,address) ;;
        # Edge counters only: -sanitize=fuzzer alone also traces every comparison (each bounds
        # check included), which costs about half the time of a run.
        volume) flags=(--scratch-path .build-volume -Xswiftc -sanitize=fuzzer
                       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table) ;;
        *) echo "FUZZ_BUILD is asan or volume" >&2; exit 2 ;;
    esac
    echo "=== building fuzz targets ($CONFIGURATION, ${FUZZ_BUILD:-asan}: ${flags[*]})" >&2
    # ld.gold warns "Cannot export local symbol '__asan_*'" by the hundred; they are harmless.
    { swift build -c "$CONFIGURATION" "${flags[@]}" -Xswiftc -parse-as-library 2>&1 \
        || echo "FUZZ BUILD FAILED"; } | { grep -v "Cannot export local symbol" || true; } | tee "${TMPDIR:-/tmp}/fuzz-build.log" >&2
    ! grep -q "FUZZ BUILD FAILED" "${TMPDIR:-/tmp}/fuzz-build.log"
    BIN=$(swift build -c "$CONFIGURATION" "${flags[@]}" --show-bin-path)
}

run_one() {
    local target=$1 seconds=$2
    shift 2
    [ -x "$BIN/$target" ] || { echo "no fuzz target '$target' (try: $0 list)" >&2; return 2; }
    mkdir -p "corpus/$target"
    local new_inputs=${FUZZ_NEW_INPUTS:-}
    local scratch=""
    if [ -z "$new_inputs" ]; then
        scratch=$(mktemp -d)
        new_inputs=$scratch
    fi
    mkdir -p "$new_inputs"
    local log
    log=$(mktemp)
    echo "=== $target for ${seconds}s (corpus: $(ls "corpus/$target" | wc -l) files)" >&2
    local status=0
    # The first directory receives new inputs; the committed corpus is read only.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$BIN/$target" "$new_inputs" "corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$MALLOC_LIMIT_MB" \
        -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/" "$@" >"$log" 2>&1 || status=$?
    local runs speed
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ "$status" -ne 0 ]; then
        grep -v "Cannot export" "$log" | tail -60 >&2
        echo "FAIL $target: libFuzzer exited $status; input saved as $(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //' || true)" >&2
        echo "     reproduce: SWIFT_BACKTRACE=enable=no $BIN/$target FILE" >&2
    else
        echo "ok   $target: ${runs:-?} executions, ${speed:-?} exec/s, $(ls "$new_inputs" | wc -l) new inputs" >&2
    fi
    rm -f "$log"
    [ -z "$scratch" ] || rm -rf "$scratch"
    return "$status"
}

merge() {
    local target=$1
    [ -n "${FUZZ_NEW_INPUTS:-}" ] || { echo "set FUZZ_NEW_INPUTS to the directory of inputs to merge" >&2; return 2; }
    local merged log
    merged=$(mktemp -d)
    log=$(mktemp)
    if ! SWIFT_BACKTRACE=enable=no "$BIN/$target" -merge=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$MALLOC_LIMIT_MB" \
        "$merged" "corpus/$target" "$FUZZ_NEW_INPUTS" >"$log" 2>&1; then
        tail -40 "$log" >&2
        return 1
    fi
    # Named inputs (vector-*, edge-*, seed-*, regression-*) stay as they are; the ones the fuzzer
    # found, named by their SHA-1, are replaced by the minimised set.
    find "corpus/$target" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
    local named
    named=$(find "corpus/$target" -type f -exec sha1sum {} + | cut -d' ' -f1)
    for file in "$merged"/*; do
        [ -e "$file" ] || continue
        grep -qx "$(basename "$file")" <<<"$named" || cp "$file" "corpus/$target/"
    done
    rm -rf "$merged" "$log"
    echo "corpus/$target: $(ls "corpus/$target" | wc -l) files" >&2
}

[ $# -ge 1 ] || usage
case "$1" in
    list) targets ;;
    merge)
        [ $# -eq 2 ] || usage
        build
        merge "$2"
        ;;
    *)
        [ $# -ge 2 ] || usage
        target=$1 seconds=$2
        shift 2
        build
        if [ "$target" = all ]; then
            failed=()
            for each in $(targets); do
                run_one "$each" "$seconds" "$@" || failed+=("$each")
            done
            if [ ${#failed[@]} -gt 0 ]; then
                echo "fuzzing failed: ${failed[*]}" >&2
                exit 1
            fi
            echo "all fuzz targets ran clean" >&2
        else
            run_one "$target" "$seconds" "$@"
        fi
        ;;
esac
