// LatencyHistogram against the obvious reference, a sorted vector of the recorded values.
//
// What LatencySnapshot::percentile(q) returns (0 < q <= 1): 0 when nothing was recorded; otherwise the
// floor (smallest value) of the bucket that holds the r-th smallest recorded value, r = q * total.
// Buckets are exact below 16 and then 16 per power of two, so that floor f and the value v it stands
// for satisfy f <= v < f * (1 + 1/16). The property tests use q * total integral (q = k/64, total a
// multiple of 64), where every definition of the rank agrees; PercentileIsTheNearestRank covers the
// rest (see the note there).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "core/pipeline/latency_histogram.hpp"

namespace {

using pmm::pipe::kLatencyBuckets;
using pmm::pipe::latency_bucket;
using pmm::pipe::latency_bucket_floor;
using pmm::pipe::LatencyHistogram;
using pmm::pipe::LatencySnapshot;

__extension__ using U128 = unsigned __int128;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// The bucket floors from the definition, built by enumeration rather than by formula: 0..15 one each,
// then for every power of two 2^e (e = 4..63) sixteen buckets of width 2^(e-4).
std::vector<uint64_t> reference_floors() {
  std::vector<uint64_t> f;
  for (uint64_t v = 0; v < 16; ++v) f.push_back(v);
  for (unsigned e = 4; e < 64; ++e)
    for (uint64_t j = 0; j < 16; ++j) f.push_back((uint64_t{1} << e) + j * (uint64_t{1} << (e - 4)));
  return f;
}
const std::vector<uint64_t>& floors() {
  static const std::vector<uint64_t> f = reference_floors();
  return f;
}
size_t reference_bucket(uint64_t v) {
  return static_cast<size_t>(std::upper_bound(floors().begin(), floors().end(), v) - floors().begin()) - 1;
}

// f <= v < f * 17/16 (or f == v below 16): the bound every reported value keeps.
void expect_within_bucket_error(uint64_t reported, uint64_t exact) {
  EXPECT_LE(reported, exact);
  if (exact < 16) {
    EXPECT_EQ(reported, exact);
  } else {
    EXPECT_LT(U128{exact} * 16, U128{reported} * 17) << "reported " << reported << " for " << exact;
  }
}

TEST(LatencyBucket, FloorsFollowTheDefinition) {
  ASSERT_EQ(floors().size(), kLatencyBuckets);
  for (size_t i = 0; i < kLatencyBuckets; ++i) {
    EXPECT_EQ(latency_bucket_floor(i), floors()[i]) << "bucket " << i;
    EXPECT_EQ(latency_bucket(floors()[i]), i) << "floor of bucket " << i;
    if (i > 0) {
      EXPECT_LT(floors()[i - 1], floors()[i]);
    }
  }
}

TEST(LatencyBucket, EveryBitPositionAndEdge) {
  std::vector<uint64_t> values = {0, 1, 14, 15, 16, 17, 31, 32, 33, kMax, kMax - 1};
  for (unsigned k = 0; k < 64; ++k) {
    const uint64_t p = uint64_t{1} << k;
    values.insert(values.end(), {p - 1, p, p + 1, p + p / 2, p | (p - 1)});
  }
  for (uint64_t v : values) {
    const size_t i = latency_bucket(v);
    ASSERT_LT(i, kLatencyBuckets) << v;
    EXPECT_EQ(i, reference_bucket(v)) << v;
    EXPECT_LE(latency_bucket_floor(i), v) << v;
    if (i + 1 < kLatencyBuckets) {
      EXPECT_LT(v, latency_bucket_floor(i + 1)) << v;
    }
    expect_within_bucket_error(latency_bucket_floor(i), v);
  }
  EXPECT_EQ(latency_bucket(kMax), kLatencyBuckets - 1);
  for (uint64_t v = 0; v < 16; ++v) EXPECT_EQ(latency_bucket(v), v);
  EXPECT_EQ(latency_bucket(16), 16u);
  EXPECT_EQ(latency_bucket(17), 17u);
  // Monotonic across the whole range.
  std::mt19937_64 rng(7);
  for (int n = 0; n < 100000; ++n) {
    uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
    if (a > b) std::swap(a, b);
    EXPECT_LE(latency_bucket(a), latency_bucket(b)) << a << " " << b;
    EXPECT_EQ(latency_bucket(a), reference_bucket(a)) << a;
  }
}

// Value generators for the property test.
enum class Shape { kUniform, kLogUniform, kConstant, kBelow16 };
std::vector<uint64_t> make_values(Shape shape, size_t n, std::mt19937_64& rng) {
  std::vector<uint64_t> v(n);
  const uint64_t constant = rng() % 5'000'000;
  for (uint64_t& x : v) {
    switch (shape) {
      case Shape::kUniform: x = rng() % 1'000'000; break;
      case Shape::kLogUniform: {
        const unsigned bits = static_cast<unsigned>(rng() % 41);  // up to 2^40
        x = bits == 0 ? 0 : (rng() & ((uint64_t{1} << bits) - 1)) | (uint64_t{1} << (bits - 1));
        break;
      }
      case Shape::kConstant: x = constant; break;
      case Shape::kBelow16: x = rng() % 16; break;
    }
  }
  return v;
}

TEST(LatencyHistogram, PercentilesAgainstSortedReference) {
  std::mt19937_64 rng(20240611);
  for (Shape shape : {Shape::kUniform, Shape::kLogUniform, Shape::kConstant, Shape::kBelow16}) {
    for (int round = 0; round < 25; ++round) {
      const size_t n = 64 * (1 + rng() % 200);
      std::vector<uint64_t> values = make_values(shape, n, rng);
      LatencyHistogram h;
      for (uint64_t x : values) h.record(x);
      const LatencySnapshot s = h.snapshot();
      ASSERT_EQ(s.total, n);
      std::sort(values.begin(), values.end());
      for (int k = 1; k <= 64; ++k) {
        const double q = k / 64.0;
        const uint64_t exact = values[n * static_cast<size_t>(k) / 64 - 1];
        const uint64_t got = s.percentile(q);
        SCOPED_TRACE("shape " + std::to_string(static_cast<int>(shape)) + " n " + std::to_string(n) + " q " +
                     std::to_string(q));
        EXPECT_EQ(got, latency_bucket_floor(reference_bucket(exact)));
        expect_within_bucket_error(got, exact);
      }
      // The lowest quantiles land on the minimum.
      expect_within_bucket_error(s.percentile(1e-9), values.front());
      EXPECT_EQ(s.percentile(1.0), latency_bucket_floor(reference_bucket(values.back())));
    }
  }
}

TEST(LatencyHistogram, EmptyAndExtremes) {
  LatencyHistogram h;
  EXPECT_EQ(h.snapshot().total, 0u);
  EXPECT_EQ(h.snapshot().percentile(0.5), 0u);
  EXPECT_EQ(h.snapshot().percentile(1.0), 0u);
  h.record(kMax);
  h.record(0);
  const LatencySnapshot s = h.snapshot();
  EXPECT_EQ(s.total, 2u);
  EXPECT_EQ(s.percentile(0.5), 0u);
  EXPECT_EQ(s.percentile(1.0), latency_bucket_floor(kLatencyBuckets - 1));
  EXPECT_EQ(s.counts[0], 1u);
  EXPECT_EQ(s.counts[kLatencyBuckets - 1], 1u);
}

TEST(LatencyHistogram, RecordNIsNRecords) {
  std::mt19937_64 rng(3);
  LatencyHistogram a, b;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const uint64_t n = rng() % 5;
    a.record_n(v, n);
    for (uint64_t j = 0; j < n; ++j) b.record(v);
  }
  const LatencySnapshot sa = a.snapshot(), sb = b.snapshot();
  EXPECT_EQ(sa.counts, sb.counts);
  EXPECT_EQ(sa.total, sb.total);
}

