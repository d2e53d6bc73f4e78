// Per-session MoldUDP64 sequence tracking: decides, for each parsed packet, which of its messages are
// new, and reports a missed range [first, first + count) as a gap. It never buffers; what to do about a
// gap (mark books stale, re-request) is the caller's policy.
#pragma once

#include <cstdint>

#include "core/moldudp64.hpp"

namespace pmm::mold {

struct Gap {
  uint64_t first = 0;  // first missing sequence number
  uint64_t count = 0;  // 0: no gap
};

struct Verdict {
  enum class Kind : uint8_t {
    kDeliver,       // deliver messages [skip, count); `gap` may be non-empty (messages were missed before)
    kDuplicate,     // every message was seen already: drop
    kNoMessages,    // heartbeat or end of session (may still report a gap)
    kWrongSession,  // another session than the one being tracked: drop
  };
  Kind kind = Kind::kDeliver;
  uint16_t skip = 0;  // leading messages already seen (packet overlaps what we have)
  Gap gap;
};

struct SequenceStats {
  uint64_t packets = 0;
  uint64_t heartbeats = 0;
  uint64_t duplicate_packets = 0;
  uint64_t duplicate_messages = 0;  // includes the skipped head of overlapping packets
  uint64_t gaps = 0;
  uint64_t gap_messages = 0;
  uint64_t wrong_session = 0;
};

class SequenceTracker {
 public:
  // first_expected: the sequence number the session starts at (1 for a new session, or the next
  // expected number when a client restarts mid-session).
  explicit SequenceTracker(uint64_t first_expected = 1) noexcept : next_(first_expected) {}

  Verdict on_packet(const PacketHeader& h) noexcept {
    ++stats_.packets;
    Verdict v;
    if (!have_session_) {
      session_ = h.session;
      have_session_ = true;
    } else if (h.session != session_) {
      ++stats_.wrong_session;
      v.kind = Verdict::Kind::kWrongSession;
      return v;
    }
    const bool no_messages = h.count == kHeartbeatCount || h.count == kEndOfSessionCount;
    if (no_messages) {
      ++stats_.heartbeats;
      if (h.count == kEndOfSessionCount) ended_ = true;
      v.kind = Verdict::Kind::kNoMessages;
      // Heartbeats carry the next expected number: one beyond ours means messages were missed.
      if (h.sequence > next_) v.gap = record_gap(h.sequence);
      return v;
    }
    const uint64_t end = h.sequence + h.count;
    if (end <= next_) {
      ++stats_.duplicate_packets;
      stats_.duplicate_messages += h.count;
      v.kind = Verdict::Kind::kDuplicate;
      return v;
    }
    if (h.sequence > next_) {
      v.gap = record_gap(h.sequence);
    } else if (h.sequence < next_) {
      v.skip = static_cast<uint16_t>(next_ - h.sequence);
      stats_.duplicate_messages += v.skip;
    }
    next_ = end;
    return v;
  }

  uint64_t next_expected() const noexcept { return next_; }
  bool has_session() const noexcept { return have_session_; }
  const SessionId& session() const noexcept { return session_; }
  bool ended() const noexcept { return ended_; }
  const SequenceStats& stats() const noexcept { return stats_; }

 private:
  Gap record_gap(uint64_t seen) noexcept {
    Gap g{next_, seen - next_};
    ++stats_.gaps;
    stats_.gap_messages += g.count;
    next_ = seen;
    return g;
  }

  SessionId session_{};
  bool have_session_ = false;
  bool ended_ = false;
  uint64_t next_;
  SequenceStats stats_;
};

}  // namespace pmm::mold
