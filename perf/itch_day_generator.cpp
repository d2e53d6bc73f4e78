#include "perf/itch_day_generator.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "core/itch.hpp"

namespace pmm::gen {

namespace {

__extension__ typedef unsigned __int128 Uint128;

// ---- Randomness -----------------------------------------------------------------------------------
// xoshiro256** seeded through splitmix64 (Blackman & Vigna). std:: distributions are avoided on
// purpose: their output differs between standard libraries, and the day must be byte-identical
// everywhere. Every derived draw below is integer arithmetic.
class Rng {
 public:
  explicit Rng(uint64_t seed) noexcept {
    for (uint64_t& word : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      word = z ^ (z >> 31);
    }
  }

  uint64_t next() noexcept {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n), Lemire's multiply-shift (bias below n / 2^64, irrelevant here).
  uint64_t below(uint64_t n) noexcept { return static_cast<uint64_t>((Uint128{next()} * n) >> 64); }
  uint32_t below32(uint32_t n) noexcept { return static_cast<uint32_t>(below(n)); }
  // True with probability p16 / 65536.
  bool chance(uint32_t p16) noexcept { return (next() >> 48) < p16; }
  uint32_t roll16() noexcept { return static_cast<uint32_t>(next() >> 48); }
  // 0 with probability 1/2, 1 with 1/4, ..., capped at max.
  uint32_t geometric(uint32_t max) noexcept {
    const uint64_t r = next();
    return r == 0 ? max : std::min(static_cast<uint32_t>(std::countr_zero(r)), max);
  }

 private:
  uint64_t s_[4];
};

constexpr uint32_t per65536(double fraction) { return static_cast<uint32_t>(fraction * 65536.0 + 0.5); }

constexpr uint64_t kSecond = 1'000'000'000ull;
constexpr uint64_t clock_time(uint64_t h, uint64_t m, uint64_t s) { return ((h * 60 + m) * 60 + s) * kSecond; }

constexpr uint32_t kNil = UINT32_MAX;
constexpr uint8_t kBid = 0;
constexpr uint8_t kAsk = 1;
constexpr uint32_t kPricePerTick = 100;  // Price(4) units in one cent
// Tracked price levels per side per symbol: a power of two, used as a ring indexed by price.
constexpr uint32_t kSlots = 64;
constexpr uint32_t kSlotMask = kSlots - 1;
constexpr uint32_t kMinMid = 100;     // $1.00: keeps every near bid price positive
constexpr uint32_t kMaxMid = 100000;  // $1000.00

// Message mix of the bulk, per 65536. A and D share what the others leave; their split follows the
// live-order target (see add_fraction()).
constexpr uint32_t kMixReplace = per65536(0.076);  // rolls; bursts dilute every share a little
constexpr uint32_t kMixExecute = per65536(0.0065);  // with bursts and level clears: ~2 % E
constexpr uint32_t kMixClear = per65536(0.010);    // the inside level goes: the mid steps a tick
constexpr uint32_t kMixCancel = per65536(0.011);
constexpr uint32_t kMixExecuteWithPrice = per65536(0.003);
constexpr uint32_t kMixTrade = per65536(0.010);
constexpr uint32_t kNoiiInWindow = per65536(0.10);  // share of I inside the cross windows
constexpr uint32_t kBurstContinue = per65536(0.20); // an execution goes on to the next order(s)
constexpr uint32_t kMaxBurst = 4;
constexpr uint32_t kAddWithMpid = per65536(0.04);
constexpr uint32_t kAddCrossing = per65536(0.0015);
constexpr uint32_t kAddFar = per65536(0.04);
constexpr uint32_t kYoungPick = per65536(0.75);

// Reference-number choice for D/U/X: most real cancels hit orders placed moments ago.
constexpr uint32_t kYoungScale = 64;

constexpr uint64_t kScriptSpacingNs = 1000;
constexpr uint64_t kDayOpen = clock_time(4, 0, 0);
constexpr uint64_t kBulkBegin = clock_time(4, 0, 1);
constexpr uint64_t kDayClose = clock_time(20, 0, 0);
constexpr size_t kEndMessages = 3;  // S 'M', 'E', 'C'

struct Famous {
  const char* name;
  uint32_t dollars;
};
// Well-known names first in the activity ranking, so demos and tools can ask for AAPL or MSFT.
constexpr Famous kFamous[] = {
    {"AAPL", 190}, {"MSFT", 410}, {"NVDA", 480}, {"AMZN", 155}, {"TSLA", 240}, {"META", 350},
    {"GOOGL", 140}, {"QQQ", 400}, {"AMD", 140},  {"GOOG", 142}, {"NFLX", 480}, {"INTC", 48},
    {"CSCO", 50},  {"PEP", 170},  {"ADBE", 480}, {"TQQQ", 50},  {"SQQQ", 12},  {"PYPL", 62},
    {"QCOM", 145}, {"TXN", 170},  {"SBUX", 95},  {"MU", 85},    {"AMAT", 160}, {"PLTR", 17},
    {"SOFI", 8},   {"LCID", 3},   {"RIVN", 20},  {"MARA", 20},  {"HOOD", 12},  {"COST", 480},
};
constexpr itch::Mpid kMpids[] = {{'G', 'S', 'C', 'O'}, {'M', 'S', 'C', 'O'}, {'J', 'P', 'M', 'S'},
                                 {'U', 'B', 'S', 'S'}, {'C', 'D', 'R', 'G'}, {'V', 'I', 'R', 'T'},
                                 {'S', 'U', 'S', 'Q'}, {'C', 'I', 'T', 'D'}};
constexpr size_t kMpidCount = sizeof(kMpids) / sizeof(kMpids[0]);

// Share of the bulk (per mille) in each part of the day; the I windows carry the cross type.
struct SegmentPlan {
  uint64_t begin_ns;
  uint64_t end_ns;
  uint32_t permille;
  char cross_window;
};
constexpr SegmentPlan kSegments[] = {
    {kBulkBegin, clock_time(9, 25, 0), 40, 0},            // pre-market
    {clock_time(9, 25, 0), clock_time(9, 30, 0), 20, 'O'},  // opening cross imbalance window
    {clock_time(9, 30, 0), clock_time(10, 0, 0), 150, 0},   // the open
    {clock_time(10, 0, 0), clock_time(15, 30, 0), 560, 0},
    {clock_time(15, 30, 0), clock_time(15, 50, 0), 100, 0},
    {clock_time(15, 50, 0), clock_time(16, 0, 0), 60, 'C'},  // closing cross imbalance window
    {clock_time(16, 0, 0), clock_time(19, 59, 59), 70, 0},  // after hours
};
constexpr size_t kSegmentCount = sizeof(kSegments) / sizeof(kSegments[0]);
constexpr size_t kOpenSegment = 2;
constexpr size_t kAfterHoursSegment = 6;

struct Order {
  uint64_t ref;
  uint32_t ticks;     // price in cents
  uint32_t shares;    // remaining
  uint32_t prev;      // neighbours in the FIFO of its price slot, when tracked (kNil at the ends)
  uint32_t next;
  uint32_t live_pos;  // index in the live list
  uint16_t locate;
  uint8_t side;
  uint8_t tracked;
};
static_assert(sizeof(Order) == 32);

// One price level's FIFO of tracked orders; `ticks` tells which price of the ring currently owns it.
// Head and tail, not a circular list: appending touches only the newest order, which is in cache.
struct Slot {
  uint32_t head = kNil;  // oldest order
  uint32_t tail = kNil;  // newest order
  uint32_t ticks = 0;
};

struct SymbolState {
  itch::Symbol name{};
  uint32_t mid = 0;  // ticks: tracked bids <= mid < tracked asks
  uint32_t rank = 0; // 0 = most active
  bool halted = false;
};

enum class EventKind : uint8_t { kTradingAction, kCross };
struct Event {
  uint64_t at;  // bulk index at which it fires (or right after, if something else fired there)
  uint16_t locate;
  EventKind kind;
  char code;    // trading state or cross type
  std::array<char, 4> reason;
};

struct PendingDelete {
  uint64_t due;  // bulk index
  uint32_t order;
  uint64_t ref;
};
constexpr size_t kPendingDeletes = 4096;

}  // namespace

std::string validate(const DayConfig& c) {
  if (c.symbols < 1 || c.symbols > 65535)
    return "symbols must be 1..65535 (a locate is 16 bits), got " + std::to_string(c.symbols);
  if (c.target_live_orders < 1 || c.target_live_orders > (1u << 26))
    return "target_live_orders must be 1..67108864, got " + std::to_string(c.target_live_orders);
  if (c.messages > (uint64_t{1} << 48))
    return "messages must be at most 2^48, got " + std::to_string(c.messages);
  return "";
}

struct ItchDayGenerator::State {
  explicit State(const DayConfig& c);

