// The last N fills, for Broken Trade reversal and duplicate-execution detection: a ring of fill
// records plus a linear-probing index by (match number, token). Both preallocated; the oldest fill
// is forgotten when the ring is full (a break or duplicate older than that is not recognized:
// docs/order-manager.md). Keyed by token as well as match number because both sides of a cross
// between two of our own orders carry the same match number.
#pragma once

#include <cstdint>
#include <vector>

#include "core/orders/order_events.hpp"

namespace pmm::orders {

struct FillRecord {
  OrderToken token;
  uint64_t match_number = 0;
  int64_t fee = 0;  // 1/10000 $ charged for this fill
  Price price = 0;
  uint32_t shares = 0;
  uint16_t symbol = 0;
  Side side = Side::kBuy;
  bool broken = false;
  bool operator==(const FillRecord&) const = default;
};

class FillHistory {
 public:
  explicit FillHistory(uint32_t capacity);  // capacity >= 1 (asserted)

  uint32_t capacity() const noexcept { return static_cast<uint32_t>(ring_.size()); }
  uint32_t size() const noexcept { return size_; }

  // Null when (match, token) is not remembered.
  FillRecord* find(uint64_t match_number, const OrderToken& token) noexcept;
  // Precondition (asserted): not already present. Forgets the oldest record when full.
  void add(const FillRecord& f) noexcept;

  // Oldest first: i in [0, size()).
  const FillRecord& at(uint32_t i) const noexcept;

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  uint32_t home(uint64_t match_number, const OrderToken& token) const noexcept;
  void erase_index(uint32_t ring_pos) noexcept;

  std::vector<FillRecord> ring_;
  std::vector<uint32_t> index_;  // ring positions; kEmpty
  uint32_t mask_ = 0;
  uint32_t head_ = 0;  // ring position of the oldest record
  uint32_t size_ = 0;
};

}  // namespace pmm::orders
