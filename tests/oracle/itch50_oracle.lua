-- NASDAQ TotalView-ITCH 5.0 as a table of (field, offset, length, kind), transcribed from
-- shared/specs/itch50.txt for the tshark oracle test (docs/tshark-oracle.md).
--
-- Why this exists: Wireshark 4.0's built-in nasdaq_itch dissector decodes the ASCII ITCH 2.0/3.0
-- layouts only, so it cannot check ITCH 5.0 fields. Here Wireshark still does the byte work (it
-- reads every integer big-endian from the ranges below, and every alpha field as ASCII); this file
-- only says where the fields are. Keep it a second, independent transcription of the spec: never
-- generate it from core/itch.hpp or the other way round.
--
-- Usage: tshark -X lua_script:itch50_oracle.lua -d udp.port==26400,moldudp64 \
--                -d moldudp64.payload,itch50 ...
--
-- Field names: the header fields (itch50.type, .locate, .tracking, .timestamp) occur once per
-- message; every other field is named itch50.<message>.<field> and occurs once per message of that
-- type, so with `tshark -T fields -E occurrence=a` the k-th value of a field belongs to the k-th
-- message of its type in the packet.

local itch50 = Proto("itch50", "NASDAQ TotalView-ITCH 5.0 (spec field table, PinnacleMM test oracle)")

-- Field kinds. Price(4) is shown as its decimal value (integer / 10^4, one IEEE division, which is
-- exact enough for tshark to print the 10 significant digits a uint32 Price(4) can have). Price(8)
-- stays an integer: a uint64 with 8 implied decimals does not fit a double.
local ALPHA, U16, U32, U64, PRICE4, PRICE8 = "alpha", "u16", "u32", "u64", "price4", "price8"

