// The order session's login at start (docs/order-entry.md, "Login"), client side: before it sends
// anything, a (re)started client asks the gateway where our outbound stream really ends. A crash can
// leave messages the gateway received but our journal never got (sent right after their record was
// queued, before it was written): the gateway echoes them back, the client takes them as sent (tracker,
// journal, numbering) and continues after them, so no sequence number is used twice and no order lives
// at the exchange unknown to us. In the spirit of MoldUDP64's request and SoupBinTCP's login:
//
//   login request  client -> gateway: a MoldUDP64 request packet (20 bytes) naming the client's OWN
//                  session (a re-request names the peer's): first = our next outbound sequence,
//                  count = how many echoes we take per answer.
//   echo           gateway -> client: each of our messages from `first` it received, framed as we
//                  sent it (our session, its original number, its original block), one per packet.
//   login answer   gateway -> client: a heartbeat (count 0) under OUR session whose sequence is the
//                  gateway's next expected from us; then the gateway's own heartbeat (its next
//                  sequence), so our receiver re-requests the responses we missed at once.
//
// The answer is complete when every echo from `first` up to the gateway's next expected arrived in
// order; a partial one (more than `count`, or a lost echo) is followed at once by another request from
// where we got to. No answer within retry_ns: the request is sent again (counted). A gateway that
// expects less than we recovered (a new exchange session, or our messages lost on the wire before the
// crash, which our empty history cannot resend) is refused: we must not trade on that session.
// No allocation; time is passed in.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstring>

#include "core/moldudp64.hpp"

namespace pmm::orders {

struct SessionLoginCounters {
  uint64_t requests = 0;        // login requests sent (first, retries after a timeout, follow-ups)
  uint64_t retries = 0;         // of which sent because no (complete) answer came within retry_ns
  uint64_t echoes = 0;          // echoes taken
  uint64_t echo_duplicates = 0; // echoes of a sequence already taken: dropped
  uint64_t echo_out_of_order = 0;  // an echo after a lost one: dropped (asked for again)
  uint64_t answers = 0;         // login answers received
};

class SessionLogin {
 public:
  enum class State : uint8_t {
    kIdle,           // start() not called
    kLoggingIn,      // requests out, answer not complete
    kDone,           // the gateway's next expected == ours: continue the session from next()
    kGatewayBehind,  // the gateway expects less than we recovered: do not trade on this session
  };
  enum class Echo : uint8_t { kTake, kDuplicate, kOutOfOrder, kIgnored };

  // retry_ns: ask again after this long without a complete answer. max_echo: echoes per answer (1..65534).
  SessionLogin(uint64_t retry_ns, uint16_t max_echo) : retry_ns_(retry_ns), max_echo_(max_echo) {
    assert(retry_ns > 0 && max_echo >= 1 && max_echo <= 65534);
  }

  // Our session and the next outbound sequence we recovered (1 for a fresh start); the first request is
  // due at once.
  void start(const mold::SessionId& ours, uint64_t next_outbound, uint64_t now_ns) noexcept {
    assert(state_ == State::kIdle && next_outbound >= 1);
    session_ = ours;
    recovered_ = next_outbound;
    next_ = next_outbound;
    state_ = State::kLoggingIn;
    due_ns_ = now_ns;
  }

  // The login request to send now, if one is due. room: echoes the caller can hold now (the request's
  // count is min(room, max_echo)); 0: none is sent until there is room.
  bool poll(uint64_t now_ns, uint64_t room, mold::Request& out) noexcept {
    if (state_ != State::kLoggingIn || now_ns < due_ns_ || room == 0) return false;
    if (counters_.requests != 0 && !follow_up_) ++counters_.retries;
    follow_up_ = false;
    out.session = session_;
    out.sequence = next_;
    out.count = static_cast<uint16_t>(room < max_echo_ ? room : max_echo_);
    due_ns_ = now_ns + retry_ns_;
    ++counters_.requests;
    return true;
  }

  // An echo of our message `sequence`: take it when it is the next one (the caller applies it as a
  // message we sent with that number), else drop it.
  Echo on_echo(uint64_t sequence) noexcept {
    if (state_ != State::kLoggingIn) return Echo::kIgnored;  // a late duplicate of a finished login
    if (sequence < next_) {
      ++counters_.echo_duplicates;
      return Echo::kDuplicate;
    }
    if (sequence > next_) {
      ++counters_.echo_out_of_order;
      return Echo::kOutOfOrder;
    }
    ++next_;
    ++counters_.echoes;
    return Echo::kTake;
  }

  // The login answer: the gateway's next expected sequence of ours. Complete -> kDone; short of it
  // (more to echo, or an echo lost) -> the next request is due at once; below what we recovered ->
  // kGatewayBehind. Answers after the login ended change nothing.
  State on_answer(uint64_t gateway_expected, uint64_t now_ns) noexcept {
    if (state_ != State::kLoggingIn) return state_;
    ++counters_.answers;
    gateway_expected_ = gateway_expected;
    if (gateway_expected < recovered_) {
      state_ = State::kGatewayBehind;
    } else if (gateway_expected == next_) {
      state_ = State::kDone;
    } else if (gateway_expected > next_) {
      due_ns_ = now_ns;  // ask for the rest now
      follow_up_ = true;
    }
    // recovered_ <= gateway_expected < next_: an answer older than echoes already taken; wait.
    return state_;
  }

  State state() const noexcept { return state_; }
  uint64_t next() const noexcept { return next_; }            // our next outbound: recovered + echoes taken
  uint64_t recovered() const noexcept { return recovered_; }  // as start() was told
  uint64_t gateway_expected() const noexcept { return gateway_expected_; }  // from the latest answer
  const mold::SessionId& session() const noexcept { return session_; }
  const SessionLoginCounters& counters() const noexcept { return counters_; }

 private:
  uint64_t retry_ns_;
  uint16_t max_echo_;
  State state_ = State::kIdle;
  mold::SessionId session_{};
  uint64_t recovered_ = 1;
  uint64_t next_ = 1;
  uint64_t gateway_expected_ = 0;
  uint64_t due_ns_ = 0;
  bool follow_up_ = false;
  SessionLoginCounters counters_;
};

}  // namespace pmm::orders
