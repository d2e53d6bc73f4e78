// perf/: the synthetic ITCH day generator, the MoldUDP64 packetizer and the pcap files.
//
// The day is checked message by message against a plain reference model written here (a hash map of
// live orders and std::map price levels per symbol): every reference is live, shares never go
// negative, reference numbers count up, the books rarely lock or cross, and the mix, the activity
// skew, the live-order target and the shape of the day are what the generator promises. Packets and
// capture files are decoded at the MoldUDP64 / pcap spec offsets and, for reading, through libpcap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/binary_file.hpp"
#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/moldudp64.hpp"
#include "core/udp_frame.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"
#include "perf/pcap_file.hpp"

namespace {

namespace itch = pmm::itch;
using pmm::gen::DayConfig;
using pmm::gen::ItchDayGenerator;

constexpr uint64_t kNs = 1'000'000'000;
constexpr uint64_t at_clock(uint64_t h, uint64_t m) { return (h * 60 + m) * 60 * kNs; }

std::string padded(const std::string& s) { return (s + "        ").substr(0, 8); }
std::string text(const itch::Symbol& s) { return std::string(s.data(), s.size()); }

struct RefOrder {
  uint16_t locate;
  char side;
  uint32_t shares;
  uint32_t price;
  uint64_t born;  // message index of its add or replace
};

// Applies a day to a reference model and records the first thing that is wrong, plus statistics.
class DayModel : public itch::IgnoreAll {
 public:
  explicit DayModel(const ItchDayGenerator& gen)
      : names_(gen.symbols()), bids_(names_.size() + 1), asks_(names_.size() + 1), state_(names_.size() + 1, ' ') {
    adds_per_locate.assign(names_.size() + 1, 0);
  }

  void message(const uint8_t* p, size_t len) {
    if (len != itch::message_length(p[0])) fail("length " + std::to_string(len) + " for type " + char(p[0]));
    const uint64_t ts = pmm::load_be48(p + 5);
    if (ts < last_ts) fail("timestamp goes back");
    last_ts = ts;
    first_ts = std::min(first_ts, ts);
    ++by_type[p[0]];
    if (itch::dispatch(p, len, *this) != itch::DispatchResult::kOk) fail("does not dispatch");
    ++index;
  }

  using itch::IgnoreAll::on;
  void on(const itch::SystemEvent& m) { events += m.event_code; }
  void on(const itch::StockDirectory& m) {
    check_locate(m.h.locate, m.stock);
    ++directory;
  }
  void on(const itch::StockTradingAction& m) {
    check_locate(m.h.locate, m.stock);
    if (events.find('Q') != std::string::npos && m.trading_state != 'T') ++halts;
    state_[m.h.locate] = m.trading_state;
  }
  void on(const itch::RegShoRestriction& m) { check_locate(m.h.locate, m.stock); }
  void on(const itch::MarketParticipantPosition& m) { check_locate(m.h.locate, m.stock); }
  void on(const itch::AddOrder& m) { add(m.h.locate, m.ref, m.side, m.shares, m.price, m.stock); }
  void on(const itch::AddOrderMpid& m) { add(m.h.locate, m.ref, m.side, m.shares, m.price, m.stock); }
  void on(const itch::OrderExecuted& m) { reduce(m.h.locate, m.ref, m.shares, true); }
  void on(const itch::OrderExecutedWithPrice& m) {
    if (m.price == 0) fail("C with price 0");
    reduce(m.h.locate, m.ref, m.shares, true);
  }
  void on(const itch::OrderCancel& m) { reduce(m.h.locate, m.ref, m.shares, false); }
  void on(const itch::OrderDelete& m) {
    const auto it = find(m.h.locate, m.ref);
    if (it == live.end()) return;
    delete_ages.push_back(index - it->second.born);
    remove(it);
  }
  void on(const itch::OrderReplace& m) {
    const auto it = find(m.h.locate, m.old_ref);
    if (it == live.end()) return;
    const RefOrder old = it->second;
    remove(it);
    add(old.locate, m.new_ref, old.side, m.shares, m.price, itch::make_symbol(names_[old.locate - 1].c_str()));
  }
  void on(const itch::Trade& m) {
    check_locate(m.h.locate, m.stock);
    if (m.ref != 0 || m.side != 'B') fail("P must carry reference 0 and side B");
    if (state_[m.h.locate] != 'T') ++executions_while_halted;
  }
  void on(const itch::CrossTrade& m) {
    check_locate(m.h.locate, m.stock);
    ++crosses[static_cast<uint8_t>(m.cross_type)];
  }
  void on(const itch::Noii& m) {
    check_locate(m.h.locate, m.stock);
    if (m.cross_type != 'O' && m.cross_type != 'C') fail("NOII outside the cross windows");
    const uint64_t t = m.h.timestamp;
    if (!((t >= at_clock(9, 25) && t < at_clock(9, 30)) || (t >= at_clock(15, 50) && t < at_clock(16, 0))))
      fail("NOII outside 09:25-09:30 / 15:50-16:00");
  }

