#!/usr/bin/env bash
# Interoperability with real peers and reference implementations:
#   - nghttpd (nghttp2) and a python-h2 server answer `hb probe --dialect http2`;
#   - a python-h2 client pings `hb serve --dialect http2`; an independent Python envelope client
#     (written from spec/envelope.md) pings and echoes through `hb serve --dialect tcp`;
#   - hyperframe parses our HTTP/2 vectors and our encoder's output, and `hb decode` parses
#     hyperframe's; aioquic decodes our varint and ACK vectors;
#   - WebSocket (Interop/websocket_interop.py): `hb probe --dialect ws` against a `websockets`
#     server, a `websockets` client against `hb serve --dialect ws`, wsproto and `hb decode` agree
#     on 10^4 random frames and 300 broken streams, and wsproto reads 10^4 frames our encoder
#     wrote in each role (interop-frames).
#   - TLS Heartbeat (Interop/tls_interop.py): tlslite-ng reads the TLS vectors and 10^4 records our
#     encoder wrote (interop-frames tls), `hb decode` reads 10^4 records tlslite-ng wrote and 2,000
#     malformed heartbeats (Heartbleed shapes) as nothing, and peers built on tlslite-ng's classes
#     exchange heartbeats with `hb probe`/`hb serve --dialect tls` on loopback (no Heartbleed answer).
#   - MQTT (Interop/mqtt_interop.py): `hb probe --dialect mqtt` against mosquitto (3.1.1 and 5.0),
#     paho-mqtt clients keep 2 s Keep Alive sessions alive against `hb serve --dialect mqtt`, and
#     `hb decode` delimits paho's packets and 10^4 random ones as paho's codec does.
#   - AMQP 0-9-1 (Interop/amqp_interop.py): `hb probe --dialect amqp` negotiates a 1 s heartbeat
#     with rabbitmq-server and keeps it alive; pamqp reads 10^4 frames our encoder wrote and we
#     read 10^4 frames pamqp wrote (hb decode and interop-frames amqp-read).
#   - RESP and text lines (Interop/resp_interop.py): `hb probe --dialect resp` against redis-server
#     (in order and echo), every RESP3 type redis sends decoded, redis-cli against `hb serve`,
#     hiredis and our decoder agree on 10^4 random values; `hb probe`/`hb serve --dialect lines`
#     against Python asyncio line peers.
# Installs what it needs; a missing peer is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every real peer, from Debian's packages: installed at once when any is missing.
debian_packages=(nghttp2-server rabbitmq-server mosquitto redis-server)
peers=(/usr/sbin/nghttpd /usr/sbin/rabbitmq-server /usr/sbin/mosquitto /usr/bin/redis-server /usr/bin/redis-cli)
for peer in "${peers[@]}"; do
    if [ ! -x "$peer" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debian_packages[@]}" >/dev/null
        break
    fi
done
python_packages=(h2==4.4.1 hyperframe==6.1.0 aioquic==1.7.2 websockets==17.4 wsproto==1.3.2)
python_packages+=(tlslite-ng==0.8.2)
python_packages+=(paho-mqtt==2.2.0)
python_packages+=(pamqp==4.0.1)
python_packages+=(hiredis==3.5.0)
python3 -m pip install -q --disable-pip-version-check "${python_packages[@]}" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages "${python_packages[@]}"

swift build --product hb
swift build --product interop-frames
bin=$(swift build --show-bin-path)
python3 Interop/interop.py "$bin/hb"

echo
echo "=== WebSocket"
python3 Interop/websocket_interop.py "$bin/hb" | { grep -v '^ok ' || true; }
frames=$(mktemp -d)
trap 'rm -rf "$frames"' EXIT
for role in client server; do
    "$bin/interop-frames" ws "$role" 10000 "$RANDOM" "$frames/$role.bin" "$frames/$role.json"
    python3 Interop/websocket_interop.py reverse "$frames/$role.bin" "$frames/$role.json" --sender-role "$role" \
        | { grep -v '^ok ' || true; }
done

echo
echo "=== TLS Heartbeat (RFC 6520), tlslite-ng"
python3 Interop/tls_interop.py "$bin/hb" | { grep -v '^ok ' || true; }
"$bin/interop-frames" tls 10000 "$RANDOM" "$frames/tls.bin" "$frames/tls.json"
python3 Interop/tls_interop.py reverse "$frames/tls.bin" "$frames/tls.json" | { grep -v '^ok ' || true; }

echo
echo "=== MQTT"
python3 Interop/mqtt_interop.py "$bin/hb" | { grep -v '^ok ' || true; }

echo
echo "=== AMQP 0-9-1"
python3 Interop/amqp_interop.py "$bin/hb" "$bin/interop-frames"
echo
echo "=== RESP and text lines"
python3 Interop/resp_interop.py "$bin" | { grep -v '^ok ' || true; }
