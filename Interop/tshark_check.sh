#!/usr/bin/env bash
# Captures real `hb` traffic on loopback and reads it with tshark:
#   1. the envelope: `hb serve --dialect tcp` with `hb probe` and a scripted client (DATA split
#      across TCP segments, PING, GOAWAY), dissected with spec/heartbeat-envelope.lua; every frame
#      the dissector shows must be what `hb decode` prints for the same direction's bytes, and
#      nothing may be marked malformed; hand-made captures of broken frames must be marked;
#   2. HTTP/2: `hb serve --dialect http2` with `hb probe --dialect http2`, read by tshark's own
#      HTTP/2 dissector: no malformed packet and no warning, our PINGs and their ACKs (http2.pong)
#      both ways.
# Installs tshark if missing (Debian); a missing tool is a failure, never a skip. About 15 s.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tshark >/dev/null 2>&1 || ! command -v dumpcap >/dev/null 2>&1 || ! command -v text2pcap >/dev/null 2>&1; then
    apt-get update -qq
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null
fi
tshark --version | head -1

swift build --product hb >/dev/null
hb="$(swift build --show-bin-path)/hb"
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# tshark warns on every run as root; the warning is not a finding.
quiet_tshark() { tshark "$@" 2> >(grep -v 'Running as user "root"' >&2); }

# Starts `hb serve` with "$@"; sets `port` from its first line.
start_server() {
    local log="$work/serve-$RANDOM.log"
    "$hb" serve --port 0 "$@" >"$log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 100); do
        port=$(grep -o '127\.0\.0\.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
        [ -n "$port" ] && return 0
        sleep 0.1
    done
    echo "hb serve did not start:"; cat "$log"; return 1
}

# Starts dumpcap on lo for `port` into file $1; returns once it captures.
start_capture() {
    dumpcap -q -i lo -f "tcp port $port" -w "$1" 2>"$work/dumpcap.log" &
    capture_pid=$!
    pids+=("$capture_pid")
    for _ in $(seq 100); do
        grep -q "Capturing on" "$work/dumpcap.log" && { sleep 0.3; return 0; }
        sleep 0.1
    done
    echo "dumpcap did not start:"; cat "$work/dumpcap.log"; return 1
}

stop_capture() {
    sleep 0.3
    kill -INT "$capture_pid"
    wait "$capture_pid" || true
}

echo
echo "=== envelope: capture hb serve / hb probe / a scripted client, dissect with spec/heartbeat-envelope.lua"
start_server --dialect tcp --interval 0.3
start_capture "$work/envelope.pcapng"
"$hb" probe --dialect tcp "127.0.0.1:$port" --count 4 --interval 0.2 | tail -2
python3 - "$port" <<'EOF'
# An envelope client (spec/envelope.md): DATA split across writes, a PING, DATA, GOAWAY NO_ERROR.
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
big = b"\x00" + b"\x50\x00" + bytes(range(256)) * 16        # DATA, 4096 octets, 2-octet length
for part in (b"\x89HB\r\n\x1a\n\x01" + big[:3], big[3:1000], big[1000:]):
    s.sendall(part); time.sleep(0.05)
s.sendall(b"\x01\x08" + (7).to_bytes(4, "big") + (4242).to_bytes(4, "big"))   # PING seq 7, t 4242 ms
s.sendall(b"\x00\x05hello" + b"\x2a\x00")                                    # DATA, unknown type 42
time.sleep(0.2)
s.sendall(b"\x03\x04\x00bye")                                                # GOAWAY NO_ERROR "bye"
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
while s.recv(65536):
    pass
s.close()
EOF
stop_capture
python3 Interop/tshark_compare.py envelope "$work/envelope.pcapng" "$port" "$hb" spec/heartbeat-envelope.lua

echo
echo "=== envelope: hand-made broken frames are marked malformed"
# text2pcap input: I = client to server, O = server to client.
printf '%s\n' \
    'I 000000 89 48 42 0d 0a 1a 0a 01 01 07 00 00 00 01 00 00 0b' \
    > "$work/ping-length.txt"
printf '%s\n' \
    'I 000000 89 48 42 0d 0a 1a 0a 01 40 01 08 00 00 00 01 00 00 0b b8' \
    > "$work/non-minimal.txt"
printf '%s\n' \
    'I 000000 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a' \
    > "$work/preface.txt"
printf '%s\n' \
    'I 000000 89 48 42 0d 0a 1a 0a 01 00 80 01 00 00' \
    > "$work/frame-size.txt"
printf '%s\n' \
    'I 000000 89 48 42 0d 0a 1a 0a 01 03 00' \
    > "$work/goaway.txt"
for case in ping-length:FRAME_SIZE_ERROR non-minimal:PROTOCOL_ERROR preface:PREFACE_ERROR frame-size:FRAME_SIZE_ERROR goaway:FRAME_SIZE_ERROR; do
    name=${case%%:*} code=${case#*:}
    text2pcap -q -D -T 40000,7000 -4 127.0.0.1,127.0.0.1 "$work/$name.txt" "$work/$name.pcap" >/dev/null 2>&1
    marked=$(quiet_tshark -r "$work/$name.pcap" -X lua_script:spec/heartbeat-envelope.lua -d tcp.port==7000,hb \
        -Y hb.malformed -T fields -e _ws.expert.message)
    case "$marked" in
        "$code: "*) echo "ok $name: $marked" ;;
        *) echo "FAIL $name: expected $code, got \"$marked\""; exit 1 ;;
    esac
done

echo
echo "=== HTTP/2: tshark's own dissector reads hb serve / hb probe --dialect http2"
kill "$server_pid"
start_server --dialect http2 --interval 0.3
start_capture "$work/http2.pcapng"
"$hb" probe --dialect http2 "127.0.0.1:$port" --count 4 --interval 0.2 | tail -2
stop_capture
python3 Interop/tshark_compare.py http2 "$work/http2.pcapng" "$port" "$hb"
echo
echo "tshark checks passed"
