// Names and decoders of journal record types for `pmmctl journal dump` (docs/recovery.md). The journal
// itself does not interpret payloads; the appliance's record types (orders, fills, ...) are registered
// here by whoever defines them, so a dump shows `type=20(order-added) ... | side=B price=1.2345 ...`
// instead of bare hex. The journal's own types (padding, sync marker, segment end) are built in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace pmm::mgmt {

class RecordTypeNames {
 public:
  // Returns "" or a short human-readable form of the payload ("" means: hex only).
  using Decoder = std::function<std::string(const uint8_t* payload, size_t length)>;

  struct Entry {
    std::string name;
    Decoder decode;  // may be empty
  };

  // The journal's own types, decoded.
  RecordTypeNames();

  // Registers (or replaces) a type; `name` must be unique and not a number.
  void add(uint16_t type, std::string name, Decoder decode = {});

  const Entry* find(uint16_t type) const;
  // A type by its registered name or as a decimal number; nullopt if neither.
  std::optional<uint16_t> parse(const std::string& text) const;

 private:
  std::map<uint16_t, Entry> entries_;
};

// The table pmmctl uses: the built-in types plus register_appliance_record_types().
RecordTypeNames pmmctl_record_type_names();

// The hook for the appliance's record types; empty until the trading records are defined
// (mgmt/pmmctl/record_type_names.cpp).
void register_appliance_record_types(RecordTypeNames& names);

}  // namespace pmm::mgmt
