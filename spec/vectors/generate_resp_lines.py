#!/usr/bin/env python3
"""Writes spec/vectors/resp.json and spec/vectors/lines.json.

The inputs are built here from the RESP specification (redis.io "Redis serialization protocol
specification", RESP2 and RESP3) and ../resp.md, ../lines.md, independently of the Swift code;
the expected items and errors are written by hand next to each input.
Run it from anywhere: `python3 spec/vectors/generate_resp_lines.py`. The output is deterministic.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"
PAYLOAD = bytes.fromhex("0000000100002a2a")  # our ping payload: sequence 1, 10794 ms


# ---------------------------------------------------------------- RESP value builders
def simple(text):
    return b"+" + text + CRLF


def error(text):
    return b"-" + text + CRLF


def integer(value):
    return b":" + str(value).encode() + CRLF


def bulk(data, kind=b"$"):
    return kind + str(len(data)).encode() + CRLF + data + CRLF


def aggregate(kind, elements):
    return kind + str(len(elements)).encode() + CRLF + b"".join(elements)


def array(*elements):
    return aggregate(b"*", elements)


def pairs(kind, items):
    body = b"".join(k + v for k, v in items)
    return kind + str(len(items)).encode() + CRLF + body


def command(*words):
    return array(*[bulk(w) for w in words])


def ping_item(payload=b""):
    return {"item": "ping", "payload": payload.hex()}


def pong_item(payload=b""):
    return {"item": "pong", "payload": payload.hex()}


def biz(type_octet, data):
    return {"item": "business", "type": type_octet, "data": data.hex()}


def err(code, offset, reason):
    return {"code": code, "offset": offset, "reason": reason}


RESP = []


def resp(name, description, reference, data, items, error=None, **options):
    vector = {"name": name, "dialect": "resp", "description": description, "reference": reference,
              "input": data.hex(), "items": items, "error": error}
    if options:
        vector["options"] = options
    RESP.append(vector)


SPEC = "RESP spec"
OURS = "spec/resp.md"

# -- heartbeats, server side (commands)
resp("resp-ping-array", "A bare PING command (array of one bulk string) read by a server is a ping.",
     f"{OURS} §3.1", command(b"PING"), [ping_item()], role="server")
resp("resp-ping-array-lowercase", "Command names are case-insensitive: ping is PING.",
     f"{OURS} §3.1", command(b"ping"), [ping_item()], role="server")
resp("resp-ping-message", "PING <message>: a ping whose payload is the message.",
     f"{OURS} §3.1", command(b"PING", b"hello"), [ping_item(b"hello")], role="server")
resp("resp-ping-binary-message", "PING with our binary 8-octet message: the payload is all of it.",
     f"{OURS} §3.1", command(b"PiNg", b"hb-" + PAYLOAD), [ping_item(b"hb-" + PAYLOAD)], role="server")
resp("resp-ping-inline", "An inline PING (a line with no type octet) read by a server.",
     f"{SPEC} Inline commands; {OURS} §2.3", b"PING\r\n", [ping_item()], role="server")
resp("resp-ping-inline-lf", "An inline command may end with LF alone, as Redis accepts.",
     f"{OURS} §2.3", b"ping\n", [ping_item()], role="server")
resp("resp-ping-inline-message", "An inline PING with one argument carries it as the payload.",
     f"{OURS} §2.3", b"PING  hello\r\n", [ping_item(b"hello")], role="server")
resp("resp-inline-business", "Any other inline command is business of type 0, the whole line.",
     f"{OURS} §2.3", b"GET key\r\n", [biz(0, b"GET key\r\n")], role="server")
resp("resp-command-business", "A command other than PING is business: type 42 (*), the whole value.",
     f"{OURS} §3.1", command(b"GET", b"key"), [biz(42, command(b"GET", b"key"))], role="server")
resp("resp-ping-three-arguments", "PING with two arguments is not our heartbeat (Redis answers an error): business.",
     f"{OURS} §3.1", command(b"PING", b"a", b"b"), [biz(42, command(b"PING", b"a", b"b"))], role="server")
resp("resp-pipelined-commands", "Pipelined commands: each top-level value is one item, in order.",
     f"{OURS} §2.1", command(b"SET", b"k", b"v") + command(b"PING") + b"PING x\r\n",
     [biz(42, command(b"SET", b"k", b"v")), ping_item(), ping_item(b"x")], role="server")

# -- heartbeats, client side (replies)
resp("resp-pong", "+PONG read by a client in the in-order mode is a pong.",
     f"{OURS} §3.2", simple(b"PONG"), [pong_item()], role="client")
resp("resp-pong-echo", "In the echo mode the bulk echo of our PING message is the pong carrying its 8 octets.",
     f"{OURS} §3.3", bulk(b"hb-" + PAYLOAD), [pong_item(PAYLOAD)], role="client", pingMessage="hb-")
resp("resp-echo-other-bulk", "In the echo mode a bulk string that is not our message is business.",
     f"{OURS} §3.3", bulk(b"hb-1234567"), [biz(36, bulk(b"hb-1234567"))], role="client", pingMessage="hb-")
resp("resp-pong-in-echo-mode", "In the echo mode +PONG answers no PING of ours: business.",
     f"{OURS} §3.3", simple(b"PONG"), [biz(43, simple(b"PONG"))], role="client", pingMessage="hb-")
resp("resp-subscribed-pong", "RESP2 subscribed mode answers PING with [\"pong\", \"\"]: a pong.",
     f"{OURS} §3.4", array(bulk(b"pong"), bulk(b"")), [pong_item()], role="client")
resp("resp-subscribed-pong-echo", "RESP2 subscribed mode answers PING <message> with [\"pong\", message]: the echo-mode pong.",
     f"{OURS} §3.4", array(bulk(b"pong"), bulk(b"hb-" + PAYLOAD)), [pong_item(PAYLOAD)], role="client", pingMessage="hb-")
resp("resp-attribute-before-pong", "An attribute annotating +PONG is part of the pong's value.",
     f"{SPEC} Attributes; {OURS} §2.2", pairs(b"|", [(simple(b"a"), simple(b"b"))]) + simple(b"PONG"), [pong_item()], role="client")
resp("resp-capture-both-directions", "A capture (no role) reads commands and replies alike.",
     f"{OURS} §3.5", command(b"PING") + simple(b"PONG") + command(b"GET", b"k") + bulk(b"v"),
     [ping_item(), pong_item(), biz(42, command(b"GET", b"k")), biz(36, bulk(b"v"))])

# -- every type delimited
SAMPLES = [
    ("simple-string", 43, simple(b"OK")),
    ("simple-error", 45, error(b"ERR unknown command 'FOO'")),
    ("integer", 58, integer(-42)),
    ("integer-plus", 58, b":+7\r\n"),
    ("bulk-string", 36, bulk(b"hello\r\nworld")),
    ("empty-bulk-string", 36, bulk(b"")),
    ("null-bulk-string", 36, b"$-1\r\n"),
    ("array-nested", 42, array(array(integer(1), integer(2)), array(simple(b"a"), error(b"b")))),
    ("empty-array", 42, b"*0\r\n"),
    ("null-array", 42, b"*-1\r\n"),
    ("null", 95, b"_\r\n"),
    ("boolean", 35, b"#t\r\n"),
    ("double", 44, b",3.14e-2\r\n"),
    ("double-inf", 44, b",-inf\r\n"),
    ("big-number", 40, b"(3492890328409238509324850943850943825024385\r\n"),
    ("bulk-error", 33, bulk(b"SYNTAX invalid syntax", b"!")),
    ("verbatim-string", 61, bulk(b"txt:Some string", b"=")),
    ("map", 37, pairs(b"%", [(simple(b"first"), integer(1)), (simple(b"second"), integer(2))])),
    ("set", 126, aggregate(b"~", [simple(b"orange"), simple(b"apple"), b"#t\r\n"])),
    ("push", 62, aggregate(b">", [bulk(b"message"), bulk(b"channel"), bulk(b"hi")])),
    ("attribute", 42, pairs(b"|", [(simple(b"key-popularity"), pairs(b"%", [(bulk(b"a"), b",0.1923\r\n")]))])
     + array(integer(2039123), integer(9543892))),
    ("attribute-inside-array", 42, array(pairs(b"|", [(simple(b"ttl"), integer(3600))]) + integer(1), integer(2))),
]
for name, type_octet, value in SAMPLES:
    resp(f"resp-type-{name}", f"A {name.replace('-', ' ')} value, delimited whole (type {type_octet}).",
         f"{SPEC}; {OURS} §2.1", value, [biz(type_octet, value)], role="client")

# -- errors
resp("resp-bare-lf", "A RESP line must end with CR LF: a bare LF is a protocol error at the value.",
     f"{OURS} §4", simple(b"OK") + b"+OK\n", [biz(43, simple(b"OK"))], err("PROTOCOL_ERROR", 5, "resp-terminator"), role="client")
resp("resp-cr-inside-line", "A CR not followed by LF inside a line is a protocol error.",
     f"{OURS} §4", b"+O\rK\r\n", [], err("PROTOCOL_ERROR", 0, "resp-terminator"), role="client")
resp("resp-bulk-missing-crlf", "A bulk string's data must be followed by CR LF.",
     f"{OURS} §4", b"$3\r\nabcXY", [], err("PROTOCOL_ERROR", 0, "resp-terminator"), role="client")
resp("resp-bad-length", "A bulk length must be decimal digits.",
     f"{OURS} §4", b"$abc\r\n", [], err("PROTOCOL_ERROR", 0, "resp-length"), role="client")
resp("resp-leading-zero-length", "A length has no leading zeros.",
     f"{OURS} §4", b"*01\r\n:1\r\n", [], err("PROTOCOL_ERROR", 0, "resp-length"), role="client")
resp("resp-negative-length", "Only -1 (a null) is allowed below zero, and only for $ and *.",
     f"{OURS} §4", b"~-1\r\n", [], err("PROTOCOL_ERROR", 0, "resp-length"), role="client")
resp("resp-bad-integer", "An integer is an optional sign and digits.",
     f"{OURS} §4", b":12a\r\n", [], err("PROTOCOL_ERROR", 0, "resp-integer"), role="client")
resp("resp-integer-overflow", "An integer must fit 64 signed bits.",
     f"{OURS} §4", b":9223372036854775808\r\n", [], err("PROTOCOL_ERROR", 0, "resp-integer"), role="client")
resp("resp-bad-boolean", "A boolean is t or f.",
     f"{OURS} §4", b"#x\r\n", [], err("PROTOCOL_ERROR", 0, "resp-boolean"), role="client")
resp("resp-bad-double", "A double follows the RESP3 grammar.",
     f"{OURS} §4", b",1.2.3\r\n", [], err("PROTOCOL_ERROR", 0, "resp-double"), role="client")
resp("resp-bad-null", "A RESP3 null has no content.",
     f"{OURS} §4", b"_x\r\n", [], err("PROTOCOL_ERROR", 0, "resp-null"), role="client")
resp("resp-bad-verbatim", "A verbatim string starts with a 3-octet format and a colon.",
     f"{OURS} §4", bulk(b"txt-abc", b"="), [], err("PROTOCOL_ERROR", 0, "resp-verbatim"), role="client")
resp("resp-huge-bulk", "A bulk length past maxFrameSize fails as soon as its header is read, before any data.",
     f"{OURS} §5", simple(b"OK") + b"$1000000000\r\n", [biz(43, simple(b"OK"))], err("PROTOCOL_ERROR", 5, "frame-too-large"), role="client")
resp("resp-huge-array-count", "An aggregate count that cannot fit (count x 3 octets) fails at its header.",
     f"{OURS} §5", b"*400000\r\n", [], err("PROTOCOL_ERROR", 0, "frame-too-large"), role="client")
resp("resp-huge-map-count", "A map counts pairs: 2 x 3 octets each at least.",
     f"{OURS} §5", b"%20\r\n", [], err("PROTOCOL_ERROR", 0, "frame-too-large"), role="client", maxFrameSize=64)
resp("resp-too-deep", "Nesting beyond maxDepth fails at the aggregate that goes too deep.",
     f"{OURS} §5", b"*1\r\n*1\r\n*1\r\n:1\r\n", [], err("PROTOCOL_ERROR", 0, "resp-depth"), role="client", maxDepth=2)
resp("resp-client-inline", "A client reads no inline values: an octet that opens no type is a protocol error.",
     f"{OURS} §2.3", b"PONG\r\n", [], err("PROTOCOL_ERROR", 0, "resp-unknown-type"), role="client")
resp("resp-unknown-type-in-array", "Inside an aggregate every element needs a type octet, whatever the role.",
     f"{OURS} §2.3", b"*1\r\nPING\r\n", [], err("PROTOCOL_ERROR", 0, "resp-unknown-type"), role="server")
resp("resp-truncated-bulk", "The input ends inside a bulk string.",
     f"{OURS} §4", simple(b"OK") + b"$5\r\nhel", [biz(43, simple(b"OK"))], err("TRUNCATED", 5, "truncated"), role="client")
resp("resp-truncated-array", "The input ends before an array's last element.",
     f"{OURS} §4", b"*2\r\n:1\r\n", [], err("TRUNCATED", 0, "truncated"), role="client")

# -- deep nesting within the default bound (32)
deep = integer(7)
for _ in range(32):
    deep = array(deep)
resp("resp-depth-32", "Thirty-two nested arrays: the default maximum depth.", f"{OURS} §5", deep, [biz(42, deep)], role="client")
resp("resp-depth-33", "Thirty-three nested arrays: one too deep for the default.",
     f"{OURS} §5", array(deep), [], err("PROTOCOL_ERROR", 0, "resp-depth"), role="client")


# ---------------------------------------------------------------- text lines
LINES = []


def lines(name, description, data, items, error=None, **options):
    vector = {"name": name, "dialect": "lines", "description": description, "reference": "spec/lines.md",
              "input": data.hex(), "items": items, "error": error}
    if options:
        vector["options"] = options
    LINES.append(vector)


def line(content):
    return {"item": "business", "type": 0, "data": content.hex()}


lines("lines-ping-lf", "PING ended by LF is a ping.", b"PING\n", [ping_item()])
lines("lines-ping-crlf", "PING ended by CR LF is a ping.", b"PING\r\n", [ping_item()])
lines("lines-pong-lf", "PONG ended by LF is a pong.", b"PONG\n", [pong_item()])
lines("lines-pong-crlf", "PONG ended by CR LF is a pong.", b"PONG\r\n", [pong_item()])
lines("lines-business", "Any other line is business of type 0: its content without the terminator.", b"hello world\n", [line(b"hello world")])
lines("lines-business-crlf", "The CR of a CR LF is not content.", b"hello\r\n", [line(b"hello")])
lines("lines-empty", "An empty line is business with no octets.", b"\n", [line(b"")])
lines("lines-empty-crlf", "An empty CR LF line is business with no octets.", b"\r\n", [line(b"")])
lines("lines-lowercase-ping", "Heartbeat words are case-sensitive: ping is business.", b"ping\n", [line(b"ping")])
lines("lines-ping-trailing-space", "PING followed by a space is business.", b"PING \n", [line(b"PING ")])
lines("lines-pingpong", "PINGPONG is one business line.", b"PINGPONG\n", [line(b"PINGPONG")])
lines("lines-cr-inside", "A CR not just before the LF is content.", b"a\rb\n", [line(b"a\rb")])
lines("lines-double-cr", "CR CR LF: the first CR is content.", b"\r\r\n", [line(b"\r")])
lines("lines-nul", "Any octet but LF is content, NUL included.", b"a\x00b\n", [line(b"a\x00b")])
lines("lines-utf8", "UTF-8 text passes as octets.", "héllo ✓\n".encode(), [line("héllo ✓".encode())])
lines("lines-mixed", "Heartbeats and business in order.", b"PING\nhello\r\nPONG\r\nbye\n",
      [ping_item(), line(b"hello"), pong_item(), line(b"bye")])
lines("lines-max-length", "A line of exactly maxFrameSize octets is accepted.", b"abcdefgh\n", [line(b"abcdefgh")], maxFrameSize=8)
lines("lines-max-length-crlf", "...with CR LF too.", b"abcdefgh\r\n", [line(b"abcdefgh")], maxFrameSize=8)
lines("lines-too-long", "A line of maxFrameSize + 1 octets is LINE_TOO_LONG at its start.", b"ok\nabcdefghi\n",
      [line(b"ok")], err("LINE_TOO_LONG", 3, "frame-too-large"), maxFrameSize=8)
lines("lines-too-long-unterminated", "LINE_TOO_LONG as soon as the octets seen cannot end in time, not TRUNCATED.",
      b"abcdefghij", [], err("LINE_TOO_LONG", 0, "frame-too-large"), maxFrameSize=8)
lines("lines-too-long-cr-not-lf", "A CR after maxFrameSize octets must be followed by LF.", b"abcdefgh\rX\n",
      [], err("LINE_TOO_LONG", 0, "frame-too-large"), maxFrameSize=8)
lines("lines-truncated", "The input ends inside a line.", b"PIN", [], err("TRUNCATED", 0, "truncated"))
lines("lines-truncated-after-lines", "Items before the unfinished line are reported.", b"PING\nabc",
      [ping_item()], err("TRUNCATED", 5, "truncated"))
lines("lines-truncated-cr", "A final CR without its LF is an unfinished line.", b"PONG\r", [], err("TRUNCATED", 0, "truncated"))
lines("lines-default-max", "The default maximum line length is 8,192 octets.", b"x" * 8192 + b"\n", [line(b"x" * 8192)])
lines("lines-default-max-exceeded", "8,193 octets exceed the default.", b"x" * 8193 + b"\n", [],
      err("LINE_TOO_LONG", 0, "frame-too-large"))


def write(name, vectors):
    with open(os.path.join(HERE, name), "w") as out:
        json.dump({"vectors": vectors}, out, indent=1, ensure_ascii=False)
        out.write("\n")


assert len(RESP) >= 25 and len(LINES) >= 25
assert len({v["name"] for v in RESP + LINES}) == len(RESP) + len(LINES)
write("resp.json", RESP)
write("lines.json", LINES)
print(f"resp.json: {len(RESP)} vectors, lines.json: {len(LINES)} vectors")
