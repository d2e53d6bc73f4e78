// Log-linear latency histogram (HdrHistogram's idea at 4 significant bits): exact below 16 ns, then 16
// buckets per power of two, so every recorded value is within 6.25 % of its bucket's lower bound.
// One writer records on a hot-path core (no locked instruction, no branch on range); readers take a
// snapshot and compute percentiles, or subtract two snapshots for an interval.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace pmm::pipe {

inline constexpr size_t kLatencyBuckets = 976;  // index of UINT64_MAX is 975

constexpr size_t latency_bucket(uint64_t ns) noexcept {
  if (ns < 16) return static_cast<size_t>(ns);
  const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(ns));  // >= 4
  return static_cast<size_t>((e - 3) * 16 + ((ns >> (e - 4)) & 15));
}
// Smallest value that falls in bucket i.
constexpr uint64_t latency_bucket_floor(size_t i) noexcept {
  if (i < 16) return i;
  const unsigned e = static_cast<unsigned>(i / 16 + 3);
  return (16 + uint64_t{i % 16}) << (e - 4);
}

struct LatencySnapshot {
  std::array<uint64_t, kLatencyBuckets> counts{};
  uint64_t total = 0;

  // Lower bound of the bucket holding the q-quantile by nearest rank (the ceil(q * total)-th smallest
  // value, 0 < q <= 1); 0 when empty.
  uint64_t percentile(double q) const noexcept {
    if (total == 0) return 0;
    const double exact = q * static_cast<double>(total);
    uint64_t rank = static_cast<uint64_t>(exact);
    if (static_cast<double>(rank) < exact - 1e-9) ++rank;  // ceil, without 0.29 * 100 = 28.99.. rounding down
    rank = std::clamp<uint64_t>(rank, 1, total);
    uint64_t seen = 0;
    for (size_t i = 0; i < kLatencyBuckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return latency_bucket_floor(i);
    }
    return latency_bucket_floor(kLatencyBuckets - 1);
  }
  // Counts recorded since `earlier` (a snapshot of the same histogram).
  LatencySnapshot since(const LatencySnapshot& earlier) const noexcept {
    LatencySnapshot d;
    for (size_t i = 0; i < kLatencyBuckets; ++i) d.counts[i] = counts[i] - earlier.counts[i];
    d.total = total - earlier.total;
    return d;
  }
  void merge(const LatencySnapshot& other) noexcept {
    for (size_t i = 0; i < kLatencyBuckets; ++i) counts[i] += other.counts[i];
    total += other.total;
  }
};

class LatencyHistogram {
 public:
  // Writer only.
  void record(uint64_t ns) noexcept { bump(latency_bucket(ns), 1); }
  void record_n(uint64_t ns, uint64_t n) noexcept { bump(latency_bucket(ns), n); }

  // Any thread. Buckets are read one by one while the writer may be adding, so `total` is the sum of
  // what was read (consistent with the buckets), not a separately kept count.
  LatencySnapshot snapshot() const noexcept {
    LatencySnapshot s;
    for (size_t i = 0; i < kLatencyBuckets; ++i) {
      s.counts[i] = counts_[i].load(std::memory_order_relaxed);
      s.total += s.counts[i];
    }
    return s;
  }

 private:
  void bump(size_t i, uint64_t n) noexcept {
    counts_[i].store(counts_[i].load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, kLatencyBuckets> counts_{};
};

}  // namespace pmm::pipe
