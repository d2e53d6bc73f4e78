// Property tests: OrderBooks against the plain ReferenceBooks (reference_book.hpp) on long random
// message streams, and BookBuilder against the reference on a generated ITCH day
// (perf/itch_day_generator.hpp). Every operation's Touch is compared; at checkpoints, everything observable is:
// top and 10-level depth of every used locate, live order and level counts, every BookStats
// counter, damaged flags, the digest (the reference computes its own) and check_invariants().
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/order_book.hpp"
#include "tests/book/reference_book.hpp"

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

using pmm::book::BookCapacity;
using pmm::book::BookStats;
using pmm::book::LevelView;
using pmm::book::OrderBooks;
using pmm::book::Price;
using pmm::book::Side;
using pmm::book::TopOfBook;
using pmm::book::Touch;
using pmm::book::test::ReferenceBooks;

// ---------------------------------------------------------------------------------------------
// Comparison of the whole observable state.

#define PMM_BOOK_STATS_FIELDS(X)                                                               \
  X(adds) X(executes) X(cancels) X(deletes) X(replaces) X(unknown_order) X(duplicate_order)    \
  X(bad_side) X(zero_shares) X(over_execution) X(locate_out_of_range) X(order_capacity_exceeded) \
  X(level_capacity_exceeded)

std::string to_string(const LevelView& l) {
  std::ostringstream s;
  s << '(' << l.price << ", " << l.shares << ", " << l.orders << ')';
  return s.str();
}

// Returns "" when fast and reference agree on everything observable, else the first difference.
std::string compare_books(const OrderBooks& fast, const ReferenceBooks& ref) {
  std::ostringstream diff;
#define PMM_COMPARE_STAT(f)                                                                       \
  if (fast.stats().f != ref.stats().f) {                                                          \
    diff << "stats." #f ": fast " << fast.stats().f << ", reference " << ref.stats().f;           \
    return diff.str();                                                                            \
  }
  PMM_BOOK_STATS_FIELDS(PMM_COMPARE_STAT)
#undef PMM_COMPARE_STAT
  if (fast.live_orders() != ref.live_orders()) {
    diff << "live_orders: fast " << fast.live_orders() << ", reference " << ref.live_orders();
    return diff.str();
  }
  if (fast.live_levels() != ref.live_levels()) {
    diff << "live_levels: fast " << fast.live_levels() << ", reference " << ref.live_levels();
    return diff.str();
  }
  for (uint32_t loc = 0; loc < fast.max_locates(); ++loc) {
    if (fast.damaged(static_cast<uint16_t>(loc)) != ref.damaged(static_cast<uint16_t>(loc))) {
      diff << "damaged(" << loc << "): fast " << fast.damaged(static_cast<uint16_t>(loc));
      return diff.str();
    }
  }
  constexpr size_t kDepth = 10;
  std::array<LevelView, kDepth + 1> a{}, b{};
  for (const uint16_t loc : ref.used_locates()) {
    if (!(fast.top(loc) == ref.top(loc))) {
      diff << "top(" << loc << "): fast bid " << to_string(fast.top(loc).bid) << " ask "
           << to_string(fast.top(loc).ask) << ", reference bid " << to_string(ref.top(loc).bid) << " ask "
           << to_string(ref.top(loc).ask);
      return diff.str();
    }
    for (const Side side : {Side::kBid, Side::kAsk}) {
      // Ask for one level more than compared, to check neither writes more than n.
      a[kDepth] = b[kDepth] = LevelView{1, 2, 3};
      const size_t na = fast.depth(loc, side, a.data(), kDepth);
      const size_t nb = ref.depth(loc, side, b.data(), kDepth);
      const char* side_name = side == Side::kBid ? "bid" : "ask";
      if (na != nb) {
        diff << "depth(" << loc << ", " << side_name << ") size: fast " << na << ", reference " << nb;
        return diff.str();
      }
      for (size_t i = 0; i < na; ++i) {
        if (!(a[i] == b[i])) {
          diff << "depth(" << loc << ", " << side_name << ")[" << i << "]: fast " << to_string(a[i])
               << ", reference " << to_string(b[i]);
          return diff.str();
        }
      }
      if (!(a[kDepth] == LevelView{1, 2, 3})) return "depth wrote past n";
    }
  }
  if (fast.digest() != ref.digest()) {
    diff << "digest: fast " << std::hex << fast.digest() << ", reference " << ref.digest();
    return diff.str();
  }
  const std::string broken = fast.check_invariants();
  if (!broken.empty()) return "check_invariants: " + broken;
  return "";
}

