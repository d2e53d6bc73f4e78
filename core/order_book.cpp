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

struct OrderBooks::LevelEntry {
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

// Linear-probing hash of live orders, keyed by reference number. The hash keeps consecutive
// references in consecutive slots (ITCH assigns them in increasing order), so the newest orders,
// which are also the ones most often touched, share cache lines. Deletion shifts back (no tombstones).
class OrderBooks::OrderTable {
 public:
  explicit OrderTable(uint32_t max_orders)
      : slots_(std::bit_ceil(uint64_t{max_orders} * 2)),
        mask_(slots_ - 1),
        shift_(static_cast<unsigned>(std::countr_zero(slots_))),
        table_(slots_) {}  // zero-filled: every slot unused

  Order* find(uint64_t ref) const noexcept {
    for (uint64_t i = home(ref);; i = (i + 1) & mask_) {
      Order& o = table_[i];
      if (!o.used) return nullptr;
      if (o.ref == ref) return &o;
    }
  }

  // Claims the slot for ref and returns it, or nullptr when ref is already present. The slot stays
  // unused until the caller sets `used`, so an abandoned claim needs no undo.
  Order* claim(uint64_t ref) noexcept {
    for (uint64_t i = home(ref);; i = (i + 1) & mask_) {
      Order& o = table_[i];
      if (!o.used) {
        o.ref = ref;
        return &o;
      }
      if (o.ref == ref) return nullptr;
    }
  }

  void erase(Order* slot) noexcept {
    uint64_t hole = static_cast<uint64_t>(slot - table_.data());
    for (uint64_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
      Order& o = table_[i];
      if (!o.used) break;
      const uint64_t h = home(o.ref);
      // Move o into the hole unless its home lies cyclically within (hole, i].
      const bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
      if (!stays) {
        table_[hole] = o;
        hole = i;
      }
    }
    table_[hole].used = 0;
  }

  void prefetch(uint64_t ref) const noexcept { __builtin_prefetch(&table_[home(ref)]); }
  uint64_t slots() const noexcept { return slots_; }
  const Order& at(uint64_t i) const noexcept { return table_[i]; }

