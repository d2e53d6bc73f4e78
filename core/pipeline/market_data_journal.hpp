// Where the book stage writes the market data of the quoted symbols for the write-ahead journal
// (persistence.journalMarketData; docs/journal-records.md, types 28 and 29): each book-affecting ITCH
// message of a watched locate, as its bytes, so the journal's shadow rebuilds those L3 books exactly.
// core/ does not depend on persistence: the appliance plugs in a JournalRing-backed implementation.
#pragma once

#include <cstdint>

namespace pmm::pipe {

class MarketDataJournal {
 public:
  virtual ~MarketDataJournal() = default;
  // Called on the book stage's core: no blocking, no allocation, no syscall. False when the record
  // could not be taken (ring full or the journal failed).
  virtual bool append(uint16_t type, const uint8_t* payload, uint16_t length) noexcept = 0;
  // True when `records` appends in a row would all be taken now (the book stage is the only producer).
  virtual bool has_room(uint32_t records) const noexcept = 0;
};

namespace md_records {

inline constexpr uint16_t kItchMessage = 28;   // payload: one ITCH 5.0 message, as received
inline constexpr uint16_t kMessagesLost = 29;  // payload: u64 big-endian, messages not journaled since the last record
inline constexpr uint16_t kLostBytes = 8;
inline constexpr uint16_t kBooksReset = 30;    // no payload: a new run's book stage starts from empty books

// The messages that change a book or its trading state: Add (A, F), Executed (E, C), Cancel (X),
// Delete (D), Replace (U), Trading action (H). Every one is at most 40 bytes: fits a 60-byte record.
constexpr bool journaled(uint8_t type) noexcept {
  switch (type) {
    case 'A': case 'F': case 'E': case 'C': case 'X': case 'D': case 'U': case 'H':
      return true;
    default:
      return false;
  }
}

}  // namespace md_records
}  // namespace pmm::pipe
