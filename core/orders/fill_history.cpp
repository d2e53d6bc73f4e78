#include "core/orders/fill_history.hpp"

#include <cassert>
#include <cstring>

namespace pmm::orders {

FillHistory::FillHistory(uint32_t capacity) : ring_(capacity) {
  assert(capacity >= 1);
  uint32_t n = 2;
  while (n < 2ull * capacity) n *= 2;  // load factor <= 1/2
  index_.assign(n, kEmpty);
  mask_ = n - 1;
}

uint32_t FillHistory::home(uint64_t match_number, const OrderToken& token) const noexcept {
  uint64_t t[2];
  std::memcpy(t, token.chars.data(), 8);
  std::memcpy(&t[1], token.chars.data() + 6, 8);  // the last 8 bytes (overlapping the first read)
  uint64_t h = match_number * 0x9E3779B97F4A7C15ull;
  h ^= (t[0] + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
  h ^= (t[1] + 0x165667B19E3779F9ull) * 0x85EBCA77C2B2AE63ull;
  h ^= h >> 29;
  return static_cast<uint32_t>(h) & mask_;
}

FillRecord* FillHistory::find(uint64_t match_number, const OrderToken& token) noexcept {
  for (uint32_t i = home(match_number, token);; i = (i + 1) & mask_) {
    const uint32_t pos = index_[i];
    if (pos == kEmpty) return nullptr;
    FillRecord& f = ring_[pos];
    if (f.match_number == match_number && f.token == token) return &f;
  }
}

void FillHistory::erase_index(uint32_t ring_pos) noexcept {
  const FillRecord& f = ring_[ring_pos];
  uint32_t i = home(f.match_number, f.token);
  while (index_[i] != ring_pos) {
    assert(index_[i] != kEmpty);
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: pull later entries of the probe run into the hole when their home
  // position does not lie cyclically in (hole, their position].
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (index_[j] == kEmpty) break;
    const FillRecord& g = ring_[index_[j]];
    const uint32_t k = home(g.match_number, g.token);
    const bool k_in_range = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!k_in_range) {
      index_[i] = index_[j];
      i = j;
    }
  }
  index_[i] = kEmpty;
}

void FillHistory::add(const FillRecord& f) noexcept {
  assert(find(f.match_number, f.token) == nullptr);
  const uint32_t cap = capacity();
  uint32_t pos;
  if (size_ == cap) {
    pos = head_;
    erase_index(pos);
    head_ = head_ + 1 == cap ? 0 : head_ + 1;
  } else {
    pos = head_ + size_;
    if (pos >= cap) pos -= cap;
    ++size_;
  }
  ring_[pos] = f;
  uint32_t i = home(f.match_number, f.token);
  while (index_[i] != kEmpty) i = (i + 1) & mask_;
  index_[i] = pos;
}

const FillRecord& FillHistory::at(uint32_t i) const noexcept {
  assert(i < size_);
  uint32_t pos = head_ + i;
  if (pos >= capacity()) pos -= capacity();
  return ring_[pos];
}

}  // namespace pmm::orders