-- type byte -> { message name, spec length, { { field, offset, length, kind }, ... } }
-- Offsets 0..10 (type, locate, tracking, timestamp) are common to all messages and not repeated.
local messages = {
  ["S"] = { "system_event", 12, {
    { "event_code", 11, 1, ALPHA } } },
  ["R"] = { "stock_directory", 39, {
    { "stock", 11, 8, ALPHA },
    { "market_category", 19, 1, ALPHA },
    { "financial_status", 20, 1, ALPHA },
    { "round_lot_size", 21, 4, U32 },
    { "round_lots_only", 25, 1, ALPHA },
    { "issue_classification", 26, 1, ALPHA },
    { "issue_subtype", 27, 2, ALPHA },
    { "authenticity", 29, 1, ALPHA },
    { "short_sale_threshold", 30, 1, ALPHA },
    { "ipo_flag", 31, 1, ALPHA },
    { "luld_tier", 32, 1, ALPHA },
    { "etp_flag", 33, 1, ALPHA },
    { "etp_leverage", 34, 4, U32 },
    { "inverse", 38, 1, ALPHA } } },
  ["H"] = { "trading_action", 25, {
    { "stock", 11, 8, ALPHA },
    { "trading_state", 19, 1, ALPHA },
    { "reserved", 20, 1, ALPHA },
    { "reason", 21, 4, ALPHA } } },
  ["Y"] = { "reg_sho", 20, {
    { "stock", 11, 8, ALPHA },
    { "action", 19, 1, ALPHA } } },
  ["L"] = { "participant_position", 26, {
    { "mpid", 11, 4, ALPHA },
    { "stock", 15, 8, ALPHA },
    { "primary_market_maker", 23, 1, ALPHA },
    { "market_maker_mode", 24, 1, ALPHA },
    { "participant_state", 25, 1, ALPHA } } },
  ["V"] = { "mwcb_decline", 35, {
    { "level1", 11, 8, PRICE8 },
    { "level2", 19, 8, PRICE8 },
    { "level3", 27, 8, PRICE8 } } },
  ["W"] = { "mwcb_status", 12, {
    { "breached_level", 11, 1, ALPHA } } },
  ["K"] = { "ipo_quoting", 28, {
    { "stock", 11, 8, ALPHA },
    { "release_time", 19, 4, U32 },
    { "release_qualifier", 23, 1, ALPHA },
    { "ipo_price", 24, 4, PRICE4 } } },
  ["J"] = { "luld_collar", 35, {
    { "stock", 11, 8, ALPHA },
    { "reference_price", 19, 4, PRICE4 },
    { "upper_price", 23, 4, PRICE4 },
    { "lower_price", 27, 4, PRICE4 },
    { "extension", 31, 4, U32 } } },
  ["h"] = { "operational_halt", 21, {
    { "stock", 11, 8, ALPHA },
    { "market_code", 19, 1, ALPHA },
    { "action", 20, 1, ALPHA } } },
  ["A"] = { "add_order", 36, {
    { "order_ref", 11, 8, U64 },
    { "side", 19, 1, ALPHA },
    { "shares", 20, 4, U32 },
    { "stock", 24, 8, ALPHA },
    { "price", 32, 4, PRICE4 } } },
  ["F"] = { "add_order_mpid", 40, {
    { "order_ref", 11, 8, U64 },
    { "side", 19, 1, ALPHA },
    { "shares", 20, 4, U32 },
    { "stock", 24, 8, ALPHA },
    { "price", 32, 4, PRICE4 },
    { "attribution", 36, 4, ALPHA } } },
  ["E"] = { "order_executed", 31, {
    { "order_ref", 11, 8, U64 },
    { "executed_shares", 19, 4, U32 },
    { "match", 23, 8, U64 } } },
  ["C"] = { "order_executed_price", 36, {
    { "order_ref", 11, 8, U64 },
    { "executed_shares", 19, 4, U32 },
    { "match", 23, 8, U64 },
    { "printable", 31, 1, ALPHA },
    { "execution_price", 32, 4, PRICE4 } } },
  ["X"] = { "order_cancel", 23, {
    { "order_ref", 11, 8, U64 },
    { "canceled_shares", 19, 4, U32 } } },
  ["D"] = { "order_delete", 19, {
    { "order_ref", 11, 8, U64 } } },
  ["U"] = { "order_replace", 35, {
    { "original_ref", 11, 8, U64 },
    { "new_ref", 19, 8, U64 },
    { "shares", 27, 4, U32 },
    { "price", 31, 4, PRICE4 } } },
  ["P"] = { "trade", 44, {
    { "order_ref", 11, 8, U64 },
    { "side", 19, 1, ALPHA },
    { "shares", 20, 4, U32 },
    { "stock", 24, 8, ALPHA },
    { "price", 32, 4, PRICE4 },
    { "match", 36, 8, U64 } } },
  ["Q"] = { "cross_trade", 40, {
    { "shares", 11, 8, U64 },
    { "stock", 19, 8, ALPHA },
    { "cross_price", 27, 4, PRICE4 },
    { "match", 31, 8, U64 },
    { "cross_type", 39, 1, ALPHA } } },
  ["B"] = { "broken_trade", 19, {
    { "match", 11, 8, U64 } } },
  ["I"] = { "noii", 50, {
    { "paired_shares", 11, 8, U64 },
    { "imbalance_shares", 19, 8, U64 },
    { "imbalance_direction", 27, 1, ALPHA },
    { "stock", 28, 8, ALPHA },
    { "far_price", 36, 4, PRICE4 },
    { "near_price", 40, 4, PRICE4 },
    { "reference_price", 44, 4, PRICE4 },
    { "cross_type", 48, 1, ALPHA },
    { "price_variation", 49, 1, ALPHA } } },
  ["N"] = { "retail_interest", 20, {
    { "stock", 11, 8, ALPHA },
    { "interest_flag", 19, 1, ALPHA } } },
  ["O"] = { "dlcr_price_discovery", 48, {
    { "stock", 11, 8, ALPHA },
    { "open_eligibility", 19, 1, ALPHA },
    { "min_price", 20, 4, PRICE4 },
    { "max_price", 24, 4, PRICE4 },
    { "near_price", 28, 4, PRICE4 },
    { "near_time", 32, 8, U64 },
    { "lower_collar", 40, 4, PRICE4 },
    { "upper_collar", 44, 4, PRICE4 } } },
}

