#include "core/order_book.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace pmm::book {

namespace {
constexpr uint32_t kNoBlock = UINT32_MAX;
constexpr uint32_t kMinBlockEntries = 8;
constexpr unsigned kBlockClasses = 24;  // 8 << 23 entries: larger than any configured arena
constexpr uint32_t kScan = 8;           // entries scanned linearly from the top before bisecting

inline uint32_t side_key(Side side, Price price) noexcept { return side == Side::kBid ? price : ~price; }
inline Price key_price(Side side, uint32_t key) noexcept { return side == Side::kBid ? key : ~key; }
}  // namespace

struct OrderBooks::Order {
  uint64_t ref;
  uint32_t shares;
  Price price;
  uint16_t locate;
  Side side;
  uint8_t used;  // 0 marks an empty slot
};

struct OrderBooks::LevelEntry {  // 16 bytes: four levels per cache line
  uint32_t key;     // side_key(side, price)
  uint32_t orders;
  uint64_t shares;
};

// 32 bytes, so one locate's two sides share one cache line.
struct OrderBooks::SideArray {
  uint32_t block = kNoBlock;  // offset of this side's block in the arena, kNoBlock when empty
  uint32_t size = 0;
  uint8_t block_class = 0;    // capacity = kMinBlockEntries << block_class
  bool damaged = false;       // (used on the bid side only: the locate's flag)
  // Last top of book reported for this side.
  Price top_price = 0;
  uint32_t top_orders = 0;
  uint64_t top_shares = 0;

  LevelView top() const noexcept { return LevelView{top_price, top_shares, top_orders}; }
};

struct alignas(64) OrderBooks::LocateBook {
  SideArray sides[2];
  bool& damaged() noexcept { return sides[0].damaged; }
  bool damaged() const noexcept { return sides[0].damaged; }
};

// Robin Hood hash of live orders keyed by reference number (linear probing; an entry never sits
// further from its home slot than the entry it displaced). The hash keeps consecutive references in
// consecutive slots, because ITCH assigns them in increasing order: almost every order sits in its
// home slot, the newest orders (the busiest) share cache lines, and a lookup, insert or delete
// touches one or two slots. Deletion shifts the following displaced entries back (no tombstones)
// and stops at the first entry that is home.
class OrderBooks::OrderTable {
 public:
  // At most a quarter full. Over a long day the references wrap around the table and the run of
  // new orders meets older live ones; at half full those collisions grew probe runs enough to cost
  // 11-14 % of the CPU time of a 30 M-message day (docs/performance.md).
  static constexpr uint64_t kSlotsPerOrder = 4;

  explicit OrderTable(uint32_t max_orders)
      : slots_(std::bit_ceil(uint64_t{max_orders} * kSlotsPerOrder)),
        mask_(slots_ - 1),
        shift_(static_cast<unsigned>(std::countr_zero(slots_))),
        table_(slots_) {}  // zero-filled: every slot unused

  Order* find(uint64_t ref) const noexcept {
    for (uint64_t i = home(ref), dist = 0;; i = (i + 1) & mask_, ++dist) {
      Order& o = table_[i];
      if (!o.used || displacement(o, i) < dist) return nullptr;
      if (o.ref == ref) return &o;
    }
  }

  // Inserts an order and returns where it landed, or nullptr when its reference is already live;
  // one probe sequence does both. The table is never full: it has kSlotsPerOrder * max_orders slots.
  Order* insert_unique(const Order& order) noexcept {
    uint64_t i = home(order.ref), dist = 0;
    for (;; i = (i + 1) & mask_, ++dist) {
      const Order& o = table_[i];
      if (!o.used || displacement(o, i) < dist) break;  // past where order.ref could be
      if (o.ref == order.ref) return nullptr;
    }
    return insert_from(order, i, dist);
  }

  void erase(Order* slot) noexcept {
    uint64_t hole = static_cast<uint64_t>(slot - table_.data());
    for (uint64_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
      Order& o = table_[i];
      if (!o.used || displacement(o, i) == 0) break;
      table_[hole] = o;
      hole = i;
    }
    table_[hole].used = 0;
  }

