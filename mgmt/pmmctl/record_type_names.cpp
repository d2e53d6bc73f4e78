#include "mgmt/pmmctl/record_type_names.hpp"

#include <cassert>
#include <charconv>
#include <string>
#include <utility>

#include "persistence/journal_format.hpp"
#include "risk/trading_journal.hpp"

namespace pmm::mgmt {

namespace j = persistence::journal;

RecordTypeNames::RecordTypeNames() {
  add(j::kPadding, "padding");
  add(j::kSyncMarker, "sync-marker", [](const uint8_t* p, size_t n) -> std::string {
    if (n < j::kSyncMarkerPayload) return "";
    return "durable_through=" + std::to_string(j::load_le<uint64_t>(p)) +
           " unix_ns=" + std::to_string(j::load_le<uint64_t>(p + 8));
  });
  add(j::kSegmentEnd, "segment-end");
}

void RecordTypeNames::add(uint16_t type, std::string name, Decoder decode) {
  assert(!name.empty() && (name[0] < '0' || name[0] > '9'));
  entries_[type] = Entry{std::move(name), std::move(decode)};
}

const RecordTypeNames::Entry* RecordTypeNames::find(uint16_t type) const {
  const auto it = entries_.find(type);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<uint16_t> RecordTypeNames::parse(const std::string& text) const {
  uint16_t v = 0;
  const char* end = text.data() + text.size();
  if (!text.empty()) {
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec == std::errc() && ptr == end) return v;
  }
  for (const auto& [type, e] : entries_)
    if (e.name == text) return type;
  return std::nullopt;
}

namespace {
// The trading stage's records (docs/journal-records.md), one line each.
std::string decode_trading(uint16_t type, const uint8_t* p, size_t n) {
  namespace jr = risk::journal_records;
  jr::TradingRecord r;
  if (n > UINT16_MAX || !jr::decode(type, p, static_cast<uint16_t>(n), r)) return "(malformed)";
  std::string s = "token=" + std::string(r.token.view());
  const auto add = [&](const char* k, const std::string& v) { s += std::string(" ") + k + "=" + v; };
  if (type == jr::kReplaceRequest || type == jr::kReplaced)
    add(type == jr::kReplaced ? "previous" : "new", std::string(r.other_token.view()));
  if (type == jr::kOrderSubmit) {
    add("symbol", std::to_string(r.symbol));
    add("side", r.side == orders::Side::kBuy ? "B" : "S");
  }
  if (r.price != 0) add("price", std::to_string(r.price));
  if (type != jr::kCancelRequest && type != jr::kRejected && type != jr::kCancelPending && type != jr::kCancelReject &&
      type != jr::kBrokenTrade)
    add(type == jr::kCanceled ? "decrement" : "shares", std::to_string(r.shares));
  if (type == jr::kExecuted || type == jr::kBrokenTrade) add("match", std::to_string(r.match));
  if (type == jr::kCanceled || type == jr::kBrokenTrade || type == jr::kRejected) add("reason", std::string(1, r.reason));
  add(type <= jr::kCancelRequest ? "out_seq" : "in_seq", std::to_string(r.sequence));
  if (type <= jr::kCancelRequest) add("as_of", std::to_string(r.as_of));
  return s;
}
}  // namespace

void register_appliance_record_types(RecordTypeNames& names) {
  namespace jr = risk::journal_records;
  const std::pair<uint16_t, const char*> types[] = {
      {jr::kOrderSubmit, "order-submit"},   {jr::kReplaceRequest, "replace-request"},
      {jr::kCancelRequest, "cancel-request"}, {jr::kAccepted, "accepted"},
      {jr::kReplaced, "replaced"},          {jr::kCanceled, "canceled"},
      {jr::kExecuted, "executed"},          {jr::kBrokenTrade, "broken-trade"},
      {jr::kRejected, "rejected"},          {jr::kCancelPending, "cancel-pending"},
      {jr::kCancelReject, "cancel-reject"}};
  for (const auto& [type, name] : types)
    names.add(type, name, [t = type](const uint8_t* p, size_t n) { return decode_trading(t, p, n); });
}

RecordTypeNames pmmctl_record_type_names() {
  RecordTypeNames names;
  register_appliance_record_types(names);
  return names;
}

}  // namespace pmm::mgmt
