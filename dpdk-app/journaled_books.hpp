// The L3 books of the quoted symbols as the journal rebuilds them (persistence.journalMarketData;
// docs/journal-records.md, types 28 and 29): every book-affecting ITCH message of those symbols' locates
// goes through the same book::OrderBooks the book stage uses, and a per-order table next to it keeps
// what a snapshot needs (OrderBooks shows levels, not orders). Lives in the journal thread's shadow
// state; allocation is fine there, bounded by the configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/order_book.hpp"

namespace pmm::app {

struct JournaledBooksConfig {
  uint32_t max_books = 64;        // distinct locates (the quoted symbols)
  uint32_t max_orders = 1u << 16; // live orders over those books (the order table takes ~4 slots each)
  uint32_t max_levels = 1u << 16; // live price levels over those books
};

class JournaledBooks {
 public:
  explicit JournaledBooks(const JournaledBooksConfig& config);

  void reset();
  // One journaled ITCH message (A F E C X D U H). "" or why it was not applied (unknown type, wrong
  // length: corruption; the caller counts it as an apply error). A locate beyond max_books or a message
  // the book's capacity drops is counted in lost() instead: a bound, not corruption.
  std::string apply_message(const uint8_t* message, uint16_t length);
  // The book stage could not journal `count` messages: from here on the books are not exact.
  void messages_lost(uint64_t count) noexcept { lost_ += count; }

  // Snapshot block payload: u64 lost, u32 books, per book (locate ascending) u16 locate + u8 trading
  // state, u32 orders, per order (reference ascending) u64 ref, u16 locate, u8 side ('B'/'S'), u32
  // shares, u32 price. Big-endian.
  std::vector<uint8_t> serialize() const;
  // After reset(). "" or what is wrong, with the byte offset.
  std::string restore(const uint8_t* data, size_t size);
  // FNV-1a over serialize() (books, orders, trading states, the lost count) and OrderBooks::digest().
  uint64_t digest() const;

  size_t book_count() const noexcept { return states_.size(); }
  size_t live_orders() const noexcept { return orders_.size(); }
  uint64_t lost() const noexcept { return lost_; }
  bool knows(uint16_t locate) const noexcept { return states_.count(locate) != 0; }
  char trading_state(uint16_t locate) const noexcept;  // ' ' until an H message
  const book::OrderBooks& books() const noexcept { return *books_; }

 private:
  struct Order {
    uint16_t locate = 0;
    char side = 'B';
    uint32_t shares = 0;
    uint32_t price = 0;
  };
  bool admit(uint16_t locate, std::string& error);
  void sync(uint64_t ref) noexcept;  // drops `ref` from the table unless the book still has it

  JournaledBooksConfig config_;
  std::unique_ptr<book::OrderBooks> books_;
  std::unordered_map<uint64_t, Order> orders_;
  std::map<uint16_t, char> states_;  // locate -> trading state (' ' unknown): the books we keep
  uint64_t lost_ = 0;
};

}  // namespace pmm::app