 private:
  uint64_t home(uint64_t ref) const noexcept { return (ref ^ (ref >> shift_)) & mask_; }

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

void OrderBooks::prefetch_order_book(uint64_t ref) const noexcept {
  const Order* o = orders_->find(ref);
  if (o != nullptr) __builtin_prefetch(&books_[o->locate]);
}

void OrderBooks::prefetch_order_levels(uint64_t ref) const noexcept {
  const Order* o = orders_->find(ref);
  if (o != nullptr) prefetch_top_levels(o->locate, o->side == Side::kBid ? 'B' : 'S');
}

// Finds the level for key on one side, creating it if needed. Returns nullptr when the level limit
// or the arena is exhausted.
OrderBooks::LevelEntry* OrderBooks::find_or_insert_level(SideArray& s, uint32_t key) noexcept {
  LevelEntry* e = s.block == kNoBlock ? nullptr : arena_->at(s.block);
  // pos: first entry with a key >= key (entries ascend, best last).
  uint32_t pos = s.size;
  const uint32_t scan_end = s.size > kScan ? s.size - kScan : 0;
  while (pos > scan_end && e[pos - 1].key >= key) --pos;
  if (pos == scan_end && pos > 0 && e[pos - 1].key >= key) {
    pos = static_cast<uint32_t>(
        std::lower_bound(e, e + pos, key, [](const LevelEntry& x, uint32_t k) { return x.key < k; }) - e);
  }
  if (pos < s.size && e[pos].key == key) return e + pos;

  if (live_levels_ == capacity_.max_levels) return nullptr;
  const uint32_t capacity = s.block == kNoBlock ? 0 : LevelArena::class_size(s.block_class);
  if (s.size == capacity) {
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
  std::memmove(e + pos + 1, e + pos, (s.size - pos) * sizeof(LevelEntry));
  e[pos] = LevelEntry{key, 0, 0};
  ++s.size;
  ++live_levels_;
  return e + pos;
}

// Re-reads the side's best level; returns true when it differs from the last one reported.
bool OrderBooks::refresh_top(SideArray& s, Side side) noexcept {
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
  // Duplicate first: a duplicate is dropped whatever the capacity, so it must not mark the book
  // damaged. The table always has a free slot (2x max_orders), and an unused claim needs no undo.
  Order* o = orders_->claim(ref);
  if (o == nullptr) [[unlikely]] {
    ++stats_.duplicate_order;
    return {};
  }
  if (live_orders_ == capacity_.max_orders) [[unlikely]] {
    ++stats_.order_capacity_exceeded;
    book.damaged() = true;
    return {};
  }
  const Side side = side_char == 'B' ? Side::kBid : Side::kAsk;
  SideArray& s = book.sides[static_cast<int>(side)];
  LevelEntry* level = find_or_insert_level(s, side_key(side, price));
  if (level == nullptr) [[unlikely]] {
    ++stats_.level_capacity_exceeded;  // the claimed slot is still unused: nothing to undo
    book.damaged() = true;
    return {};
  }
  *o = Order{ref, shares, price, locate, side, 1};
  level->shares += shares;
  ++level->orders;
  ++live_orders_;
  ++stats_.adds;
  return Touch{locate, refresh_top(s, side)};
}

// Takes shares out of an order (all of them when shares >= what is left), removing the order and,
// if it was the level's last, the level; a side left empty gives its arena block back.
void OrderBooks::take_from_order(Order& order, uint32_t shares) noexcept {
  SideArray& s = books_[order.locate].sides[static_cast<int>(order.side)];
  LevelEntry* e = arena_->at(s.block);
  const uint32_t key = side_key(order.side, order.price);
  uint32_t pos = s.size - 1;
  const uint32_t scan_end = s.size > kScan ? s.size - kScan : 0;
  while (pos > scan_end && e[pos].key != key) --pos;
  if (e[pos].key != key) {
    pos = static_cast<uint32_t>(
        std::lower_bound(e, e + s.size, key, [](const LevelEntry& x, uint32_t k) { return x.key < k; }) - e);
  }
  assert(pos < s.size && e[pos].key == key);
  LevelEntry& level = e[pos];
  if (shares < order.shares) {
    order.shares -= shares;
    level.shares -= shares;
    return;
  }
  level.shares -= order.shares;
  --level.orders;
  orders_->erase(&order);
  --live_orders_;
  if (level.orders != 0) return;
  assert(level.shares == 0);
  std::memmove(e + pos, e + pos + 1, (s.size - pos - 1) * sizeof(LevelEntry));
  --s.size;
  --live_levels_;
  if (s.size == 0) {
    arena_->release(s.block, s.block_class);
    s.block = kNoBlock;
    s.block_class = 0;
  }
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
  take_from_order(*o, shares);
  return Touch{locate, refresh_top(books_[locate].sides[static_cast<int>(side)], side)};
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
  take_from_order(*o, UINT32_MAX);
  LocateBook& book = books_[locate];
  SideArray& s = book.sides[static_cast<int>(side)];
  if (shares == 0) [[unlikely]] {
    ++stats_.zero_shares;
    return Touch{locate, refresh_top(s, side)};
  }
  // The old order's slot is free again and a live order was removed, so neither the table nor the
  // order count can be full here; only the level limit or the arena can be.
  Order* n = orders_->claim(new_ref);
  assert(n != nullptr);
  LevelEntry* level = find_or_insert_level(s, side_key(side, price));
  if (level == nullptr) [[unlikely]] {
    ++stats_.level_capacity_exceeded;  // n is still unused: nothing to undo
    book.damaged() = true;
    return Touch{locate, refresh_top(s, side)};
  }
  *n = Order{new_ref, shares, price, locate, side, 1};
  level->shares += shares;
  ++level->orders;
  ++live_orders_;
  return Touch{locate, refresh_top(s, side)};
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
