// The records the durability proofs write (docs/journal.md, "Proof"): each record's type, length and
// payload are a pure function of (seed, sequence), so a checker in another process, or after any
// number of crashes and restarts, knows the exact bytes every sequence must carry without being told.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace pmm::persistence::proof {

inline uint64_t mix64(uint64_t x) noexcept {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct ProofRecord {
  uint16_t type = 0;
  uint16_t length = 0;
  uint8_t payload[4080];
};

// Record `sequence` of the run seeded `seed`: a type from 16..271, 1..max_length payload bytes (mostly
// short; the first 8 bytes, when there is room, are the sequence itself so a hex dump is readable).
inline void proof_record(uint64_t seed, uint64_t sequence, uint16_t max_length, ProofRecord& out) noexcept {
  uint64_t h = mix64(seed * 0x100000001B3ull ^ mix64(sequence));
  out.type = static_cast<uint16_t>(16 + (h & 0xFF));
  h = mix64(h);
  uint64_t length = (h >> 8) % 100 < 90 ? 1 + (h >> 16) % 60 : 1 + (h >> 16) % max_length;
  if (length > max_length) length = max_length;
  out.length = static_cast<uint16_t>(length);
  for (uint16_t i = 0; i < out.length; i += 8) {
    h = mix64(h);
    const uint16_t n = static_cast<uint16_t>(out.length - i < 8 ? out.length - i : 8);
    std::memcpy(out.payload + i, &h, n);
  }
  if (out.length >= 8) std::memcpy(out.payload, &sequence, 8);
}

// True when (type, payload) is exactly what record `sequence` must carry.
inline bool is_proof_record(uint64_t seed, uint64_t sequence, uint16_t max_length, uint16_t type,
                            const uint8_t* payload, uint16_t length) noexcept {
  ProofRecord want;
  proof_record(seed, sequence, max_length, want);
  return want.type == type && want.length == length && std::memcmp(want.payload, payload, length) == 0;
}

// Version `v` of a state file's payload (the state-file proofs): 16..3015 bytes, the first 8 are `v`.
inline std::vector<uint8_t> state_payload(uint64_t v) {
  uint64_t h = mix64(v ^ 0x5354415445ull);
  std::vector<uint8_t> p(16 + h % 3000);
  for (size_t i = 8; i < p.size(); ++i) {
    if (i % 8 == 0) h = mix64(h);
    p[i] = static_cast<uint8_t>(h >> (8 * (i % 8)));
  }
  std::memcpy(p.data(), &v, 8);
  return p;
}

}  // namespace pmm::persistence::proof
