// A plain reference for pmm::book::OrderBooks, written for clarity rather than speed: std::map of
// price levels per side per locate, std::unordered_map of live orders. It has the same observable
// behaviour as OrderBooks (Touch results, top, depth, damaged flags, live counts, every BookStats
// counter, digest), so property tests can run both on one stream and compare everything.
//
// The one piece of OrderBooks' layout it has to mirror is how the shared level arena is used
// (see IndexArenaModel): which add runs out of `level_index_entries` depends on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "core/order_book.hpp"

namespace pmm::book::test {

class ReferenceBooks {
 public:
  struct Order {
    uint16_t locate;
    Side side;
    Price price;
    uint32_t shares;
  };

  explicit ReferenceBooks(const BookCapacity& capacity)
      : capacity_(capacity),
        books_(capacity.max_locates),
        damaged_(capacity.max_locates, false),
        arena_(capacity.level_index_entries) {}

  Touch add(uint16_t locate, uint64_t ref, char side_char, uint32_t shares, Price price) {
    // The checks run in the order OrderBooks documents; each drop bumps exactly one counter.
    if (locate >= capacity_.max_locates) {
      ++stats_.locate_out_of_range;
      return {};
    }
    if (side_char != 'B' && side_char != 'S') {
      ++stats_.bad_side;
      return {};
    }
    if (shares == 0) {
      ++stats_.zero_shares;
      return {};
    }
    if (orders_.count(ref) != 0) {  // dropped whatever the capacity: no damage
      ++stats_.duplicate_order;
      return {};
    }
    if (orders_.size() == capacity_.max_orders) {
      ++stats_.order_capacity_exceeded;
      damaged_[locate] = true;
      return {};
    }
    const Side side = side_char == 'B' ? Side::kBid : Side::kAsk;
    const LevelView before = best(locate, side);
    if (!make_room_for_level(locate, side, price)) {
      ++stats_.level_capacity_exceeded;
      damaged_[locate] = true;
      return {};
    }
    insert_order(ref, Order{locate, side, price, shares});
    ++stats_.adds;
    return Touch{locate, best(locate, side) != before};
  }

  Touch execute(uint64_t ref, uint32_t shares) { return reduce(ref, shares, stats_.executes, true); }
  Touch cancel(uint64_t ref, uint32_t shares) { return reduce(ref, shares, stats_.cancels, true); }
  Touch remove(uint64_t ref) { return reduce(ref, UINT32_MAX, stats_.deletes, false); }

  Touch replace(uint64_t old_ref, uint64_t new_ref, uint32_t shares, Price price) {
    const auto it = orders_.find(old_ref);
    if (it == orders_.end()) {
      ++stats_.unknown_order;
      return {};
    }
    if (new_ref != old_ref && orders_.count(new_ref) != 0) {
      ++stats_.duplicate_order;
      return {};
    }
    const Order old = it->second;
    const LevelView before = best(old.locate, old.side);
    ++stats_.replaces;
    erase_order(old_ref);
    if (shares == 0) {
      ++stats_.zero_shares;
      return Touch{old.locate, best(old.locate, old.side) != before};
    }
    if (!make_room_for_level(old.locate, old.side, price)) {
      ++stats_.level_capacity_exceeded;
      damaged_[old.locate] = true;
      return Touch{old.locate, best(old.locate, old.side) != before};
    }
    insert_order(new_ref, Order{old.locate, old.side, price, shares});
    return Touch{old.locate, best(old.locate, old.side) != before};
  }

  TopOfBook top(uint16_t locate) const {
    if (locate >= capacity_.max_locates) return {};
    return TopOfBook{best(locate, Side::kBid), best(locate, Side::kAsk)};
  }

  size_t depth(uint16_t locate, Side side, LevelView* out, size_t n) const {
    if (locate >= capacity_.max_locates) return 0;
    size_t k = 0;
    for_each_level_best_first(locate, side, [&](Price price, const Level& l) {
      if (k == n) return false;
      out[k++] = LevelView{price, l.shares, l.orders};
      return true;
    });
    return k;
  }

  bool damaged(uint16_t locate) const { return locate < capacity_.max_locates && damaged_[locate]; }
  uint64_t live_orders() const { return orders_.size(); }
  uint64_t live_levels() const { return live_levels_; }
  const BookStats& stats() const { return stats_; }

  // FNV-1a 64 as documented on OrderBooks::digest(): locates ascending, bid side then ask side,
  // levels best first; each of (locate, side 0 = bid / 1 = ask, price, shares, orders) fed as 8
  // little-endian bytes.
  uint64_t digest() const {
    uint64_t h = 0xcbf29ce484222325ull;
    const auto feed = [&h](uint64_t v) {
      for (int i = 0; i < 8; ++i) {
        h ^= (v >> (8 * i)) & 0xffu;
        h *= 0x100000001b3ull;
      }
    };
    for (uint32_t loc = 0; loc < capacity_.max_locates; ++loc) {
      for (const Side side : {Side::kBid, Side::kAsk}) {
        for_each_level_best_first(static_cast<uint16_t>(loc), side, [&](Price price, const Level& l) {
          feed(loc);
          feed(side == Side::kBid ? 0 : 1);
          feed(price);
          feed(l.shares);
          feed(l.orders);
          return true;
        });
      }
    }
    return h;
  }

  // For stream generators: the live order with this reference, or nullptr.
  const Order* find(uint64_t ref) const {
    const auto it = orders_.find(ref);
    return it == orders_.end() ? nullptr : &it->second;
  }

