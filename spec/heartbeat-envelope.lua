-- Wireshark / tshark dissector for the swift-heartbeat TCP envelope, version 1 (spec/envelope.md).
--
-- Shows each direction's 8-octet preface (magic and version), then every frame: its type, length
-- and payload; a PING's or PONG's sequence number and send time (the recommended layout of §5.2),
-- the PING a PONG answers and the round trip; a GOAWAY's error code and reason. Frames that break
-- the spec are marked with expert info of the Malformed group (filter: hb.malformed), and the rest
-- of that direction is shown as undissected, as a receiver would stop there.
--
-- Use:
--   tshark -X lua_script:spec/heartbeat-envelope.lua -d tcp.port==7000,hb -r capture.pcapng
--   tshark -X lua_script:spec/heartbeat-envelope.lua -o hb.tcp_port:7000 -r capture.pcapng -V
-- or copy it into Wireshark's personal Lua plugins folder and set Preferences › Protocols › HB.
-- Frames split across TCP segments are reassembled (TCP's "allow subdissector to reassemble"
-- preference, on by default).

local hb = Proto("hb", "swift-heartbeat TCP envelope")

local MAGIC = { 0x89, 0x48, 0x42, 0x0d, 0x0a, 0x1a, 0x0a }
local PREFACE_LENGTH = 8
local SPOKEN_VERSION = 1
local HEARTBEAT_PAYLOAD_LENGTH = 8

local frame_types = { [0] = "DATA", [1] = "PING", [2] = "PONG", [3] = "GOAWAY" }
local error_codes = {
    [0] = "NO_ERROR", [1] = "PROTOCOL_ERROR", [2] = "INTERNAL_ERROR", [3] = "FRAME_SIZE_ERROR",
    [4] = "PREFACE_ERROR", [5] = "VERSION_ERROR", [6] = "ENHANCE_YOUR_CALM", [7] = "LIVENESS_TIMEOUT",
}

-- Preferences.
hb.prefs.tcp_port = Pref.uint("TCP port", 0, "Decode this TCP port as the envelope (0: none; or use -d tcp.port==N,hb)")
hb.prefs.max_frame_size = Pref.uint("Maximum frame size", 16384,
    "Largest payload a receiver accepts, in octets (spec/envelope.md §4: 16,384 unless configured, at most 16,777,215)")
hb.prefs.expect_preface = Pref.bool("Expect a preface", true,
    "Each direction begins with the 8-octet preface (turn off for captures that start mid-connection)")

-- Fields.
local f = {
    preface = ProtoField.bytes("hb.preface", "Preface"),
    magic = ProtoField.bytes("hb.preface.magic", "Magic"),
    version = ProtoField.uint8("hb.preface.version", "Version"),
    frame = ProtoField.none("hb.frame", "Frame"),
    type = ProtoField.uint64("hb.type", "Type", base.DEC),
    type_name = ProtoField.string("hb.type_name", "Type name"),
    length = ProtoField.uint64("hb.length", "Length"),
    payload = ProtoField.bytes("hb.payload", "Payload"),
    sequence = ProtoField.uint32("hb.sequence", "Sequence number"),
    timestamp = ProtoField.uint32("hb.timestamp_ms", "Send time (ms, wrapping)"),
    data = ProtoField.bytes("hb.data", "Data"),
    goaway_code = ProtoField.uint64("hb.goaway.code", "Error code", base.DEC),
    goaway_code_name = ProtoField.string("hb.goaway.code_name", "Error name"),
    goaway_reason = ProtoField.string("hb.goaway.reason", "Reason"),
    ping_in = ProtoField.framenum("hb.pong.ping_in", "Answers the PING in frame", base.NONE, frametype.REQUEST),
    pong_in = ProtoField.framenum("hb.ping.pong_in", "Answered by the PONG in frame", base.NONE, frametype.RESPONSE),
    rtt = ProtoField.relative_time("hb.pong.rtt", "Round trip"),
    undissected = ProtoField.bytes("hb.undissected", "Not dissected after a connection error"),
}
hb.fields = {}
for _, field in pairs(f) do table.insert(hb.fields, field) end

