// Parse + full L3 book cost, and the cost of each book operation on a warmed book.
//   BM_BookDay        one iteration = BookBuilder::on_packet over every packet of the generated day
//                     (and clear_changes() after each packet, as the consumer does per burst) on a
//                     BookBuilder constructed outside the timed region. ns_per_msg = CPU ns / message.
//   BM_BookDayBurst   the same day through BookBuilder::on_burst, 32 packets per call (a receive
//                     burst), clear_changes() after each burst: the prefetch pipeline runs across
//                     packet boundaries instead of restarting in every packet.
//   BM_Op<kind>/pool  one book operation (OrderBooks directly, no decode) on a book warmed with the
//                     first half of the same day (~590 k live orders by default). Each iteration times a batch
//                     of kBatch operations on distinct orders; the book is put back while the timer is
//                     paused. pool 0 = orders drawn uniformly from every live order (a cold order
//                     table); pool 1 = drawn from the youngest 1 % (real cancels prefer young orders).
//                     New references continue the day's sequence, as the exchange assigns them.
//                     AddNearTop places an order at the touch or up to 3 ticks behind it.
// Flags: the Google Benchmark ones, plus --day_messages/--day_symbols/--day_live_orders/--day_seed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/order_book.hpp"
#include "perf/bench/bench_day.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

using pmm::book::OrderBooks;
using pmm::book::Price;

constexpr uint32_t kTick = 100;  // Price(4) units in one cent
constexpr size_t kBatch = 2048;

// A message the book refused means the measurement is not of a correct book: name what happened.
std::string refused(const pmm::book::BookStats& s) {
  const std::pair<const char*, uint64_t> kinds[] = {
      {"unknown_order", s.unknown_order},
      {"duplicate_order", s.duplicate_order},
      {"bad_side", s.bad_side},
      {"locate_out_of_range", s.locate_out_of_range},
      {"order_capacity_exceeded", s.order_capacity_exceeded},
      {"level_capacity_exceeded", s.level_capacity_exceeded},
  };
  for (const auto& [name, n] : kinds)
    if (n) return std::string("book refused messages: ") + name + " = " + std::to_string(n);
  return "";
}

// burst 0: on_packet per packet; burst N: on_burst over N packets at a time (one prefetch pipeline
// across the packets of a burst), as a receive stage hands them over. clear_changes() follows each
// packet or burst.
void run_day(benchmark::State& state, size_t burst) {
  const pmm::bench::PacketDay& day = pmm::bench::packet_day();
  const uint8_t* base = day.bytes.data();
  std::vector<pmm::PacketRef> packets;
  packets.reserve(day.packets.size());
  for (const pmm::bench::PacketSlice& s : day.packets) packets.push_back(pmm::PacketRef{base + s.offset, s.length});
  std::unique_ptr<pmm::BookBuilder> builder;
  uint64_t applied = 0;
  uint64_t cpu_ns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    builder.reset();
    builder = std::make_unique<pmm::BookBuilder>(pmm::book::BookCapacity{});
    state.ResumeTiming();
    const uint64_t start = pmm::bench::thread_cpu_ns();
    if (burst == 0) {
      for (const pmm::PacketRef& p : packets) {
        applied += builder->on_packet(p.data, p.len).applied;
        builder->clear_changes();
      }
    } else {
      for (size_t i = 0; i < packets.size(); i += burst) {
        applied += builder->on_burst(packets.data() + i, std::min(burst, packets.size() - i));
        builder->clear_changes();
      }
    }
    cpu_ns += pmm::bench::thread_cpu_ns() - start;
  }
  if (applied != state.iterations() * day.messages || builder->stats().messages != day.messages) {
    state.SkipWithError("not every message of the day was applied");
    return;
  }
  if (const std::string why = refused(builder->books().stats()); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * day.messages));
  state.counters["ns_per_msg"] = static_cast<double>(cpu_ns) / static_cast<double>(state.iterations() * day.messages);
  state.counters["live_orders_end"] = static_cast<double>(builder->books().live_orders());
  state.counters["live_levels_end"] = static_cast<double>(builder->books().live_levels());
}

void BM_BookDay(benchmark::State& state) { run_day(state, 0); }
BENCHMARK(BM_BookDay)->Unit(benchmark::kMillisecond);

void BM_BookDayBurst(benchmark::State& state) { run_day(state, static_cast<size_t>(state.range(0))); }
BENCHMARK(BM_BookDayBurst)->Arg(32)->ArgName("packets")->Unit(benchmark::kMillisecond);

// ---- Single operations on a warmed book ------------------------------------------------------------

struct LiveOrder {
  uint64_t ref;
  uint16_t locate;
  char side;
  uint32_t shares;
  Price price;
};

// Applies ITCH order messages to an OrderBooks and mirrors the live orders, so the benchmarks can
// pick real orders and put the book back exactly.
struct WarmingHandler : pmm::itch::IgnoreAll {
  OrderBooks& books;
  std::unordered_map<uint64_t, LiveOrder>& live;
  uint64_t max_ref = 0;