  // Locates that have ever held a level, in first-use order (what a checker must look at).
  const std::vector<uint16_t>& used_locates() const { return used_locates_; }

 private:
  struct Level {
    uint64_t shares = 0;
    uint32_t orders = 0;
  };
  struct BookSide {
    std::map<Price, Level> levels;  // ascending price: best bid is the last, best ask the first
    int block_class = -1;           // level arena block this side holds (-1: none)
  };
  struct LocateBook {
    BookSide sides[2];
    bool used = false;
  };

  // Accounting of OrderBooks' level arena (order_book.cpp, LevelArena): one array of
  // `level_index_entries` slots shared by every book side. A side holds one block of 8 << class
  // slots; when it is full the side moves to a block of the next class (taken from that class's
  // free list, else carved from the unused tail) and its old block goes on the free list of its
  // class. A side that empties gives its block back. Only counts matter, not where blocks sit.
  class IndexArenaModel {
   public:
    static constexpr int kClasses = 24;
    explicit IndexArenaModel(uint64_t slots) : slots_(slots) {}
    static uint64_t block_size(int cls) { return uint64_t{8} << cls; }

    bool take(int cls) {
      if (cls >= kClasses) return false;
      if (free_blocks_[cls] > 0) {
        --free_blocks_[cls];
        return true;
      }
      if (slots_ - carved_ < block_size(cls)) return false;
      carved_ += block_size(cls);
      return true;
    }
    void give_back(int cls) { ++free_blocks_[cls]; }

   private:
    uint64_t slots_;
    uint64_t carved_ = 0;
    std::array<uint64_t, kClasses> free_blocks_{};
  };

  BookSide& side_of(uint16_t locate, Side side) { return books_[locate].sides[static_cast<int>(side)]; }
  const BookSide& side_of(uint16_t locate, Side side) const {
    return books_[locate].sides[static_cast<int>(side)];
  }

  // f(price, level) -> bool (false stops), best price first.
  template <class F>
  void for_each_level_best_first(uint16_t locate, Side side, F&& f) const {
    const auto& levels = side_of(locate, side).levels;
    if (side == Side::kBid) {
      for (auto it = levels.rbegin(); it != levels.rend(); ++it)
        if (!f(it->first, it->second)) return;
    } else {
      for (auto it = levels.begin(); it != levels.end(); ++it)
        if (!f(it->first, it->second)) return;
    }
  }

  LevelView best(uint16_t locate, Side side) const {
    LevelView v{};
    for_each_level_best_first(locate, side, [&](Price price, const Level& l) {
      v = LevelView{price, l.shares, l.orders};
      return false;
    });
    return v;
  }

  // True when an order at price can be filed: its level exists, or a level and the index slot
  // for it are available (taking the index slot, growing the side's block if needed).
  bool make_room_for_level(uint16_t locate, Side side, Price price) {
    BookSide& s = side_of(locate, side);
    if (s.levels.count(price) != 0) return true;
    if (live_levels_ == capacity_.max_levels) return false;
    const uint64_t held = s.block_class < 0 ? 0 : IndexArenaModel::block_size(s.block_class);
    if (s.levels.size() == held) {
      const int next = s.block_class + 1;
      if (!arena_.take(next)) return false;
      if (s.block_class >= 0) arena_.give_back(s.block_class);
      s.block_class = next;
    }
    return true;
  }

  void insert_order(uint64_t ref, const Order& o) {
    orders_.emplace(ref, o);
    auto [it, created] = side_of(o.locate, o.side).levels.try_emplace(o.price);
    if (created) ++live_levels_;
    it->second.shares += o.shares;
    ++it->second.orders;
    if (!books_[o.locate].used) {
      books_[o.locate].used = true;
      used_locates_.push_back(o.locate);
    }
  }

  void erase_order(uint64_t ref) {
    const auto it = orders_.find(ref);
    const Order o = it->second;
    orders_.erase(it);
    auto& levels = side_of(o.locate, o.side).levels;
    const auto lit = levels.find(o.price);
    lit->second.shares -= o.shares;
    if (--lit->second.orders == 0) {
      levels.erase(lit);
      --live_levels_;
      BookSide& bs = side_of(o.locate, o.side);
      if (levels.empty()) {  // an emptied side gives its arena block back
        arena_.give_back(bs.block_class);
        bs.block_class = -1;
      }
    }
  }

  // E, C, X (partial) and D (whole order): counts the message, takes min(shares, left) off the
  // order, removes the order at 0 and its level when that empties.
  Touch reduce(uint64_t ref, uint32_t shares, uint64_t& counter, bool may_over_execute) {
    const auto it = orders_.find(ref);
    if (it == orders_.end()) {
      ++stats_.unknown_order;
      return {};
    }
    Order& o = it->second;
    const uint16_t locate = o.locate;
    const Side side = o.side;
    const LevelView before = best(locate, side);
    if (may_over_execute && shares > o.shares) ++stats_.over_execution;
    ++counter;
    if (shares < o.shares) {
      o.shares -= shares;
      side_of(locate, side).levels.at(o.price).shares -= shares;
    } else {
      erase_order(ref);
    }
    return Touch{locate, best(locate, side) != before};
  }

  BookCapacity capacity_;
  BookStats stats_;
  std::unordered_map<uint64_t, Order> orders_;
  std::vector<LocateBook> books_;
  std::vector<bool> damaged_;
  std::vector<uint16_t> used_locates_;
  uint64_t live_levels_ = 0;
  IndexArenaModel arena_;
};

}  // namespace pmm::book::test
