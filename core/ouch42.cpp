#include "core/ouch42.hpp"

#include <cstdio>

namespace pmm::ouch {

const char* message_name(Direction d, uint8_t type) noexcept {
  if (d == Direction::kInbound) {
    switch (type) {
      case 'O': return "Enter Order";
      case 'U': return "Replace Order";
      case 'X': return "Cancel Order";
      case 'M': return "Modify Order";
      case 'N': return "Trade Now";
      default: return nullptr;
    }
  }
  switch (type) {
    case 'S': return "System Event";
    case 'A': return "Accepted";
    case 'U': return "Replaced";
    case 'C': return "Canceled";
    case 'D': return "AIQ Canceled";
    case 'E': return "Executed";
    case 'B': return "Broken Trade";
    case 'G': return "Executed with Reference Price";
    case 'F': return "Trade Correction";
    case 'J': return "Rejected";
    case 'P': return "Cancel Pending";
    case 'I': return "Cancel Reject";
    case 'T': return "Order Priority Update";
    case 'M': return "Order Modified";
    default: return nullptr;
  }
}

const char* describe(const DecodeResult& r, Direction d, char* out, size_t capacity) noexcept {
  if (capacity == 0) return out;
  const char* dir = d == Direction::kInbound ? "inbound" : "outbound";
  const char* name = message_name(d, r.type);
  if (name == nullptr) name = "?";
  // A type byte is shown as a character only when printable, so a log line never carries raw bytes.
  char type[8];
  if (r.type >= 0x20 && r.type < 0x7f)
    std::snprintf(type, sizeof type, "'%c'", r.type);
  else
    std::snprintf(type, sizeof type, "0x%02x", r.type);
  switch (r.status) {
    case DecodeStatus::kOk:
      std::snprintf(out, capacity, "OUCH %s %s (%s): ok, %zu bytes", dir, type, name, r.length);
      break;
    case DecodeStatus::kUnknownType:
      std::snprintf(out, capacity, "OUCH %s: unknown message type %s (%zu bytes), skipped", dir, type, r.length);
      break;
    case DecodeStatus::kBadLength:
      std::snprintf(out, capacity, "OUCH %s %s (%s): %zu bytes, OUCH 4.2 says %zu; malformed, skipped", dir, type, name,
                    r.length, r.expected);
      break;
    case DecodeStatus::kEmpty:
      std::snprintf(out, capacity, "OUCH %s: empty message, skipped", dir);
      break;
  }
  return out;
}

}  // namespace pmm::ouch
