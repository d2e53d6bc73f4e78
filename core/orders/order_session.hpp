// One end of the order-entry session over UDP (docs/order-entry.md): each side numbers the messages it
// sends, MoldUDP64-framed (one message per packet, so an order never waits for another), keeps the last
// N for retransmission, and puts what it receives in order: a message ahead of the next expected one
// means loss, so it is dropped and everything from the expected one is re-requested (go-back-N: loss is
// rare, ordering is what matters for order state). Heartbeats carry the sender's next sequence number,
// so a lost last message is noticed too. The appliance and the exchange simulator use the same classes.
// No allocation after construction; time is passed in.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/moldudp64.hpp"

namespace pmm::orders {

// The sending half: numbering, framing and the retransmission history.
class SessionSender {
 public:
  static constexpr size_t kMaxMessage = 104;  // OUCH's longest (80) plus our 8-byte as-of prefix, rounded

  // history_messages: a power of two; requests for older messages are counted and not answered.
  SessionSender(const mold::SessionId& session, uint32_t history_messages)
      : session_(session), history_(history_messages), mask_(history_messages - 1) {
    assert(history_messages != 0 && (history_messages & mask_) == 0);
  }

  const mold::SessionId& session() const noexcept { return session_; }
  uint64_t next_sequence() const noexcept { return next_; }

  // Restart after recovery: continue the session's numbering at `next` (>= 1) before sending anything.
  // Messages before `next` are not in the history: a re-request for one is counted as too old.
  void set_next_sequence(uint64_t next) noexcept {
    assert(next >= 1 && next_ == 1);
    next_ = next;
  }

  // Numbers `msg` and frames it in `out` (a MoldUDP64 packet of one block). Returns the packet's length,
  // 0 when the message is longer than kMaxMessage or the packet does not fit `capacity` (nothing sent).
  size_t send(const uint8_t* msg, uint16_t len, uint8_t* out, size_t capacity) noexcept {
    if (len == 0 || len > kMaxMessage) return 0;
    const size_t n = frame(next_, msg, len, out, capacity);
    if (n == 0) return 0;
    Slot& s = history_[next_ & mask_];
    s.sequence = next_;
    s.length = len;
    std::memcpy(s.bytes, msg, len);
    ++next_;
    return n;
  }

  // A message the peer already has, taken into the numbering and the history as if sent by send(): the
  // session login's echo of our own messages (core/orders/session_login.hpp), or the gateway keeping the
  // messages it received to echo them. `sequence` >= next_sequence() (numbers skipped are not in the
  // history); next_sequence() becomes sequence + 1. False (nothing kept) when len is 0 or > kMaxMessage.
  bool adopt(uint64_t sequence, const uint8_t* msg, uint16_t len) noexcept {
    assert(sequence >= next_ && sequence != UINT64_MAX);
    if (len == 0 || len > kMaxMessage) return false;
    Slot& s = history_[sequence & mask_];
    s.sequence = sequence;
    s.length = len;
    std::memcpy(s.bytes, msg, len);
    next_ = sequence + 1;
    return true;
  }

  // The packet that resends message `sequence`, or 0 when it is no longer (or not yet) in the history.
  size_t retransmit(uint64_t sequence, uint8_t* out, size_t capacity) noexcept {
    if (sequence == 0 || sequence >= next_) return 0;
    const Slot& s = history_[sequence & mask_];
    if (s.sequence != sequence) {
      ++too_old_;
      return 0;
    }
    return frame(sequence, s.bytes, s.length, out, capacity);
  }

  size_t heartbeat(uint8_t* out, size_t capacity) const noexcept {
    if (capacity < mold::kHeaderSize) return 0;
    return mold::encode_heartbeat(out, session_, next_);
  }

  uint64_t requests_too_old() const noexcept { return too_old_; }

 private:
  struct Slot {
    uint64_t sequence = 0;
    uint16_t length = 0;
    uint8_t bytes[kMaxMessage] = {};
  };

  size_t frame(uint64_t sequence, const uint8_t* msg, uint16_t len, uint8_t* out, size_t capacity) const noexcept {
    mold::PacketBuilder b(out, capacity, session_, sequence);
    if (!b.add(msg, len)) return 0;
    return b.finish();
  }

