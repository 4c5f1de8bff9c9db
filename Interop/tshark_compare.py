"""Checks a loopback capture of `hb` traffic against `hb decode` (called by Interop/tshark_check.sh).

    tshark_compare.py envelope CAPTURE PORT HB DISSECTOR.lua
    tshark_compare.py http2    CAPTURE PORT HB

For each direction of each TCP connection in CAPTURE, the frames tshark shows (our Lua dissector
for the envelope, tshark's own dissector for HTTP/2) must be, in order, the items `hb decode
--format jsonl` prints for that direction's bytes (extracted with `-z follow,tcp,raw`). No packet
may be malformed or carry a warning or error; heartbeats must be present both ways.
Standard library only.
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree


def tshark(capture, *arguments):
    result = subprocess.run(["tshark", "-r", capture, *arguments], capture_output=True, text=True, check=True)
    return result.stdout


def streams(capture, decode_as):
    """Each direction's bytes: {(stream, source port): bytes}."""
    indices = sorted({int(line) for line in tshark(capture, *decode_as, "-T", "fields", "-e", "tcp.stream").split() if line})
    directions = {}
    for index in indices:
        nodes, chunks = [], {0: [], 1: []}
        for line in tshark(capture, *decode_as, "-q", "-z", f"follow,tcp,raw,{index}").splitlines():
            if line.startswith("Node "):
                nodes.append(int(line.rsplit(":", 1)[1]))
            elif line and not line.startswith(("=", "Follow:", "Filter:")):
                direction = 1 if line.startswith("\t") else 0
                chunks[direction].append(bytes.fromhex(line.strip()))
        for direction in (0, 1):
            directions[(index, nodes[direction])] = b"".join(chunks[direction])
    return directions


def decode(hb, dialect, data):
    result = subprocess.run([hb, "decode", "--dialect", dialect, "--format", "jsonl"], input=data, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"FAIL hb decode --dialect {dialect} rejected a captured direction: {result.stdout.decode()}")
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def fields(element, name):
    return [field for field in element.iter("field") if field.get("name") == name]


def child(element, name):
    for field in element.iter("field"):
        if field.get("name") == name:
            return field
    return None


def packets(capture, decode_as):
    arguments = ["-T", "pdml", *decode_as]
    for packet in ElementTree.fromstring(tshark(capture, *arguments)).iter("packet"):
        protos = {proto.get("name"): proto for proto in packet.iter("proto")}
        if "tcp" not in protos:
            continue
        yield packet, int(child(protos["tcp"], "tcp.stream").get("show")), int(child(protos["tcp"], "tcp.srcport").get("show"))


def check_findings(capture, decode_as):
    """No malformed packet, no expert info of warning or error severity."""
    arguments = ["-Y", "_ws.malformed or _ws.expert.severity >= 0x00600000", "-T", "fields", "-e", "frame.number",
                 "-e", "_ws.expert.message", *decode_as]
    findings = tshark(capture, *arguments).strip()
    if findings:
        sys.exit(f"FAIL tshark reports malformed packets or warnings:\n{findings}")


def compare(shown, decoded):
    for key in sorted(decoded):
        if shown.get(key, []) != decoded[key]:
            for index, (a, b) in enumerate(zip(shown.get(key, []), decoded[key])):
                if a != b:
                    sys.exit(f"FAIL stream {key}: item {index}: tshark shows {a}, hb decode prints {b}")
            sys.exit(f"FAIL stream {key}: tshark shows {len(shown.get(key, []))} items, hb decode prints {len(decoded[key])}")
        print(f"ok stream {key[0]} from port {key[1]}: {len(decoded[key])} frames agree "
              f"({sum(1 for item in decoded[key] if item['item'] != 'business')} heartbeats)")