// ---------------------------------------------------------------------------------------------
// Random message streams.

enum class OpKind : uint8_t { kAdd, kExecute, kCancel, kRemove, kReplace };

struct Op {
  OpKind kind = OpKind::kAdd;
  uint16_t locate = 0;
  char side = 'B';
  uint64_t ref = 0;
  uint64_t new_ref = 0;  // replace only
  uint32_t shares = 0;
  Price price = 0;
};

std::string to_string(const Op& op) {
  std::ostringstream s;
  switch (op.kind) {
    case OpKind::kAdd:
      s << "add(locate " << op.locate << ", ref " << op.ref << ", side " << int{op.side} << " '"
        << (op.side >= ' ' && op.side <= '~' ? op.side : '?') << "', shares "
        << op.shares << ", price " << op.price << ")";
      break;
    case OpKind::kExecute: s << "execute(ref " << op.ref << ", shares " << op.shares << ")"; break;
    case OpKind::kCancel: s << "cancel(ref " << op.ref << ", shares " << op.shares << ")"; break;
    case OpKind::kRemove: s << "remove(ref " << op.ref << ")"; break;
    case OpKind::kReplace:
      s << "replace(old " << op.ref << ", new " << op.new_ref << ", shares " << op.shares << ", price "
        << op.price << ")";
      break;
  }
  return s.str();
}

template <class Books>
Touch apply(Books& books, const Op& op) {
  switch (op.kind) {
    case OpKind::kAdd: return books.add(op.locate, op.ref, op.side, op.shares, op.price);
    case OpKind::kExecute: return books.execute(op.ref, op.shares);
    case OpKind::kCancel: return books.cancel(op.ref, op.shares);
    case OpKind::kRemove: return books.remove(op.ref);
    case OpKind::kReplace: return books.replace(op.ref, op.new_ref, op.shares, op.price);
  }
  return {};
}

struct StreamConfig {
  const char* name;
  uint64_t ops;
  BookCapacity capacity;
  uint32_t locates;            // valid adds use locates 0 .. min(locates, max_locates) - 1
  uint32_t price_width;        // each side's prices spread over about this many ticks
  uint32_t target_live;        // adds and removals balance around this many live orders (on average)
  uint32_t invalid_per_mille;  // messages that are invalid on purpose
  uint32_t random_ref_per_mille = 40;  // adds with a random 64-bit reference instead of the next one
  uint32_t checkpoint_every = 1000;
  // What the run is for, checked afterwards so a generator change cannot quietly stop doing it.
  bool hits_order_capacity = false;
  bool hits_level_capacity = false;
  uint64_t min_peak_levels = 0;
};

BookCapacity capacity(uint32_t max_orders, uint32_t max_levels, uint32_t max_locates, uint32_t entries) {
  BookCapacity c;
  c.max_orders = max_orders;
  c.max_levels = max_levels;
  c.max_locates = max_locates;
  c.level_index_entries = entries;
  return c;
}

// Generates a stream that mixes valid ITCH order traffic (around a drifting mid per locate, mostly
// consecutive references) with invalid messages of every kind. It reads the reference book to pick
// live orders, so "valid" means valid for the book as it really is (capacity drops included).
class MessageStream {
 public:
  MessageStream(const StreamConfig& config, uint64_t seed, const ReferenceBooks& book)
      : config_(config),
        book_(book),
        rng_(seed),
        next_ref_(1 + (seed % 1000)),
        valid_locates_(std::min(config.locates, config.capacity.max_locates)),
        mids_(valid_locates_) {
    for (uint32_t& mid : mids_) mid = 1'000'000 + static_cast<uint32_t>(below(1'000'000));
  }