  mold::SessionId session_;
  std::vector<Slot> history_;
  uint64_t mask_;
  uint64_t next_ = 1;
  uint64_t too_old_ = 0;
};

struct SessionReceiverCounters {
  uint64_t delivered = 0;
  uint64_t duplicates = 0;      // already delivered: dropped
  uint64_t out_of_order = 0;    // ahead of a hole: dropped, re-requested with the hole
  uint64_t gaps = 0;            // holes opened
  uint64_t requests = 0;        // re-requests sent (first ones and retries)
  uint64_t wrong_session = 0;   // another session's packet: dropped
};

// The receiving half: the next expected sequence, the hole (if any) and when to ask again.
class SessionReceiver {
 public:
  enum class Verdict : uint8_t { kDeliver, kDuplicate, kOutOfOrder, kWrongSession };

  // retry_ns: ask again when a hole has not been filled for this long. max_request: messages per request.
  SessionReceiver(uint64_t retry_ns, uint16_t max_request) : retry_ns_(retry_ns), max_request_(max_request) {
    assert(retry_ns > 0 && max_request > 0);
  }

  // The first packet names the session; later ones must match it.
  Verdict on_message(const char (&session)[10], uint64_t sequence, uint64_t now_ns) noexcept {
    if (!accept_session(session)) return Verdict::kWrongSession;
    if (sequence < expected_) {
      ++counters_.duplicates;
      return Verdict::kDuplicate;
    }
    if (sequence > expected_) {
      ++counters_.out_of_order;
      if (sequence != UINT64_MAX) note_ahead(sequence + 1, now_ns);  // no sender gets there: garbage
      return Verdict::kOutOfOrder;
    }
    ++expected_;
    ++counters_.delivered;
    if (expected_ >= known_end_) {
      hole_open_ = false;
    } else {
      due_ns_ = now_ns + retry_ns_;  // progress: the answer is arriving, give it time
    }
    return Verdict::kDeliver;
  }

  // A heartbeat (or end of session) carrying the sender's next sequence number.
  void on_heartbeat(const char (&session)[10], uint64_t next_sequence, uint64_t now_ns) noexcept {
    if (!accept_session(session)) return;
    if (next_sequence > expected_) note_ahead(next_sequence, now_ns);
  }

  // A re-request to send now, if one is due: everything from the hole up to the last sequence known to
  // exist (capped at max_request per request).
  bool poll(uint64_t now_ns, mold::Request& out) noexcept {
    if (hole_open_ && known_end_ <= expected_) hole_open_ = false;  // filled meanwhile
    if (!hole_open_ || now_ns < due_ns_) return false;
    out.session = session_;
    out.sequence = expected_;
    const uint64_t missing = known_end_ - expected_;
    out.count = static_cast<uint16_t>(missing < max_request_ ? missing : max_request_);
    due_ns_ = now_ns + retry_ns_;
    ++counters_.requests;
    return true;
  }

  // Restart after recovery: the next sequence to deliver is `expected` (>= 1); before any packet.
  // Everything the peer sent from there on is re-requested as soon as it shows a later sequence.
  void set_expected(uint64_t expected) noexcept {
    assert(expected >= 1 && expected_ == 1 && !have_session_);
    expected_ = expected;
    known_end_ = expected;
  }

  uint64_t expected() const noexcept { return expected_; }
  bool hole_open() const noexcept { return hole_open_; }
  // The peer's session, once a packet named it.
  bool has_session() const noexcept { return have_session_; }
  const mold::SessionId& session() const noexcept { return session_; }
  const SessionReceiverCounters& counters() const noexcept { return counters_; }

 private:
  bool accept_session(const char (&session)[10]) noexcept {
    if (!have_session_) {
      std::memcpy(session_.data(), session, session_.size());
      have_session_ = true;
      return true;
    }
    if (std::memcmp(session_.data(), session, session_.size()) == 0) return true;
    ++counters_.wrong_session;
    return false;
  }

  // Messages up to end - 1 exist: a hole is open from expected_.
  void note_ahead(uint64_t end, uint64_t now_ns) noexcept {
    if (end > known_end_) known_end_ = end;
    if (!hole_open_) {
      hole_open_ = true;
      ++counters_.gaps;
      due_ns_ = now_ns;  // ask at once
    }
  }

  uint64_t retry_ns_;
  uint16_t max_request_;
  mold::SessionId session_{};
  bool have_session_ = false;
  uint64_t expected_ = 1;
  uint64_t known_end_ = 1;  // one past the highest sequence known to exist
  bool hole_open_ = false;
  uint64_t due_ns_ = 0;
  SessionReceiverCounters counters_;
};

}  // namespace pmm::orders
