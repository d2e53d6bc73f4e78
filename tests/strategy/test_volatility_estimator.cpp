// VolatilityEstimator: the integer 2^-x against exp2l, the ratio-of-EWMAs estimate against a long
// double reference written from its definition, the half-life, and the clamps.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/strategy/volatility_estimator.hpp"

namespace pmm::strategy {
namespace {

TEST(Pow2NegQ62, MatchesExp2) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    // Whole and fractional exponents, and the tiny ones of microsecond steps (x < 2^-16).
    const uint64_t x = i < 70 ? static_cast<uint64_t>(i) << 44
                       : i % 2 ? rng() % (uint64_t{66} << 48)
                               : rng() % (uint64_t{1} << (rng() % 40));
    const long double want = std::exp2l(-std::ldexp(static_cast<long double>(x), -48)) * 4611686018427387904.0L;
    const long double got = static_cast<long double>(pow2_neg_q62(x));
    EXPECT_LE(std::fabs(got - want), 2e-15L * want + 2) << "x_q48=" << x;
  }
  EXPECT_EQ(pow2_neg_q62(0), kQ62One);
  EXPECT_EQ(pow2_neg_q62(uint64_t{1} << 48), kQ62One / 2);
  EXPECT_EQ(pow2_neg_q62(uint64_t{64} << 48), 0u);
}

// The estimator's definition in long double: num and den decay by 2^(-dt/h), then num += change^2
// and den += dt; the variance over tau is num/den * tau in (bid + ask)^2 -> mid^2 is / 4.
struct ReferenceEstimator {
  long double num, den;
  long double mid2 = 0, t = 0;
  bool has = false;
  void add(long double m2, long double now, long double h) {
    if (has) {
      const long double dt = now - t;
      const long double d = std::exp2l(-dt / h);
      num = num * d + (m2 - mid2) * (m2 - mid2);
      den = den * d + dt;
    }
    mid2 = m2;
    t = now;
    has = true;
  }
  long double variance_q8(long double tau) const { return num / den * tau / 4 * 256; }
};

TEST(VolatilityEstimator, ConstantRateIsRecoveredWhateverTheSeed) {
  // Mid changes of 1 cent (bid + ask moves 200) every ms: rate = 200^2 / 1e6 per ns, in (bid+ask)^2.
  VolatilityEstimator e;
  e.reset(123456789, 1000000000);
  const uint64_t h = 100000000;  // 100 ms
  uint64_t t = 5;
  uint64_t m2 = 2000000;
  for (int i = 0; i < 5000; ++i) {
    e.add(m2, t, h);
    m2 = (i % 2) ? m2 + 200 : m2 - 200;
    t += 1000000;
  }
  const uint64_t tau = 60000000000;  // 60 s
  // In mid^2: 100^2 per ms; over 60 s: 1e4 * 6e4 = 6e8 Price(4)^2 -> * 256.
  const long double want = 6e8L * 256;
  EXPECT_LE(std::fabs(static_cast<long double>(e.horizon_variance_q8(tau)) - want), 1e-5L * want);
}

TEST(VolatilityEstimator, MatchesTheReferenceOnARandomWalk) {
  std::mt19937_64 rng(99);
  VolatilityEstimator e;
  const uint64_t h = 2000000000;  // 2 s
  const uint64_t seed_den = 2885390081;  // ~ h / ln 2
  const uint64_t seed_num = 1000000;
  e.reset(seed_num, seed_den);
  ReferenceEstimator ref{static_cast<long double>(seed_num) / 256, static_cast<long double>(seed_den)};
  uint64_t t = 1000;
  int64_t m2 = 3000000;
  for (int i = 0; i < 20000; ++i) {
    t += rng() % 5000000;  // 0..5 ms, zero included
    m2 += static_cast<int64_t>(rng() % 5) * 100 - 200;
    e.add(static_cast<uint64_t>(m2), t, h);
    ref.add(static_cast<long double>(m2), static_cast<long double>(t), static_cast<long double>(h));
    if (i % 997 == 0 || i == 19999) {
      const long double want = ref.variance_q8(1e10L);
      EXPECT_LE(std::fabs(static_cast<long double>(e.horizon_variance_q8(10000000000)) - want), 1e-6L * want + 1)
          << "after " << i;
    }
  }
  EXPECT_EQ(e.samples(), 20000u - 1);
}

TEST(VolatilityEstimator, PriorFadesWithTheHalfLife) {
  // Prior weight h / ln 2 (the steady-state weight): after one half-life of observations at rate c,
  // the estimate is halfway between the prior v0 and c.
  const uint64_t h = 1000000000;  // 1 s
  const long double den0 = static_cast<long double>(h) / std::log(2.0L);
  const long double v0 = 0.01L;   // (bid+ask)^2 per ns
  VolatilityEstimator e;
  e.reset(static_cast<uint64_t>(v0 * den0 * 256), static_cast<uint64_t>(den0));
  uint64_t t = 0, m2 = 1000000;
  const uint64_t dt = 100000;  // 0.1 ms: 10000 steps per half-life
  e.add(m2, t, h);
  for (uint64_t i = 0; i < h / dt; ++i) {
    t += dt;
    m2 += 200 * ((i % 2) ? 1 : -1) / 2 * 2;  // +-200 alternately: c = 200^2 / 1e5 = 0.4 per ns
    e.add(m2, t, h);
  }
  const long double c = 0.4L;
  const long double rate = static_cast<long double>(e.horizon_variance_q8(1000000000)) / 64 / 1e9L;
  EXPECT_NEAR(static_cast<double>(rate), static_cast<double>((v0 + c) / 2), static_cast<double>(0.01L * (v0 + c) / 2));
}

TEST(VolatilityEstimator, FirstMidIsNoSampleAndTimeBackwardsCountsAsNoTime) {
  VolatilityEstimator e;
  e.reset(1000, 1000);
  EXPECT_TRUE(e.add(2000000, 5000, 1000000));
  EXPECT_EQ(e.samples(), 0u);
  EXPECT_EQ(e.num_q8(), 1000u);
  EXPECT_FALSE(e.add(2000200, 4000, 1000000));  // 1 us back: dt = 0, no decay
  EXPECT_EQ(e.samples(), 1u);
  EXPECT_EQ(e.num_q8(), 1000u + 200 * 200 * 256);
  EXPECT_EQ(e.den_ns(), 1000u);
  EXPECT_EQ(e.last_ns(), 5000u);  // the clock does not move back
}

TEST(VolatilityEstimator, HugeJumpsAndGapsSaturate) {
  VolatilityEstimator e;
  e.reset(0, 1);
  e.add(1, 0, 1000);
  e.add(4000000000, 1, 1000);  // a $200k jump in 1 ns: the change is clamped
  EXPECT_EQ(e.num_q8(), VolatilityEstimator::kMaxMidChange * VolatilityEstimator::kMaxMidChange * 256);
  EXPECT_LE(e.horizon_variance_q8(3600000000000), VolatilityEstimator::kMaxVarianceQ8);
  e.add(4000000000, UINT64_MAX, 1000);  // an absurd gap: everything decays, den is the gap (capped)
  EXPECT_EQ(e.num_q8(), 0u);
  EXPECT_EQ(e.den_ns(), VolatilityEstimator::kMaxSum);
  VolatilityEstimator empty;
  EXPECT_EQ(empty.horizon_variance_q8(1000), 0u);  // den 0: no history
}

}  // namespace
}  // namespace pmm::strategy