  std::string failure;
  uint64_t index = 0;
  uint64_t first_ts = UINT64_MAX;
  uint64_t last_ts = 0;
  uint64_t last_ref = 0;
  uint64_t by_type[256] = {};
  uint64_t crosses[256] = {};
  std::string events;  // S event codes in order
  uint64_t directory = 0;
  uint64_t halts = 0;
  uint64_t executions_while_halted = 0;
  uint64_t order_messages = 0;
  uint64_t crossed_after = 0;  // order messages after which that symbol's book was locked or crossed
  uint64_t adds_in_regular_hours = 0;
  uint64_t adds_total = 0;
  std::unordered_map<uint64_t, RefOrder> live;
  std::vector<uint64_t> delete_ages;  // in messages
  std::vector<uint64_t> adds_per_locate;

 private:
  void fail(const std::string& what) {
    if (failure.empty()) failure = "message " + std::to_string(index) + ": " + what;
  }
  bool check_locate(uint16_t locate, const itch::Symbol& stock) {
    if (locate < 1 || locate > names_.size()) {
      fail("locate " + std::to_string(locate) + " out of range");
      return false;
    }
    if (text(stock) != padded(names_[locate - 1])) fail("symbol " + text(stock) + " at locate " + std::to_string(locate));
    return true;
  }
  std::unordered_map<uint64_t, RefOrder>::iterator find(uint16_t locate, uint64_t ref) {
    const auto it = live.find(ref);
    if (it == live.end()) {
      fail("reference " + std::to_string(ref) + " is not live");
    } else if (it->second.locate != locate) {
      fail("reference " + std::to_string(ref) + " is on locate " + std::to_string(it->second.locate));
    }
    return it;
  }
  void level(uint16_t locate, char side, uint32_t price, int64_t shares) {
    auto& book = side == 'B' ? bids_[locate] : asks_[locate];
    const int64_t now = static_cast<int64_t>(book[price]) + shares;
    if (now < 0) fail("level below zero");
    if (now <= 0) book.erase(price);
    else book[price] = static_cast<uint64_t>(now);
  }
  void after_order(uint16_t locate) {
    ++order_messages;
    const auto& b = bids_[locate];
    const auto& a = asks_[locate];
    if (!b.empty() && !a.empty() && b.rbegin()->first >= a.begin()->first) ++crossed_after;
  }
  void add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price, const itch::Symbol& stock) {
    if (!check_locate(locate, stock)) return;
    if (ref != last_ref + 1) fail("reference " + std::to_string(ref) + " after " + std::to_string(last_ref));
    last_ref = ref;
    if (side != 'B' && side != 'S') fail("side");
    if (shares == 0) fail("zero shares");
    if (price % 100 != 0 || price < 100 || price > 20'000'000) fail("price " + std::to_string(price));
    live[ref] = RefOrder{locate, side, shares, price, index};
    level(locate, side, price, shares);
    ++adds_per_locate[locate];
    ++adds_total;
    if (last_ts >= at_clock(9, 30) && last_ts < at_clock(16, 0)) ++adds_in_regular_hours;
    after_order(locate);
  }
  void remove(std::unordered_map<uint64_t, RefOrder>::iterator it) {
    const RefOrder o = it->second;
    level(o.locate, o.side, o.price, -static_cast<int64_t>(o.shares));
    live.erase(it);
    after_order(o.locate);
  }
  void reduce(uint16_t locate, uint64_t ref, uint32_t shares, bool execution) {
    const auto it = find(locate, ref);
    if (it == live.end()) return;
    if (execution && state_[locate] != 'T') ++executions_while_halted;
    if (shares == 0 || shares > it->second.shares) {
      fail("takes " + std::to_string(shares) + " of " + std::to_string(it->second.shares) + " shares");
      return;
    }
    if (shares == it->second.shares) {
      remove(it);
      return;
    }
    it->second.shares -= shares;
    level(locate, it->second.side, it->second.price, -static_cast<int64_t>(shares));
    after_order(locate);
  }

  std::vector<std::string> names_;
  std::vector<std::map<uint32_t, uint64_t>> bids_;
  std::vector<std::map<uint32_t, uint64_t>> asks_;
  std::vector<char> state_;
};

uint64_t fnv1a(uint64_t h, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

uint64_t day_hash(const DayConfig& c) {
  ItchDayGenerator gen(c);
  uint8_t msg[itch::kMaxMessageLength];
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t len; (len = gen.next(msg)) != 0;) h = fnv1a(h, msg, len);
  return h;
}

// ---- One mid-sized day, checked from many sides -------------------------------------------------

class GeneratedDay : public ::testing::Test {
 protected:
  static constexpr DayConfig kDay{.seed = 7, .messages = 400'000, .symbols = 800, .target_live_orders = 30'000};

  static void SetUpTestSuite() {
    gen_ = new ItchDayGenerator(kDay);
    model_ = new DayModel(*gen_);
    uint8_t msg[itch::kMaxMessageLength + 8];
    std::memset(msg, 0xEE, sizeof msg);
    for (size_t len; (len = gen_->next(msg)) != 0;) {
      if (msg[itch::kMaxMessageLength] != 0xEE) model_->failure = "wrote past kMaxMessageLength";
      if (model_->index < 3 || model_->index + 3 >= kDay.messages) first_and_last_.emplace_back(msg, msg + len);
      model_->message(msg, len);
    }
  }
  static void TearDownTestSuite() {
    delete model_;
    delete gen_;
  }
  static double share(const char* types) {
    uint64_t n = 0;
    for (const char* t = types; *t; ++t) n += model_->by_type[static_cast<uint8_t>(*t)];
    return 100.0 * static_cast<double>(n) / static_cast<double>(kDay.messages);
  }