  size_t next(uint8_t* out);

  // Script parts.
  size_t start_message(uint64_t i, uint8_t* out);
  size_t end_message(uint64_t i, uint8_t* out);
  size_t bulk_message(uint8_t* out);

  // Bulk actions; each writes one message.
  size_t add_order(uint64_t ts, uint8_t* out);
  size_t delete_order(uint32_t idx, uint64_t ts, uint8_t* out);
  size_t cancel_order(uint32_t idx, uint64_t ts, uint8_t* out);
  size_t replace_order(uint32_t idx, uint64_t ts, uint8_t* out);
  size_t execute_order(uint32_t idx, bool with_price, bool whole, uint64_t ts, uint8_t* out);
  size_t execution(bool with_price, uint64_t ts, uint8_t* out);
  size_t clear_inside(uint64_t ts, uint8_t* out);
  size_t follow_up(uint64_t ts, uint8_t* out);
  void schedule_delete(uint32_t idx, uint64_t delay) noexcept;
  size_t trade(uint64_t ts, uint8_t* out);
  size_t noii(char cross_type, uint64_t ts, uint8_t* out);
  size_t event(const Event& e, uint64_t ts, uint8_t* out);

  // Book keeping.
  uint32_t zipf_symbol() noexcept;
  size_t pick_live_position() noexcept;
  uint32_t pick_live() noexcept { return live[pick_live_position()]; }
  uint32_t allocate(uint32_t li, uint8_t side, uint32_t ticks, uint32_t shares) noexcept;
  void remove(uint32_t idx) noexcept;
  Slot& slot(uint32_t li, uint8_t side, uint32_t ticks) noexcept {
    return slots[(size_t{li} * 2 + side) * kSlots + (ticks & kSlotMask)];
  }
  void link(uint32_t idx) noexcept;
  void unlink(uint32_t idx) noexcept;
  void after_unlink(uint32_t li, uint8_t side, uint32_t ticks) noexcept;
  uint32_t best_tracked(uint32_t li, uint8_t side) noexcept;
  uint32_t random_shares() noexcept;
  uint32_t partial_shares(uint32_t have) noexcept;
  uint32_t add_fraction() const noexcept;
  struct PlannedAdd {
    uint32_t li = 0;
    uint8_t side = 0;
    uint32_t gap = 0;  // ticks behind the inside price, when the add is placed near
  };
  struct PlannedVictim {
    size_t position = SIZE_MAX;  // in the live list when drawn
    uint32_t idx = kNil;         // the order there, once looked up
    uint64_t ref = 0;            // read one use ahead; at use, the same order only if unchanged
  };
  PlannedAdd plan_add() noexcept;
  uint32_t near_ticks(const PlannedAdd& p) const noexcept;
  void advance_add_plan() noexcept;
  uint32_t take_planned_victim() noexcept;
  void advance_ramp() noexcept;
  uint64_t clock_tick() noexcept;
  itch::Header header(uint32_t li, uint64_t ts) const noexcept {
    return itch::Header{static_cast<uint16_t>(li + 1), 0, ts};
  }

  DayConfig cfg;
  Rng rng;
  uint64_t produced = 0;
  uint64_t start_len = 0;
  uint64_t end_len = 0;
  uint64_t bulk_total = 0;
  uint64_t bulk_index = 0;  // bulk messages produced, including the current one
  uint64_t ramp_len = 1;
  uint64_t ramp_step = 0;  // target / ramp_len
  uint64_t ramp_rem = 0;   // target % ramp_len
  uint64_t ramp_err = 0;
  uint64_t desired_live = 0;
  int64_t add_gain = 0;    // 5 * 65536 / target, in 1/65536 units: a 1 % shortfall adds 5 % to the A share
  uint64_t next_ref = 1;
  uint64_t next_match = 1;
  uint64_t last_ts = 0;

