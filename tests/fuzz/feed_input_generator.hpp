// Deterministic inputs for fuzz_feed: the seed corpus for libFuzzer and the corpus that
// fuzz_feed_replay runs in CI without libFuzzer.
//
// Input format read by LLVMFuzzerTestOneInput: a sequence of records, each a 2-byte big-endian
// length followed by that many bytes (a short last record takes what is left). Each record is fed
// to BookBuilder::on_packet as a MoldUDP64 packet and to BookBuilder::on_message as one ITCH message.
//
// The generated sessions use a deliberately small universe (a few dozen prices, ~20 locates of which
// some lie past the fuzz capacity, reused references) so that capacity limits, duplicate and unknown
// references, gaps, duplicates and overlapping packets all occur within a few kilobytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "core/itch.hpp"
#include "core/moldudp64.hpp"

namespace pmm::fuzz {

// splitmix64: fixed sequence for a seed on every platform and standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) noexcept : state_(seed) {}
  uint64_t next() noexcept {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) noexcept { return static_cast<uint32_t>(next() % n); }  // n > 0
  bool chance(uint32_t percent) noexcept { return below(100) < percent; }

 private:
  uint64_t state_;
};

class FeedInputGenerator {
 public:
  // Most inputs fit libFuzzer's default -max_len (4096); every tenth is a long session that can
  // fill the order table (docs/fuzzing.md runs with -max_len=16384).
  static constexpr size_t kShortBytes = 4000;
  static constexpr size_t kLongBytes = 16000;

  // One input for the seed; the same seed always gives the same bytes.
  static std::vector<uint8_t> make(uint64_t seed) {
    FeedInputGenerator g(seed);
    g.target_bytes_ = seed % 10 == 9 ? kLongBytes : kShortBytes;
    switch (seed % 10) {
      case 0: g.random_bytes(); break;
      case 1: g.random_records(); break;
      case 2: g.bare_messages(); break;
      default: g.session(); break;
    }
    if (seed % 10 >= 2 && g.rng_.chance(50)) g.mutate();
    return std::move(g.out_);
  }

 private:
  // Each input gets its own mix: how many books and prices it spreads over and how often it adds,
  // so some inputs fill the order table, others the live-level limit or the level arena.
  explicit FeedInputGenerator(uint64_t seed)
      : rng_(seed * 0x2545f4914f6cdd1dull + 1),
        locates_(1 + rng_.below(16)),
        prices_(2 + rng_.below(40)),
        add_percent_(30 + rng_.below(50)) {}

  void record(const uint8_t* p, size_t len) {
    const size_t at = out_.size();
    out_.resize(at + 2 + len);
    store_be16(out_.data() + at, static_cast<uint16_t>(len));
    if (len) std::memcpy(out_.data() + at + 2, p, len);
  }

  void random_bytes() {
    out_.resize(rng_.below(600));
    for (auto& b : out_) b = static_cast<uint8_t>(rng_.next());
  }