  Op next() {
    if (below(1000) < config_.invalid_per_mille) return invalid();
    // Below the target, adds are 65 % and half the rest remove an order; above it, adds are 20 %.
    const bool below_target = book_.live_orders() < target_live();
    if (below(100) < (below_target ? 65u : 20u)) return add();
    Op op;
    const Order* o = pick_live(op.ref);
    if (o == nullptr) return add();
    const uint32_t r = static_cast<uint32_t>(below(100));
    if (r < 35) {  // E or X: partial (20 %) or the whole order (15 %)
      op.kind = below(2) ? OpKind::kExecute : OpKind::kCancel;
      op.shares = r < 20 && o->shares > 1 ? 1 + static_cast<uint32_t>(below(o->shares - 1)) : o->shares;
      if (op.shares == o->shares) retire(op.ref);
    } else if (r < 70) {
      op.kind = OpKind::kRemove;
      retire(op.ref);
    } else {
      op.kind = OpKind::kReplace;
      op.new_ref = below(10) == 0 ? op.ref : fresh_ref();
      op.shares = shares();
      op.price = price(o->locate, o->side == Side::kBid ? 'B' : 'S');
      if (op.new_ref != op.ref) retire(op.ref);
    }
    return op;
  }

  // Call after op was applied to the reference: an order it added becomes a candidate.
  void applied(const Op& op) {
    const uint64_t added = op.kind == OpKind::kAdd ? op.ref : op.kind == OpKind::kReplace ? op.new_ref : 0;
    if ((op.kind == OpKind::kAdd || op.kind == OpKind::kReplace) && book_.find(added) != nullptr)
      live_candidates_.push_back(added);
  }

 private:
  using Order = ReferenceBooks::Order;

  uint64_t below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // The live-order target swings between 1/2 and 3/2 of the configured one over every 100 000
  // messages (a triangle wave), so books fill and drain and limits near the target are both hit
  // and not hit in one run.
  uint64_t target_live() {
    constexpr uint64_t kPeriod = 100'000;
    const uint64_t phase = ops_++ % kPeriod;
    const uint64_t rise = phase < kPeriod / 2 ? phase : kPeriod - phase;  // 0 .. kPeriod / 2
    return config_.target_live / 2 + config_.target_live * rise / (kPeriod / 2);
  }

  Op add() {
    Op op;
    op.kind = OpKind::kAdd;
    op.locate = locate();
    op.side = below(2) ? 'B' : 'S';
    op.ref = fresh_ref();
    op.shares = shares();
    op.price = price(op.locate, op.side);
    return op;
  }

  Op invalid() {
    Op op;
    switch (below(9)) {
      case 0: {  // any reducing message or replace for a reference that is not live
        op.ref = below(2) && !retired_.empty() ? retired_[below(retired_.size())] : rng_();
        if (book_.find(op.ref) != nullptr) op.ref = rng_();
        op.kind = static_cast<OpKind>(1 + below(4));
        op.new_ref = fresh_ref();
        op.shares = shares();
        op.price = 100;
        return op;
      }
      case 1: {  // add with a live reference
        op = add();
        uint64_t live = 0;
        if (pick_live(live) != nullptr) op.ref = live;
        return op;
      }
      case 2: {  // execute or cancel more than is left
        const Order* o = pick_live(op.ref);
        if (o == nullptr || o->shares == UINT32_MAX) return add();  // nothing is more than UINT32_MAX
        const uint64_t room = UINT32_MAX - o->shares;
        op.kind = below(2) ? OpKind::kExecute : OpKind::kCancel;
        op.shares = o->shares + 1 + static_cast<uint32_t>(below(std::min<uint64_t>(room, 100)));
        retire(op.ref);
        return op;
      }
      case 3:
        op = add();
        op.shares = 0;
        return op;
      case 4: {
        op = add();
        static constexpr char kBadSides[] = {'b', 's', 'X', '\0', ' ', 'A', '\xff'};
        op.side = kBadSides[below(sizeof kBadSides)];
        return op;
      }
      case 5:
        op = add();
        if (config_.capacity.max_locates < 65536)
          op.locate = static_cast<uint16_t>(config_.capacity.max_locates +
                                            below(65536 - config_.capacity.max_locates));
        return op;
      case 6: {  // replace onto another live reference
        const Order* o = pick_live(op.ref);
        uint64_t other = 0;
        if (o == nullptr || pick_live(other) == nullptr) return add();
        op.kind = OpKind::kReplace;
        op.new_ref = other;  // may equal op.ref: then it is a valid same-reference replace
        op.shares = shares();
        op.price = price(o->locate, o->side == Side::kBid ? 'B' : 'S');
        return op;
      }
      case 7: {  // replace to 0 shares: the old order still goes
        const Order* o = pick_live(op.ref);
        if (o == nullptr) return add();
        op.kind = OpKind::kReplace;
        op.new_ref = fresh_ref();
        op.shares = 0;
        op.price = price(o->locate, 'B');
        retire(op.ref);
        return op;
      }
      default: {  // 0-share execution: counted, changes nothing
        if (pick_live(op.ref) == nullptr) return add();
        op.kind = below(2) ? OpKind::kExecute : OpKind::kCancel;
        op.shares = 0;
        return op;
      }
    }
  }

