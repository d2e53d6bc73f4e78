// Cheap timestamps for the hot path: the CPU's time-stamp counter on x86-64 (invariant TSC: one rate
// on every core, so stamps taken on the RX core compare with stamps taken on the book core), a steady
// clock elsewhere. Ticks become nanoseconds through a rate measured once at start-up.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace pmm::pipe {

__extension__ using Uint128 = unsigned __int128;  // GCC/Clang: the tick product needs 96 bits

inline uint64_t read_tsc() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
#endif
}

// Converts tick differences to nanoseconds with one multiply and shift (no division on the hot path).
class TscClock {
 public:
  // Measures the tick rate against the steady clock over `calibration`; call at start-up only.
  static TscClock calibrate(std::chrono::milliseconds calibration = std::chrono::milliseconds(50));
  // A clock with a known rate (tests, and the non-x86 fallback where a tick is a nanosecond).
  static TscClock with_rate(double ticks_per_ns) noexcept;

  uint64_t to_ns(uint64_t ticks) const noexcept {
    return static_cast<uint64_t>((static_cast<Uint128>(ticks) * mult_) >> kShift);
  }
  uint64_t from_ns(uint64_t ns) const noexcept { return static_cast<uint64_t>(static_cast<double>(ns) * ticks_per_ns_); }
  double ticks_per_ns() const noexcept { return ticks_per_ns_; }

 private:
  static constexpr unsigned kShift = 32;
  double ticks_per_ns_ = 1.0;
  uint64_t mult_ = uint64_t{1} << kShift;
};

inline TscClock TscClock::with_rate(double ticks_per_ns) noexcept {
  TscClock c;
  c.ticks_per_ns_ = ticks_per_ns > 0 ? ticks_per_ns : 1.0;
  c.mult_ = static_cast<uint64_t>(static_cast<double>(uint64_t{1} << kShift) / c.ticks_per_ns_);
  return c;
}

inline TscClock TscClock::calibrate(std::chrono::milliseconds calibration) {
#if defined(__x86_64__)
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const uint64_t c0 = read_tsc();
  while (clock::now() - t0 < calibration) {
  }
  const auto t1 = clock::now();
  const uint64_t c1 = read_tsc();
  const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  return with_rate(static_cast<double>(c1 - c0) / ns);
#else
  (void)calibration;
  return with_rate(1.0);
#endif
}

}  // namespace pmm::pipe
