#!/usr/bin/env bash
# Builds the DocC documentation of Framing, Heartbeat and Transports with the toolchain's own
# `docc` (no package plugin, so the root package still depends on nothing). Documentation
# warnings — a broken symbol link, an undocumented parameter — are errors.
#
#   scripts/docs.sh [OUTPUT]      default OUTPUT: .build/docs (git-ignored)
#
# Writes OUTPUT/<Module>.doccarchive for each module, transformed for static hosting; preview one
# with `docc preview Sources/Framing/Framing.docc --additional-symbol-graph-dir …` or serve the
# archive's folder with any static web server.
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-.build/docs}
modules=(Framing Heartbeat Transports)

docc=$(command -v docc || true)
if [ -z "$docc" ]; then
    docc="$(dirname "$(readlink -f "$(command -v swift)")")/docc"
fi
[ -x "$docc" ] || { echo "docs.sh: no docc in the toolchain (looked on PATH and next to swift)" >&2; exit 1; }

# Symbol graphs of the public API, extracted from the ordinary debug build (no rebuild with other flags).
graphs=$(swift package dump-symbol-graph --skip-synthesized-members 2>&1 | sed -n 's/^Files written to //p')
[ -d "$graphs" ] || { echo "docs.sh: swift package dump-symbol-graph wrote no symbol graphs" >&2; exit 1; }

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir -p "$output"
for module in "${modules[@]}"; do
    mkdir -p "$staging/$module"
    cp "$graphs/$module.symbols.json" "$staging/$module/"
    cp "$graphs/$module"@*.symbols.json "$staging/$module/" 2>/dev/null || true
    rm -rf "$output/$module.doccarchive"
    echo "docc convert $module"
    "$docc" convert "Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$staging/$module" \
        --fallback-display-name "$module" \
        --fallback-bundle-identifier "org.swift-heartbeat.$module" \
        --transform-for-static-hosting \
        --hosting-base-path "$module" \
        --warnings-as-errors \
        --output-dir "$output/$module.doccarchive"
done
echo "docs.sh: ${modules[*]} built without warnings into $output"