  // A live order picked at random (its ref in `ref`), or nullptr. Candidates are references that
  // became live; those that died since are dropped when met.
  const Order* pick_live(uint64_t& ref) {
    for (int tries = 0; tries < 16 && !live_candidates_.empty(); ++tries) {
      const size_t i = below(live_candidates_.size());
      if (const Order* o = book_.find(live_candidates_[i])) {
        ref = live_candidates_[i];
        return o;
      }
      live_candidates_[i] = live_candidates_.back();
      live_candidates_.pop_back();
    }
    return nullptr;
  }

  // Remembers a reference that is about to leave the book, for later "unknown" and reuse.
  void retire(uint64_t ref) {
    if (retired_.size() < 256) {
      retired_.push_back(ref);
    } else {
      retired_[below(retired_.size())] = ref;
    }
  }

  uint64_t fresh_ref() {
    const uint64_t r = below(1000);
    if (r < config_.random_ref_per_mille) return rng_();
    if (r < config_.random_ref_per_mille + 10 && !retired_.empty()) return retired_[below(retired_.size())];
    if (r < config_.random_ref_per_mille + 40) next_ref_ += below(1000);
    return ++next_ref_;
  }

  uint16_t locate() {
    // Half the traffic on a few busy locates, the rest spread over all of them.
    const uint32_t busy = std::min<uint32_t>(valid_locates_, 8);
    return static_cast<uint16_t>(below(2) ? below(busy) : below(valid_locates_));
  }

  uint32_t shares() {
    const uint64_t r = below(1000);
    if (r < 5) return 0x8000'0000u + static_cast<uint32_t>(below(0x8000'0000u));  // level sums pass 2^32
    if (r < 300) return 1 + static_cast<uint32_t>(below(99));
    return 100 * (1 + static_cast<uint32_t>(below(50)));
  }

  Price price(uint16_t locate, char side) {
    if (locate >= valid_locates_) return static_cast<Price>(rng_());
    uint32_t& mid = mids_[locate];
    if (below(100) == 0) mid = below(2) ? mid + 1 : mid - 1;
    const uint64_t r = below(1000);
    if (r < 3) {  // the extremes of the key space (asks are keyed by ~price)
      static constexpr Price kEdges[] = {0, 1, UINT32_MAX - 1, UINT32_MAX};
      return kEdges[below(4)];
    }
    if (r < 30) return side == 'B' ? mid + static_cast<uint32_t>(below(3)) : mid - static_cast<uint32_t>(below(3));
    // Closer to the mid is likelier: the smaller of two uniform offsets.
    const uint32_t offset = static_cast<uint32_t>(std::min(below(config_.price_width), below(config_.price_width)));
    return side == 'B' ? mid - 1 - offset : mid + offset;
  }

  const StreamConfig& config_;
  const ReferenceBooks& book_;
  std::mt19937_64 rng_;
  uint64_t next_ref_;
  uint32_t valid_locates_;
  std::vector<uint32_t> mids_;
  std::vector<uint64_t> live_candidates_;
  std::vector<uint64_t> retired_;
  uint64_t ops_ = 0;
};

struct RunTotals {
  uint64_t ops = 0;
  uint64_t checkpoints = 0;
  BookStats stats;
  uint64_t max_live_orders = 0;
  uint64_t max_live_levels = 0;
  uint64_t top_changes = 0;
};