local e = {
    malformed = ProtoExpert.new("hb.malformed", "Malformed envelope frame", expert.group.MALFORMED, expert.severity.ERROR),
    goaway = ProtoExpert.new("hb.goaway", "GOAWAY", expert.group.SEQUENCE, expert.severity.NOTE),
    unknown = ProtoExpert.new("hb.unknown_type", "Unknown frame type (ignored, §5.5)", expert.group.UNDECODED, expert.severity.NOTE),
}
hb.experts = { e.malformed, e.goaway, e.unknown }

local tcp_stream_f = Field.new("tcp.stream")
local frame_time_f = Field.new("frame.time_relative")

-- Per direction of each TCP connection (key: stream index and source): where the preface was
-- dissected and whether an error ended the direction. Per ping payload: the frame and time that
-- carried it, and the PONG that answered it. All filled on the first pass only (a PING shows its
-- PONG's frame when dissected again: in Wireshark, or with tshark -2).
local directions = {}
local pings = {}       -- key .. payload hex -> { frame = n, time = t }
local answers = {}     -- PONG frame number -> { ping = n, rtt = s }; PING frame number -> { pong = n }

function hb.init()
    directions = {}
    pings = {}
    answers = {}
end

-- A QUIC varint (RFC 9000 §16) at `offset`: value (a number; a UInt64 for 8-octet values),
-- encoded length, or nil when the tvb holds too few octets.
local function read_varint(tvb, offset)
    local remaining = tvb:len() - offset
    if remaining < 1 then return nil end
    local first = tvb(offset, 1):uint()
    local size = bit.lshift(1, bit.rshift(first, 6))
    if remaining < size then return nil, size end
    local value
    if size == 1 then
        value = bit.band(first, 0x3f)
    elseif size == 2 then
        value = bit.band(tvb(offset, 2):uint(), 0x3fff)
    elseif size == 4 then
        value = bit.band(tvb(offset, 4):uint(), 0x3fffffff)
        if value < 0 then value = value + 4294967296 end
    else
        local high = bit.band(tvb(offset, 4):uint(), 0x3fffffff)
        if high < 0 then high = high + 4294967296 end
        local low = tvb(offset + 4, 4):uint()
        value = UInt64(low, high)
    end
    return value, size
end

-- The smallest encoded length of `value`.
local function minimal_size(value)
    if type(value) ~= "number" then return value > UInt64(0x3fffffff) and 8 or 4 end
    if value < 64 then return 1 elseif value < 16384 then return 2 else return 4 end
end

local function as_number(value)
    if type(value) == "number" then return value end
    return value:tonumber()
end

local function hex_of(value)
    if type(value) == "number" then return string.format("%x", value) end
    return value:tohex():gsub("^0+(.)", "%1")
end

local function direction_key(pinfo)
    local stream = tcp_stream_f()
    return tostring(stream and stream.value or "?") .. "/" .. tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port)
end

local function peer_key(pinfo)
    local stream = tcp_stream_f()
    return tostring(stream and stream.value or "?") .. "/" .. tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
end

-- Marks `item` malformed with `code` and `text`, and the rest of this direction as undissected.
local function malformed(state, pinfo, item, code, text)
    item:add_proto_expert_info(e.malformed, code .. ": " .. text)
    if not pinfo.visited then state.failed_at = pinfo.number end
    return code
end

