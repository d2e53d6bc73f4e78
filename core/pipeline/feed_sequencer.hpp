// Puts one MoldUDP64 session's messages back in sequence order for the books: messages arriving after
// a hole wait in a bounded window while the hole is re-requested from the retransmission server, and
// are released in order once it is filled. Gives up on a hole after a configured number of
// re-requests; then the books stay stale and the loss is counted. Single-threaded (the parse core).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/huge_buffer.hpp"
#include "core/moldudp64.hpp"
#include "core/pipeline/events.hpp"

namespace pmm::pipe {

struct SequencerConfig {
  uint64_t first_sequence = 1;          // the sequence the books need first
  std::string session;                  // MoldUDP64 session to accept ("": the first packet's)
  uint32_t window_messages = 1u << 18;  // power of two: messages held behind a hole (64 B each)
  uint64_t retry_ticks = 0;             // re-request a hole not filled after this long (TSC ticks)
  uint32_t max_retries = 5;             // then give up on it
  uint32_t max_request_messages = 10000;
};

struct SequencerStats {
  uint64_t messages_in = 0;        // messages offered (feed and retransmission)
  uint64_t delivered = 0;          // passed in sequence (handed on, or skipped as not for the books)
  uint64_t unknown_type = 0;       // ITCH type not in the spec: skipped by its length
  uint64_t bad_length = 0;         // known ITCH type, wrong length: malformed, skipped
  uint64_t empty = 0;              // zero-length message blocks
  uint64_t duplicates = 0;         // already delivered or already held
  uint64_t wrong_session = 0;      // packets of another session
  uint64_t window_overflow = 0;    // messages too far ahead to hold: dropped, re-requested later
  uint64_t gaps = 0;               // holes opened
  uint64_t gaps_filled = 0;        // holes closed by retransmission (or late arrival)
  uint64_t gaps_unrecovered = 0;   // holes given up after max_retries
  uint64_t messages_lost = 0;      // messages in holes given up
  uint64_t requests = 0;           // re-request packets built
  uint64_t held_peak = 0;
};

// A re-request the caller must send (MoldUDP64 request packet, 20 bytes).
struct GapRequest {
  uint64_t first = 0;
  uint16_t count = 0;  // 0: none
};

class FeedSequencer {
 public:
  explicit FeedSequencer(const SequencerConfig& config);

  // One parsed downstream packet (feed or retransmission). Messages that can go out now are written
  // to out[*n_out ...] while *n_out < out_cap; the rest wait in the window. Returns false when the
  // packet belongs to another session (dropped, counted).
  bool on_packet(const mold::DownstreamPacket& p, uint64_t rx_tsc, MdEvent* out, uint32_t out_cap,
                 uint32_t* n_out) noexcept;
  // Releases held messages that are now in sequence, and feed-state events, into out.
  uint32_t drain(MdEvent* out, uint32_t out_cap) noexcept;
  // Timer work: first request for a new hole, re-requests, giving up. Returns a request to send, if any.
  GapRequest poll(uint64_t now_tsc) noexcept;
  // The caller could not send the request: try again on the next poll.
  void request_not_sent() noexcept {
    request_deadline_ = 0;
    if (retries_ > 0) --retries_; else first_request_ = true;
  }

  // Something is waiting to be drained (in-order messages or a state event).
  bool has_output() const noexcept;
  // No hole and nothing held: the feed is caught up as far as anything has announced.
  bool caught_up() const noexcept { return next_ >= known_end_ && held_ == 0; }
  // The window is more than half full of messages that only wait for ring space (no hole): the caller
  // should stop taking packets until the books catch up.
  bool backlogged() const noexcept { return !hole() && held_ > (mask_ + 1) / 2; }

  bool stale() const noexcept { return stale_; }
  bool damaged() const noexcept { return damaged_; }  // a hole was given up: books are missing data
  bool end_of_session() const noexcept { return end_sent_; }
  uint64_t next_sequence() const noexcept { return next_; }
  uint64_t known_end() const noexcept { return known_end_; }
  uint64_t held() const noexcept { return held_; }
  const mold::SessionId& session() const noexcept { return session_; }
  bool has_session() const noexcept { return have_session_; }
  const SequencerStats& stats() const noexcept { return stats_; }
  // Messages passed in sequence per ITCH type byte (unknown types included, malformed ones not).
  const std::array<uint64_t, 256>& by_type() const noexcept { return by_type_; }

 private:
  bool hole() const noexcept { return next_ < known_end_ && !present(next_); }
  bool present(uint64_t s) const noexcept { return window_[s & mask_].sequence == s; }
  // First held sequence after next_, or known_end_; looks at most max_len slots ahead.
  uint64_t hole_end(uint64_t max_len) const noexcept;
  void hold(uint64_t s, const uint8_t* msg, uint16_t len, uint64_t rx_tsc) noexcept;
  void note_progress() noexcept;       // after next_ moved: hole closed?
  void count_delivered(uint8_t type) noexcept {
    ++stats_.delivered;
    ++by_type_[type];
  }
  void count_skipped(uint8_t type, uint8_t why) noexcept;
  bool emit_state(MdKind kind, MdEvent* out, uint32_t out_cap, uint32_t* n) noexcept;

  SequencerConfig cfg_;
  HugeArray<MdEvent> window_;  // slot s & mask_ holds message s when its sequence field says s
  uint64_t mask_;
  uint64_t next_;               // next sequence to hand on
  uint64_t known_end_;          // one past the highest sequence known to exist
  uint64_t held_ = 0;
  bool have_session_ = false;
  mold::SessionId session_{};

  bool stale_ = false;          // books told kFeedStale and not yet kFeedWhole
  bool damaged_ = false;
  bool stale_pending_ = false;  // state events not yet written out
  bool whole_pending_ = false;
  bool end_seen_ = false;       // end-of-session packet received
  bool end_sent_ = false;

  bool gap_open_ = false;       // the hole at next_ has been counted and requested
  uint64_t requested_end_ = 0;  // one past the last sequence asked for
  uint64_t progress_mark_ = 0;  // next_ when progress was last noted
  bool progress_ = false;       // the answer is arriving: restart the retry clock
  uint32_t retries_ = 0;
  bool first_request_ = false;
  uint64_t request_deadline_ = 0;
  SequencerStats stats_;
  std::array<uint64_t, 256> by_type_{};
};

}  // namespace pmm::pipe