  void random_records() {
    uint8_t buf[80];
    for (uint32_t n = 1 + rng_.below(30); n-- > 0;) {
      const size_t len = rng_.below(sizeof buf);
      for (size_t i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(rng_.next());
      if (len && rng_.chance(70)) buf[0] = static_cast<uint8_t>(itch::kAllTypes[rng_.below(23)]);
      record(buf, len);
    }
  }

  // Bare ITCH messages: only BookBuilder::on_message can apply them.
  void bare_messages() {
    uint8_t buf[itch::kMaxMessageLength + 2];
    while (out_.size() < target_bytes_ - 64) {
      const size_t len = next_message(buf);
      record(buf, len);
    }
  }

  // A MoldUDP64 session with the usual misbehaviour of a real feed mixed in.
  void session() {
    const mold::SessionId ours = mold::make_session("FUZZSESS01");
    const mold::SessionId other = mold::make_session("OTHERSESS2");
    uint8_t pkt[8192];
    std::vector<uint8_t> previous;
    uint64_t next_seq = 1;
    while (out_.size() < target_bytes_ - 600) {
      const uint32_t roll = rng_.below(100);
      if (roll < 4) {
        record(pkt, mold::encode_heartbeat(pkt, ours, next_seq + (rng_.chance(30) ? 3 : 0)));
        continue;
      }
      if (roll < 5) {
        record(pkt, mold::encode_end_of_session(pkt, ours, next_seq));
        continue;
      }
      if (roll < 10 && !previous.empty()) {  // retransmission of the last packet: duplicate
        record(previous.data(), previous.size());
        continue;
      }
      uint64_t first = next_seq;
      if (roll < 14) first += 1 + rng_.below(5);                   // gap
      else if (roll < 18 && first > 3) first -= 1 + rng_.below(3);  // overlap
      const bool foreign = roll >= 18 && roll < 20;
      // Within the input's byte budget (the loop leaves at least 600 bytes of it).
      const size_t room = std::min(sizeof pkt, target_bytes_ - out_.size() - 2);
      mold::PacketBuilder b(pkt, room, foreign ? other : ours, first);
      uint8_t msg[itch::kMaxMessageLength + 2];
      // Now and then a packet longer than BookBuilder's 64-message batch.
      const uint32_t messages = rng_.chance(8) ? 60 + rng_.below(90) : 1 + rng_.below(12);
      for (uint32_t n = messages; n-- > 0;) {
        const size_t len = next_message(msg);
        if (!b.add(msg, static_cast<uint16_t>(len))) break;
      }
      const size_t len = b.finish();
      if (!foreign && b.next_sequence() > next_seq) next_seq = b.next_sequence();
      previous.assign(pkt, pkt + len);
      record(pkt, len);
    }
  }

  // Flips, overwrites, truncates or splices a few bytes of a valid input.
  void mutate() {
    if (out_.empty()) return;
    for (uint32_t n = 1 + rng_.below(6); n-- > 0;) {
      const size_t at = rng_.below(static_cast<uint32_t>(out_.size()));
      switch (rng_.below(5)) {
        case 0: out_[at] ^= static_cast<uint8_t>(1u << rng_.below(8)); break;
        case 1: out_[at] = static_cast<uint8_t>(rng_.next()); break;
        case 2: out_[at] = rng_.chance(50) ? 0x00 : 0xFF; break;
        case 3: out_.resize(at + 1); break;
        case 4: {
          const size_t len = 1 + rng_.below(8);
          std::vector<uint8_t> junk(len);
          for (auto& b : junk) b = static_cast<uint8_t>(rng_.next());
          out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(at), junk.begin(), junk.end());
          break;
        }
      }
      if (out_.empty()) return;
    }
  }