-- Dissects one frame whose octets are all present at `offset`; returns the info text and whether
-- it was malformed.
local function dissect_frame(tvb, pinfo, tree, state, offset, frame_type, type_size, length, length_size)
    local header_size = type_size + length_size
    local total = header_size + length
    local name = frame_types[as_number(frame_type)] or "unknown"
    local item = tree:add(f.frame, tvb(offset, total))
    item:set_text(string.format("%s frame (type 0x%s, %d octets)", name, hex_of(frame_type), length))
    item:add(f.type, tvb(offset, type_size), UInt64(as_number(frame_type))):append_text(" (" .. name .. ")")
    item:add(f.type_name, name):set_generated()
    item:add(f.length, tvb(offset + type_size, length_size), UInt64(length))
    local body = offset + header_size
    local text = name
    if minimal_size(frame_type) < type_size then
        return text, malformed(state, pinfo, item, "PROTOCOL_ERROR", "frame type in a non-minimal encoding (§4)")
    end
    if name == "PING" or name == "PONG" then
        if length ~= HEARTBEAT_PAYLOAD_LENGTH then
            return text, malformed(state, pinfo, item, "FRAME_SIZE_ERROR", name .. " payload must be 8 octets (§5.2)")
        end
        local payload = tvb(body, HEARTBEAT_PAYLOAD_LENGTH)
        item:add(f.payload, payload)
        local sequence = tvb(body, 4):uint()
        local timestamp = tvb(body + 4, 4):uint()
        item:add(f.sequence, tvb(body, 4))
        item:add(f.timestamp, tvb(body + 4, 4))
        text = string.format("%s seq=%d t=%d", name, sequence, timestamp)
        local hex = tostring(payload:bytes())
        local time_field = frame_time_f()
        local time = time_field and time_field.value or NSTime(0, 0)
        if not pinfo.visited then
            if name == "PING" then
                pings[direction_key(pinfo) .. hex] = { frame = pinfo.number, time = time }
            else
                local ping = pings[peer_key(pinfo) .. hex]
                if ping then
                    answers[pinfo.number] = { ping = ping.frame, rtt = time - ping.time }
                    answers[ping.frame] = { pong = pinfo.number }
                    pings[peer_key(pinfo) .. hex] = nil
                end
            end
        end
        local answer = answers[pinfo.number]
        if name == "PONG" and answer and answer.ping then
            item:add(f.ping_in, answer.ping):set_generated()
            item:add(f.rtt, answer.rtt):set_generated()
        elseif name == "PING" and answer and answer.pong then
            item:add(f.pong_in, answer.pong):set_generated()
        end
    elseif name == "GOAWAY" then
        local code, code_size
        if length > 0 then code, code_size = read_varint(tvb(body, length):tvb(), 0) end
        if code == nil then
            return text, malformed(state, pinfo, item, "FRAME_SIZE_ERROR", "GOAWAY too short for its error code (§5.4)")
        end
        local code_name = error_codes[as_number(code)] or "unknown (INTERNAL_ERROR)"
        item:add(f.goaway_code, tvb(body, code_size), UInt64(as_number(code))):append_text(" (" .. code_name .. ")")
        item:add(f.goaway_code_name, code_name):set_generated()
        local reason = ""
        if length > code_size then
            local range = tvb(body + code_size, length - code_size)
            reason = range:string(ENC_UTF_8)
            item:add(f.goaway_reason, range, reason)
        else
            item:add(f.goaway_reason, "")
        end
        item:add_proto_expert_info(e.goaway, "GOAWAY " .. code_name .. (reason ~= "" and (" \"" .. reason .. "\"") or ""))
        text = string.format("GOAWAY %s%s", code_name, reason ~= "" and (" \"" .. reason .. "\"") or "")
    elseif name == "DATA" then
        if length > 0 then item:add(f.data, tvb(body, length)) end
        text = string.format("DATA len=%d", length)
    else
        if length > 0 then item:add(f.payload, tvb(body, length)) end
        item:add_proto_expert_info(e.unknown)
        text = string.format("type 0x%s len=%d", hex_of(frame_type), length)
    end
    return text, nil
end

-- Sets the Info column for the first PDU of a packet and appends for the next ones (a packet
-- may end one reassembled PDU and carry more frames).
local function set_info(pinfo, text)
    if pinfo.private.hb_info then
        pinfo.cols.info:append(", " .. text)
    else
        pinfo.cols.info = text
        pinfo.private.hb_info = "1"
    end
end