  static ItchDayGenerator* gen_;
  static DayModel* model_;
  static std::vector<std::vector<uint8_t>> first_and_last_;
};
ItchDayGenerator* GeneratedDay::gen_ = nullptr;
DayModel* GeneratedDay::model_ = nullptr;
std::vector<std::vector<uint8_t>> GeneratedDay::first_and_last_;

TEST_F(GeneratedDay, EveryMessageIsValidAgainstTheReferenceModel) {
  EXPECT_EQ(model_->failure, "");
  EXPECT_EQ(model_->index, kDay.messages);
  EXPECT_EQ(gen_->produced(), kDay.messages);
  uint8_t msg[itch::kMaxMessageLength];
  EXPECT_EQ(gen_->next(msg), 0u);  // and stays done
  EXPECT_EQ(gen_->live_orders(), model_->live.size());
}

TEST_F(GeneratedDay, StartAndEndOfDay) {
  const std::string& e = model_->events;
  EXPECT_EQ(e, "OSQMEC");
  ASSERT_EQ(first_and_last_.size(), 6u);
  EXPECT_EQ(first_and_last_[0][0], 'S');
  EXPECT_EQ(first_and_last_[0][11], 'O');
  EXPECT_EQ(first_and_last_[1][11], 'S');
  EXPECT_EQ(first_and_last_[2][0], 'R');
  EXPECT_EQ(pmm::load_be16(first_and_last_[2].data() + 1), 1);  // locate 1 first
  EXPECT_EQ(first_and_last_[3][11], 'M');
  EXPECT_EQ(first_and_last_[4][11], 'E');
  EXPECT_EQ(first_and_last_[5][11], 'C');
  EXPECT_EQ(model_->directory, kDay.symbols);
  EXPECT_EQ(model_->by_type[uint8_t{'H'}], kDay.symbols + model_->halts + (model_->halts > 0 ? 2 : 0));
  EXPECT_GT(model_->by_type[uint8_t{'Y'}], 0u);
  EXPECT_GT(model_->by_type[uint8_t{'L'}], 0u);
  EXPECT_GE(model_->first_ts, at_clock(4, 0));
  EXPECT_LE(model_->last_ts, at_clock(20, 5));
}

TEST_F(GeneratedDay, SymbolsAreSortedUniqueAndIncludeTheFamousNames) {
  const auto& s = gen_->symbols();
  ASSERT_EQ(s.size(), kDay.symbols);
  EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
  EXPECT_EQ(std::adjacent_find(s.begin(), s.end()), s.end());
  for (const std::string& name : s) {
    EXPECT_FALSE(name.empty());
    EXPECT_LE(name.size(), 8u);
    for (char c : name) EXPECT_TRUE(c >= 'A' && c <= 'Z') << name;
  }
  EXPECT_TRUE(std::binary_search(s.begin(), s.end(), "AAPL"));
  EXPECT_TRUE(std::binary_search(s.begin(), s.end(), "MSFT"));
}

TEST_F(GeneratedDay, MessageMixIsRealistic) {
  std::printf("mix: A+F %.2f%% (F %.2f%%) D %.2f%% U %.2f%% E %.2f%% X %.2f%% C %.2f%% P %.2f%% I %.2f%% Q %.3f%%\n",
              share("AF"), share("F"), share("D"), share("U"), share("E"), share("X"), share("C"), share("P"),
              share("I"), share("Q"));
  EXPECT_NEAR(share("AF"), 46.0, 5.0);  // the ramp to the live target adds A
  EXPECT_NEAR(share("D"), 42.0, 5.0);
  EXPECT_NEAR(share("U"), 7.0, 1.5);
  EXPECT_NEAR(share("E"), 2.0, 1.0);
  EXPECT_NEAR(share("X"), 1.0, 0.4);
  EXPECT_GT(share("C"), 0.05);
  EXPECT_LT(share("C"), 1.0);
  EXPECT_GT(share("P"), 0.2);
  EXPECT_LT(share("P"), 1.5);
  EXPECT_GT(share("I"), 0.1);
  EXPECT_LT(share("I"), 2.0);
  const double f_of_adds = share("F") / share("AF");
  EXPECT_GT(f_of_adds, 0.02);
  EXPECT_LT(f_of_adds, 0.07);
  // Opening and closing crosses for the same names, and at least one halt with its reopening cross.
  EXPECT_GT(model_->crosses[uint8_t{'O'}], 0u);
  EXPECT_EQ(model_->crosses[uint8_t{'O'}], model_->crosses[uint8_t{'C'}]);
  EXPECT_GT(model_->crosses[uint8_t{'H'}], 0u);
  EXPECT_GE(model_->halts, 2u);
  EXPECT_EQ(model_->executions_while_halted, 0u);
}

TEST_F(GeneratedDay, LiveOrdersRampUpThenHoverAtTheTarget) {
  const double live = static_cast<double>(model_->live.size());
  EXPECT_NEAR(live, kDay.target_live_orders, 0.05 * kDay.target_live_orders);
  EXPECT_GE(gen_->peak_live_orders(), model_->live.size());
  EXPECT_LE(gen_->peak_live_orders(), kDay.target_live_orders * 11 / 10);
}