// Runs one stream through both books; returns "" or a description of the first disagreement.
std::string run_stream(const StreamConfig& config, uint64_t seed, RunTotals& totals) {
  OrderBooks fast(config.capacity);
  ReferenceBooks ref(config.capacity);
  MessageStream stream(config, seed, ref);
  std::array<Op, 16> recent;  // the ops before a failure, for the report
  const auto history = [&](uint64_t i) {
    std::string s = "\nlast operations (oldest first):";
    for (uint64_t j = i + 1 > recent.size() ? i + 1 - recent.size() : 0; j <= i; ++j)
      s += "\n  #" + std::to_string(j) + " " + to_string(recent[j % recent.size()]);
    return s;
  };
  for (uint64_t i = 0; i < config.ops; ++i) {
    const Op op = stream.next();
    recent[i % recent.size()] = op;
    // The locate the op will touch, if it applies, and its top before: the reference's own Touch
    // is checked against the before/after tops too.
    const ReferenceBooks::Order* target = op.kind == OpKind::kAdd ? nullptr : ref.find(op.ref);
    const uint16_t locate = target != nullptr ? target->locate : op.locate;
    const TopOfBook before = ref.top(locate);
    const Touch want = apply(ref, op);
    stream.applied(op);
    const Touch got = apply(fast, op);
    if (got.locate != want.locate || got.top_changed != want.top_changed) {
      return "op #" + std::to_string(i) + " Touch: fast {" + std::to_string(got.locate) + ", " +
             std::to_string(got.top_changed) + "}, reference {" + std::to_string(want.locate) + ", " +
             std::to_string(want.top_changed) + "}" + history(i);
    }
    if (want.locate != Touch::kNone &&
        (want.locate != locate || want.top_changed != !(ref.top(locate) == before))) {
      return "op #" + std::to_string(i) + ": the reference's Touch disagrees with its own tops" + history(i);
    }
    totals.top_changes += want.top_changed;
    totals.max_live_orders = std::max(totals.max_live_orders, ref.live_orders());
    totals.max_live_levels = std::max(totals.max_live_levels, ref.live_levels());
    if ((i + 1) % config.checkpoint_every == 0 || i + 1 == config.ops) {
      ++totals.checkpoints;
      const std::string diff = compare_books(fast, ref);
      if (!diff.empty()) return "after op #" + std::to_string(i) + ": " + diff + history(i);
    }
  }
  totals.ops += config.ops;
#define PMM_ADD_STAT(f) totals.stats.f += ref.stats().f;
  PMM_BOOK_STATS_FIELDS(PMM_ADD_STAT)
#undef PMM_ADD_STAT
  return "";
}

