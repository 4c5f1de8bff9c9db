#!/usr/bin/env bash
# Interoperability with real peers and reference implementations:
#   - nghttpd (nghttp2) and a python-h2 server answer `hb probe --dialect http2`;
#   - a python-h2 client pings `hb serve --dialect http2`; an independent Python envelope client
#     (written from spec/envelope.md) pings and echoes through `hb serve --dialect tcp`;
#   - hyperframe parses our HTTP/2 vectors and our encoder's output, and `hb decode` parses
#     hyperframe's; aioquic decodes our varint and ACK vectors.
# Installs what it needs; a missing peer is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nghttpd >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-server >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check h2==4.4.1 hyperframe==6.1.0 aioquic==1.7.2 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages h2==4.4.1 hyperframe==6.1.0 aioquic==1.7.2

swift build --product hb
exec python3 Interop/interop.py "$(swift build --show-bin-path)/hb"