  WarmingHandler(OrderBooks& b, std::unordered_map<uint64_t, LiveOrder>& l) : books(b), live(l) {}

  using pmm::itch::IgnoreAll::on;
  void on(const pmm::itch::AddOrder& m) { add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const pmm::itch::AddOrderMpid& m) { add(m.h.locate, m.ref, m.side, m.shares, m.price); }
  void on(const pmm::itch::OrderExecuted& m) {
    books.execute(m.ref, m.shares);
    take(m.ref, m.shares);
  }
  void on(const pmm::itch::OrderExecutedWithPrice& m) {
    books.execute(m.ref, m.shares);
    take(m.ref, m.shares);
  }
  void on(const pmm::itch::OrderCancel& m) {
    books.cancel(m.ref, m.shares);
    take(m.ref, m.shares);
  }
  void on(const pmm::itch::OrderDelete& m) {
    books.remove(m.ref);
    live.erase(m.ref);
  }
  void on(const pmm::itch::OrderReplace& m) {
    books.replace(m.old_ref, m.new_ref, m.shares, m.price);
    const auto it = live.find(m.old_ref);
    if (it == live.end()) return;
    const LiveOrder old = it->second;
    live.erase(it);
    if (m.shares) live[m.new_ref] = LiveOrder{m.new_ref, old.locate, old.side, m.shares, m.price};
    max_ref = std::max(max_ref, m.new_ref);
  }

  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, Price price) {
    books.add(locate, ref, side, shares, price);
    live[ref] = LiveOrder{ref, locate, side, shares, price};
    max_ref = std::max(max_ref, ref);
  }
  void take(uint64_t ref, uint32_t shares) {
    const auto it = live.find(ref);
    if (it == live.end()) return;
    if (shares >= it->second.shares) live.erase(it);
    else it->second.shares -= shares;
  }
};

struct WarmBook {
  std::unique_ptr<OrderBooks> books;
  std::vector<LiveOrder> orders;  // every live order, oldest first
  uint64_t live_orders = 0;
  // New orders (A, and U's new reference) take the next references of the day's sequence, as the
  // exchange assigns them: the order table is laid out for increasing references. Every batch reuses
  // the same kBatch references (the restore removes them again), so the table never drifts: refs
  // far from the sequence, or a frontier that runs past the table size onto the warm orders' slots,
  // would measure collisions a real day does not have.
  uint64_t next_ref = 0;
  std::string error;
};

WarmBook& warm_book() {
  static WarmBook warm = [] {
    WarmBook w;
    w.books = std::make_unique<OrderBooks>(pmm::book::BookCapacity{});
    const pmm::gen::DayConfig config = pmm::bench::day_config();
    std::unordered_map<uint64_t, LiveOrder> live;
    live.reserve(config.target_live_orders * 2ull);
    WarmingHandler handler(*w.books, live);
    pmm::gen::ItchDayGenerator generator(config);
    uint8_t msg[64];
    for (uint64_t i = 0; i < config.messages / 2; ++i) {
      const size_t len = generator.next(msg);
      if (len == 0) break;
      pmm::itch::dispatch(msg, len, handler);
    }
    w.orders.reserve(live.size());
    for (const auto& [ref, order] : live) w.orders.push_back(order);
    std::sort(w.orders.begin(), w.orders.end(), [](const LiveOrder& a, const LiveOrder& b) { return a.ref < b.ref; });
    w.live_orders = w.books->live_orders();
    w.next_ref = handler.max_ref + 1;
    w.error = refused(w.books->stats());
    if (w.error.empty() && w.live_orders != w.orders.size()) w.error = "warm book and its mirror disagree";
    return w;
  }();
  return warm;
}