TEST_F(GeneratedDay, ActivityIsSkewedAcrossSymbols) {
  std::vector<uint64_t> adds(model_->adds_per_locate.begin() + 1, model_->adds_per_locate.end());
  std::sort(adds.rbegin(), adds.rend());
  uint64_t total = 0, top = 0;
  for (size_t i = 0; i < adds.size(); ++i) {
    total += adds[i];
    if (i < adds.size() / 4) top += adds[i];
  }
  const double top_quarter = static_cast<double>(top) / static_cast<double>(total);
  const double busiest = static_cast<double>(adds[0]) / static_cast<double>(total);
  std::printf("adds: busiest symbol %.2f%%, top quarter of symbols %.1f%%\n", 100 * busiest, 100 * top_quarter);
  EXPECT_GT(top_quarter, 0.60);
  EXPECT_LT(busiest, 0.06);
  EXPECT_GT(adds.back(), 0u);  // still, every symbol trades a little
}

TEST_F(GeneratedDay, CancelsPreferYoungOrdersButReachOldOnes) {
  std::vector<uint64_t> ages = model_->delete_ages;
  ASSERT_GT(ages.size(), 10000u);
  std::sort(ages.begin(), ages.end());
  const uint64_t median = ages[ages.size() / 2];
  const uint64_t p90 = ages[ages.size() * 9 / 10];
  std::printf("delete ages (messages): median %llu, 90th percentile %llu, max %llu\n",
              static_cast<unsigned long long>(median), static_cast<unsigned long long>(p90),
              static_cast<unsigned long long>(ages.back()));
  // Live orders are ~30k deep: a uniformly chosen victim would be ~60k messages old at the median.
  EXPECT_LT(median, 2000u);
  EXPECT_GT(p90, 20000u);
}

TEST_F(GeneratedDay, BooksRarelyLockOrCross) {
  const double crossed = static_cast<double>(model_->crossed_after) / static_cast<double>(model_->order_messages);
  std::printf("order messages leaving that book locked or crossed: %.3f%%\n", 100 * crossed);
  EXPECT_GT(model_->crossed_after, 0u);  // real data has some
  EXPECT_LT(crossed, 0.01);
}

TEST_F(GeneratedDay, MostTrafficIsInRegularHours) {
  const double regular = static_cast<double>(model_->adds_in_regular_hours) / static_cast<double>(model_->adds_total);
  EXPECT_GT(regular, 0.8);
  EXPECT_LT(regular, 0.95);
}

// ---- Determinism and the edges of the config ------------------------------------------------------

TEST(ItchDayGenerator, SameSeedSameBytesOtherSeedOtherBytes) {
  const DayConfig a{.seed = 42, .messages = 100'000, .symbols = 300, .target_live_orders = 5000};
  DayConfig b = a;
  b.seed = 43;
  EXPECT_EQ(day_hash(a), day_hash(a));
  EXPECT_NE(day_hash(a), day_hash(b));
}

TEST(ItchDayGenerator, TinyDaysKeepTheirShape) {
  const auto types_of = [](const DayConfig& c) {
    ItchDayGenerator gen(c);
    std::string out;
    uint8_t msg[itch::kMaxMessageLength];
    for (size_t len; (len = gen.next(msg)) != 0;) {
      out += static_cast<char>(msg[0]);
      if (msg[0] == 'S') out += static_cast<char>(msg[11]);
    }
    return out;
  };
  EXPECT_EQ(types_of({.seed = 1, .messages = 0, .symbols = 10, .target_live_orders = 10}), "");
  EXPECT_EQ(types_of({.seed = 1, .messages = 1, .symbols = 10, .target_live_orders = 10}), "SO");
  EXPECT_EQ(types_of({.seed = 1, .messages = 4, .symbols = 10, .target_live_orders = 10}), "SOSSRR");
  EXPECT_EQ(types_of({.seed = 1, .messages = 5, .symbols = 10, .target_live_orders = 10}), "SOSSSMSESC");
  EXPECT_EQ(types_of({.seed = 1, .messages = 9, .symbols = 8000, .target_live_orders = 10}), "SOSSRRRRSMSESC");
  // One symbol, start spin then a little trading.
  const std::string one = types_of({.seed = 1, .messages = 30, .symbols = 1, .target_live_orders = 5});
  EXPECT_EQ(one.substr(0, 10), "SOSSRHYLSQ");
  EXPECT_EQ(one.substr(one.size() - 6), "SMSESC");
}

TEST(ItchDayGenerator, TinyDaysAreValid) {
  for (uint32_t symbols : {1u, 2u, 31u}) {
    for (uint32_t target : {1u, 10u, 1000u}) {
      const DayConfig c{.seed = symbols * 100 + target, .messages = 20'000, .symbols = symbols, .target_live_orders = target};
      ItchDayGenerator gen(c);
      DayModel model(gen);
      uint8_t msg[itch::kMaxMessageLength];
      for (size_t len; (len = gen.next(msg)) != 0;) model.message(msg, len);
      EXPECT_EQ(model.failure, "") << symbols << " symbols, target " << target;
      EXPECT_EQ(model.index, c.messages);
      EXPECT_LE(model.live.size(), target + target / 4 + 1024);
    }
  }
}

TEST(ItchDayGenerator, RejectsUnusableConfigs) {
  EXPECT_NE(pmm::gen::validate({.seed = 1, .messages = 10, .symbols = 0, .target_live_orders = 10}), "");
  EXPECT_NE(pmm::gen::validate({.seed = 1, .messages = 10, .symbols = 65536, .target_live_orders = 10}), "");
  EXPECT_NE(pmm::gen::validate({.seed = 1, .messages = 10, .symbols = 10, .target_live_orders = 0}), "");
  EXPECT_EQ(pmm::gen::validate({.seed = 1, .messages = 10, .symbols = 65535, .target_live_orders = 10}), "");
  EXPECT_THROW(ItchDayGenerator({.seed = 1, .messages = 10, .symbols = 0, .target_live_orders = 10}),
               std::invalid_argument);
}

// ---- Packetizer -----------------------------------------------------------------------------------

std::vector<std::vector<uint8_t>> day_messages(uint64_t n, uint32_t symbols = 50) {
  ItchDayGenerator gen({.seed = 3, .messages = n, .symbols = symbols, .target_live_orders = 500});
  std::vector<std::vector<uint8_t>> out;
  uint8_t msg[itch::kMaxMessageLength];
  for (size_t len; (len = gen.next(msg)) != 0;) out.emplace_back(msg, msg + len);
  return out;
}

struct Packet {
  std::vector<uint8_t> bytes;
  uint64_t first = 0;
  uint16_t count = 0;
};

// Checks one packet at the MoldUDP64 offsets (session 0-9, sequence 10-17, count 18-19, then
// length-prefixed blocks) and appends its messages.
void unpack(const Packet& p, const pmm::gen::PacketizerConfig& c, std::vector<std::vector<uint8_t>>& messages) {
  ASSERT_GE(p.bytes.size(), 20u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.bytes.data()), 10), std::string(c.session.data(), 10));
  EXPECT_EQ(pmm::load_be64(p.bytes.data() + 10), p.first);
  EXPECT_EQ(pmm::load_be16(p.bytes.data() + 18), p.count);
  size_t at = 20;
  for (uint16_t i = 0; i < p.count; ++i) {
    ASSERT_LE(at + 2, p.bytes.size());
    const size_t len = pmm::load_be16(p.bytes.data() + at);
    ASSERT_LE(at + 2 + len, p.bytes.size());
    messages.emplace_back(p.bytes.begin() + static_cast<long>(at + 2), p.bytes.begin() + static_cast<long>(at + 2 + len));
    at += 2 + len;
  }
  EXPECT_EQ(at, p.bytes.size());
}