  // The home slot and the one after it (a delete looks at it): 24-byte slots may straddle lines.
  void prefetch(uint64_t ref) const noexcept {
    const char* slot = reinterpret_cast<const char*>(&table_[home(ref)]);
    __builtin_prefetch(slot);
    __builtin_prefetch(slot + 2 * sizeof(Order) - 1);
  }
  const Order& home_slot(uint64_t ref) const noexcept { return table_[home(ref)]; }
  uint64_t slots() const noexcept { return slots_; }
  const Order& at(uint64_t i) const noexcept { return table_[i]; }

 private:
  // Robin Hood placement from slot i, where order is dist slots from home.
  Order* insert_from(Order order, uint64_t i, uint64_t dist) noexcept {
    assert(order.used);
    Order* landed = nullptr;
    for (;; i = (i + 1) & mask_, ++dist) {
      Order& o = table_[i];
      if (!o.used) {
        o = order;
        return landed ? landed : &o;
      }
      const uint64_t d = displacement(o, i);
      if (d < dist) {  // take the slot from an entry closer to home; carry that one on
        std::swap(o, order);
        if (!landed) landed = &o;
        dist = d;
      }
    }
  }

  uint64_t home(uint64_t ref) const noexcept { return (ref ^ (ref >> shift_)) & mask_; }
  uint64_t displacement(const Order& o, uint64_t at) const noexcept { return (at - home(o.ref)) & mask_; }

  uint64_t slots_;
  uint64_t mask_;
  unsigned shift_;
  HugeArray<Order> table_;
};

// One array of LevelEntry shared by every book side; a non-empty side owns one power-of-two block.
// A full block is traded for one of the next size class; a block whose side empties is given back.
// Freed blocks wait on per-class free lists (linked through their first entry).
class OrderBooks::LevelArena {
 public:
  explicit LevelArena(uint32_t entries) : capacity_(entries), entries_(entries) {
    std::fill(std::begin(free_head_), std::end(free_head_), kNoBlock);
  }

  static uint32_t class_size(unsigned cls) noexcept { return kMinBlockEntries << cls; }

  // Returns the offset of a block of class cls, or kNoBlock when the arena is exhausted.
  uint32_t allocate(unsigned cls) noexcept {
    if (cls >= kBlockClasses) return kNoBlock;
    if (free_head_[cls] != kNoBlock) {
      const uint32_t block = free_head_[cls];
      free_head_[cls] = entries_[block].key;  // next free block of this class
      return block;
    }
    const uint32_t n = class_size(cls);
    if (capacity_ - used_ < n) return kNoBlock;
    const uint32_t block = used_;
    used_ += n;
    return block;
  }

  void release(uint32_t block, unsigned cls) noexcept {
    entries_[block].key = free_head_[cls];
    free_head_[cls] = block;
  }

  LevelEntry* at(uint32_t block) noexcept { return entries_.data() + block; }
  const LevelEntry* at(uint32_t block) const noexcept { return entries_.data() + block; }

 private:
  uint32_t capacity_;
  uint32_t used_ = 0;
  uint32_t free_head_[kBlockClasses];
  HugeArray<LevelEntry> entries_;
};

std::string validate(const BookCapacity& c) {
  if (c.max_orders == 0 || c.max_orders > (1u << 30))
    return "book.max_orders: expected an integer in 1 .. 1073741824";
  if (c.max_levels == 0 || c.max_levels > (1u << 30))
    return "book.max_levels: expected an integer in 1 .. 1073741824";
  if (c.max_locates == 0 || c.max_locates > 65536)
    return "book.max_locates: expected an integer in 1 .. 65536";
  if (c.level_index_entries < kMinBlockEntries || c.level_index_entries > (1u << 30))
    return "book.level_index_entries: expected an integer in 8 .. 1073741824";
  return "";
}

OrderBooks::OrderBooks(const BookCapacity& capacity)
    : capacity_(capacity),
      orders_(std::make_unique<OrderTable>(capacity.max_orders)),
      arena_(std::make_unique<LevelArena>(capacity.level_index_entries)),
      books_(capacity.max_locates) {
  assert(validate(capacity).empty());
  for (uint32_t i = 0; i < capacity.max_locates; ++i) books_[i] = LocateBook{};
}