local function make_field(abbrev, label, kind)
  if kind == ALPHA then return ProtoField.string(abbrev, label) end
  if kind == U16 then return ProtoField.uint16(abbrev, label, base.DEC) end
  if kind == U32 then return ProtoField.uint32(abbrev, label, base.DEC) end
  if kind == U64 then return ProtoField.uint64(abbrev, label, base.DEC) end
  if kind == PRICE4 then return ProtoField.double(abbrev, label .. " (Price(4))") end
  if kind == PRICE8 then return ProtoField.uint64(abbrev, label .. " (Price(8), 8 implied decimals)", base.DEC) end
  error("itch50_oracle.lua: unknown field kind " .. tostring(kind) .. " for " .. abbrev)
end

local f_type = ProtoField.string("itch50.type", "Message Type")
local f_locate = ProtoField.uint16("itch50.locate", "Stock Locate", base.DEC)
local f_tracking = ProtoField.uint16("itch50.tracking", "Tracking Number", base.DEC)
local f_timestamp = ProtoField.uint64("itch50.timestamp", "Timestamp (ns since midnight)", base.DEC)
local all_fields = { f_type, f_locate, f_tracking, f_timestamp }

-- Sanity-check the table itself (fields in order, inside the message, no overlap) so that a typo
-- here fails loudly instead of silently comparing the wrong bytes.
for type_char, m in pairs(messages) do
  local name, length, fields = m[1], m[2], m[3]
  local next_offset = 11
  for _, f in ipairs(fields) do
    local fname, offset, flen, kind = f[1], f[2], f[3], f[4]
    if offset ~= next_offset then
      error(string.format("itch50_oracle.lua: %s.%s at offset %d, expected %d", name, fname, offset, next_offset))
    end
    next_offset = offset + flen
    f.proto_field = make_field("itch50." .. name .. "." .. fname, fname, kind)
    all_fields[#all_fields + 1] = f.proto_field
  end
  if next_offset ~= length then
    error(string.format("itch50_oracle.lua: %s fields end at %d, spec length is %d", name, next_offset, length))
  end
end
itch50.fields = all_fields

local e_unknown_type = ProtoExpert.new("itch50.unknown_type", "Not an ITCH 5.0 message type",
  expert.group.MALFORMED, expert.severity.ERROR)
local e_bad_length = ProtoExpert.new("itch50.bad_length", "Message length differs from the spec's",
  expert.group.MALFORMED, expert.severity.ERROR)
itch50.experts = { e_unknown_type, e_bad_length }

function itch50.dissector(tvb, pinfo, tree)
  pinfo.cols.protocol = "ITCH50"
  local t = tree:add(itch50, tvb())
  if tvb:len() < 1 then
    t:add_proto_expert_info(e_bad_length, "empty message")
    return
  end
  local type_char = tvb(0, 1):string()
  t:add(f_type, tvb(0, 1))
  local m = messages[type_char]
  if m == nil then
    t:add_proto_expert_info(e_unknown_type, string.format("type byte 0x%02x", tvb(0, 1):uint()))
    return
  end
  local name, length, fields = m[1], m[2], m[3]
  if tvb:len() ~= length then
    t:add_proto_expert_info(e_bad_length, string.format("%s: %d bytes, spec says %d", name, tvb:len(), length))
    return
  end
  t:append_text(", " .. name)
  t:add(f_locate, tvb(1, 2))
  t:add(f_tracking, tvb(3, 2))
  t:add(f_timestamp, tvb(5, 6))
  for _, f in ipairs(fields) do
    local offset, flen, kind = f[2], f[3], f[4]
    local range = tvb(offset, flen)
    if kind == PRICE4 then
      t:add(f.proto_field, range, range:uint() / 10000)
    else
      t:add(f.proto_field, range)  -- Wireshark decodes the range: big-endian integers, ASCII alpha
    end
  end
end

DissectorTable.get("moldudp64.payload"):add_for_decode_as(itch50)
