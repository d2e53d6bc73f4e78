// One JournalRing slot (journal_ring.hpp): what a pipeline core hands the journal core. The journal
// core's writer encodes records straight from these slots (JournalWriter::append_entries), so the
// layout is shared by the ring and the writer.
#pragma once

#include <cstdint>

namespace pmm::persistence {

// The caller's type (>= journal::kFirstUserType), the payload length, the payload. Bytes of `payload`
// after `length` are unspecified and never reach the journal.
struct alignas(64) JournalEntry {
  static constexpr uint16_t kMaxPayload = 60;
  uint16_t type;
  uint16_t length;
  uint8_t payload[kMaxPayload];
};
static_assert(sizeof(JournalEntry) == 64);

}  // namespace pmm::persistence
