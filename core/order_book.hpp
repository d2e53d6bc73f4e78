// L3 (per-order) limit order books for every stock locate, built for the ITCH order messages.
//
// Layout, all preallocated from BookCapacity at construction (no allocation per message):
//  - OrderTable: Robin Hood hash of live orders by reference number (ref -> locate, side,
//    price, shares).
//  - Per book side, a sorted array of price levels (key, order count, aggregate shares) with the
//    best price at the END, so the busy top of the book is touched with the shortest scans and
//    moves, and the top of book is the last entry. key = price for bids and ~price for asks, so
//    "higher key is better" on both sides. The arrays live in one shared arena.
// Exceeding a capacity drops the message, counts it, and marks that locate's book damaged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/huge_buffer.hpp"

namespace pmm::book {

using Price = uint32_t;  // ITCH Price(4): 4 implied decimals

enum class Side : uint8_t { kBid = 0, kAsk = 1 };

struct BookCapacity {
  uint32_t max_orders = 1u << 21;         // live orders across all books
  uint32_t max_levels = 1u << 20;         // live price levels across all books
  uint32_t max_locates = 65536;           // locate codes 0 .. max_locates-1 get a book
  uint32_t level_index_entries = 1u << 22; // level slots shared by all book sides' arrays
};

// Checks the capacity for sane values; returns an error naming the field, or "" when valid.
std::string validate(const BookCapacity& c);

struct LevelView {
  Price price = 0;
  uint64_t shares = 0;
  uint32_t orders = 0;
  bool operator==(const LevelView&) const = default;
};

struct TopOfBook {
  LevelView bid;  // shares == 0: side empty
  LevelView ask;
  bool operator==(const TopOfBook&) const = default;
};

struct BookStats {
  uint64_t adds = 0;
  uint64_t executes = 0;
  uint64_t cancels = 0;
  uint64_t deletes = 0;
  uint64_t replaces = 0;
  // Messages that could not be applied (dropped and counted):
  uint64_t unknown_order = 0;         // E/C/X/D/U for a reference not in the book
  uint64_t duplicate_order = 0;       // A/F/U adding a reference already live
  uint64_t bad_side = 0;              // side not 'B' or 'S'
  uint64_t zero_shares = 0;           // A/F/U with 0 shares (U: old order still removed)
  uint64_t over_execution = 0;        // E/C/X for more shares than left (the order is removed)
  uint64_t locate_out_of_range = 0;   // locate >= max_locates
  uint64_t order_capacity_exceeded = 0;
  uint64_t level_capacity_exceeded = 0;
};

// Result of one book operation: which locate it touched and whether its top of book changed.
struct Touch {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t locate = kNone;
  bool top_changed = false;
};

class OrderBooks {
 public:
  explicit OrderBooks(const BookCapacity& capacity);
  ~OrderBooks();
  OrderBooks(const OrderBooks&) = delete;
  OrderBooks& operator=(const OrderBooks&) = delete;

  Touch add(uint16_t locate, uint64_t ref, char side, uint32_t shares, Price price) noexcept;
  Touch execute(uint64_t ref, uint32_t shares) noexcept;  // E and C: shares leave the book
  Touch cancel(uint64_t ref, uint32_t shares) noexcept;   // X
  Touch remove(uint64_t ref) noexcept;                    // D
  // U: the new order keeps the old one's locate and side.
  Touch replace(uint64_t old_ref, uint64_t new_ref, uint32_t shares, Price price) noexcept;

  // Cache warming for a batch of messages (see BookBuilder::on_messages): each call starts loading
  // what a later operation will touch, one dependency level at a time, so the cache misses of a
  // whole batch overlap instead of queueing one after another. They change nothing.
  void prefetch_order(uint64_t ref) const noexcept;          // the order's table slot
  void prefetch_book(uint16_t locate) const noexcept;        // the locate's book header
  void prefetch_top_levels(uint16_t locate, char side) const noexcept;  // best levels of a side
  // The same without branches on the data, for the pipeline's inner stages: the book header of
  // whatever order sits in ref's home slot (nearly always ref itself; anything else only costs a
  // useless prefetch), returning that order's locate and side index (0 bid, 1 ask); and the best
  // levels of a side of a locate (an out-of-range locate prefetches locate 0's).
  void prefetch_book_of_order(uint64_t ref, uint16_t& locate, uint8_t& side_index) const noexcept;
  void prefetch_best_levels(uint16_t locate, uint8_t side_index) const noexcept;
  // Locate and side ('B'/'S') of a live order; false when ref is not live.
  bool order_side(uint64_t ref, uint16_t& locate, char& side) const noexcept;

  TopOfBook top(uint16_t locate) const noexcept;
  // Writes up to n levels from the best outward; returns how many.
  size_t depth(uint16_t locate, Side side, LevelView* out, size_t n) const noexcept;
  // True when a capacity limit dropped a message for this locate: its book is no longer exact.
  bool damaged(uint16_t locate) const noexcept;

  uint64_t live_orders() const noexcept { return live_orders_; }
  uint64_t live_levels() const noexcept;
  uint32_t max_locates() const noexcept { return capacity_.max_locates; }
  const BookCapacity& capacity() const noexcept { return capacity_; }
  const BookStats& stats() const noexcept { return stats_; }

  // FNV-1a over every non-empty book's levels (locate, side, price, shares, orders), best first.
  // Equal digests <=> equal level books; used to compare runs, backends and the reference.
  uint64_t digest() const noexcept;
  // Walks every structure and checks each invariant; returns "" or a description of the first breach.
  std::string check_invariants() const;

 public:
  struct LevelEntry;  // (public only so file-local helpers in order_book.cpp can name it)

 private:
  struct Order;
  struct SideArray;
  struct LocateBook;
  class OrderTable;
  class LevelArena;

  Touch apply_reduce(uint64_t ref, uint32_t shares, uint64_t& counter) noexcept;
  LevelEntry* find_or_insert_level(SideArray& s, uint32_t key, bool& at_top) noexcept;
  bool take_from_order(Order& order, SideArray& s, uint32_t shares) noexcept;
  bool refresh_top(SideArray& s, Side side) noexcept;

  BookCapacity capacity_;
  BookStats stats_;
  uint64_t live_orders_ = 0;
  uint64_t live_levels_ = 0;
  std::unique_ptr<OrderTable> orders_;
  std::unique_ptr<LevelArena> arena_;
  HugeArray<LocateBook> books_;
};

}  // namespace pmm::book
