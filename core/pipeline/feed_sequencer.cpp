#include "core/pipeline/feed_sequencer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>

#include "core/itch.hpp"

namespace pmm::pipe {
namespace {

// What the books use; every other message only advances the sequence. Types are length-checked here
// too, so the book stage can trust every message it gets.
struct ForwardTable {
  uint8_t length[256] = {};
  constexpr ForwardTable() {
    for (const char t : {'R', 'H', 'A', 'F', 'E', 'C', 'X', 'D', 'U'}) {
      length[static_cast<uint8_t>(t)] = static_cast<uint8_t>(itch::message_length(static_cast<uint8_t>(t)));
    }
  }
};
constexpr ForwardTable kForward;
static_assert(kForward.length['R'] <= kMdMessageCapacity && kForward.length['F'] <= kMdMessageCapacity);

inline bool forwarded(const uint8_t* msg, uint16_t len) noexcept {
  return len != 0 && kForward.length[msg[0]] == len;
}

// What a message that is not handed on was, for the counters (kept in its window slot).
enum Skipped : uint8_t { kNotNeeded = 0, kUnknownType = 1, kBadLength = 2, kEmpty = 3 };

inline uint8_t classify_skipped(const uint8_t* msg, uint16_t len) noexcept {
  if (len == 0) return kEmpty;
  const size_t expected = itch::message_length(msg[0]);
  if (expected == 0) return kUnknownType;
  return expected == len ? kNotNeeded : kBadLength;
}

inline void fill(MdEvent& e, uint64_t s, const uint8_t* msg, uint16_t len, uint64_t rx_tsc) noexcept {
  e.rx_tsc = rx_tsc;
  e.sequence = s;
  e.kind = MdKind::kMessage;
  if (forwarded(msg, len)) {
    e.length = static_cast<uint8_t>(len);
    std::memcpy(e.message, msg, len);
  } else {
    e.length = 0;  // holds the sequence number's place; not handed on
    e.message[0] = len != 0 ? msg[0] : 0;
    e.message[1] = classify_skipped(msg, len);
  }
}

}  // namespace

FeedSequencer::FeedSequencer(const SequencerConfig& config)
    : cfg_(config), window_(config.window_messages), mask_(config.window_messages - 1),
      next_(config.first_sequence), known_end_(config.first_sequence) {
  if (config.window_messages < 2 || (config.window_messages & (config.window_messages - 1)) != 0)
    throw std::invalid_argument("window_messages must be a power of two >= 2");
  if (config.first_sequence == 0) throw std::invalid_argument("first_sequence must be >= 1");
  if (config.max_request_messages == 0 || config.max_request_messages > 65534)
    throw std::invalid_argument("max_request_messages must be 1..65534");
  if (config.session.size() > session_.size()) throw std::invalid_argument("session must be at most 10 characters");
  if (!config.session.empty()) {
    session_ = mold::make_session(config.session.c_str());
    have_session_ = true;
  }
  for (size_t i = 0; i <= mask_; ++i) window_[i].sequence = 0;  // sequence 0 never exists: slot empty
}

bool FeedSequencer::on_packet(const mold::DownstreamPacket& p, uint64_t rx_tsc, MdEvent* out,
                              uint32_t out_cap, uint32_t* n_out) noexcept {
  if (!have_session_) {
    session_ = p.header.session;
    have_session_ = true;
  } else if (p.header.session != session_) {
    ++stats_.wrong_session;
    return false;
  }
  if (p.is_heartbeat() || p.is_end_of_session()) {
    // Both carry the next sequence the server will send: anything below it that we lack is a hole.
    known_end_ = std::max(known_end_, p.header.sequence);
    if (p.is_end_of_session()) end_seen_ = true;
    return true;
  }
  p.for_each_message([&](uint64_t s, const uint8_t* msg, uint16_t len) {
    ++stats_.messages_in;
    if (s < next_) {
      ++stats_.duplicates;
      return;
    }
    known_end_ = std::max(known_end_, s + 1);
    if (s == next_ && held_ == 0 && !stale_pending_ && !whole_pending_) {
      // The common case: in order, nothing waiting. Straight out, or into the window if out is full.
      if (!forwarded(msg, len)) {
        count_skipped(len != 0 ? msg[0] : 0, classify_skipped(msg, len));
        ++next_;
        return;
      }
      if (*n_out < out_cap) {
        fill(out[(*n_out)++], s, msg, len, rx_tsc);
        count_delivered(msg[0]);
        ++next_;
        return;
      }
    }
    if (s - next_ > mask_) {
      ++stats_.window_overflow;  // known_end_ moved: it is a hole now, re-requested in turn
      return;
    }
    if (present(s)) {
      ++stats_.duplicates;
      return;
    }
    hold(s, msg, len, rx_tsc);
  });
  if (held_ != 0 || stale_pending_ || whole_pending_) *n_out += drain(out + *n_out, out_cap - *n_out);
  note_progress();
  return true;
}

void FeedSequencer::count_skipped(uint8_t type, uint8_t why) noexcept {
  ++stats_.delivered;
  switch (why) {
    case kUnknownType: ++stats_.unknown_type; ++by_type_[type]; break;
    case kBadLength: ++stats_.bad_length; break;
    case kEmpty: ++stats_.empty; break;
    default: ++by_type_[type]; break;
  }
}

void FeedSequencer::hold(uint64_t s, const uint8_t* msg, uint16_t len, uint64_t rx_tsc) noexcept {
  fill(window_[s & mask_], s, msg, len, rx_tsc);
  ++held_;
  stats_.held_peak = std::max(stats_.held_peak, held_);
}

bool FeedSequencer::emit_state(MdKind kind, MdEvent* out, uint32_t out_cap, uint32_t* n) noexcept {
  if (*n >= out_cap) return false;
  MdEvent& e = out[(*n)++];
  e.rx_tsc = 0;
  e.sequence = next_;
  e.kind = kind;
  e.length = 0;
  return true;
}

uint32_t FeedSequencer::drain(MdEvent* out, uint32_t out_cap) noexcept {
  uint32_t n = 0;
  if (stale_pending_) {
    if (!emit_state(MdKind::kFeedStale, out, out_cap, &n)) return n;
    stale_pending_ = false;
  }
  while (held_ != 0 && present(next_)) {
    MdEvent& slot = window_[next_ & mask_];
    if (slot.length != 0) {
      if (n >= out_cap) break;
      out[n++] = slot;
      count_delivered(slot.message[0]);
    } else {
      count_skipped(slot.message[0], slot.message[1]);
    }
    slot.sequence = 0;
    ++next_;
    --held_;
  }
  note_progress();
  if (whole_pending_) {
    if (!emit_state(MdKind::kFeedWhole, out, out_cap, &n)) return n;
    whole_pending_ = false;
  }
  if (end_seen_ && !end_sent_ && caught_up() && !stale_pending_ && !whole_pending_) {
    if (emit_state(MdKind::kEndOfSession, out, out_cap, &n)) end_sent_ = true;
  }
  return n;
}

void FeedSequencer::note_progress() noexcept {
  if (gap_open_ && next_ >= requested_end_) {
    if (hole()) {
      // The request was capped (or a loss follows at once): ask for the rest now, same gap.
      first_request_ = true;
      request_deadline_ = 0;
      retries_ = 0;
    } else {
      gap_open_ = false;
      ++stats_.gaps_filled;
      retries_ = 0;
    }
  } else if (gap_open_ && next_ > progress_mark_) {
    // Part of the answer is in: the rest is probably on its way, so the retry clock restarts
    // (asking again now would only fetch the same messages twice).
    progress_ = true;
  }
  progress_mark_ = next_;
  if (stale_ && !damaged_ && caught_up()) {
    stale_ = false;
    whole_pending_ = true;
  }
}

bool FeedSequencer::has_output() const noexcept {
  return stale_pending_ || whole_pending_ || (held_ != 0 && present(next_)) ||
         (end_seen_ && !end_sent_ && caught_up());
}

uint64_t FeedSequencer::hole_end(uint64_t max_len) const noexcept {
  // The scan touches a cache line per slot: a request looks no further than it can ask for.
  const uint64_t limit = std::min({known_end_, next_ + mask_ + 1, next_ + max_len});
  if (held_ != 0) {
    for (uint64_t s = next_ + 1; s < limit; ++s)
      if (present(s)) return s;
  }
  return limit;
}

GapRequest FeedSequencer::poll(uint64_t now_tsc) noexcept {
  if (progress_) {
    progress_ = false;
    retries_ = 0;
    if (!first_request_) request_deadline_ = now_tsc + std::max<uint64_t>(cfg_.retry_ticks, 1);
  }
  if (!hole()) return {};
  if (!gap_open_) {
    gap_open_ = true;
    retries_ = 0;
    ++stats_.gaps;
    if (!stale_) {
      stale_ = true;
      stale_pending_ = true;
      whole_pending_ = false;
    }
    first_request_ = true;  // ask at once
    request_deadline_ = 0;
  }
  if (now_tsc < request_deadline_) return {};
  if (!first_request_ && retries_ >= cfg_.max_retries) {
    const uint64_t end = hole_end(mask_ + 1);  // the whole hole (rare: once per hole given up)
    assert(end > next_);
    // Given up: the books are missing these messages for good; they stay stale (damaged).
    stats_.messages_lost += end - next_;
    ++stats_.gaps_unrecovered;
    damaged_ = true;
    gap_open_ = false;
    if (!stale_) {
      stale_ = true;
      stale_pending_ = true;
    }
    next_ = end;
    return {};
  }
  if (!first_request_) ++retries_;
  first_request_ = false;
  // Back off while nothing arrives (x2 per retry, up to x64): a starved or overloaded receiver must
  // not be buried under repeat answers to its own re-requests.
  request_deadline_ = now_tsc + (std::max<uint64_t>(cfg_.retry_ticks, 1) << std::min<uint32_t>(retries_, 6));
  ++stats_.requests;
  const uint64_t end = hole_end(cfg_.max_request_messages);
  assert(end > next_);
  GapRequest r;
  r.first = next_;
  r.count = static_cast<uint16_t>(end - next_);
  requested_end_ = next_ + r.count;
  progress_mark_ = next_;
  return r;
}

}  // namespace pmm::pipe