TEST(LatencyHistogram, SinceAndMerge) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    const std::vector<uint64_t> first = make_values(Shape::kLogUniform, 64 * (1 + rng() % 50), rng);
    const std::vector<uint64_t> second = make_values(Shape::kUniform, 64 * (1 + rng() % 50), rng);
    LatencyHistogram both, only_first, only_second;
    for (uint64_t x : first) both.record(x), only_first.record(x);
    const LatencySnapshot earlier = both.snapshot();
    for (uint64_t x : second) both.record(x), only_second.record(x);
    const LatencySnapshot later = both.snapshot();

    // since(): exactly what was recorded in between.
    const LatencySnapshot interval = later.since(earlier);
    const LatencySnapshot want = only_second.snapshot();
    EXPECT_EQ(interval.counts, want.counts);
    EXPECT_EQ(interval.total, second.size());
    EXPECT_EQ(later.since(later).total, 0u);
    EXPECT_EQ(later.since(LatencySnapshot{}).counts, later.counts);

    // merge(): the union, with the union's percentiles.
    LatencySnapshot merged = only_first.snapshot();
    merged.merge(only_second.snapshot());
    EXPECT_EQ(merged.counts, later.counts);
    EXPECT_EQ(merged.total, first.size() + second.size());
    std::vector<uint64_t> all = first;
    all.insert(all.end(), second.begin(), second.end());
    std::sort(all.begin(), all.end());
    for (int k = 1; k <= 64; ++k)
      expect_within_bucket_error(merged.percentile(k / 64.0), all[all.size() * static_cast<size_t>(k) / 64 - 1]);
  }
}