// splitmix64: the same picks on every run.
struct Picker {
  uint64_t state;
  uint64_t next() noexcept {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Moves kBatch distinct random orders of pool to its front (partial Fisher-Yates).
  void draw(std::vector<LiveOrder>& pool) noexcept {
    for (size_t i = 0; i < kBatch; ++i) std::swap(pool[i], pool[i + next() % (pool.size() - i)]);
  }
};

// pool 0: every live order; pool 1: the youngest 1 %. only_if filters (e.g. orders with >= 2 shares).
template <class Filter>
std::vector<LiveOrder> make_pool(const WarmBook& w, int64_t which, Filter only_if) {
  const size_t from = which == 0 ? 0 : w.orders.size() - w.orders.size() / 100;
  std::vector<LiveOrder> pool;
  for (size_t i = from; i < w.orders.size(); ++i)
    if (only_if(w.orders[i])) pool.push_back(w.orders[i]);
  return pool;
}

// Runs batches: prepare (paused), the timed operations, restore (paused). Checks that the book came
// back to the warm state and refused nothing.
template <class Prepare, class Timed, class Restore>
void run_batches(benchmark::State& state, WarmBook& w, Prepare prepare, Timed timed, Restore restore) {
  const pmm::book::BookStats before = w.books->stats();
  uint64_t cpu_ns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    prepare();
    state.ResumeTiming();
    const uint64_t start = pmm::bench::thread_cpu_ns();
    timed();
    cpu_ns += pmm::bench::thread_cpu_ns() - start;
    state.PauseTiming();
    restore();
    state.ResumeTiming();
  }
  const pmm::book::BookStats& after = w.books->stats();
  if (after.unknown_order != before.unknown_order || after.duplicate_order != before.duplicate_order ||
      after.level_capacity_exceeded != before.level_capacity_exceeded || w.books->live_orders() != w.live_orders) {
    state.SkipWithError("an operation was refused or the book was not restored");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["ns_per_op"] = static_cast<double>(cpu_ns) / static_cast<double>(state.iterations() * kBatch);
  state.counters["live_orders"] = static_cast<double>(w.live_orders);
}

bool usable(benchmark::State& state, const WarmBook& w, const std::vector<LiveOrder>& pool) {
  if (!w.error.empty()) {
    state.SkipWithError(w.error.c_str());
    return false;
  }
  if (pool.size() < kBatch) {
    state.SkipWithError("fewer live orders than one batch: use a larger --day_live_orders");
    return false;
  }
  return true;
}

void BM_OpAddNearTop(benchmark::State& state) {
  WarmBook& w = warm_book();
  std::vector<LiveOrder> pool = make_pool(w, state.range(0), [](const LiveOrder&) { return true; });
  if (!usable(state, w, pool)) return;
  Picker pick{11};
  std::vector<LiveOrder> adds(kBatch);
  run_batches(
      state, w,
      [&] {
        pick.draw(pool);
        for (size_t i = 0; i < kBatch; ++i) {
          const LiveOrder& o = pool[i];
          const pmm::book::TopOfBook top = w.books->top(o.locate);
          const uint32_t behind = static_cast<uint32_t>(pick.next() % 4) * kTick;
          const Price price = o.side == 'B' ? top.bid.price - std::min(behind, top.bid.price - kTick)
                                            : top.ask.price + behind;
          adds[i] = LiveOrder{w.next_ref + i, o.locate, o.side, 100, price};
        }
      },
      [&] {
        for (const LiveOrder& a : adds) w.books->add(a.locate, a.ref, a.side, a.shares, a.price);
      },
      [&] {
        for (const LiveOrder& a : adds) w.books->remove(a.ref);
      });
}
BENCHMARK(BM_OpAddNearTop)->Arg(0)->ArgName("pool")->Unit(benchmark::kNanosecond);

void BM_OpDelete(benchmark::State& state) {
  WarmBook& w = warm_book();
  std::vector<LiveOrder> pool = make_pool(w, state.range(0), [](const LiveOrder&) { return true; });
  if (!usable(state, w, pool)) return;
  Picker pick{12};
  run_batches(
      state, w, [&] { pick.draw(pool); },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) w.books->remove(pool[i].ref);
      },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) {
          const LiveOrder& o = pool[i];
          w.books->add(o.locate, o.ref, o.side, o.shares, o.price);
        }
      });
}
BENCHMARK(BM_OpDelete)->Arg(0)->Arg(1)->ArgName("pool")->Unit(benchmark::kNanosecond);

// A partial execution (1 share of an order with at least 2): the order and its level stay.
void BM_OpExecute(benchmark::State& state) {
  WarmBook& w = warm_book();
  std::vector<LiveOrder> pool = make_pool(w, state.range(0), [](const LiveOrder& o) { return o.shares >= 2; });
  if (!usable(state, w, pool)) return;
  Picker pick{13};
  run_batches(
      state, w, [&] { pick.draw(pool); },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) w.books->execute(pool[i].ref, 1);
      },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) {
          const LiveOrder& o = pool[i];
          w.books->remove(o.ref);
          w.books->add(o.locate, o.ref, o.side, o.shares, o.price);
        }
      });
}
BENCHMARK(BM_OpExecute)->Arg(0)->Arg(1)->ArgName("pool")->Unit(benchmark::kNanosecond);

// Replace to the next reference of the sequence, one tick up or down, same shares.
void BM_OpReplace(benchmark::State& state) {
  WarmBook& w = warm_book();
  std::vector<LiveOrder> pool = make_pool(w, state.range(0), [](const LiveOrder& o) { return o.price > kTick; });
  if (!usable(state, w, pool)) return;
  Picker pick{14};
  std::vector<Price> moved(kBatch);
  const uint64_t first_new_ref = w.next_ref;
  run_batches(
      state, w,
      [&] {
        pick.draw(pool);
        for (size_t i = 0; i < kBatch; ++i) moved[i] = pick.next() % 2 ? pool[i].price + kTick : pool[i].price - kTick;
      },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) w.books->replace(pool[i].ref, first_new_ref + i, pool[i].shares, moved[i]);
      },
      [&] {
        for (size_t i = 0; i < kBatch; ++i) w.books->replace(first_new_ref + i, pool[i].ref, pool[i].shares, pool[i].price);
      });
}
BENCHMARK(BM_OpReplace)->Arg(0)->Arg(1)->ArgName("pool")->Unit(benchmark::kNanosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!pmm::bench::take_day_flags(argc, argv)) return 2;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