OrderBooks::~OrderBooks() = default;

uint64_t OrderBooks::live_levels() const noexcept { return live_levels_; }

bool OrderBooks::damaged(uint16_t locate) const noexcept {
  return locate < capacity_.max_locates && books_[locate].damaged();
}

void OrderBooks::prefetch_order(uint64_t ref) const noexcept { orders_->prefetch(ref); }

void OrderBooks::prefetch_book(uint16_t locate) const noexcept {
  if (locate < capacity_.max_locates) __builtin_prefetch(&books_[locate]);
}

void OrderBooks::prefetch_top_levels(uint16_t locate, char side_char) const noexcept {
  if (locate >= capacity_.max_locates || (side_char != 'B' && side_char != 'S')) return;
  const SideArray& s = books_[locate].sides[side_char == 'B' ? 0 : 1];
  if (s.size == 0) return;
  const LevelEntry* top = arena_->at(s.block) + s.size - 1;
  __builtin_prefetch(top);
  if (s.size > 4) __builtin_prefetch(top - 4);  // the next cache line down the book
}

void OrderBooks::prefetch_book_of_order(uint64_t ref, uint16_t& locate, uint8_t& side_index) const noexcept {
  const Order& o = orders_->home_slot(ref);
  locate = o.locate < capacity_.max_locates ? o.locate : 0;  // an empty slot reads as locate 0
  side_index = static_cast<uint8_t>(o.side) & 1;
  __builtin_prefetch(&books_[locate]);
}

void OrderBooks::prefetch_best_levels(uint16_t locate, uint8_t side_index) const noexcept {
  const SideArray& s = books_[locate < capacity_.max_locates ? locate : 0].sides[side_index & 1];
  // An empty side has no block: its "best level" is then the arena's first entry, a harmless load.
  const uint32_t base = s.size ? s.block : 0;
  const uint32_t last = s.size ? s.size - 1 : 0;
  const LevelEntry* e = arena_->at(base);
  __builtin_prefetch(e + last);
  __builtin_prefetch(e + (last >= 4 ? last - 4 : 0));  // the next cache line down the book
}

bool OrderBooks::order_side(uint64_t ref, uint16_t& locate, char& side) const noexcept {
  const Order* o = orders_->find(ref);
  if (o == nullptr) return false;
  locate = o->locate;
  side = o->side == Side::kBid ? 'B' : 'S';
  return true;
}