// Every run is sized so the whole suite stays well under a minute in a release build on 2 cores.
const StreamConfig kConfigs[] = {
    // Few locates, narrow prices: busy levels with many orders each.
    {.name = "narrow_few_locates", .ops = 1'000'000, .capacity = capacity(8192, 4096, 8, 1u << 14),
     .locates = 4, .price_width = 16, .target_live = 2000, .invalid_per_mille = 50},
    // Wide prices on 2 locates: thousands of levels per side, index blocks up to 8192 entries,
    // inserts and deletes deep in the book.
    {.name = "wide_deep_books", .ops = 300'000, .capacity = capacity(1u << 15, 1u << 15, 2, 1u << 17),
     .locates = 2, .price_width = 200'000, .target_live = 20'000, .invalid_per_mille = 30,
     .min_peak_levels = 8000},
    // Many locates, all active: many small books.
    {.name = "many_locates", .ops = 400'000, .capacity = capacity(1u << 16, 1u << 16, 4096, 1u << 20),
     .locates = 3000, .price_width = 64, .target_live = 30'000, .invalid_per_mille = 40},
    // Every locate code has a book (nothing is out of range); the stream spreads over all 65536.
    // check_invariants() walks all 65536 books, so checkpoints are sparser.
    {.name = "all_locates", .ops = 200'000, .capacity = capacity(1u << 15, 1u << 15, 65536, 1u << 21),
     .locates = 65536, .price_width = 8, .target_live = 10'000, .invalid_per_mille = 40,
     .checkpoint_every = 10'000},
    // Capacity limits hit on purpose: the stream hovers around the limit, so the book runs both
    // full and not.
    {.name = "order_capacity", .ops = 400'000, .capacity = capacity(500, 4096, 16, 1u << 14),
     .locates = 16, .price_width = 50, .target_live = 500, .invalid_per_mille = 50,
     .hits_order_capacity = true},
    {.name = "level_pool_capacity", .ops = 400'000, .capacity = capacity(8192, 300, 32, 1u << 14),
     .locates = 32, .price_width = 2000, .target_live = 300, .invalid_per_mille = 50,
     .hits_level_capacity = true},
    {.name = "index_arena_capacity", .ops = 400'000, .capacity = capacity(8192, 8192, 256, 2048),
     .locates = 100, .price_width = 500, .target_live = 1500, .invalid_per_mille = 50,
     .hits_level_capacity = true},
    {.name = "tiny_everything", .ops = 200'000, .capacity = capacity(4, 3, 2, 8), .locates = 3,
     .price_width = 5, .target_live = 4, .invalid_per_mille = 100, .checkpoint_every = 100,
     .hits_order_capacity = true, .hits_level_capacity = true},
    // Random 64-bit references with the order table at its full load (max_orders = half the slots):
    // long probe runs that wrap around, back-shift deletes across them.
    {.name = "random_refs_full_table", .ops = 400'000, .capacity = capacity(1024, 4096, 8, 1u << 14),
     .locates = 8, .price_width = 100, .target_live = 1024, .invalid_per_mille = 30,
     .random_ref_per_mille = 900, .hits_order_capacity = true},
};
constexpr uint64_t kSeeds[] = {1, 0x5eed'2024'0611ull, 0xdecafbad};

class BookVersusReference : public ::testing::TestWithParam<size_t> {};

TEST_P(BookVersusReference, RandomStreams) {
  const StreamConfig& config = kConfigs[GetParam()];
  ASSERT_EQ(pmm::book::validate(config.capacity), "");
  for (const uint64_t seed : kSeeds) {
    RunTotals totals;
    const auto start = std::chrono::steady_clock::now();
    const std::string diff = run_stream(config, seed, totals);
    ASSERT_EQ(diff, "") << config.name << " seed " << seed;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const BookStats& s = totals.stats;
    std::printf(
        "%s seed %llu: %llu ops, %llu checkpoints, %.2f s; peak %llu orders %llu levels; top changes %llu\n"
        "  adds %llu executes %llu cancels %llu deletes %llu replaces %llu | unknown %llu duplicate %llu "
        "bad_side %llu zero_shares %llu over_execution %llu out_of_range %llu order_cap %llu level_cap %llu\n",
        config.name, static_cast<unsigned long long>(seed), static_cast<unsigned long long>(totals.ops),
        static_cast<unsigned long long>(totals.checkpoints), secs,
        static_cast<unsigned long long>(totals.max_live_orders),
        static_cast<unsigned long long>(totals.max_live_levels),
        static_cast<unsigned long long>(totals.top_changes), static_cast<unsigned long long>(s.adds),
        static_cast<unsigned long long>(s.executes), static_cast<unsigned long long>(s.cancels),
        static_cast<unsigned long long>(s.deletes), static_cast<unsigned long long>(s.replaces),
        static_cast<unsigned long long>(s.unknown_order), static_cast<unsigned long long>(s.duplicate_order),
        static_cast<unsigned long long>(s.bad_side), static_cast<unsigned long long>(s.zero_shares),
        static_cast<unsigned long long>(s.over_execution),
        static_cast<unsigned long long>(s.locate_out_of_range),
        static_cast<unsigned long long>(s.order_capacity_exceeded),
        static_cast<unsigned long long>(s.level_capacity_exceeded));
    // The stream must have produced what the run is for; a generator change that stops hitting
    // a limit would otherwise pass silently.
    EXPECT_GT(s.adds, 0u);
    EXPECT_GT(s.unknown_order, 0u);
    EXPECT_GT(s.over_execution, 0u);
    EXPECT_GT(s.zero_shares, 0u);
    EXPECT_GT(s.duplicate_order, 0u);
    EXPECT_GT(s.bad_side, 0u);
    if (config.capacity.max_locates < 65536) {
      EXPECT_GT(s.locate_out_of_range, 0u);
    }
    if (config.hits_order_capacity) {
      EXPECT_GT(s.order_capacity_exceeded, 0u);
    }
    if (config.hits_level_capacity) {
      EXPECT_GT(s.level_capacity_exceeded, 0u);
    }
    EXPECT_GE(totals.max_live_levels, config.min_peak_levels);
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, BookVersusReference, ::testing::Range<size_t>(0, std::size(kConfigs)),
                         [](const ::testing::TestParamInfo<size_t>& param) {
                           return std::string(kConfigs[param.param].name);
                         });

// The comparison itself must notice a difference, wherever it is.
TEST(BookVersusReference, ComparisonDetectsDifferences) {
  const BookCapacity c = capacity(64, 64, 4, 256);
  {  // One share more in the second ask level.
    OrderBooks fast(c);
    ReferenceBooks ref(c);
    fast.add(1, 1, 'B', 100, 5000);
    ref.add(1, 1, 'B', 100, 5000);
    fast.add(1, 2, 'S', 100, 5001);
    ref.add(1, 2, 'S', 100, 5001);
    ASSERT_EQ(compare_books(fast, ref), "");
    fast.add(1, 3, 'S', 1, 5002);
    ref.add(1, 3, 'S', 2, 5002);
    EXPECT_NE(compare_books(fast, ref).find("depth(1, ask)[1]"), std::string::npos) << compare_books(fast, ref);
  }
  {  // A difference below the 10 compared levels is still caught, by the digest.
    OrderBooks fast(c);
    ReferenceBooks ref(c);
    for (uint32_t i = 0; i < 11; ++i) {
      fast.add(0, i, 'B', 10, 100 + i);
      ref.add(0, i, 'B', 10, 100 + i);
    }
    fast.add(0, 20, 'B', 1, 100);  // level 11 from the top
    ref.add(0, 20, 'B', 2, 100);
    EXPECT_NE(compare_books(fast, ref).find("digest"), std::string::npos) << compare_books(fast, ref);
  }
  {  // A counter.
    OrderBooks fast(c);
    ReferenceBooks ref(c);
    ref.execute(99, 1);
    EXPECT_NE(compare_books(fast, ref).find("unknown_order"), std::string::npos) << compare_books(fast, ref);
  }
}

// ---------------------------------------------------------------------------------------------
// A generated trading day through BookBuilder::on_message, and the same bytes decoded by
// itch::dispatch into the reference.

// Applies decoded ITCH order messages to the reference and keeps the directory and trading state.
struct ReferenceFeed : pmm::itch::IgnoreAll {
  explicit ReferenceFeed(const BookCapacity& c)
      : books(c), symbols(c.max_locates, pmm::itch::make_symbol("")), trading_state(c.max_locates, ' ') {}

  using pmm::itch::IgnoreAll::on;
  void on(const pmm::itch::StockDirectory& m) {
    if (m.h.locate < symbols.size()) symbols[m.h.locate] = m.stock;
  }
  void on(const pmm::itch::StockTradingAction& m) {
    if (m.h.locate < trading_state.size()) trading_state[m.h.locate] = m.trading_state;
  }
  void on(const pmm::itch::AddOrder& m) { last = books.add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const pmm::itch::AddOrderMpid& m) { last = books.add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const pmm::itch::OrderExecuted& m) { last = books.execute(m.ref, m.shares); }
  void on(const pmm::itch::OrderExecutedWithPrice& m) { last = books.execute(m.ref, m.shares); }
  void on(const pmm::itch::OrderCancel& m) { last = books.cancel(m.ref, m.shares); }
  void on(const pmm::itch::OrderDelete& m) { last = books.remove(m.ref); }
  void on(const pmm::itch::OrderReplace& m) { last = books.replace(m.old_ref, m.new_ref, m.shares, m.price); }

  ReferenceBooks books;
  std::vector<pmm::itch::Symbol> symbols;
  std::vector<char> trading_state;
  Touch last;  // of the last order message
};

const pmm::gen::DayConfig kDays[] = {
    {.seed = 20240611, .messages = 2'000'000, .symbols = 500, .target_live_orders = 50'000},
    {.seed = 99, .messages = 1'000'000, .symbols = 3000, .target_live_orders = 100'000},
};

class BookBuilderVersusReference : public ::testing::TestWithParam<size_t> {};

TEST_P(BookBuilderVersusReference, GeneratedDay) {
  const pmm::gen::DayConfig& day = kDays[GetParam()];
  constexpr uint64_t kCheckpointEvery = 10'000;
  BookCapacity c;  // roomy: nothing may be dropped on a well-formed day
  c.max_orders = 1u << 18;
  c.max_levels = 1u << 18;
  c.max_locates = 4096;
  c.level_index_entries = 1u << 21;

  pmm::gen::ItchDayGenerator gen(day);
  pmm::BookBuilder builder(c);
  ReferenceFeed ref(c);
  std::array<uint64_t, 256> by_type{};
  std::array<uint8_t, pmm::itch::kMaxMessageLength> buf{};
  uint64_t n = 0, top_changes = 0, checkpoints = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t len; (len = gen.next(buf.data())) != 0; ++n) {
    ++by_type[buf[0]];
    ref.last = Touch{};
    ASSERT_EQ(pmm::itch::dispatch(buf.data(), len, ref), pmm::itch::DispatchResult::kOk) << "message " << n;
    ASSERT_EQ(builder.on_message(buf.data(), len), pmm::itch::DispatchResult::kOk) << "message " << n;
    // BookBuilder reports the fast book's Touch through its changed-locate list: cleared after
    // every message, it holds exactly this message's locate when its top changed.
    const auto changed = builder.changed_locates();
    if (ref.last.top_changed) {
      ++top_changes;
      ASSERT_EQ(changed.size(), 1u) << "message " << n << " type " << char(buf[0]);
      ASSERT_EQ(changed[0], ref.last.locate) << "message " << n;
    } else {
      ASSERT_EQ(changed.size(), 0u) << "message " << n << " type " << char(buf[0]) << " locate " << changed[0];
    }
    builder.clear_changes();
    if ((n + 1) % kCheckpointEvery == 0) {
      ++checkpoints;
      ASSERT_EQ(compare_books(builder.books(), ref.books), "") << "after message " << n;
    }
  }
  ++checkpoints;
  ASSERT_EQ(compare_books(builder.books(), ref.books), "") << "at the end";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_EQ(n, day.messages);
  EXPECT_EQ(builder.stats().messages, n);
  for (int t = 0; t < 256; ++t) EXPECT_EQ(builder.stats().by_type[t], by_type[t]) << "type " << t;
  for (uint32_t loc = 0; loc < c.max_locates; ++loc) {
    EXPECT_EQ(builder.symbol(static_cast<uint16_t>(loc)), ref.symbols[loc]) << loc;
    EXPECT_EQ(builder.trading_state(static_cast<uint16_t>(loc)), ref.trading_state[loc]) << loc;
  }
  for (uint32_t loc = 1; loc <= day.symbols; loc += 97)
    EXPECT_EQ(builder.find_locate(gen.symbols()[loc - 1]), static_cast<int32_t>(loc));
  // A well-formed day: every message applies, nothing is dropped or damaged.
  const BookStats& s = builder.books().stats();
  EXPECT_EQ(s.unknown_order, 0u);
  EXPECT_EQ(s.duplicate_order, 0u);
  EXPECT_EQ(s.over_execution, 0u);
  EXPECT_EQ(s.order_capacity_exceeded + s.level_capacity_exceeded, 0u);
  EXPECT_EQ(s.adds, by_type[uint8_t{'A'}] + by_type[uint8_t{'F'}]);
  EXPECT_EQ(builder.books().live_orders(), gen.live_orders());
  std::printf("generated day (seed %llu, %u symbols): %llu messages, %llu checkpoints, %.2f s; %llu top changes; %llu live orders, "
              "%llu levels at the end (peak %llu orders)\n",
              static_cast<unsigned long long>(day.seed), day.symbols, static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(checkpoints), secs,
              static_cast<unsigned long long>(top_changes),
              static_cast<unsigned long long>(builder.books().live_orders()),
              static_cast<unsigned long long>(builder.books().live_levels()),
              static_cast<unsigned long long>(gen.peak_live_orders()));
}

INSTANTIATE_TEST_SUITE_P(Days, BookBuilderVersusReference, ::testing::Range<size_t>(0, std::size(kDays)));

}  // namespace