// The q-quantile by nearest rank is the smallest recorded value with at least q * total values <= it:
// rank ceil(q * total). A floor would understate tails (p50 of {1, 2, 3} would be 1), and floating
// point must not push an exact rank down: 0.29 * 100 is 28.999999999999996.
TEST(LatencyHistogram, PercentileIsTheNearestRank) {
  // n values, each the floor of its own bucket, so a percentile names exactly one recorded value.
  const auto distinct = [](size_t n) {
    EXPECT_LE(n, kLatencyBuckets);
    LatencyHistogram h;
    for (size_t i = 0; i < n; ++i) h.record(floors()[i]);
    return h.snapshot();
  };
  struct Case {
    size_t n;
    double q;
    size_t rank;  // 1-based: ceil(q * n), worked out by hand
  };
  for (const Case& c : {Case{3, 0.5, 2}, Case{10, 0.95, 10}, Case{10, 0.3, 3}, Case{100, 0.29, 29},
                        Case{100, 0.999, 100}, Case{150, 0.99, 149}, Case{900, 0.999, 900},
                        Case{768, 0.75, 576}})
    EXPECT_EQ(distinct(c.n).percentile(c.q), floors()[c.rank - 1])
        << "q " << c.q << " of " << c.n << " distinct values: expected the value of rank " << c.rank;
}

// One writer records while a reader snapshots. Every snapshot is monotonic per bucket (so in total),
// counts at least what the writer had published as done before the snapshot, and never more than it
// had announced before the reader's acquire fence. Upper bound: the writer announces record k (release
// fence) before bumping its bucket; if any bucket load sees that bump, the fences synchronise and the
// announcement is visible too. Lower bound: `recorded` is stored with release after each record and
// loaded with acquire before the snapshot. (TSan does not model standalone fences; everything shared
// here is atomic, so it has nothing to report either way.)
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif
TEST(LatencyHistogram, WriterAndReaderThreads) {
  constexpr uint64_t kRecords = 3'000'000;
  LatencyHistogram h;
  std::atomic<uint64_t> announced{0}, recorded{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937_64 rng(99);
    for (uint64_t k = 1; k <= kRecords; ++k) {
      announced.store(k, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_release);
      h.record(rng() >> (rng() % 64));
      recorded.store(k, std::memory_order_release);
    }
    done.store(true, std::memory_order_release);
  });
  LatencySnapshot previous;
  uint64_t snapshots = 0, violations = 0;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    const uint64_t at_least = recorded.load(std::memory_order_acquire);
    const LatencySnapshot s = h.snapshot();
    std::atomic_thread_fence(std::memory_order_acquire);
    const uint64_t limit = announced.load(std::memory_order_relaxed);
    if (s.total < at_least) ++violations;
    ++snapshots;
    if (s.total > limit || s.total < previous.total) ++violations;
    for (size_t i = 0; i < kLatencyBuckets; ++i)
      if (s.counts[i] < previous.counts[i]) ++violations;
    uint64_t sum = 0;
    for (uint64_t c : s.counts) sum += c;
    if (sum != s.total) ++violations;
    previous = s;
    if (finished) break;
  }
  writer.join();
  EXPECT_EQ(violations, 0u) << "over " << snapshots << " snapshots";
  EXPECT_EQ(previous.total, kRecords) << "the snapshot after the writer finished sees everything";
  // The same values recorded alone give the same histogram.
  LatencyHistogram alone;
  std::mt19937_64 rng(99);
  for (uint64_t k = 1; k <= kRecords; ++k) alone.record(rng() >> (rng() % 64));
  EXPECT_EQ(previous.counts, alone.snapshot().counts);
  RecordProperty("snapshots", static_cast<int>(snapshots));
}

}  // namespace
