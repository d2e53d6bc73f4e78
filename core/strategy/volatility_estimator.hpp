// Volatility of the mid price for the quoting strategy: an exponentially weighted realized variance
// per unit time, num / den, where num is the decayed sum of squared mid changes and den the decayed
// sum of the time they took; both decay by 2^(-dt / half_life), rounded to nearest. Integer only, so
// every machine gets the same estimate from the same inputs (docs/strategy.md, "Volatility").
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>

namespace pmm::strategy {

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang: products of 64-bit values

namespace detail {

constexpr uint64_t isqrt128(Uint128 v) noexcept {
  Uint128 r = 0;
  for (Uint128 bit = Uint128{1} << 126; bit != 0; bit >>= 2) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
  }
  return static_cast<uint64_t>(r);
}

// Entry k: 2^(-2^-k) in Q62, by repeated integer square roots of 1/2 (no libm: exact everywhere).
constexpr std::array<uint64_t, 17> make_root_halves() noexcept {
  std::array<uint64_t, 17> t{};
  t[0] = uint64_t{1} << 61;                          // 2^-1
  for (size_t k = 1; k < t.size(); ++k) t[k] = isqrt128(Uint128{t[k - 1]} << 62);
  return t;
}
inline constexpr std::array<uint64_t, 17> kRootHalves = make_root_halves();
inline constexpr uint64_t kLn2Q62 = 3196577161300663915;  // round(ln 2 * 2^62)

}  // namespace detail

inline constexpr uint64_t kQ62One = uint64_t{1} << 62;

// 2^(-x) in Q62 for x = x_q48 / 2^48 (0 once below 2^-64). The top 16 fraction bits multiply table
// entries; the remaining fraction f < 2^-16 uses 1 - y + y^2/2 with y = f ln 2. Relative error
// under 1e-15, so even the tiny decay of a microsecond step against a minute's half-life is right.
constexpr uint64_t pow2_neg_q62(uint64_t x_q48) noexcept {
  const uint64_t whole = x_q48 >> 48;
  if (whole >= 64) return 0;
  uint64_t r = kQ62One;
  for (uint32_t k = 1; k <= 16; ++k)
    if (x_q48 & (uint64_t{1} << (48 - k))) r = static_cast<uint64_t>((Uint128{r} * detail::kRootHalves[k]) >> 62);
  const uint64_t rest = x_q48 & ((uint64_t{1} << 32) - 1);                               // < 2^-16, Q48
  const auto y = static_cast<uint64_t>((Uint128{rest} * detail::kLn2Q62) >> 48);        // Q62, < 2^46
  const uint64_t poly = kQ62One - y + static_cast<uint64_t>((Uint128{y} * y) >> 63);     // 1 - y + y^2/2
  r = static_cast<uint64_t>((Uint128{r} * poly) >> 62);
  return r >> whole;
}

class VolatilityEstimator {
 public:
  // Clamps that keep every product inside 128 bits; far beyond any real market (docs/strategy.md).
  static constexpr uint64_t kMaxMidChange = uint64_t{1} << 26;  // in (bid + ask) units: $3355 of mid
  static constexpr uint64_t kMaxSum = uint64_t{1} << 62;
  static constexpr uint64_t kMaxVarianceQ8 = uint64_t{1} << 60;

  // Starts from a prior: variance rate seed_num_q8 / 2^8 / seed_den_ns ((bid + ask)^2 per ns),
  // weighted as seed_den_ns of history.
  void reset(uint64_t seed_num_q8, uint64_t seed_den_ns) noexcept {
    num_ = std::min(seed_num_q8, kMaxSum);
    den_ = std::min(seed_den_ns, kMaxSum);
    samples_ = 0;
    has_mid_ = false;
  }

  // One mid observation: mid2 = best bid + best ask (Price(4)), at now_ns. Returns false when time
  // went backwards (then it counts as no time passing).
  bool add(uint64_t mid2, uint64_t now_ns, uint64_t half_life_ns) noexcept {
    assert(half_life_ns > 0);
    if (!has_mid_) {
      last_mid2_ = mid2;
      last_ns_ = now_ns;
      has_mid_ = true;
      return true;
    }
    const bool forward = now_ns >= last_ns_;
    const uint64_t dt = forward ? std::min(now_ns - last_ns_, kMaxSum) : 0;
    // Beyond 64 half-lives the decay is 0; below, dt / half_life in Q48 fits 64 bits.
    const uint64_t decay =
        dt >= 64 * half_life_ns ? 0 : pow2_neg_q62(static_cast<uint64_t>((Uint128{dt} << 48) / half_life_ns));
    const uint64_t change = std::min(mid2 > last_mid2_ ? mid2 - last_mid2_ : last_mid2_ - mid2, kMaxMidChange);
    num_ = std::min(decayed(num_, decay) + ((change * change) << 8), kMaxSum);
    den_ = std::min(decayed(den_, decay) + dt, kMaxSum);
    ++samples_;
    last_mid2_ = mid2;
    if (forward) last_ns_ = now_ns;
    return forward;
  }

  // Variance of the mid over horizon_ns, in Price(4)^2 * 2^8. 0 when den is 0 (no history at all).
  uint64_t horizon_variance_q8(uint64_t horizon_ns) const noexcept {
    if (den_ == 0) return 0;
    // num is (bid + ask)^2 = 4 mid^2, in Q8 like the result: / 4.
    const Uint128 v = Uint128{num_} * horizon_ns / (Uint128{den_} * 4);
    return v > kMaxVarianceQ8 ? kMaxVarianceQ8 : static_cast<uint64_t>(v);
  }

  uint64_t samples() const noexcept { return samples_; }  // mid changes seen (the first mid is none)
  bool has_mid() const noexcept { return has_mid_; }
  uint64_t num_q8() const noexcept { return num_; }
  uint64_t den_ns() const noexcept { return den_; }
  uint64_t last_mid2() const noexcept { return last_mid2_; }
  uint64_t last_ns() const noexcept { return last_ns_; }

  // Restores saved state (strategy state file); values are clamped, never trusted blindly.
  void restore(uint64_t num_q8, uint64_t den_ns, uint64_t samples, bool has_mid, uint64_t last_mid2,
               uint64_t last_ns) noexcept {
    num_ = std::min(num_q8, kMaxSum);
    den_ = std::min(den_ns, kMaxSum);
    samples_ = den_ == 0 ? 0 : samples;
    has_mid_ = has_mid;
    last_mid2_ = has_mid ? last_mid2 : 0;
    last_ns_ = has_mid ? last_ns : 0;
  }

 private:
  static uint64_t decayed(uint64_t v, uint64_t decay_q62) noexcept {
    return static_cast<uint64_t>((Uint128{v} * decay_q62 + (Uint128{1} << 61)) >> 62);
  }

  uint64_t num_ = 0;  // decayed sum of (change in bid + ask)^2, Q8 (2^8 == 1): small sums stay exact
  uint64_t den_ = 0;  // decayed sum of elapsed ns
  uint64_t samples_ = 0;
  uint64_t last_mid2_ = 0;
  uint64_t last_ns_ = 0;
  bool has_mid_ = false;
};

}  // namespace pmm::strategy