TEST(FeedPacketizer, PacksUpToTheLimitsAndLosesNothing) {
  const auto messages = day_messages(5000);
  for (const auto& [payload, max_messages] : std::vector<std::pair<size_t, uint16_t>>{{200, 5}, {1400, 64}, {72, 64}, {1400, 1}}) {
    pmm::gen::PacketizerConfig c;
    c.first_sequence = 1000;
    c.max_payload = payload;
    c.max_messages = max_messages;
    pmm::gen::FeedPacketizer p(c);
    std::vector<Packet> packets;
    const auto take = [&] {
      const auto span = p.packet();
      packets.push_back({std::vector<uint8_t>(span.begin(), span.end()), p.packet_first_sequence(), p.packet_count()});
    };
    for (const auto& m : messages)
      if (p.add(m.data(), static_cast<uint16_t>(m.size()))) take();
    if (p.flush()) take();
    EXPECT_FALSE(p.flush());
    std::vector<std::vector<uint8_t>> out;
    uint64_t expect_first = c.first_sequence;
    for (size_t i = 0; i < packets.size(); ++i) {
      const Packet& pk = packets[i];
      EXPECT_EQ(pk.first, expect_first);
      expect_first += pk.count;
      EXPECT_GE(pk.count, 1u);
      EXPECT_LE(pk.count, max_messages);
      EXPECT_LE(pk.bytes.size(), payload);
      const size_t before = out.size();
      unpack(pk, c, out);
      // A packet closed early only because the next message would not have fitted.
      if (i + 1 < packets.size() && pk.count < max_messages) {
        EXPECT_GT(pk.bytes.size() + 2 + messages[before + pk.count].size(), payload) << "packet " << i;
      }
    }
    EXPECT_EQ(out, messages) << payload << "/" << max_messages;
    EXPECT_EQ(p.next_sequence(), c.first_sequence + messages.size());
  }
}

TEST(FeedPacketizer, ExactFitIsClosedByTheNextMessage) {
  pmm::gen::PacketizerConfig c;
  c.max_payload = 20 + 2 * (2 + 36);  // exactly two 36-byte messages
  pmm::gen::FeedPacketizer p(c);
  const std::vector<uint8_t> msg(36, 'A');
  EXPECT_FALSE(p.add(msg.data(), 36));
  EXPECT_FALSE(p.add(msg.data(), 36));
  EXPECT_EQ(p.pending_count(), 2u);
  EXPECT_TRUE(p.add(msg.data(), 36));
  EXPECT_EQ(p.packet_count(), 2u);
  EXPECT_EQ(p.packet().size(), c.max_payload);
  EXPECT_EQ(p.pending_count(), 1u);
  EXPECT_TRUE(p.flush());
  EXPECT_EQ(p.packet_first_sequence(), 3u);
  EXPECT_EQ(p.packet_count(), 1u);
}