  std::vector<std::string> names;
  std::vector<SymbolState> syms;  // index = locate - 1
  std::vector<Slot> slots;
  std::vector<uint64_t> zipf_threshold;  // Walker/Vose alias table over symbols
  std::vector<uint32_t> zipf_alias;
  std::vector<uint32_t> by_rank;         // symbol index of each activity rank

  std::vector<Order> pool;
  std::vector<uint32_t> free_orders;
  std::vector<uint32_t> live;  // pool indices, roughly oldest first
  uint64_t peak_live = 0;

  // Clock: Bresenham steps through each segment so its message count spans its time range exactly.
  size_t seg = 0;
  uint64_t seg_messages[kSegmentCount] = {};
  uint64_t seg_left = 0;
  uint64_t seg_step = 0;
  uint64_t seg_rem = 0;
  uint64_t seg_err = 0;
  uint64_t nominal = 0;

  std::vector<Event> events;
  size_t event_cursor = 0;

  std::array<PendingDelete, kPendingDeletes> pending{};
  size_t pending_head = 0;
  size_t pending_count = 0;

  // Messages that follow one another at the same instant on one side of one symbol:
  //  - burst: an execution goes on through the oldest orders at the touch (follow_left more);
  //  - clear: the inside level goes (the first few orders executed, the rest cancelled), which
  //    steps the mid one tick: this is the price random walk.
  enum class Follow : uint8_t { kNone, kBurst, kClear };
  Follow follow = Follow::kNone;
  uint32_t follow_symbol = 0;
  uint8_t follow_side = 0;
  uint32_t follow_left = 0;
  uint32_t clear_ticks = 0;
  uint32_t clear_executions = 0;

