// A RecoverableState for the durability proofs: it "applies" proof records (proof_records.hpp) by
// checking each one against the bytes its sequence must carry, so recover_state() itself proves that
// every record it replays is contiguous and intact. Its snapshot is (sequence, digest).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "persistence/recoverable_state.hpp"
#include "persistence/recovery.hpp"
#include "tests/persistence/proof_records.hpp"

namespace pmm::persistence::proof {

// The digest of a state that has applied records 1..sequence.
inline uint64_t proof_digest_step(uint64_t digest, uint64_t sequence) noexcept { return mix64(digest + sequence); }
inline uint64_t proof_digest(uint64_t sequence) noexcept {
  uint64_t d = 0;
  for (uint64_t s = 1; s <= sequence; ++s) d = proof_digest_step(d, s);
  return d;
}

class ProofState final : public RecoverableState {
 public:
  static constexpr uint16_t kBlockType = 7;

  ProofState(uint64_t seed, uint16_t max_length) : seed_(seed), max_length_(max_length) {}

  void reset() override {
    sequence_ = 0;
    digest_ = 0;
    wrong_ = 0;
    first_problem_.clear();
  }
  void apply(const JournalRecordView& r) override {
    if (r.sequence != sequence_ + 1 || !is_proof_record(seed_, r.sequence, max_length_, r.type, r.payload, r.length)) {
      if (wrong_++ == 0)
        first_problem_ = "record " + std::to_string(r.sequence) + " after " + std::to_string(sequence_) +
                         (r.file != nullptr ? " in " + *r.file + " at offset " + std::to_string(r.offset) : "");
    }
    sequence_ = r.sequence;
    digest_ = proof_digest_step(digest_, r.sequence);
  }
  std::string write_snapshot(SnapshotWriter& out) const override {
    uint8_t b[16];
    std::memcpy(b, &sequence_, 8);
    std::memcpy(b + 8, &digest_, 8);
    return out.add_block(kBlockType, b, sizeof b) ? "" : out.error();
  }
  std::string restore_snapshot(SnapshotReader& in) override {
    SnapshotBlockView block;
    if (!in.next(block)) return in.failed() ? in.damage().to_string() : "no block";
    if (block.type != kBlockType || block.size != 16) return "unexpected block";
    std::memcpy(&sequence_, block.data, 8);
    std::memcpy(&digest_, block.data + 8, 8);
    if (sequence_ != in.info().sequence) return "block sequence differs from the header";
    while (in.next(block)) {
    }  // filler blocks: read (so their CRCs are checked), not kept
    return in.failed() ? in.damage().to_string() : "";
  }
  uint64_t digest() const override { return digest_; }

  // The state after records 1..sequence (digest: proof_digest(sequence), passed when already known).
  void set_at(uint64_t sequence) { set_at(sequence, proof_digest(sequence)); }
  void set_at(uint64_t sequence, uint64_t digest) {
    reset();
    sequence_ = sequence;
    digest_ = digest;
  }

  uint64_t sequence() const { return sequence_; }
  uint64_t wrong() const { return wrong_; }
  const std::string& first_problem() const { return first_problem_; }

 private:
  uint64_t seed_;
  uint16_t max_length_;
  uint64_t sequence_ = 0;
  uint64_t digest_ = 0;
  uint64_t wrong_ = 0;
  std::string first_problem_;
};

// The recovery step of the proofs through the real start-up path: recover_state() on `root` (the data
// directory; the journal is root/journal) with a ProofState, which checks every record it is given.
struct StateRecovery {
  RecoveryResult result;
  uint64_t sequence = 0;  // the state's sequence after recovery
  uint64_t wrong = 0;     // replayed records that were not exactly the expected ones
  std::string first_problem;
};
inline StateRecovery recover_proof_state(const std::string& root, uint64_t seed, uint16_t max_length,
                                         uint64_t segment_bytes) {
  PosixFileOps ops;
  PersistenceConfig config;
  config.data_directory = root;
  config.journal_segment_bytes = segment_bytes;
  ProofState state(seed, max_length);
  StateRecovery out;
  out.result = recover_state(config, ops, state, nullptr);
  out.result.directory.reset();
  out.sequence = state.sequence();
  out.wrong = state.wrong();
  out.first_problem = state.first_problem();
  return out;
}

}  // namespace pmm::persistence::proof