function hb.dissector(tvb, pinfo, tree)
    local available = tvb:len()
    if available == 0 then return 0 end
    local key = direction_key(pinfo)
    local state = directions[key]
    if state == nil then
        state = {}
        directions[key] = state
    end
    pinfo.cols.protocol = "HB"
    local subtree = tree:add(hb, tvb())
    local infos = {}
    local offset = 0

    if state.failed_at and pinfo.number > state.failed_at then
        subtree:add(f.undissected, tvb())
        set_info(pinfo, "[after a connection error]")
        return available
    end

    -- The preface: expected at the start of the direction's first PDU.
    local preface_here = hb.prefs.expect_preface and
        ((state.preface_at == nil and not pinfo.visited) or state.preface_at == pinfo.number)
    if preface_here then
        local present = math.min(available, PREFACE_LENGTH)
        for index = 1, math.min(present, #MAGIC) do
            if tvb(index - 1, 1):uint() ~= MAGIC[index] then
                local item = subtree:add(f.preface, tvb(0, present))
                local code = malformed(state, pinfo, item, "PREFACE_ERROR",
                    string.format("octet %d is 0x%02x, the magic's is 0x%02x (§3)", index - 1, tvb(index - 1, 1):uint(), MAGIC[index]))
                if not pinfo.visited then state.preface_at = pinfo.number end
                subtree:add(f.undissected, tvb())
                set_info(pinfo, code)
                return available
            end
        end
        if available < PREFACE_LENGTH then
            pinfo.desegment_offset = 0
            pinfo.desegment_len = PREFACE_LENGTH - available
            return available
        end
        if not pinfo.visited then state.preface_at = pinfo.number end
        local item = subtree:add(f.preface, tvb(0, PREFACE_LENGTH))
        item:add(f.magic, tvb(0, #MAGIC))
        local version = tvb(#MAGIC, 1):uint()
        item:add(f.version, tvb(#MAGIC, 1))
        if version ~= SPOKEN_VERSION then
            local code = malformed(state, pinfo, item, "VERSION_ERROR", "version " .. version .. " is not spoken (§3)")
            set_info(pinfo, code)
            return available
        end
        table.insert(infos, "Preface v" .. version)
        offset = PREFACE_LENGTH
    end

    while offset < available do
        local frame_type, type_size = read_varint(tvb, offset)
        local length, length_size
        if frame_type ~= nil then length, length_size = read_varint(tvb, offset + type_size) end
        if frame_type == nil or length == nil then
            pinfo.desegment_offset = offset
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            break
        end
        local limit = math.min(hb.prefs.max_frame_size, 16777215)
        if type(length) ~= "number" or length > limit then
            local item = subtree:add(f.frame, tvb(offset, type_size + length_size))
            item:set_text(string.format("Frame header (type 0x%s, length %s)", hex_of(frame_type), tostring(length)))
            item:add(f.type, tvb(offset, type_size), UInt64(as_number(frame_type)))
            item:add(f.length, tvb(offset + type_size, length_size), type(length) == "number" and UInt64(length) or length)
            table.insert(infos, malformed(state, pinfo, item, "FRAME_SIZE_ERROR",
                string.format("length %s exceeds the maximum frame size %d (§4)", tostring(length), limit)))
            offset = available
            break
        end
        local total = type_size + length_size + length
        if available - offset < total then
            pinfo.desegment_offset = offset
            pinfo.desegment_len = total - (available - offset)
            break
        end
        local text, failure = dissect_frame(tvb, pinfo, subtree, state, offset, frame_type, type_size, length, length_size)
        table.insert(infos, failure or text)
        offset = offset + total
        if failure then
            if offset < available then subtree:add(f.undissected, tvb(offset)) end
            offset = available
            break
        end
    end

    subtree:set_len(math.max(offset, 0))
    set_info(pinfo, #infos > 0 and table.concat(infos, ", ") or "[partial frame]")
    -- The whole tvb is ours: what is left is asked for again through desegment_offset/len
    -- (returning less, or 0, would tell TCP the octets are not the envelope).
    return available
end

local tcp_port_table = DissectorTable.get("tcp.port")
tcp_port_table:add_for_decode_as(hb)

local registered_port = 0
function hb.prefs_changed()
    if registered_port ~= 0 then tcp_port_table:remove(registered_port, hb) end
    registered_port = hb.prefs.tcp_port
    if registered_port ~= 0 then tcp_port_table:add(registered_port, hb) end
end
