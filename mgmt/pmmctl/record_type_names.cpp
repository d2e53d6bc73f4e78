#include "mgmt/pmmctl/record_type_names.hpp"

#include <cassert>
#include <charconv>
#include <string>
#include <utility>

#include "persistence/journal_format.hpp"
#include "core/byte_order.hpp"
#include "core/pipeline/market_data_journal.hpp"
#include "risk/risk_control_record.hpp"
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
  names.add(jr::kRiskControl, "risk-control", [](const uint8_t* p, size_t n) -> std::string {
    risk::RiskControlEvent e;
    if (n > UINT16_MAX || !jr::decode_risk_control(p, static_cast<uint16_t>(n), e)) return "(malformed)";
    const bool known = static_cast<size_t>(e.limit) < risk::kRiskLimitCount;
    return "request=" + std::to_string(e.request_id) + " kind=" + std::string(risk::to_string(e.kind)) +
           " limit=" + (known ? std::string(risk::limit_key(e.limit)) : std::to_string(static_cast<unsigned>(e.limit))) +
           " symbol=" + std::to_string(e.symbol) + " old=" + std::to_string(e.old_value) +
           " new=" + std::to_string(e.new_value) + " status=" + std::string(risk::to_string(e.status)) +
           " applied_ns=" + std::to_string(e.applied_ns);
  });
  names.add(pipe::md_records::kItchMessage, "itch-message", [](const uint8_t* p, size_t n) -> std::string {
    if (n < 3) return "(malformed)";
    return std::string("itch=") + static_cast<char>(p[0]) + " locate=" + std::to_string(load_be16(p + 1)) +
           " bytes=" + std::to_string(n);
  });
  names.add(pipe::md_records::kMessagesLost, "messages-lost", [](const uint8_t* p, size_t n) -> std::string {
    if (n != pipe::md_records::kLostBytes) return "(malformed)";
    return "count=" + std::to_string(load_be64(p));
  });
  names.add(pipe::md_records::kBooksReset, "books-reset");
}

RecordTypeNames pmmctl_record_type_names() {
  RecordTypeNames names;
  register_appliance_record_types(names);
  return names;
}

}  // namespace pmm::mgmt
