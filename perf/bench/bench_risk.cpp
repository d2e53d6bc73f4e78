// PreTradeRisk::check cost per order (every check evaluated together). ns_per_order = thread CPU ns /
// orders checked. Orders come from a pre-generated table of 4096 over 8 symbols, so symbol slots and
// BBOs vary as they would; nothing is allocated or sent in the timed loop.
//   BM_CheckAccepted    every order passes (the token bucket refills faster than it is drained)
//   BM_CheckRejected    every order fails the max_position check (late in the order: all the
//                       arithmetic is done, plus the rejection counter)
//   BM_CheckMixed       about half accepted, half rejected for varying reasons, in random order:
//                       the branch after the failure mask is unpredictable here
//   BM_CheckSendFill    check + on_order_sent + on_fill (half) + on_order_closed (the rest): the order
//                       path's whole risk bookkeeping for one order
//   BM_ApplyControl     one control through the ring: submit + apply_pending_controls
#include <benchmark/benchmark.h>

#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "risk/pre_trade_risk.hpp"

namespace {

using namespace pmm::risk;

uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr size_t kSymbols = 8;
constexpr size_t kOrders = 4096;  // a power of two

RiskLimits bench_limits() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kSymbols; ++i) names.push_back("SYM" + std::to_string(i));
  SymbolLimits d;
  d.max_position = 100'000;
  d.max_order_notional = 1'000'000;
  d.max_order_shares = 10'000;
  d.max_open_orders_per_symbol = 1000;
  d.price_collar_bps = 50;
  return uniform_limits(names, d, 800'000, 8000, 1'000'000, 1'000'000);
}

struct Input {
  OrderRequest order;
  Bbo bbo;
};

// mode 0: all pass; 1: all fail max_position (shares 2000 over a +99,000 position); 2: mixed.
std::vector<Input> make_inputs(int mode) {
  std::mt19937_64 rng(42);
  std::vector<Input> in(kOrders);
  for (Input& x : in) {
    x.order.symbol = static_cast<uint16_t>(rng() % kSymbols);
    x.order.side = mode == 1 || rng() % 2 == 0 ? Side::kBuy : Side::kSell;
    const uint32_t mid = 500'000 + static_cast<uint32_t>(rng() % 100'000);
    x.bbo = {mid - 100, mid + 100};
    x.order.price = x.order.side == Side::kBuy ? mid - 200 : mid + 200;
    x.order.shares = mode == 1 ? 2000 : 1 + static_cast<uint32_t>(rng() % 500);
    if (mode == 2 && rng() % 2 == 0) {
      switch (rng() % 4) {
        case 0: x.order.shares = 20'000; break;                                   // max_order_shares
        case 1: x.order.price = x.order.side == Side::kBuy ? mid * 2 : mid / 2; break;  // collar
        case 2: x.bbo = {}; break;                                                 // no reference
        default: x.order.shares = 9000; x.order.side = Side::kBuy; break;          // max_position
      }
    }
  }
  return in;
}

// Puts each symbol at +99,000 shares so that a 2000-share buy breaches max_position (100,000).
void load_positions(PreTradeRisk& r) {
  for (uint16_t s = 0; s < kSymbols; ++s) {
    RiskControl c = set_position_control(s, 99'000);
    r.submit(c);
    RiskControlEvent e[1];
    r.apply_pending_controls(0, e);
  }
}

void run_checks(benchmark::State& state, int mode) {
  PreTradeRisk risk(bench_limits());
  if (mode != 0) load_positions(risk);
  const std::vector<Input> in = make_inputs(mode);
  uint64_t now = 1'000'000'000;
  size_t i = 0;
  const uint64_t start = thread_cpu_ns();
  for (auto _ : state) {
    const Input& x = in[i++ & (kOrders - 1)];
    now += 1000;  // 1 us per order: the bucket (1 M/s) never empties
    benchmark::DoNotOptimize(risk.check(x.order, x.bbo, now));
  }
  const uint64_t cpu_ns = thread_cpu_ns() - start;
  state.SetItemsProcessed(state.iterations());
  state.counters["ns_per_order"] = static_cast<double>(cpu_ns) / static_cast<double>(state.iterations());
  state.counters["accepted_pct"] =
      100.0 * static_cast<double>(risk.counters().of(RiskReason::kAccepted)) / static_cast<double>(state.iterations());
}

void BM_CheckAccepted(benchmark::State& state) { run_checks(state, 0); }
void BM_CheckRejected(benchmark::State& state) { run_checks(state, 1); }
void BM_CheckMixed(benchmark::State& state) { run_checks(state, 2); }
BENCHMARK(BM_CheckAccepted);
BENCHMARK(BM_CheckRejected);
BENCHMARK(BM_CheckMixed);

void BM_CheckSendFill(benchmark::State& state) {
  PreTradeRisk risk(bench_limits());
  const std::vector<Input> in = make_inputs(0);
  uint64_t now = 1'000'000'000;
  size_t i = 0;
  uint64_t rejected = 0;
  const uint64_t start = thread_cpu_ns();
  for (auto _ : state) {
    const Input& x = in[i++ & (kOrders - 1)];
    now += 1000;
    if (risk.check(x.order, x.bbo, now) == RiskReason::kAccepted) {
      risk.on_order_sent(x.order);
      // Half filled, the rest cancelled: positions random-walk (buys and sells equally likely), so
      // some orders end up rejected at max_position after a long run ("rejected" counts them).
      risk.on_fill(x.order.symbol, x.order.side, x.order.shares / 2, x.order.shares / 2, false);
      risk.on_order_closed(x.order.symbol, x.order.side, x.order.shares - x.order.shares / 2);
    } else {
      ++rejected;
    }
  }
  const uint64_t cpu_ns = thread_cpu_ns() - start;
  state.SetItemsProcessed(state.iterations());
  state.counters["ns_per_order"] = static_cast<double>(cpu_ns) / static_cast<double>(state.iterations());
  state.counters["rejected"] = static_cast<double>(rejected);
}
BENCHMARK(BM_CheckSendFill);

void BM_ApplyControl(benchmark::State& state) {
  PreTradeRisk risk(bench_limits());
  RiskControlEvent e[1];
  int64_t v = 0;
  const uint64_t start = thread_cpu_ns();
  for (auto _ : state) {
    risk.submit(global_limit_control(RiskLimitId::kMaxOrderShares, 5000 + (v++ & 1)));
    benchmark::DoNotOptimize(risk.apply_pending_controls(0, e));
  }
  const uint64_t cpu_ns = thread_cpu_ns() - start;
  state.counters["ns_per_control"] = static_cast<double>(cpu_ns) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ApplyControl);

}  // namespace

BENCHMARK_MAIN();
