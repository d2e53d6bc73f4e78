// A hash map with a fixed bound on its entries, for the matching engine's tables (feed orders,
// price levels, tokens, accounts, positions): open addressing with linear probing in one array
// allocated at construction (at least twice the bound, a power of two), so inserting never
// allocates and probes stay short; erase shifts the following entries back, so a day of inserts and
// erases leaves no tombstones. insert() refuses an entry beyond the bound: the caller counts it.
#pragma once

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pmm::sim {

// splitmix64's finaliser: spreads any 64-bit key over the table.
inline uint64_t mix64(uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct U64Hash {
  uint64_t operator()(uint64_t k) const noexcept { return mix64(k); }
};

template <class Key, class Value, class Hash = U64Hash>
class FixedHashMap {
 public:
  explicit FixedHashMap(uint32_t max_entries)
      : max_(max_entries), slots_(std::bit_ceil(size_t{max_entries} * 2 < 8 ? size_t{8} : size_t{max_entries} * 2)) {
    mask_ = slots_.size() - 1;
  }

  Value* find(const Key& key) noexcept {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  const Value* find(const Key& key) const noexcept { return const_cast<FixedHashMap*>(this)->find(key); }

  // key must not be present. nullptr when the map holds max_entries already.
  Value* insert(const Key& key, const Value& value) noexcept {
    if (size_ == max_) return nullptr;
    size_t i = home(key);
    while (slots_[i].used) {
      assert(!(slots_[i].key == key));
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{key, value, true};
    ++size_;
    return &slots_[i].value;
  }

  bool erase(const Key& key) noexcept {
    size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: move each following entry of the cluster into the hole when the hole lies on
    // its probe path (between its home slot and where it sits).
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (!slots_[j].used) break;
      const size_t h = home(slots_[j].key);
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].used = false;
    --size_;
    return true;
  }

  size_t size() const noexcept { return size_; }
  uint32_t max_entries() const noexcept { return max_; }

  // f(key, value) for every entry, in slot order (not insertion order).
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

 private:
  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };
  size_t home(const Key& key) const noexcept { return static_cast<size_t>(Hash{}(key)) & mask_; }

  uint32_t max_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace pmm::sim
