// CRC32C: every implementation against the published check value, the RFC 3720 (iSCSI) appendix B.4
// vectors, and a bit-at-a-time reference on random buffers (every length 0..300 at every alignment,
// large buffers across the 3-way block boundaries), plus the seed/chaining contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "persistence/crc32c.hpp"

namespace {

namespace ps = pmm::persistence;

// The definition, one bit at a time: reflected polynomial 0x82F63B78, register starts at ~seed and
// is inverted at the end. Anchored by the check value and the RFC vectors below.
uint32_t reference_crc32c(const uint8_t* p, size_t n, uint32_t seed) {
  uint32_t reg = ~seed;
  for (size_t i = 0; i < n; ++i) {
    reg ^= p[i];
    for (int bit = 0; bit < 8; ++bit) reg = (reg & 1u) != 0 ? (reg >> 1) ^ 0x82F63B78u : reg >> 1;
  }
  return ~reg;
}

struct Implementation {
  const char* name;
  uint32_t (*fn)(const void*, size_t, uint32_t) noexcept;
};

// Every implementation this CPU can run; the dispatching one is always included.
std::vector<Implementation> implementations() {
  std::vector<Implementation> out{{"crc32c", ps::crc32c}, {"portable", ps::crc32c_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) out.push_back({"sse4.2", ps::crc32c_sse42});
#endif
  return out;
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(Crc32c, CheckValue) {
  const std::string s = "123456789";  // the catalogue's check input for CRC-32/ISCSI
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  EXPECT_EQ(reference_crc32c(p, s.size(), 0), 0xE3069283u);
  for (const Implementation& impl : implementations()) {
    EXPECT_EQ(impl.fn(s.data(), s.size(), 0), 0xE3069283u) << impl.name;
  }
  EXPECT_EQ(ps::crc32c(s.data(), s.size()), 0xE3069283u);  // default seed 0
}

// RFC 3720 appendix B.4 prints the CRC as it is sent, least significant byte first:
// "aa 36 91 8a" is 0x8A9136AA.
TEST(Crc32c, Rfc3720Vectors) {
  struct Vector {
    const char* what;
    std::vector<uint8_t> bytes;
    uint32_t crc;
  };
  std::vector<Vector> vectors;
  vectors.push_back({"32 bytes of zeroes", std::vector<uint8_t>(32, 0x00), 0x8A9136AAu});
  vectors.push_back({"32 bytes of ones", std::vector<uint8_t>(32, 0xFF), 0x62A8AB43u});
  std::vector<uint8_t> inc(32);
  std::vector<uint8_t> dec(32);
  for (size_t i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  vectors.push_back({"32 incrementing bytes 00..1f", inc, 0x46DD794Eu});
  vectors.push_back({"32 decrementing bytes 1f..00", dec, 0x113FDB5Cu});
  // "An iSCSI - SCSI Read (10) Command PDU": 48 bytes, the non-zero ones at these offsets.
  std::vector<uint8_t> pdu(48, 0x00);
  pdu[0] = 0x01;
  pdu[1] = 0xC0;
  pdu[16] = 0x14;
  pdu[22] = 0x04;
  pdu[27] = 0x14;
  pdu[31] = 0x18;
  pdu[32] = 0x28;
  pdu[40] = 0x02;
  vectors.push_back({"SCSI Read (10) command PDU", pdu, 0xD9963A56u});

  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.what);
    EXPECT_EQ(reference_crc32c(v.bytes.data(), v.bytes.size(), 0), v.crc);
    for (const Implementation& impl : implementations()) {
      EXPECT_EQ(impl.fn(v.bytes.data(), v.bytes.size(), 0), v.crc) << impl.name;
    }
  }
}

TEST(Crc32c, EmptyInputReturnsTheSeed) {
  for (const Implementation& impl : implementations()) {
    for (uint32_t seed : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu}) {
      EXPECT_EQ(impl.fn(nullptr, 0, seed), seed) << impl.name;
    }
  }
}

// Every length 0..300 at every start offset 0..15 from a 64-byte aligned base, random seeds: covers
// the 8-byte main loops, every tail length and the 384-byte small 3-way block.
TEST(Crc32c, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(0xC5C32C);
  alignas(64) uint8_t buf[16 + 300];
  for (size_t len = 0; len <= 300; ++len) {
    for (size_t offset = 0; offset < 16; ++offset) {
      for (auto& b : buf) b = static_cast<uint8_t>(rng());
      const uint32_t seed = (len + offset) % 3 == 0 ? 0u : static_cast<uint32_t>(rng());
      const uint32_t expected = reference_crc32c(buf + offset, len, seed);
      for (const Implementation& impl : implementations()) {
        ASSERT_EQ(impl.fn(buf + offset, len, seed), expected)
            << impl.name << " len=" << len << " offset=" << offset << " seed=" << seed;
      }
    }
  }
}

// Lengths around the 3-way block sizes (384 and 3072 bytes) and their multiples, then random large
// lengths, at random offsets.
TEST(Crc32c, MatchesReferenceOnLargeBuffers) {
  std::mt19937_64 rng(0x1EDC6F41);
  std::vector<size_t> lengths;
  for (size_t block : {384u, 768u, 3072u, 3456u, 6144u, 4096u, 65536u}) {
    for (size_t d = 0; d <= 9; ++d) {
      lengths.push_back(block + d);
      lengths.push_back(block - d);
    }
  }
  for (int i = 0; i < 40; ++i) lengths.push_back(static_cast<size_t>(rng() % (1u << 18)));
  for (size_t len : lengths) {
    const size_t offset = static_cast<size_t>(rng() % 8);
    const std::vector<uint8_t> buf = random_bytes(rng, len + offset);
    const uint32_t seed = static_cast<uint32_t>(rng());
    const uint32_t expected = reference_crc32c(buf.data() + offset, len, seed);
    for (const Implementation& impl : implementations()) {
      ASSERT_EQ(impl.fn(buf.data() + offset, len, seed), expected)
          << impl.name << " len=" << len << " offset=" << offset << " seed=" << seed;
    }
  }
}

// seed = the CRC of what came before: a buffer cut anywhere, in any number of pieces, chains to the
// CRC of the whole, whichever implementation computes each piece.
TEST(Crc32c, ChainingOverRandomSplits) {
  std::mt19937_64 rng(0xE3069283);
  const std::vector<Implementation> impls = implementations();
  for (int round = 0; round < 500; ++round) {
    const size_t len = static_cast<size_t>(rng() % (round < 400 ? 600u : 20000u));
    const std::vector<uint8_t> buf = random_bytes(rng, len);
    const uint32_t initial = round % 2 == 0 ? 0u : static_cast<uint32_t>(rng());
    const uint32_t whole = reference_crc32c(buf.data(), len, initial);

    const size_t pieces = 1 + static_cast<size_t>(rng() % 5);
    std::vector<size_t> cuts{0, len};
    for (size_t i = 1; i < pieces; ++i) cuts.push_back(len == 0 ? 0 : static_cast<size_t>(rng() % (len + 1)));
    std::sort(cuts.begin(), cuts.end());

    uint32_t running = initial;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      const Implementation& impl = impls[static_cast<size_t>(rng() % impls.size())];
      running = impl.fn(buf.data() + cuts[i], cuts[i + 1] - cuts[i], running);
    }
    ASSERT_EQ(running, whole) << "round=" << round << " len=" << len << " pieces=" << pieces;
  }
}

// Per-segment seeding relies on this: the same bytes under two different seeds never share a CRC.
TEST(Crc32c, DifferentSeedsGiveDifferentCrcs) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    const size_t len = static_cast<size_t>(rng() % 200);
    const std::vector<uint8_t> buf = random_bytes(rng, len);
    const uint32_t s1 = static_cast<uint32_t>(rng());
    uint32_t s2 = static_cast<uint32_t>(rng());
    if (round % 4 == 0) s2 = s1 ^ (1u << (rng() % 32));  // seeds one bit apart
    if (s2 == s1) continue;
    for (const Implementation& impl : implementations()) {
      ASSERT_NE(impl.fn(buf.data(), len, s1), impl.fn(buf.data(), len, s2))
          << impl.name << " len=" << len << " s1=" << s1 << " s2=" << s2;
    }
  }
}

TEST(Crc32c, DispatchUsesTheHardwareWhenPresent) {
#if defined(__x86_64__)
  const std::string expected = __builtin_cpu_supports("sse4.2") ? "sse4.2" : "portable";
#else
  const std::string expected = "portable";
#endif
  EXPECT_EQ(ps::crc32c_implementation(), expected);
}

}  // namespace