namespace {
// Moves e[from, size) one entry up or down. Level moves are almost always a few entries at the top
// of a side, where a plain loop beats a call to memmove.
inline void shift_up(OrderBooks::LevelEntry* e, uint32_t from, uint32_t size) noexcept {
  if (size - from > 8) {
    std::memmove(e + from + 1, e + from, (size - from) * sizeof(*e));
    return;
  }
  for (uint32_t i = size; i > from; --i) e[i] = e[i - 1];
}
inline void shift_down(OrderBooks::LevelEntry* e, uint32_t from, uint32_t size) noexcept {
  if (size - from > 8) {
    std::memmove(e + from - 1, e + from, (size - from) * sizeof(*e));
    return;
  }
  for (uint32_t i = from; i < size; ++i) e[i - 1] = e[i];
}

// Index of the first entry in e[0, size) whose key is >= key. Nearly all traffic is near the top of
// a side, so: the top kScan entries linearly, then galloping down in doubling steps, then bisecting
// the last step. A deep level costs O(log depth) probes, all in the top of the array, which is the
// part most likely to be in cache.
inline uint32_t lower_bound_from_top(const OrderBooks::LevelEntry* e, uint32_t size, uint32_t key) noexcept {
  uint32_t pos = size;
  const uint32_t scan_end = size > kScan ? size - kScan : 0;
  while (pos > scan_end && e[pos - 1].key >= key) --pos;
  if (pos != scan_end || pos == 0 || e[pos - 1].key < key) return pos;
  uint32_t hi = pos - 1;  // e[hi].key >= key; the answer is in [lo, hi]
  uint32_t lo = 0;
  for (uint32_t step = kScan; hi >= step; step *= 2) {
    if (e[hi - step].key < key) {
      lo = hi - step + 1;
      break;
    }
    hi -= step;
  }
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (e[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
}  // namespace

// Finds the level for key on one side, creating it if needed; at_top tells whether it is the best
// level. Returns nullptr when the level limit or the arena is exhausted.
inline OrderBooks::LevelEntry* OrderBooks::find_or_insert_level(SideArray& s, uint32_t key, bool& at_top) noexcept {
  LevelEntry* e = s.block == kNoBlock ? nullptr : arena_->at(s.block);
  const uint32_t pos = lower_bound_from_top(e, s.size, key);
  if (pos < s.size && e[pos].key == key) {
    at_top = pos == s.size - 1;
    return e + pos;
  }
  if (live_levels_ == capacity_.max_levels) [[unlikely]]
    return nullptr;
  const uint32_t capacity = s.block == kNoBlock ? 0 : LevelArena::class_size(s.block_class);
  if (s.size == capacity) [[unlikely]] {
    const unsigned cls = s.block == kNoBlock ? 0 : s.block_class + 1u;
    const uint32_t block = arena_->allocate(cls);
    if (block == kNoBlock) return nullptr;
    LevelEntry* grown = arena_->at(block);
    if (s.size) std::memcpy(grown, e, s.size * sizeof(LevelEntry));
    if (s.block != kNoBlock) arena_->release(s.block, s.block_class);
    s.block = block;
    s.block_class = static_cast<uint8_t>(cls);
    e = grown;
  }
  shift_up(e, pos, s.size);
  e[pos] = LevelEntry{key, 0, 0};
  ++s.size;
  ++live_levels_;
  at_top = pos == s.size - 1;
  return e + pos;
}

// Re-reads the side's best level; returns true when it differs from the last one reported.
inline bool OrderBooks::refresh_top(SideArray& s, Side side) noexcept {
  LevelView now{};
  if (s.size) {
    const LevelEntry& best = arena_->at(s.block)[s.size - 1];
    now = LevelView{key_price(side, best.key), best.shares, best.orders};
  }
  if (now == s.top()) return false;
  s.top_price = now.price;
  s.top_orders = now.orders;
  s.top_shares = now.shares;
  return true;
}

Touch OrderBooks::add(uint16_t locate, uint64_t ref, char side_char, uint32_t shares, Price price) noexcept {
  if (locate >= capacity_.max_locates) [[unlikely]] {
    ++stats_.locate_out_of_range;
    return {};
  }
  if (side_char != 'B' && side_char != 'S') [[unlikely]] {
    ++stats_.bad_side;
    return {};
  }
  if (shares == 0) [[unlikely]] {
    ++stats_.zero_shares;
    return {};
  }
  LocateBook& book = books_[locate];
  const Side side = side_char == 'B' ? Side::kBid : Side::kAsk;
  // Insert first, undo on a capacity failure: one probe for the common case. A duplicate is
  // dropped whatever the capacity, so it must not mark the book damaged.
  Order* o = orders_->insert_unique(Order{ref, shares, price, locate, side, 1});
  if (o == nullptr) [[unlikely]] {
    ++stats_.duplicate_order;
    return {};
  }
  if (live_orders_ == capacity_.max_orders) [[unlikely]] {
    orders_->erase(o);
    ++stats_.order_capacity_exceeded;
    book.damaged() = true;
    return {};
  }
  SideArray& s = book.sides[static_cast<int>(side)];
  bool at_top = false;
  LevelEntry* level = find_or_insert_level(s, side_key(side, price), at_top);
  if (level == nullptr) [[unlikely]] {
    orders_->erase(o);
    ++stats_.level_capacity_exceeded;
    book.damaged() = true;
    return {};
  }
  level->shares += shares;
  ++level->orders;
  ++live_orders_;
  ++stats_.adds;
  return Touch{locate, at_top && refresh_top(s, side)};
}

// Takes shares out of an order (all of them when shares >= what is left), removing the order and,
// if it was the level's last, the level; a side left empty gives its arena block back. Returns
// whether the best level of the order's side was touched.
inline bool OrderBooks::take_from_order(Order& order, SideArray& s, uint32_t shares) noexcept {
  LevelEntry* e = arena_->at(s.block);
  const uint32_t pos = lower_bound_from_top(e, s.size, side_key(order.side, order.price));
  assert(pos < s.size && e[pos].key == side_key(order.side, order.price));
  const bool at_top = pos == s.size - 1;
  LevelEntry& level = e[pos];
  if (shares < order.shares) {
    order.shares -= shares;
    level.shares -= shares;
    return at_top;
  }
  level.shares -= order.shares;
  --level.orders;
  orders_->erase(&order);
  --live_orders_;
  if (level.orders != 0) return at_top;
  assert(level.shares == 0);
  shift_down(e, pos + 1, s.size);
  --s.size;
  --live_levels_;
  if (s.size == 0) {
    arena_->release(s.block, s.block_class);
    s.block = kNoBlock;
    s.block_class = 0;
  }
  return at_top;
}

Touch OrderBooks::apply_reduce(uint64_t ref, uint32_t shares, uint64_t& counter) noexcept {
  Order* o = orders_->find(ref);
  if (o == nullptr) [[unlikely]] {
    ++stats_.unknown_order;
    return {};
  }
  if (shares > o->shares && &counter != &stats_.deletes) [[unlikely]]
    ++stats_.over_execution;
  ++counter;
  const uint16_t locate = o->locate;
  const Side side = o->side;
  SideArray& s = books_[locate].sides[static_cast<int>(side)];
  const bool at_top = take_from_order(*o, s, shares);
  return Touch{locate, at_top && refresh_top(s, side)};
}

Touch OrderBooks::execute(uint64_t ref, uint32_t shares) noexcept {
  return apply_reduce(ref, shares, stats_.executes);
}

Touch OrderBooks::cancel(uint64_t ref, uint32_t shares) noexcept {
  return apply_reduce(ref, shares, stats_.cancels);
}

Touch OrderBooks::remove(uint64_t ref) noexcept { return apply_reduce(ref, UINT32_MAX, stats_.deletes); }

Touch OrderBooks::replace(uint64_t old_ref, uint64_t new_ref, uint32_t shares, Price price) noexcept {
  Order* o = orders_->find(old_ref);
  if (o == nullptr) [[unlikely]] {
    ++stats_.unknown_order;
    return {};
  }
  if (new_ref != old_ref && orders_->find(new_ref) != nullptr) [[unlikely]] {
    ++stats_.duplicate_order;
    return {};
  }
  const uint16_t locate = o->locate;
  const Side side = o->side;
  ++stats_.replaces;
  LocateBook& book = books_[locate];
  SideArray& s = book.sides[static_cast<int>(side)];
  bool touched = take_from_order(*o, s, UINT32_MAX);
  if (shares == 0) [[unlikely]] {
    ++stats_.zero_shares;
    return Touch{locate, touched && refresh_top(s, side)};
  }
  // A live order was just removed, so the order count cannot be full here; only the level limit
  // or the arena can be.
  bool at_top = false;
  LevelEntry* level = find_or_insert_level(s, side_key(side, price), at_top);
  if (level == nullptr) [[unlikely]] {
    ++stats_.level_capacity_exceeded;
    book.damaged() = true;
    return Touch{locate, touched && refresh_top(s, side)};
  }
  Order* n = orders_->insert_unique(Order{new_ref, shares, price, locate, side, 1});
  assert(n != nullptr);  // new_ref was checked above, and the old order is gone
  (void)n;
  level->shares += shares;
  ++level->orders;
  ++live_orders_;
  touched |= at_top;
  return Touch{locate, touched && refresh_top(s, side)};
}

TopOfBook OrderBooks::top(uint16_t locate) const noexcept {
  if (locate >= capacity_.max_locates) return {};
  const LocateBook& b = books_[locate];
  return TopOfBook{b.sides[0].top(), b.sides[1].top()};
}

size_t OrderBooks::depth(uint16_t locate, Side side, LevelView* out, size_t n) const noexcept {
  if (locate >= capacity_.max_locates) return 0;
  const SideArray& s = books_[locate].sides[static_cast<int>(side)];
  const size_t k = std::min<size_t>(n, s.size);
  const LevelEntry* e = s.block == kNoBlock ? nullptr : arena_->at(s.block);
  for (size_t i = 0; i < k; ++i) {
    const LevelEntry& l = e[s.size - 1 - i];
    out[i] = LevelView{key_price(side, l.key), l.shares, l.orders};
  }
  return k;
}

namespace {
struct Fnv1a {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  }
};
}  // namespace

uint64_t OrderBooks::digest() const noexcept {
  Fnv1a f;
  for (uint32_t loc = 0; loc < capacity_.max_locates; ++loc) {
    for (int side = 0; side < 2; ++side) {
      const SideArray& s = books_[loc].sides[side];
      if (s.size == 0) continue;
      const LevelEntry* e = arena_->at(s.block);
      for (uint32_t i = s.size; i-- > 0;) {
        f.add(loc);
        f.add(static_cast<uint64_t>(side));
        f.add(key_price(static_cast<Side>(side), e[i].key));
        f.add(e[i].shares);
        f.add(e[i].orders);
      }
    }
  }
  return f.h;
}

std::string OrderBooks::check_invariants() const {
  // Sum the live orders per (locate, side, price), then compare with each level's aggregates.
  struct Sum {
    uint64_t shares = 0;
    uint32_t orders = 0;
  };
  std::unordered_map<uint64_t, Sum> sums;
  auto level_key = [](uint32_t locate, int side, uint32_t key) {
    return (uint64_t{locate} << 33) | (uint64_t(side) << 32) | key;
  };
  uint64_t live = 0;
  for (uint64_t i = 0; i < orders_->slots(); ++i) {
    const Order& o = orders_->at(i);
    if (!o.used) continue;
    const std::string which = "order " + std::to_string(o.ref);
    if (o.shares == 0) return which + " has 0 shares";
    if (o.locate >= capacity_.max_locates) return which + " has a bad locate";
    if (o.side != Side::kBid && o.side != Side::kAsk) return which + " has a bad side";
    if (orders_->find(o.ref) != &o) return which + " cannot be found by its reference";
    Sum& sum = sums[level_key(o.locate, static_cast<int>(o.side), side_key(o.side, o.price))];
    sum.shares += o.shares;
    ++sum.orders;
    ++live;
  }
  if (live != live_orders_)
    return "live order count " + std::to_string(live_orders_) + " != table " + std::to_string(live);
  uint64_t indexed_levels = 0;
  for (uint32_t loc = 0; loc < capacity_.max_locates; ++loc) {
    for (int side = 0; side < 2; ++side) {
      const SideArray& s = books_[loc].sides[side];
      LevelView top{};
      if (s.size == 0 && s.block != kNoBlock) return "locate " + std::to_string(loc) + ": empty side holds a block";
      if (s.size > 0) {
        const LevelEntry* e = arena_->at(s.block);
        for (uint32_t i = 0; i < s.size; ++i) {
          const LevelEntry& l = e[i];
          auto where = [&] { return "locate " + std::to_string(loc) + (side ? " ask" : " bid"); };
          if (i && e[i - 1].key >= l.key) return where() + ": levels not strictly sorted";
          if (l.orders == 0 || l.shares == 0) return where() + ": empty level in index";
          const auto it = sums.find(level_key(loc, side, l.key));
          if (it == sums.end() || it->second.shares != l.shares || it->second.orders != l.orders)
            return where() + ": level " + std::to_string(key_price(static_cast<Side>(side), l.key)) +
                   " aggregates differ from its orders";
        }
        const LevelEntry& best = e[s.size - 1];
        top = LevelView{key_price(static_cast<Side>(side), best.key), best.shares, best.orders};
        indexed_levels += s.size;
      }
      if (!(top == s.top())) return "locate " + std::to_string(loc) + ": cached top of book is stale";
    }
  }
  if (indexed_levels != live_levels_) return "live level count differs from the indexed levels";
  if (sums.size() != indexed_levels) return "some orders rest on a level that is not indexed";
  return "";
}

}  // namespace pmm::book