TEST(FeedPacketizer, RejectsUnusableConfigs) {
  pmm::gen::PacketizerConfig small;
  small.max_payload = 20 + 2 + 49;  // cannot hold a 50-byte NOII
  EXPECT_THROW(pmm::gen::FeedPacketizer{small}, std::invalid_argument);
  pmm::gen::PacketizerConfig none;
  none.max_messages = 0;
  EXPECT_THROW(pmm::gen::FeedPacketizer{none}, std::invalid_argument);
  pmm::gen::PacketizerConfig eos;
  eos.max_messages = 0xFFFF;  // the end-of-session count
  EXPECT_NE(pmm::gen::validate(eos), "");
}

// ---- pcap files -----------------------------------------------------------------------------------

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pmm_gen_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::vector<uint8_t> read_all(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  }
  static void write_all(const std::string& p, const std::vector<uint8_t>& bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::filesystem::path dir_;
};

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

using PcapFile = TempDir;

TEST_F(PcapFile, WriterLaysOutClassicNanosecondPcap) {
  std::string error;
  auto w = pmm::gen::PcapWriter::open(path("a.pcap"), error);
  ASSERT_TRUE(w) << error;
  const std::vector<uint8_t> frame = {1, 2, 3, 4, 5};
  ASSERT_TRUE(w->write(frame.data(), frame.size(), 1'704'171'600'123'456'789ull));
  ASSERT_TRUE(w->close(error)) << error;
  const auto b = read_all(path("a.pcap"));
  ASSERT_EQ(b.size(), 24u + 16u + 5u);
  // Global header: magic a1b23c4d (nanoseconds) little-endian, version 2.4, zone 0, sigfigs 0,
  // snaplen, link type 1 (Ethernet).
  EXPECT_EQ((std::vector<uint8_t>(b.begin(), b.begin() + 4)), (std::vector<uint8_t>{0x4D, 0x3C, 0xB2, 0xA1}));
  EXPECT_EQ(b[4] | b[5] << 8, 2);
  EXPECT_EQ(b[6] | b[7] << 8, 4);
  EXPECT_EQ(le32(b, 8), 0u);
  EXPECT_EQ(le32(b, 12), 0u);
  EXPECT_EQ(le32(b, 16), pmm::gen::PcapWriter::kDefaultSnaplen);
  EXPECT_EQ(le32(b, 20), 1u);
  // Record header: seconds, nanoseconds, stored length, original length.
  EXPECT_EQ(le32(b, 24), 1'704'171'600u);
  EXPECT_EQ(le32(b, 28), 123'456'789u);
  EXPECT_EQ(le32(b, 32), 5u);
  EXPECT_EQ(le32(b, 36), 5u);
  EXPECT_EQ((std::vector<uint8_t>(b.begin() + 40, b.end())), frame);
}

TEST_F(PcapFile, WriterCutsFramesToTheSnaplen) {
  std::string error;
  auto w = pmm::gen::PcapWriter::open(path("cut.pcap"), error, 64);
  ASSERT_TRUE(w) << error;
  const std::vector<uint8_t> frame(100, 0xAB);
  ASSERT_TRUE(w->write(frame.data(), frame.size(), 0));
  ASSERT_TRUE(w->close(error));
  const auto b = read_all(path("cut.pcap"));
  ASSERT_EQ(b.size(), 24u + 16u + 64u);
  EXPECT_EQ(le32(b, 32), 64u);
  EXPECT_EQ(le32(b, 36), 100u);
  auto r = pmm::gen::PcapReader::open(path("cut.pcap"), error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  ASSERT_TRUE(r->next(data, len, ts));
  EXPECT_EQ(len, 64u);
  EXPECT_EQ(r->cut_frames(), 1u);
}

TEST_F(PcapFile, RoundTripThroughLibpcap) {
  std::string error;
  auto w = pmm::gen::PcapWriter::open(path("rt.pcap"), error);
  ASSERT_TRUE(w) << error;
  std::vector<std::vector<uint8_t>> frames;
  for (size_t i = 0; i < 50; ++i) {
    frames.emplace_back(60 + i * 13, static_cast<uint8_t>(i));
    ASSERT_TRUE(w->write(frames.back().data(), frames.back().size(), 1'000'000'000ull * 1'700'000'000 + i * 999'999'937));
  }
  ASSERT_TRUE(w->close(error)) << error;
  auto r = pmm::gen::PcapReader::open(path("rt.pcap"), error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(r->next(data, len, ts)) << r->error();
    EXPECT_EQ(std::vector<uint8_t>(data, data + len), frames[i]);
    EXPECT_EQ(ts, 1'000'000'000ull * 1'700'000'000 + i * 999'999'937);
  }
  EXPECT_FALSE(r->next(data, len, ts));
  EXPECT_EQ(r->error(), "");
  EXPECT_EQ(r->frames(), frames.size());
}

TEST_F(PcapFile, ReaderScalesBigEndianMicrosecondFiles) {
  // Hand-made classic pcap as a big-endian host writes it: magic a1b2c3d4, microseconds.
  std::vector<uint8_t> b = {0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1};
  const std::vector<uint8_t> record = {0x65, 0x94, 0x1C, 0x50,  // 1704205392 s
                                       0x00, 0x01, 0xE2, 0x40,  // 123456 us
                                       0, 0, 0, 3, 0, 0, 0, 3, 0xAA, 0xBB, 0xCC};
  b.insert(b.end(), record.begin(), record.end());
  write_all(path("be.pcap"), b);
  std::string error;
  auto r = pmm::gen::PcapReader::open(path("be.pcap"), error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  ASSERT_TRUE(r->next(data, len, ts)) << r->error();
  EXPECT_EQ(ts, 1'704'205'392ull * 1'000'000'000 + 123'456'000);
  EXPECT_EQ(std::vector<uint8_t>(data, data + len), (std::vector<uint8_t>{0xAA, 0xBB, 0xCC}));
}

TEST_F(PcapFile, ReaderReadsPcapng) {
  // Section header, one Ethernet interface (default microsecond resolution), one enhanced packet.
  const auto u32 = [](std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
  };
  std::vector<uint8_t> b;
  u32(b, 0x0A0D0D0A), u32(b, 28), u32(b, 0x1A2B3C4D), b.insert(b.end(), {1, 0, 0, 0});
  u32(b, 0xFFFFFFFF), u32(b, 0xFFFFFFFF), u32(b, 28);
  u32(b, 1), u32(b, 20), b.insert(b.end(), {1, 0, 0, 0}), u32(b, 0), u32(b, 20);
  const uint64_t us = 1'704'205'392'123'456ull;
  u32(b, 6), u32(b, 32 + 8), u32(b, 0), u32(b, static_cast<uint32_t>(us >> 32)), u32(b, static_cast<uint32_t>(us));
  u32(b, 5), u32(b, 5), b.insert(b.end(), {1, 2, 3, 4, 5, 0, 0, 0}), u32(b, 32 + 8);
  write_all(path("a.pcapng"), b);
  std::string error;
  auto r = pmm::gen::PcapReader::open(path("a.pcapng"), error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  ASSERT_TRUE(r->next(data, len, ts)) << r->error();
  EXPECT_EQ(ts, us * 1000);
  EXPECT_EQ(std::vector<uint8_t>(data, data + len), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(r->next(data, len, ts));
  EXPECT_EQ(r->error(), "");
}

TEST_F(PcapFile, ReaderErrorsAreClear) {
  std::string error;
  EXPECT_FALSE(pmm::gen::PcapReader::open(path("missing.pcap"), error));
  EXPECT_NE(error.find("missing.pcap"), std::string::npos) << error;

  write_all(path("text.pcap"), {'h', 'e', 'l', 'l', 'o'});
  error.clear();
  EXPECT_FALSE(pmm::gen::PcapReader::open(path("text.pcap"), error));
  EXPECT_NE(error.find("not a pcap"), std::string::npos) << error;

  // Link type 105 (802.11).
  write_all(path("wifi.pcap"), {0x4D, 0x3C, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 105, 0, 0, 0});
  error.clear();
  EXPECT_FALSE(pmm::gen::PcapReader::open(path("wifi.pcap"), error));
  EXPECT_NE(error.find("link type 105"), std::string::npos) << error;

  // A record cut short: the first frame reads, the second names its frame number and offset.
  auto w = pmm::gen::PcapWriter::open(path("cut.pcap"), error);
  ASSERT_TRUE(w);
  const std::vector<uint8_t> frame(100, 7);
  w->write(frame.data(), frame.size(), 0);
  w->write(frame.data(), frame.size(), 0);
  ASSERT_TRUE(w->close(error));
  auto bytes = read_all(path("cut.pcap"));
  bytes.resize(bytes.size() - 10);
  write_all(path("cut.pcap"), bytes);
  auto r = pmm::gen::PcapReader::open(path("cut.pcap"), error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  EXPECT_TRUE(r->next(data, len, ts));
  EXPECT_FALSE(r->next(data, len, ts));
  EXPECT_NE(r->error().find("frame 2"), std::string::npos) << r->error();
  EXPECT_NE(r->error().find("byte offset 140"), std::string::npos) << r->error();  // 24 + 16 + 100
}

// ---- Whole days to files --------------------------------------------------------------------------

struct PcapDay {
  std::vector<std::vector<uint8_t>> messages;
  std::vector<std::pair<uint64_t, uint16_t>> packets;  // first sequence, count (data packets)
  std::vector<uint64_t> frame_ts;
  bool end_of_session = false;
  uint64_t eos_next = 0;
  uint64_t frames = 0;
};

void read_pcap_day(const std::string& file, const pmm::gen::PacketizerConfig& c, PcapDay& day) {
  std::string error;
  auto r = pmm::gen::PcapReader::open(file, error);
  ASSERT_TRUE(r) << error;
  const uint8_t* data;
  size_t len;
  uint64_t ts;
  while (r->next(data, len, ts)) {
    ++day.frames;
    day.frame_ts.push_back(ts);
    pmm::net::UdpView udp;
    ASSERT_EQ(pmm::net::parse_udp_frame(data, len, udp), pmm::net::FrameError::kNone);
    EXPECT_EQ(udp.addr.dst_port, 26400);
    EXPECT_EQ(udp.addr.src_port, 26401);
    EXPECT_EQ(udp.addr.dst_ip, 0xEF010101u);
    EXPECT_EQ(udp.addr.src_ip, 0x0A000001u);
    ASSERT_FALSE(day.end_of_session) << "a frame after the end-of-session packet";
    ASSERT_LE(udp.len, c.max_payload);
    const uint16_t count = pmm::load_be16(udp.payload + 18);
    const uint64_t first = pmm::load_be64(udp.payload + 10);
    if (count == 0xFFFF) {
      day.end_of_session = true;
      day.eos_next = first;
      EXPECT_EQ(udp.len, 20u);
      continue;
    }
    day.packets.emplace_back(first, count);
    Packet p{std::vector<uint8_t>(udp.payload, udp.payload + udp.len), first, count};
    unpack(p, c, day.messages);
  }
  EXPECT_EQ(r->error(), "");
}

using DayFiles = TempDir;

TEST_F(DayFiles, PcapAndBinaryFileCarryTheSameDay) {
  const DayConfig day{.seed = 11, .messages = 30'000, .symbols = 60, .target_live_orders = 2000};
  const pmm::gen::PacketizerConfig packets;
  std::string error;
  pmm::gen::DayWriteStats stats;
  const size_t frames =
      pmm::gen::write_day_pcap(day, packets, pmm::gen::default_feed_address(), path("day.pcap"), error, &stats);
  ASSERT_GT(frames, 0u) << error;
  EXPECT_EQ(stats.messages, day.messages);
  EXPECT_EQ(stats.frames, frames);
  ASSERT_EQ(pmm::gen::write_day_binaryfile(day, path("day.itch"), error), day.messages) << error;

  std::vector<std::vector<uint8_t>> from_file;
  auto reader = pmm::BinaryFileReader::open(path("day.itch"), error);
  ASSERT_TRUE(reader) << error;
  const pmm::BinaryFileResult res = reader->for_each([&](const uint8_t* m, uint16_t len, uint64_t) {
    from_file.emplace_back(m, m + len);
    return true;
  });
  EXPECT_EQ(res.error, "");
  EXPECT_TRUE(res.end_of_session);
  ASSERT_EQ(from_file.size(), day.messages);

  PcapDay pcap;
  read_pcap_day(path("day.pcap"), packets, pcap);
  if (HasFatalFailure()) return;
  EXPECT_EQ(pcap.frames, frames);
  EXPECT_EQ(pcap.messages, from_file);
  ASSERT_TRUE(pcap.end_of_session);
  EXPECT_EQ(pcap.eos_next, 1 + day.messages);
  uint64_t next = 1;
  for (const auto& [first, count] : pcap.packets) {
    EXPECT_EQ(first, next);
    next += count;
  }
  // Frame time = the ITCH time of the packet's last message on the capture day; never decreasing.
  size_t last = 0;
  for (size_t i = 0; i < pcap.packets.size(); ++i) {
    last += pcap.packets[i].second;
    EXPECT_EQ(pcap.frame_ts[i], pmm::gen::kCaptureDayEpochNs + pmm::load_be48(from_file[last - 1].data() + 5)) << i;
    if (i > 0) {
      EXPECT_GE(pcap.frame_ts[i], pcap.frame_ts[i - 1]);
    }
  }
}

TEST_F(DayFiles, FlushGapKeepsPacketsShortInTime) {
  const DayConfig day{.seed = 12, .messages = 20'000, .symbols = 40, .target_live_orders = 1000};
  pmm::gen::PacketizerConfig packets;
  packets.flush_gap_ns = 1'000'000;  // 1 ms
  std::string error;
  ASSERT_GT(pmm::gen::write_day_pcap(day, packets, pmm::gen::default_feed_address(), path("gap.pcap"), error), 0u)
      << error;
  PcapDay pcap;
  read_pcap_day(path("gap.pcap"), packets, pcap);
  if (HasFatalFailure()) return;
  ASSERT_EQ(pcap.messages.size(), day.messages);
  size_t at = 0;
  size_t small = 0;
  for (const auto& [first, count] : pcap.packets) {
    const uint64_t t0 = pmm::load_be48(pcap.messages[at].data() + 5);
    const uint64_t t1 = pmm::load_be48(pcap.messages[at + count - 1].data() + 5);
    EXPECT_LT(t1 - t0, packets.flush_gap_ns) << "packet at sequence " << first;
    small += count < 8;
    at += count;
  }
  EXPECT_GT(small, pcap.packets.size() / 2);  // 20k messages over 16 hours: mostly lone messages
}

TEST_F(DayFiles, WriteErrorsNameThePath) {
  std::string error;
  const std::string bad = path("no/such/dir/day.pcap");
  EXPECT_EQ(pmm::gen::write_day_pcap({}, {}, pmm::gen::default_feed_address(), bad, error), 0u);
  EXPECT_NE(error.find(bad), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(pmm::gen::write_day_binaryfile({}, bad, error), 0u);
  EXPECT_NE(error.find(bad), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(pmm::gen::write_day_binaryfile({.seed = 1, .messages = 1, .symbols = 0, .target_live_orders = 1},
                                           path("x.itch"), error),
            0u);
  EXPECT_NE(error.find("symbols"), std::string::npos) << error;
}

}  // namespace
