// The order session's login, client side (core/orders/session_login.hpp): the requests it makes, the
// echoes it takes, when it is done or refused. Cases by hand (gateway ahead by k, equal, behind, a new
// session), then a property test against a plain gateway model that loses, repeats and reorders
// echoes and answers and answers in parts: the login always ends with exactly the gateway's messages
// from the recovered sequence taken once each, in order, or is refused exactly when the gateway is behind.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

#include "core/moldudp64.hpp"
#include "core/orders/session_login.hpp"

namespace pmm::orders {
namespace {

const mold::SessionId kOurs = mold::make_session("PMMORDERS");
constexpr uint64_t kRetry = 1000;

TEST(SessionLogin, FirstRequestAtOnceNamesOurSessionAndNextSequence) {
  SessionLogin l(kRetry, 64);
  EXPECT_EQ(l.state(), SessionLogin::State::kIdle);
  l.start(kOurs, 17, 5000);
  mold::Request r;
  ASSERT_TRUE(l.poll(5000, 1000, r));
  EXPECT_EQ(r.session, kOurs);
  EXPECT_EQ(r.sequence, 17u);
  EXPECT_EQ(r.count, 64u);  // max_echo: room allows more
  EXPECT_FALSE(l.poll(5000 + kRetry - 1, 1000, r)) << "not again before the retry interval";
  ASSERT_TRUE(l.poll(5000 + kRetry, 10, r));
  EXPECT_EQ(r.count, 10u) << "no more than the caller can hold";
  EXPECT_EQ(l.counters().requests, 2u);
  EXPECT_EQ(l.counters().retries, 1u);
  EXPECT_FALSE(l.poll(10 * kRetry, 0, r)) << "no room: no request";
}

TEST(SessionLogin, EqualIsDoneAtOnce) {
  SessionLogin l(kRetry, 64);
  l.start(kOurs, 40, 0);
  mold::Request r;
  ASSERT_TRUE(l.poll(0, 64, r));
  EXPECT_EQ(l.on_answer(40, 1), SessionLogin::State::kDone);
  EXPECT_EQ(l.next(), 40u);
  EXPECT_EQ(l.counters().echoes, 0u);
  EXPECT_FALSE(l.poll(10 * kRetry, 64, r)) << "done: no more requests";
}

TEST(SessionLogin, FreshStartAgainstAFreshGateway) {
  SessionLogin l(kRetry, 64);
  l.start(kOurs, 1, 0);
  EXPECT_EQ(l.on_answer(1, 0), SessionLogin::State::kDone);
  EXPECT_EQ(l.next(), 1u);
}

TEST(SessionLogin, GatewayAheadByKEchoesThemAndContinuesAfter) {
  SessionLogin l(kRetry, 64);
  l.start(kOurs, 10, 0);
  for (uint64_t s = 10; s < 13; ++s) EXPECT_EQ(l.on_echo(s), SessionLogin::Echo::kTake) << s;
  EXPECT_EQ(l.on_echo(11), SessionLogin::Echo::kDuplicate);
  EXPECT_EQ(l.on_answer(13, 0), SessionLogin::State::kDone);
  EXPECT_EQ(l.next(), 13u);
  EXPECT_EQ(l.recovered(), 10u);
  EXPECT_EQ(l.counters().echoes, 3u);
  EXPECT_EQ(l.on_echo(13), SessionLogin::Echo::kIgnored) << "after the login, echoes are not taken";
}

TEST(SessionLogin, LostEchoMeansAnotherRequestFromWhereWeGotTo) {
  SessionLogin l(kRetry, 64);
  l.start(kOurs, 10, 0);
  mold::Request r;
  ASSERT_TRUE(l.poll(0, 64, r));
  EXPECT_EQ(l.on_echo(10), SessionLogin::Echo::kTake);
  EXPECT_EQ(l.on_echo(12), SessionLogin::Echo::kOutOfOrder);  // 11 lost
  EXPECT_EQ(l.on_answer(13, 50), SessionLogin::State::kLoggingIn);
  ASSERT_TRUE(l.poll(50, 64, r)) << "asked again at once, not after the retry interval";
  EXPECT_EQ(r.sequence, 11u);
  EXPECT_EQ(l.counters().retries, 0u) << "a follow-up is not a retry";
  EXPECT_EQ(l.on_echo(11), SessionLogin::Echo::kTake);
  EXPECT_EQ(l.on_echo(12), SessionLogin::Echo::kTake);
  EXPECT_EQ(l.on_answer(13, 60), SessionLogin::State::kDone);
}

TEST(SessionLogin, GatewayBehindOrANewSessionIsRefused) {
  for (const uint64_t gateway : {uint64_t{1}, uint64_t{9}}) {  // a new session; ours lost on the wire
    SessionLogin l(kRetry, 64);
    l.start(kOurs, 10, 0);
    EXPECT_EQ(l.on_answer(gateway, 0), SessionLogin::State::kGatewayBehind) << gateway;
    mold::Request r;
    EXPECT_FALSE(l.poll(10 * kRetry, 64, r));
    EXPECT_EQ(l.gateway_expected(), gateway);
  }
}

// The gateway side as a plain model: it has our messages first..end-1 (first > recovered when its
// history lost the oldest); a request (from, count) is answered with the echoes it has, then the answer.
struct Datagram {
  bool answer = false;
  uint64_t sequence = 0;
};

TEST(SessionLogin, PropertyEndsWithExactlyTheGatewaysMessagesOrRefuses) {
  std::mt19937_64 rng(20261202);
  for (int round = 0; round < 3000; ++round) {
    const uint64_t recovered = 1 + rng() % 50;
    const bool behind = rng() % 5 == 0;
    const uint64_t gateway_end = behind ? 1 + rng() % recovered : recovered + rng() % 300;  // its next expected
    const auto max_echo = static_cast<uint16_t>(1 + rng() % 40);
    const uint64_t room = 1 + rng() % 80;
    const double lose = static_cast<double>(rng() % 30) / 100.0;  // each datagram lost with this chance
    SCOPED_TRACE("round " + std::to_string(round) + ": recovered " + std::to_string(recovered) + ", gateway " +
                 std::to_string(gateway_end) + ", max_echo " + std::to_string(max_echo));
    std::uniform_real_distribution<double> u(0, 1);

    SessionLogin l(kRetry, max_echo);
    l.start(kOurs, recovered, 0);
    std::deque<Datagram> link;
    std::vector<uint64_t> taken;
    uint64_t now = 0;
    for (int step = 0; step < 100000 && l.state() == SessionLogin::State::kLoggingIn; ++step) {
      now += 100;
      mold::Request r;
      if (l.poll(now, room, r)) {
        ASSERT_EQ(r.session, kOurs);
        ASSERT_LE(r.count, std::min<uint64_t>(room, max_echo));
        if (u(rng) >= lose) {
          for (uint64_t s = r.sequence; s < gateway_end && s - r.sequence < r.count; ++s) {
            if (u(rng) < lose) continue;
            link.push_back({false, s});
            if (rng() % 10 == 0) link.push_back({false, s});  // duplicated on the way
          }
          if (u(rng) >= lose) link.push_back({true, gateway_end});
        }
      }
      // Deliver what is on the link, sometimes two datagrams swapped.
      if (link.size() >= 2 && rng() % 8 == 0) std::swap(link[0], link[1]);
      while (!link.empty()) {
        const Datagram d = link.front();
        link.pop_front();
        if (d.answer) {
          l.on_answer(d.sequence, now);
        } else if (l.on_echo(d.sequence) == SessionLogin::Echo::kTake) {
          taken.push_back(d.sequence);
        }
      }
    }
    if (gateway_end < recovered) {
      ASSERT_EQ(l.state(), SessionLogin::State::kGatewayBehind);
      ASSERT_TRUE(taken.empty());
      continue;
    }
    ASSERT_EQ(l.state(), SessionLogin::State::kDone);
    ASSERT_EQ(l.next(), gateway_end);
    ASSERT_EQ(taken.size(), gateway_end - recovered);
    for (size_t i = 0; i < taken.size(); ++i) ASSERT_EQ(taken[i], recovered + i);
  }
}

}  // namespace
}  // namespace pmm::orders