  // Locates 16..19 lie past the fuzz target's max_locates.
  uint16_t locate() noexcept {
    return static_cast<uint16_t>(rng_.chance(97) ? rng_.below(locates_) : 16 + rng_.below(4));
  }
  uint32_t price() noexcept { return 100'000 + 100 * rng_.below(prices_); }
  uint32_t shares() noexcept { return rng_.chance(2) ? 0 : 1 + rng_.below(500); }
  itch::Header header() noexcept { return itch::Header{locate(), 0, rng_.next() & 0xFFFF'FFFF'FFFFull}; }

  // A live reference (most of the time), else one that may or may not exist.
  uint64_t some_ref() noexcept {
    if (!live_.empty() && rng_.chance(90)) {
      auto it = live_.lower_bound(1 + rng_.below(static_cast<uint32_t>(next_ref_)));
      if (it == live_.end()) it = live_.begin();
      return it->first;
    }
    return 1 + rng_.below(static_cast<uint32_t>(next_ref_ + 4));
  }
  uint64_t new_ref() noexcept { return rng_.chance(3) ? some_ref() : next_ref_++; }

  // Writes one ITCH message (mostly order flow) and returns its length. A few come out with a
  // wrong length or an unknown type on purpose.
  size_t next_message(uint8_t* p) {
    // Adds take add_percent_ of the rolls; the rest is spread over the other types as below.
    const uint32_t draw = rng_.below(100);
    const uint32_t roll = draw < add_percent_ ? draw * 40 / add_percent_
                                              : 40 + (draw - add_percent_) * 60 / (100 - add_percent_);
    size_t len = 0;
    if (roll < 40) {
      itch::AddOrder m;
      m.h = header();
      m.ref = new_ref();
      m.side = rng_.chance(97) ? (rng_.chance(50) ? 'B' : 'S') : 'Z';
      m.shares = shares();
      m.stock = itch::make_symbol("FUZZ");
      m.price = price();
      itch::encode(m, p);
      live_[m.ref] = m.shares;
      len = m.kLength;
    } else if (roll < 44) {
      itch::AddOrderMpid m;
      m.h = header();
      m.ref = new_ref();
      m.side = rng_.chance(50) ? 'B' : 'S';
      m.shares = shares();
      m.stock = itch::make_symbol("FUZZ");
      m.price = price();
      m.attribution = {'M', 'P', 'I', 'D'};
      itch::encode(m, p);
      live_[m.ref] = m.shares;
      len = m.kLength;
    } else if (roll < 54) {
      itch::OrderExecuted m;
      m.h = header();
      m.ref = some_ref();
      m.shares = take(m.ref);
      m.match = rng_.next();
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 58) {
      itch::OrderExecutedWithPrice m;
      m.h = header();
      m.ref = some_ref();
      m.shares = take(m.ref);
      m.printable = 'Y';
      m.price = price();
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 66) {
      itch::OrderCancel m;
      m.h = header();
      m.ref = some_ref();
      m.shares = take(m.ref);
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 80) {
      itch::OrderDelete m;
      m.h = header();
      m.ref = some_ref();
      live_.erase(m.ref);
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 92) {
      itch::OrderReplace m;
      m.h = header();
      m.old_ref = some_ref();
      m.new_ref = new_ref();
      m.shares = shares();
      m.price = price();
      live_.erase(m.old_ref);
      live_[m.new_ref] = m.shares;
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 94) {
      itch::StockDirectory m;
      m.h = header();
      m.stock = itch::make_symbol("AAPL");
      if (rng_.chance(50)) m.stock = itch::make_symbol("MSFT");
      m.round_lot_size = 100;
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 96) {
      itch::StockTradingAction m;
      m.h = header();
      m.stock = itch::make_symbol("AAPL");
      m.trading_state = "HPQT"[rng_.below(4)];
      itch::encode(m, p);
      len = m.kLength;
    } else if (roll < 98) {
      itch::Trade m;
      m.h = header();
      m.ref = 0;
      m.side = 'B';
      m.shares = shares();
      m.price = price();
      itch::encode(m, p);
      len = m.kLength;
    } else {
      // Malformed on purpose: a known type one byte short or long, or an unknown type.
      itch::OrderDelete m;
      m.h = header();
      m.ref = some_ref();
      itch::encode(m, p);
      len = m.kLength;
      if (rng_.chance(50)) {
        p[0] = 'Z';
      } else {
        len = rng_.chance(50) ? len - 1 : len + 1;
        p[m.kLength] = 0;
      }
    }
    return len;
  }

  // Shares for an execute/cancel of ref: usually part or all of what is left, sometimes more.
  uint32_t take(uint64_t ref) {
    auto it = live_.find(ref);
    if (it == live_.end()) return 1 + rng_.below(100);
    const uint32_t left = it->second;
    const uint32_t n = rng_.chance(10) ? left + 1 + rng_.below(50) : 1 + rng_.below(left ? left : 1);
    if (n >= left) live_.erase(it);
    else it->second = left - n;
    return n;
  }

  SplitMix64 rng_;
  uint32_t locates_;
  uint32_t prices_;
  uint32_t add_percent_;
  size_t target_bytes_ = kShortBytes;
  std::vector<uint8_t> out_;
  std::map<uint64_t, uint32_t> live_;  // the generator's guess of the live orders
  uint64_t next_ref_ = 1;
};

}  // namespace pmm::fuzz
