#include "mgmt/pmmctl/record_type_names.hpp"

#include <cassert>
#include <charconv>

#include "persistence/journal_format.hpp"

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

void register_appliance_record_types(RecordTypeNames& names) {
  // The trading state's record types are registered here once they are defined, e.g.
  //   names.add(20, "order-added", decode_order_added);
  (void)names;
}

RecordTypeNames pmmctl_record_type_names() {
  RecordTypeNames names;
  register_appliance_record_types(names);
  return names;
}

}  // namespace pmm::mgmt