def envelope(capture, port, hb, lua):
    decode_as = ["-d", f"tcp.port=={port},hb", "-X", f"lua_script:{lua}"]
    check_findings(capture, decode_as)
    shown, prefaces, goaways = {}, {}, []
    for packet, stream, source in packets(capture, decode_as):
        for proto in (proto for proto in packet.iter("proto") if proto.get("name") == "hb"):
            prefaces[(stream, source)] = prefaces.get((stream, source), 0) + len(fields(proto, "hb.preface.version"))
            for frame in fields(proto, "hb.frame"):
                frame_type = int(child(frame, "hb.type").get("show"))
                length = int(child(frame, "hb.length").get("show"))
                if frame_type in (1, 2):
                    payload = child(frame, "hb.payload").get("value")
                    item = {"item": "ping", "ack": False, "payload": payload} if frame_type == 1 else {"item": "pong", "payload": payload}
                else:
                    item = {"item": "business", "type": frame_type, "length": length}
                    if frame_type == 3:
                        goaways.append((child(frame, "hb.goaway.code_name").get("show"), child(frame, "hb.goaway.reason").get("show")))
                shown.setdefault((stream, source), []).append(item)
    decoded = {key: decode(hb, "tcp", data) for key, data in streams(capture, decode_as).items()}
    if not decoded or any(count != 1 for count in prefaces.values()) or set(prefaces) != set(decoded):
        sys.exit(f"FAIL every direction must show exactly one preface: {prefaces}")
    compare(shown, decoded)
    pings = sum(1 for items in shown.values() for item in items if item["item"] == "ping")
    pongs = sum(1 for items in shown.values() for item in items if item["item"] == "pong")
    if pings < 5 or pongs < 5 or ("NO_ERROR", "bye") not in goaways:
        sys.exit(f"FAIL expected ≥ 5 PINGs, ≥ 5 PONGs and GOAWAY NO_ERROR \"bye\"; saw {pings}, {pongs}, {goaways}")
    reassembled = len(tshark(capture, *decode_as, "-Y", "tcp.reassembled.length", "-T", "fields", "-e", "frame.number").split())
    if reassembled == 0:
        sys.exit("FAIL no frame spanned TCP segments: the capture did not exercise reassembly")
    print(f"ok {pings} PINGs, {pongs} PONGs, GOAWAYs {goaways}; {reassembled} frames reassembled from TCP segments; no malformed frame")


def http2(capture, port, hb):
    decode_as = ["-d", f"tcp.port=={port},http2"]
    check_findings(capture, decode_as)
    shown = {}
    for packet, stream, source in packets(capture, decode_as):
        for proto in (proto for proto in packet.iter("proto") if proto.get("name") == "http2"):
            for frame in fields(proto, "http2.stream"):
                if child(frame, "http2.type") is None:      # the client preface ("Magic")
                    continue
                frame_type = int(child(frame, "http2.type").get("show"))
                length = int(child(frame, "http2.length").get("show"))
                if frame_type == 6:
                    ping, pong = child(frame, "http2.ping"), child(frame, "http2.pong")
                    payload = (pong if pong is not None else ping).get("value")
                    item = {"item": "ping", "ack": pong is not None, "payload": payload}
                else:
                    item = {"item": "business", "type": frame_type, "length": length}
                shown.setdefault((stream, source), []).append(item)
    decoded = {key: decode(hb, "http2", data) for key, data in streams(capture, decode_as).items()}
    compare(shown, decoded)
    client = [item for (stream, source), items in shown.items() if source != int(port) for item in items if item["item"] == "ping"]
    server = [item for (stream, source), items in shown.items() if source == int(port) for item in items if item["item"] == "ping"]
    probe_pings = {item["payload"] for item in client if not item["ack"]}
    acked = {item["payload"] for item in server if item["ack"]}
    if len(probe_pings) < 4 or not probe_pings <= acked:
        sys.exit(f"FAIL every probe PING must come back as a PING ACK (http2.pong): {probe_pings} vs {acked}")
    server_pings = {item["payload"] for item in server if not item["ack"]}
    if not server_pings or not server_pings <= {item["payload"] for item in client if item["ack"]}:
        sys.exit(f"FAIL the server's PINGs must be acknowledged by the probe: {server_pings}")
    print(f"ok {len(probe_pings)} probe PINGs acknowledged (http2.pong), {len(server_pings)} server PINGs acknowledged; "
          "no malformed packet, no warning")


if __name__ == "__main__":
    if sys.argv[1] == "envelope":
        envelope(*sys.argv[2:6])
    else:
        http2(*sys.argv[2:5])
