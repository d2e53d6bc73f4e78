// The quoting strategy's cost per top-of-book update (core/strategy/). One iteration = one update:
// the reported time is ns per update -> decision.
//   BM_TopToDecision     QuotingStrategy::on_top + evaluate on 4 symbols, round-robin, over a
//                        pre-generated random walk of 64 Ki tops (a mix of requotes, below-threshold
//                        and throttled decisions, as in use; the mix is printed as counters).
//   BM_ComputeQuote      compute_quote alone (the integer Avellaneda–Stoikov quote).
//   BM_VolatilityAdd     VolatilityEstimator::add alone (the 2^-x decay and the two sums).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/strategy/quoting_strategy.hpp"

namespace {

using namespace pmm::strategy;

struct Update {
  uint32_t symbol;
  TopOfBook top;
  uint64_t t_ns;
};

std::vector<Update> make_walk(uint32_t symbols, size_t n) {
  std::mt19937_64 rng(42);
  std::vector<uint32_t> bid(symbols);
  for (uint32_t s = 0; s < symbols; ++s) bid[s] = 1000000 + s * 500000;
  std::vector<Update> out;
  out.reserve(n);
  uint64_t t = 1000000000;
  for (size_t i = 0; i < n; ++i) {
    const auto s = static_cast<uint32_t>(i % symbols);
    const uint64_t r = rng();
    if (r % 4 == 0) bid[s] = r % 8 < 4 ? bid[s] + 100 : bid[s] - 100;  // a quarter of updates move the mid
    t += 2000 + r % 20000;                                               // 2-22 us apart
    out.push_back({s, {bid[s], static_cast<uint32_t>(100 + (r >> 8) % 900), bid[s] + 100 + (r % 16 == 1 ? 100u : 0u),
                       static_cast<uint32_t>(100 + (r >> 20) % 900)},
                   t});
  }
  return out;
}

StrategyConfig bench_config() {
  StrategyConfig c;
  const std::string e = parse_strategy_json(R"({"min_requote_interval_us": 50, "requote_threshold_ticks": 0})",
                                            {"AAPL", "MSFT", "NVDA", "AMZN"}, c);
  if (!e.empty()) std::abort();
  return c;
}

void BM_TopToDecision(benchmark::State& state) {
  const std::vector<Update> walk = make_walk(4, 1 << 16);
  QuotingStrategy strategy(bench_config());
  for (uint32_t s = 0; s < 4; ++s) strategy.set_trading_state(s, 'T');
  size_t i = 0;
  uint64_t lap = 0;  // time keeps moving forward across laps of the walk
  for (auto _ : state) {
    const Update& u = walk[i];
    strategy.on_top(u.symbol, u.top, u.t_ns + lap);
    const Decision d = strategy.evaluate(u.symbol, u.t_ns + lap);
    benchmark::DoNotOptimize(d);
    if (++i == walk.size()) {
      i = 0;
      lap += walk.back().t_ns;
    }
  }
  uint64_t requotes = 0, below = 0, throttled = 0;
  for (uint32_t s = 0; s < 4; ++s) {
    requotes += strategy.counters(s).requotes.get();
    below += strategy.counters(s).by_reason[static_cast<size_t>(Reason::kBelowThreshold)].get();
    throttled += strategy.counters(s).by_reason[static_cast<size_t>(Reason::kThrottled)].get();
  }
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["requote_share"] = static_cast<double>(requotes) / n;
  state.counters["below_threshold_share"] = static_cast<double>(below) / n;
  state.counters["throttled_share"] = static_cast<double>(throttled) / n;
}
BENCHMARK(BM_TopToDecision);

void BM_ComputeQuote(benchmark::State& state) {
  const ModelParams m = derive_model_params(bench_config().defaults);
  uint32_t bid = 1000000;
  int64_t q = -300;
  for (auto _ : state) {
    benchmark::DoNotOptimize(compute_quote(m, bid, bid + 100, q, 153600000));
    bid = bid == 1000900 ? 1000000 : bid + 100;
    q = q == 300 ? -300 : q + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ComputeQuote);

void BM_VolatilityAdd(benchmark::State& state) {
  std::mt19937_64 rng(7);
  std::vector<uint32_t> dt(4096);  // varied gaps: the decay cannot be hoisted out of the loop
  for (uint32_t& d : dt) d = static_cast<uint32_t>(1000 + rng() % 50000);
  VolatilityEstimator e;
  e.reset(1 << 20, 1 << 20);
  uint64_t t = 0, m2 = 2000100;
  size_t i = 0;
  for (auto _ : state) {
    t += dt[i];
    i = (i + 1) & 4095;
    m2 = (t & 0x100) ? m2 + 100 : m2 - 100;
    benchmark::DoNotOptimize(e.add(m2, t, 60000000000));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VolatilityAdd);

}  // namespace
BENCHMARK_MAIN();