  // The next adds and deletes, drawn ahead so their memory can be prefetched (advance_add_plan()).
  static constexpr size_t kPlanAhead = 4;
  PlannedAdd planned_add[kPlanAhead];
  PlannedVictim planned_victim[kPlanAhead];
};

ItchDayGenerator::State::State(const DayConfig& c) : cfg(c), rng(c.seed) {
  const uint32_t n = c.symbols;

  // --- Symbols: the famous names, then unique random tickers (mostly 4 letters), alphabetical like
  // NASDAQ's locate assignment.
  const size_t famous = std::min<size_t>(n, std::size(kFamous));
  std::unordered_set<std::string> taken;
  std::unordered_map<std::string, size_t> famous_index;
  for (size_t i = 0; i < std::size(kFamous); ++i) taken.insert(kFamous[i].name);
  for (size_t i = 0; i < famous; ++i) {
    names.emplace_back(kFamous[i].name);
    famous_index.emplace(kFamous[i].name, i);
  }
  while (names.size() < n) {
    const uint32_t r = rng.roll16();
    const size_t len = r < per65536(0.01) ? 1 : r < per65536(0.05) ? 2 : r < per65536(0.20) ? 3
                       : r < per65536(0.90) ? 4 : 5;
    std::string s(len, 'A');
    for (char& ch : s) ch = static_cast<char>('A' + rng.below32(26));
    if (taken.insert(s).second) names.push_back(std::move(s));
  }
  std::sort(names.begin(), names.end());

  // --- Activity ranks: famous names first, the rest in random order.
  std::vector<uint32_t> other_ranks;
  for (uint32_t r = static_cast<uint32_t>(famous); r < n; ++r) other_ranks.push_back(r);
  for (size_t i = other_ranks.size(); i > 1; --i) std::swap(other_ranks[i - 1], other_ranks[rng.below(i)]);
  syms.resize(n);
  by_rank.resize(n);
  size_t next_other = 0;
  for (uint32_t li = 0; li < n; ++li) {
    SymbolState& s = syms[li];
    s.name = itch::make_symbol(names[li].c_str());
    const auto f = famous_index.find(names[li]);
    if (f != famous_index.end()) {
      s.rank = static_cast<uint32_t>(f->second);
      s.mid = kFamous[f->second].dollars * 100;
    } else {
      s.rank = other_ranks[next_other++];
      // Log-uniform-ish between $2 and $500: a random octave above $2, then a random point in it.
      const uint32_t base = 200u << rng.below32(8);
      s.mid = std::min<uint32_t>(base + rng.below32(base), 50000);
    }
    by_rank[s.rank] = li;
  }

  // --- Zipf-like activity: weight 1/(rank + 6) (the offset keeps the top name near 2 % of the
  // traffic, as on a real day). Integer Vose alias table: O(1) draws, identical everywhere.
  {
    std::vector<uint64_t> scaled(n);
    uint64_t total = 0;
    for (uint32_t li = 0; li < n; ++li) {
      scaled[li] = (uint64_t{1} << 40) / (syms[li].rank + 6);
      total += scaled[li];
    }
    for (uint64_t& w : scaled) w *= n;  // each column of the table holds `total`
    zipf_threshold.assign(n, UINT64_MAX);
    zipf_alias.resize(n);
    std::vector<uint32_t> small, large;
    for (uint32_t li = 0; li < n; ++li) {
      zipf_alias[li] = li;
      (scaled[li] < total ? small : large).push_back(li);
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      zipf_threshold[s] = static_cast<uint64_t>((Uint128{scaled[s]} << 64) / total);
      zipf_alias[s] = l;
      scaled[l] -= total - scaled[s];
      if (scaled[l] < total) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }

  slots.resize(size_t{n} * 2 * kSlots);

  // --- Message budget.
  const uint64_t script_len = 2 + 2 * uint64_t{n} + (n + 15) / 16 + (n + 39) / 40 + 1;
  end_len = c.messages >= 5 ? kEndMessages : 0;
  start_len = std::min(script_len, c.messages - end_len);
  bulk_total = c.messages - end_len - start_len;
  ramp_len = std::max<uint64_t>(1, bulk_total * 15 / 100);
  ramp_step = c.target_live_orders / ramp_len;
  ramp_rem = c.target_live_orders % ramp_len;
  add_gain = static_cast<int64_t>((uint64_t{5} << 32) / c.target_live_orders);

  // --- Orders: everything preallocated; the A/D split keeps the live count near the target, and
  // adds turn into deletes if it ever reaches the pool size.
  const size_t capacity = size_t{c.target_live_orders} + c.target_live_orders / 4 + 1024;
  pool.resize(capacity);
  free_orders.resize(capacity);
  for (size_t i = 0; i < capacity; ++i) free_orders[i] = static_cast<uint32_t>(capacity - 1 - i);
  live.reserve(capacity);

  // --- Clock segments.
  uint64_t assigned = 0;
  for (size_t k = 0; k < kSegmentCount; ++k) {
    seg_messages[k] = k + 1 == kSegmentCount ? bulk_total - assigned : bulk_total * kSegments[k].permille / 1000;
    assigned += seg_messages[k];
  }
  seg = SIZE_MAX;  // clock_tick() opens the first segment with messages

  // --- Scheduled events (bulk indices): opening and closing crosses for the active names, and two
  // halts with their resumption.
  if (bulk_total > 0) {
    uint64_t open_at = 1, close_at = 1;
    for (size_t k = 0; k < kSegmentCount; ++k) {
      if (k < kOpenSegment) open_at += seg_messages[k];
      if (k < kAfterHoursSegment) close_at += seg_messages[k];
    }
    const uint32_t crossing = static_cast<uint32_t>(std::min<uint64_t>(n, std::max<uint64_t>(1, bulk_total / 1000)));
    const std::array<char, 4> blank{' ', ' ', ' ', ' '};
    for (uint32_t r = 0; r < crossing; ++r)
      events.push_back({open_at, static_cast<uint16_t>(by_rank[r] + 1), EventKind::kCross, 'O', blank});
    for (uint32_t r = 0; r < crossing; ++r)
      events.push_back({close_at, static_cast<uint16_t>(by_rank[r] + 1), EventKind::kCross, 'C', blank});
    const auto at = [&](uint32_t permille_x10) { return std::max<uint64_t>(1, bulk_total * permille_x10 / 10000); };
    const auto halted = static_cast<uint16_t>(by_rank[std::min<uint32_t>(4, n - 1)] + 1);
    events.push_back({at(3800), halted, EventKind::kTradingAction, 'H', {'T', '1', ' ', ' '}});
    events.push_back({at(3840), halted, EventKind::kTradingAction, 'Q', {'T', '3', ' ', ' '}});
    events.push_back({at(3860), halted, EventKind::kCross, 'H', blank});
    events.push_back({at(3861), halted, EventKind::kTradingAction, 'T', {'T', '3', ' ', ' '}});
    const auto paused = static_cast<uint16_t>(by_rank[std::min<uint32_t>(11, n - 1)] + 1);
    events.push_back({at(6100), paused, EventKind::kTradingAction, 'P', {'L', 'U', 'D', 'P'}});
    events.push_back({at(6110), paused, EventKind::kCross, 'H', blank});
    events.push_back({at(6111), paused, EventKind::kTradingAction, 'T', {'L', 'U', 'D', 'P'}});
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
  }
  for (PlannedAdd& p : planned_add) p = plan_add();
}

// ---- Script ---------------------------------------------------------------------------------------

size_t ItchDayGenerator::State::next(uint8_t* out) {
  if (produced == cfg.messages) return 0;
  size_t len;
  if (produced < start_len) {
    len = start_message(produced, out);
  } else if (produced >= cfg.messages - end_len) {
    len = end_message(produced - (cfg.messages - end_len), out);
  } else {
    len = bulk_message(out);
  }
  ++produced;
  return len;
}

size_t ItchDayGenerator::State::start_message(uint64_t i, uint8_t* out) {
  const uint64_t n = cfg.symbols;
  const uint64_t ts = kDayOpen + i * kScriptSpacingNs;
  last_ts = ts;
  if (i < 2) {
    itch::SystemEvent m;
    m.h = itch::Header{0, 0, ts};
    m.event_code = i == 0 ? 'O' : 'S';
    itch::encode(m, out);
    return m.kLength;
  }
  i -= 2;
  if (i < n) {
    const auto li = static_cast<uint32_t>(i);
    const SymbolState& s = syms[li];
    itch::StockDirectory m;
    m.h = header(li, ts);
    m.stock = s.name;
    m.market_category = s.rank < 1500 ? 'Q' : s.rank < 4000 ? 'G' : 'S';
    m.financial_status = 'N';
    m.round_lot_size = 100;
    m.round_lots_only = 'N';
    m.issue_classification = 'C';
    m.issue_subtype = {'C', ' '};
    m.authenticity = 'P';
    m.short_sale_threshold = 'N';
    m.ipo_flag = 'N';
    m.luld_tier = s.rank < 1000 ? '1' : '2';
    m.etp_flag = 'N';
    m.etp_leverage = 0;
    m.inverse = 'N';
    itch::encode(m, out);
    return m.kLength;
  }
  i -= n;
  if (i < n) {
    const auto li = static_cast<uint32_t>(i);
    itch::StockTradingAction m;
    m.h = header(li, ts);
    m.stock = syms[li].name;
    m.trading_state = 'T';
    m.reserved = ' ';
    m.reason = {' ', ' ', ' ', ' '};
    itch::encode(m, out);
    return m.kLength;
  }
  i -= n;
  if (i < (n + 15) / 16) {  // Reg SHO status for every 16th locate
    const auto li = static_cast<uint32_t>(i * 16);
    itch::RegShoRestriction m;
    m.h = header(li, ts);
    m.stock = syms[li].name;
    m.action = i % 7 == 3 ? '2' : '0';
    itch::encode(m, out);
    return m.kLength;
  }
  i -= (n + 15) / 16;
  if (i < (n + 39) / 40) {  // a market maker position for every 40th locate
    const auto li = static_cast<uint32_t>(i * 40);
    itch::MarketParticipantPosition m;
    m.h = header(li, ts);
    m.mpid = kMpids[i % kMpidCount];
    m.stock = syms[li].name;
    m.primary_market_maker = i % 3 == 0 ? 'Y' : 'N';
    m.market_maker_mode = 'N';
    m.participant_state = 'A';
    itch::encode(m, out);
    return m.kLength;
  }
  itch::SystemEvent m;
  m.h = itch::Header{0, 0, ts};
  m.event_code = 'Q';
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::end_message(uint64_t i, uint8_t* out) {
  static constexpr char kCodes[kEndMessages] = {'M', 'E', 'C'};
  const uint64_t ts = std::max(last_ts, kDayClose) + (i == 2 ? 5 * 60 * kSecond : i * kScriptSpacingNs);
  itch::SystemEvent m;
  m.h = itch::Header{0, 0, ts};
  m.event_code = kCodes[i];
  itch::encode(m, out);
  return m.kLength;
}

// ---- Clock ----------------------------------------------------------------------------------------

uint64_t ItchDayGenerator::State::clock_tick() noexcept {
  while (seg_left == 0) {
    seg = seg == SIZE_MAX ? 0 : seg + 1;
    assert(seg < kSegmentCount);  // the segment counts add up to bulk_total
    seg_left = seg_messages[seg];
    if (seg_left == 0) continue;
    const uint64_t span = kSegments[seg].end_ns - kSegments[seg].begin_ns;
    seg_step = span / seg_left;
    seg_rem = span % seg_left;
    seg_err = 0;
    nominal = std::max(nominal, kSegments[seg].begin_ns);
  }
  --seg_left;
  const uint64_t t = nominal;
  nominal += seg_step;
  seg_err += seg_rem;
  if (seg_err >= seg_messages[seg]) {
    seg_err -= seg_messages[seg];
    ++nominal;
  }
  // Jitter inside the step keeps the order: t + jitter < t + step <= the next nominal time.
  return t + (seg_step > 1 ? rng.below(seg_step) : 0);
}

// ---- Bulk -----------------------------------------------------------------------------------------

size_t ItchDayGenerator::State::bulk_message(uint8_t* out) {
  const uint64_t previous_ts = last_ts;
  uint64_t ts = clock_tick();
  ++bulk_index;
  advance_ramp();

  if (follow != Follow::kNone) {
    if (size_t len = follow_up(previous_ts, out)) {
      last_ts = previous_ts;  // same instant as the message it follows
      return len;
    }
    follow = Follow::kNone;
  }
  last_ts = ts;

  if (event_cursor < events.size() && events[event_cursor].at <= bulk_index)
    return event(events[event_cursor++], ts, out);

  while (pending_count > 0 && pending[pending_head].due <= bulk_index) {
    const PendingDelete d = pending[pending_head];
    pending_head = (pending_head + 1) % kPendingDeletes;
    --pending_count;
    const Order& o = pool[d.order];
    if (o.live_pos != kNil && o.ref == d.ref) return delete_order(d.order, ts, out);
  }

  const char window = kSegments[seg].cross_window;
  if (window != 0 && rng.chance(kNoiiInWindow)) return noii(window, ts, out);

  if (live.empty()) return add_order(ts, out);
  uint32_t r = rng.roll16();
  if (r < kMixReplace) return replace_order(pick_live(), ts, out);
  r -= kMixReplace;
  if (r < kMixExecute) return execution(false, ts, out);
  r -= kMixExecute;
  if (r < kMixCancel) return cancel_order(pick_live(), ts, out);
  r -= kMixCancel;
  if (r < kMixExecuteWithPrice) return execution(true, ts, out);
  r -= kMixExecuteWithPrice;
  if (r < kMixTrade) return trade(ts, out);
  r -= kMixTrade;
  if (r < kMixClear) return clear_inside(ts, out);
  if (live.size() < pool.size() && rng.roll16() < add_fraction()) return add_order(ts, out);
  return delete_order(take_planned_victim(), ts, out);
}

// Share of A among A + D, per 65536: slightly above one half holds the live count (executions and
// full cancels also remove orders); a proportional term ramps it up to the target over the first
// 15 % of the bulk, then holds it there.
uint32_t ItchDayGenerator::State::add_fraction() const noexcept {
  const int64_t error = static_cast<int64_t>(desired_live) - static_cast<int64_t>(live.size());
  const int64_t f = int64_t{per65536(0.508)} + ((error * add_gain) >> 16);
  return static_cast<uint32_t>(std::clamp<int64_t>(f, per65536(0.30), per65536(0.72)));
}

// desired_live = min(target, bulk_index * target / ramp_len), kept without dividing per message.
void ItchDayGenerator::State::advance_ramp() noexcept {
  if (desired_live >= cfg.target_live_orders) return;
  desired_live += ramp_step;
  ramp_err += ramp_rem;
  if (ramp_err >= ramp_len) {
    ramp_err -= ramp_len;
    ++desired_live;
  }
  desired_live = std::min<uint64_t>(desired_live, cfg.target_live_orders);
}

uint32_t ItchDayGenerator::State::zipf_symbol() noexcept {
  const Uint128 p = Uint128{rng.next()} * syms.size();
  const auto column = static_cast<uint32_t>(p >> 64);
  return static_cast<uint64_t>(p) < zipf_threshold[column] ? column : zipf_alias[column];
}

size_t ItchDayGenerator::State::pick_live_position() noexcept {
  const uint64_t n = live.size();
  assert(n > 0);
  if (rng.chance(kYoungPick)) {
    // Age on a log scale: half within the last 64 orders, a quarter within 128, ...
    const uint64_t scale = uint64_t{kYoungScale} << rng.geometric(40);
    return n - 1 - rng.below(std::min(n, scale));
  }
  return rng.below(n);
}

uint32_t ItchDayGenerator::State::random_shares() noexcept {
  const uint32_t r = rng.roll16();
  if (r < per65536(0.08)) return 1 + rng.below32(99);             // odd lot
  if (r < per65536(0.90)) return 100 * (1 + rng.geometric(9));    // round lots, mostly 1-2
  if (r < per65536(0.98)) return 100 + rng.below32(900);          // mixed lot
  return 100 * (10 + rng.below32(191));                           // block, 1000-20000
}

// 1 .. have-1 shares, in round lots when the order allows it.
uint32_t ItchDayGenerator::State::partial_shares(uint32_t have) noexcept {
  assert(have >= 2);
  if (have >= 200 && rng.chance(per65536(0.75))) return 100 * (1 + rng.below32(have / 100 - 1));
  return 1 + rng.below32(have - 1);
}

uint32_t ItchDayGenerator::State::allocate(uint32_t li, uint8_t side, uint32_t ticks, uint32_t shares) noexcept {
  const uint32_t idx = free_orders.back();
  free_orders.pop_back();
  Order& o = pool[idx];
  o.ref = next_ref++;
  o.ticks = ticks;
  o.shares = shares;
  o.locate = static_cast<uint16_t>(li + 1);
  o.side = side;
  o.tracked = 0;
  o.live_pos = static_cast<uint32_t>(live.size());
  live.push_back(idx);
  peak_live = std::max<uint64_t>(peak_live, live.size());
  return idx;
}

void ItchDayGenerator::State::remove(uint32_t idx) noexcept {
  Order& o = pool[idx];
  if (o.tracked) {
    unlink(idx);
    after_unlink(o.locate - 1u, o.side, o.ticks);
  }
  const uint32_t pos = o.live_pos;
  const uint32_t last = live.back();
  live[pos] = last;
  pool[last].live_pos = pos;
  live.pop_back();
  o.live_pos = kNil;
  free_orders.push_back(idx);
}

void ItchDayGenerator::State::link(uint32_t idx) noexcept {
  Order& o = pool[idx];
  Slot& s = slot(o.locate - 1u, o.side, o.ticks);
  if (s.head != kNil && s.ticks != o.ticks) {
    // The ring slot still holds a level kSlots ticks further out, left behind as the mid moved:
    // stale orders that far from the market get cancelled (soon, in the next messages).
    for (uint32_t i = s.head; i != kNil; i = pool[i].next) {
      pool[i].tracked = 0;
      schedule_delete(i, 1 + rng.below(8));
    }
    s.head = s.tail = kNil;
  }
  o.tracked = 1;
  o.next = kNil;
  o.prev = s.tail;  // append: FIFO time priority
  if (s.head == kNil) {
    s.head = idx;
    s.ticks = o.ticks;
  } else {
    pool[s.tail].next = idx;
  }
  s.tail = idx;
}

void ItchDayGenerator::State::unlink(uint32_t idx) noexcept {
  Order& o = pool[idx];
  Slot& s = slot(o.locate - 1u, o.side, o.ticks);
  if (o.prev != kNil) pool[o.prev].next = o.next;
  else s.head = o.next;
  if (o.next != kNil) pool[o.next].prev = o.prev;
  else s.tail = o.prev;
  o.tracked = 0;
}

// When the touch level empties, the mid steps one tick away from it. Tracked bids stay <= mid and
// tracked asks > mid either way.
void ItchDayGenerator::State::after_unlink(uint32_t li, uint8_t side, uint32_t ticks) noexcept {
  const Slot& s = slot(li, side, ticks);
  if (s.head != kNil && s.ticks == ticks) return;  // the level still has orders
  SymbolState& sym = syms[li];
  if (side == kBid && ticks == sym.mid && sym.mid > kMinMid) --sym.mid;
  else if (side == kAsk && ticks == sym.mid + 1 && sym.mid < kMaxMid) ++sym.mid;
}

// Oldest order of the best tracked level on a side, or kNil.
uint32_t ItchDayGenerator::State::best_tracked(uint32_t li, uint8_t side) noexcept {
  const uint32_t mid = syms[li].mid;
  for (uint32_t d = 0; d < kSlots; ++d) {
    const uint32_t ticks = side == kBid ? mid - d : mid + 1 + d;
    const Slot& s = slot(li, side, ticks);
    if (s.head != kNil && s.ticks == ticks) return s.head;
  }
  return kNil;
}

ItchDayGenerator::State::PlannedAdd ItchDayGenerator::State::plan_add() noexcept {
  PlannedAdd p;
  p.li = zipf_symbol();
  p.side = static_cast<uint8_t>(rng.next() & 1);
  // About a quarter at the touch, most within a dozen ticks, a tail out to ~50.
  const uint32_t shape = rng.roll16();
  p.gap = shape < per65536(0.45)   ? rng.geometric(kSlots - 1)
          : shape < per65536(0.85) ? rng.below32(12)
                                   : rng.below32(48);
  return p;
}

uint32_t ItchDayGenerator::State::near_ticks(const PlannedAdd& p) const noexcept {
  const uint32_t mid = syms[p.li].mid;
  return p.side == kBid ? mid - p.gap : mid + 1 + p.gap;
}

// Adds and deletes are drawn kPlanAhead uses ahead, and what they will touch is prefetched in
// stages as they move up the queue (each stage needs the line the previous one fetched), so it is
// in cache when used. The day is bound by memory latency (a million live orders), not arithmetic.
void ItchDayGenerator::State::advance_add_plan() noexcept {
  for (size_t i = 0; i + 1 < kPlanAhead; ++i) planned_add[i] = planned_add[i + 1];
  // Two uses ahead: the slot arrived; fetch the level's newest order, which the add links after.
  const PlannedAdd& soon = planned_add[1];
  const Slot& s = slot(soon.li, soon.side, near_ticks(soon));
  if (s.tail != kNil) __builtin_prefetch(&pool[s.tail]);
  // Three uses ahead: the symbol (its mid) arrived; fetch the slot of the price.
  const PlannedAdd& later = planned_add[2];
  __builtin_prefetch(&slot(later.li, later.side, near_ticks(later)));
  PlannedAdd& fresh = planned_add[kPlanAhead - 1];
  fresh = plan_add();
  __builtin_prefetch(&syms[fresh.li]);
}

uint32_t ItchDayGenerator::State::take_planned_victim() noexcept {
  // The planned order is used if it is still live (anything may have happened to it meanwhile).
  const PlannedVictim v = planned_victim[0];
  const bool valid = v.idx != kNil && pool[v.idx].live_pos != kNil && pool[v.idx].ref == v.ref;
  const uint32_t idx = valid ? v.idx : pick_live();
  for (size_t i = 0; i + 1 < kPlanAhead; ++i) planned_victim[i] = planned_victim[i + 1];
  // Next use: the order arrived; fetch its FIFO neighbours and slot, which unlinking writes.
  if (planned_victim[0].idx != kNil) {
    const Order& o = pool[planned_victim[0].idx];
    planned_victim[0].ref = o.ref;
    if (o.tracked && o.live_pos != kNil) {
      if (o.prev != kNil) __builtin_prefetch(&pool[o.prev]);
      if (o.next != kNil) __builtin_prefetch(&pool[o.next]);
      __builtin_prefetch(&slot(o.locate - 1u, o.side, o.ticks));
    }
  }
  // Two uses ahead: the live-list entry arrived; fetch the order.
  PlannedVictim& middle = planned_victim[1];
  if (middle.position < live.size()) {
    middle.idx = live[middle.position];
    __builtin_prefetch(&pool[middle.idx]);
  }
  // Newest: a position in the live list.
  PlannedVictim& fresh = planned_victim[kPlanAhead - 1];
  fresh = PlannedVictim{};
  if (!live.empty()) {
    fresh.position = pick_live_position();
    __builtin_prefetch(&live[fresh.position]);
  }
  return idx;
}

size_t ItchDayGenerator::State::add_order(uint64_t ts, uint8_t* out) {
  const PlannedAdd plan = planned_add[0];
  advance_add_plan();
  const uint32_t li = plan.li;
  SymbolState& sym = syms[li];
  const uint8_t side = plan.side;
  const uint32_t mid = sym.mid;
  const uint32_t r = rng.roll16();
  uint32_t ticks;
  bool track = false;
  if (r < kAddCrossing && pending_count < kPendingDeletes / 2) {
    // Locks (one tick) or crosses (two ticks) the touch; pulled again a few messages later.
    const uint32_t into = static_cast<uint32_t>(rng.next() & 1);
    ticks = side == kBid ? mid + 1 + into : mid - into;
  } else if (r < kAddCrossing + kAddFar) {
    // Untracked, so far enough that a day's drift rarely brings the price to it: >= 2 % and >= the
    // tracked range away, up to a quarter of the price further.
    const uint32_t away = std::max(kSlots, mid / 50) + rng.below32(mid / 4 + 1);
    ticks = side == kBid ? mid - away : mid + 1 + away;
  } else {
    ticks = near_ticks(plan);
    track = true;
  }
  const uint32_t shares = random_shares();
  const uint32_t idx = allocate(li, side, ticks, shares);
  if (track) link(idx);
  if (!track && (side == kBid ? ticks > mid : ticks <= mid)) schedule_delete(idx, 1 + rng.below(40));
  const Order& o = pool[idx];
  if (rng.chance(kAddWithMpid)) {
    itch::AddOrderMpid m;
    m.h = header(li, ts);
    m.ref = o.ref;
    m.side = side == kBid ? 'B' : 'S';
    m.shares = shares;
    m.stock = sym.name;
    m.price = ticks * kPricePerTick;
    m.attribution = kMpids[rng.below(kMpidCount)];
    itch::encode(m, out);
    return m.kLength;
  }
  itch::AddOrder m;
  m.h = header(li, ts);
  m.ref = o.ref;
  m.side = side == kBid ? 'B' : 'S';
  m.shares = shares;
  m.stock = sym.name;
  m.price = ticks * kPricePerTick;
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::delete_order(uint32_t idx, uint64_t ts, uint8_t* out) {
  itch::OrderDelete m;
  m.h = header(pool[idx].locate - 1u, ts);
  m.ref = pool[idx].ref;
  remove(idx);
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::cancel_order(uint32_t idx, uint64_t ts, uint8_t* out) {
  Order& o = pool[idx];
  itch::OrderCancel m;
  m.h = header(o.locate - 1u, ts);
  m.ref = o.ref;
  if (o.shares >= 2 && rng.chance(per65536(0.75))) {
    m.shares = partial_shares(o.shares);
    o.shares -= m.shares;
  } else {
    m.shares = o.shares;
    remove(idx);
  }
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::replace_order(uint32_t idx, uint64_t ts, uint8_t* out) {
  Order& o = pool[idx];
  const uint32_t li = o.locate - 1u;
  const uint32_t mid = syms[li].mid;
  itch::OrderReplace m;
  m.h = header(li, ts);
  m.old_ref = o.ref;

  // New price near the old one, kept on its side of the mid (a replace that locked or crossed the
  // book would leave it so: real replaces of that kind execute instead).
  uint32_t ticks = o.ticks;
  if (!rng.chance(per65536(0.35))) {
    const uint32_t step = 1 + rng.geometric(8);
    ticks = (rng.next() & 1) ? ticks + step : (ticks > step ? ticks - step : 1);
  }
  ticks = o.side == kBid ? std::min(ticks, mid) : std::max(ticks, mid + 1);
  const bool track = o.side == kBid ? ticks + kSlots > mid : ticks < mid + 1 + kSlots;

  const uint32_t old_ticks = o.ticks;
  const bool was_tracked = o.tracked != 0;
  if (was_tracked) unlink(idx);
  o.ref = next_ref++;
  o.ticks = ticks;
  if (!rng.chance(per65536(0.5))) o.shares = random_shares();
  if (track) link(idx);
  if (was_tracked) after_unlink(li, o.side, old_ticks);  // after the relink: same price keeps the level
  // The replacement is a new order: move it to the young end of the live list.
  const uint32_t pos = o.live_pos;
  const uint32_t last_pos = static_cast<uint32_t>(live.size() - 1);
  const uint32_t last = live[last_pos];
  live[pos] = last;
  pool[last].live_pos = pos;
  live[last_pos] = idx;
  o.live_pos = last_pos;

  m.new_ref = o.ref;
  m.shares = o.shares;
  m.price = ticks * kPricePerTick;
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::execute_order(uint32_t idx, bool with_price, bool whole, uint64_t ts,
                                              uint8_t* out) {
  Order& o = pool[idx];
  const uint32_t li = o.locate - 1u;
  uint32_t shares = o.shares;
  if (!whole && shares >= 2 && rng.chance(per65536(0.40))) shares = partial_shares(shares);
  const uint64_t ref = o.ref;
  const uint32_t ticks = o.ticks;
  const uint8_t side = o.side;
  if (shares == o.shares) remove(idx);
  else o.shares -= shares;
  if (with_price) {
    // Filled a tick better for the resting order (e.g. against a midpoint or cross interest).
    itch::OrderExecutedWithPrice m;
    m.h = header(li, ts);
    m.ref = ref;
    m.shares = shares;
    m.match = next_match++;
    m.printable = rng.chance(per65536(0.8)) ? 'Y' : 'N';
    m.price = (side == kBid ? (ticks > 1 ? ticks - 1 : ticks) : ticks + 1) * kPricePerTick;
    itch::encode(m, out);
    return m.kLength;
  }
  itch::OrderExecuted m;
  m.h = header(li, ts);
  m.ref = ref;
  m.shares = shares;
  m.match = next_match++;
  itch::encode(m, out);
  return m.kLength;
}

// An incoming marketable order: it takes the oldest order at the touch of a Zipf-chosen symbol and
// may go on to the next ones (burst), at the same timestamp.
size_t ItchDayGenerator::State::execution(bool with_price, uint64_t ts, uint8_t* out) {
  const uint32_t li = zipf_symbol();
  const uint8_t side = static_cast<uint8_t>(rng.next() & 1);
  const uint32_t touch = syms[li].halted ? kNil : best_tracked(li, side);
  if (touch == kNil) {
    // Nothing at that touch: execute some live order instead, unless its symbol is halted.
    const uint32_t idx = pick_live();
    if (syms[pool[idx].locate - 1u].halted) return delete_order(idx, ts, out);
    return execute_order(idx, with_price, false, ts, out);
  }
  if (!with_price && rng.chance(kBurstContinue)) {
    follow = Follow::kBurst;
    follow_symbol = li;
    follow_side = side;
    follow_left = 1 + rng.below32(kMaxBurst);
  }
  return execute_order(touch, with_price, false, ts, out);
}

// The price moves: the inside level of one side of a Zipf-chosen symbol is taken out, a few orders
// executed and the rest pulled, and emptying it steps the mid (after_unlink). An empty inside level
// just lets the mid step.
size_t ItchDayGenerator::State::clear_inside(uint64_t ts, uint8_t* out) {
  const uint32_t li = zipf_symbol();
  SymbolState& sym = syms[li];
  const uint8_t side = static_cast<uint8_t>(rng.next() & 1);
  if (sym.halted) return add_order(ts, out);
  const uint32_t inside = side == kBid ? sym.mid : sym.mid + 1;
  const Slot& s = slot(li, side, inside);
  if (s.head == kNil || s.ticks != inside) {
    if (side == kBid && sym.mid > kMinMid) --sym.mid;
    else if (side == kAsk && sym.mid < kMaxMid) ++sym.mid;
    return add_order(ts, out);
  }
  follow = Follow::kClear;
  follow_symbol = li;
  follow_side = side;
  clear_ticks = inside;
  clear_executions = rng.chance(per65536(0.30)) ? 1 + rng.below32(2) : 0;  // after this first one
  return execute_order(s.head, false, true, ts, out);
}

// The next message of a burst or clear, or 0 when it is over.
size_t ItchDayGenerator::State::follow_up(uint64_t ts, uint8_t* out) {
  if (syms[follow_symbol].halted) return 0;
  if (follow == Follow::kBurst) {
    if (follow_left == 0) return 0;
    --follow_left;
    const uint32_t idx = best_tracked(follow_symbol, follow_side);
    return idx == kNil ? 0 : execute_order(idx, false, false, ts, out);
  }
  const Slot& s = slot(follow_symbol, follow_side, clear_ticks);
  if (s.head == kNil || s.ticks != clear_ticks) return 0;
  if (clear_executions > 0) {
    --clear_executions;
    return execute_order(s.head, false, true, ts, out);
  }
  return delete_order(s.head, ts, out);
}

void ItchDayGenerator::State::schedule_delete(uint32_t idx, uint64_t delay) noexcept {
  if (pending_count == kPendingDeletes) return;  // stays in the book, untracked: rare
  const size_t tail = (pending_head + pending_count) % kPendingDeletes;
  pending[tail] = PendingDelete{bulk_index + delay, idx, pool[idx].ref};
  ++pending_count;
}

size_t ItchDayGenerator::State::trade(uint64_t ts, uint8_t* out) {
  uint32_t li = zipf_symbol();
  if (syms[li].halted) li = zipf_symbol();
  if (syms[li].halted) return add_order(ts, out);
  // A non-displayed order matched at the midpoint; the spec sends reference 0 and side 'B'.
  itch::Trade m;
  m.h = header(li, ts);
  m.ref = 0;
  m.side = 'B';
  m.shares = random_shares();
  m.stock = syms[li].name;
  m.price = syms[li].mid * kPricePerTick + kPricePerTick / 2;
  m.match = next_match++;
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::noii(char cross_type, uint64_t ts, uint8_t* out) {
  const uint32_t li = zipf_symbol();
  const uint32_t ref_price = syms[li].mid * kPricePerTick;
  itch::Noii m;
  m.h = header(li, ts);
  m.paired_shares = 100 * uint64_t{rng.below32(50000)};
  m.imbalance_shares = 100 * uint64_t{rng.below32(5000)};
  const uint32_t d = rng.below32(3);
  m.imbalance_direction = m.imbalance_shares == 0 ? 'N' : d == 0 ? 'B' : d == 1 ? 'S' : 'N';
  if (m.imbalance_direction == 'N') m.imbalance_shares = 0;
  m.stock = syms[li].name;
  m.far_price = ref_price - 2 * kPricePerTick + rng.below32(5) * kPricePerTick;  // mid >= $1: no wrap
  m.near_price = ref_price - kPricePerTick + rng.below32(3) * kPricePerTick;
  m.reference_price = ref_price;
  m.cross_type = cross_type;
  m.price_variation = 'L';
  itch::encode(m, out);
  return m.kLength;
}

size_t ItchDayGenerator::State::event(const Event& e, uint64_t ts, uint8_t* out) {
  const uint32_t li = e.locate - 1u;
  SymbolState& sym = syms[li];
  if (e.kind == EventKind::kTradingAction) {
    sym.halted = e.code != 'T';
    itch::StockTradingAction m;
    m.h = header(li, ts);
    m.stock = sym.name;
    m.trading_state = e.code;
    m.reserved = ' ';
    m.reason = e.reason;
    itch::encode(m, out);
    return m.kLength;
  }
  itch::CrossTrade m;
  m.h = header(li, ts);
  m.shares = 100 * (uint64_t{rng.below32(20000)} + 1) * (sym.rank < 100 ? 10 : 1);
  m.stock = sym.name;
  m.price = sym.mid * kPricePerTick;
  m.match = next_match++;
  m.cross_type = e.code;
  itch::encode(m, out);
  return m.kLength;
}

// ---- Public ---------------------------------------------------------------------------------------

static DayConfig checked(const DayConfig& c) {
  const std::string error = validate(c);
  if (!error.empty()) throw std::invalid_argument("DayConfig: " + error);
  return c;
}

ItchDayGenerator::ItchDayGenerator(const DayConfig& config) : s_(std::make_unique<State>(checked(config))) {}
ItchDayGenerator::~ItchDayGenerator() = default;

size_t ItchDayGenerator::next(uint8_t* out) { return s_->next(out); }
uint64_t ItchDayGenerator::produced() const noexcept { return s_->produced; }
const std::vector<std::string>& ItchDayGenerator::symbols() const noexcept { return s_->names; }
uint64_t ItchDayGenerator::live_orders() const noexcept { return s_->live.size(); }
uint64_t ItchDayGenerator::peak_live_orders() const noexcept { return s_->peak_live; }
const DayConfig& ItchDayGenerator::config() const noexcept { return s_->cfg; }

}  // namespace pmm::gen
