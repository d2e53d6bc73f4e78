// An in-memory closed loop around the trading stage (risk/trading_stage.hpp), single-threaded and
// deterministic: a generated ITCH day goes message by message into a BookBuilder (the appliance's view:
// it makes the TopEvents the stage reads) and into a MatchingEngine (the exchange); the stage's TX
// packets (MoldUDP64, one [as-of][OUCH inbound] block each) are parsed by a gateway side built here
// from the same SessionSender / SessionReceiver the exchange simulator uses, decoded and handed to the
// engine; the engine's responses go back as OUCH outbound messages on the gateway's numbered session,
// as OrderResponseEvents on the stage's responses ring. Nothing here is shared with
// perf/sim/order_gateway.*: the loop mirrors its rules (as-of + latency, heartbeats, re-requests).
//
// Knobs for the tests: a latency L (the engine applies a request just before the first feed message
// stamped at or after as-of + L, and the stage runs with response_latency_ns = L), seeded delays of
// each direction counted in feed messages (order kept, as on one link), hooks to drop one packet of
// either direction, to see every packet the stage sends and every request the engine gets.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/book_builder.hpp"
#include "core/byte_order.hpp"
#include "core/itch.hpp"
#include "core/moldudp64.hpp"
#include "core/order_session_framing.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/events.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/pipeline/tsc_clock.hpp"
#include "perf/itch_day_generator.hpp"
#include "perf/sim/matching_engine.hpp"
#include "perf/sim/ouch_request_decoding.hpp"
#include "perf/sim/ouch_response_encoding.hpp"
#include "risk/trading_stage.hpp"

namespace pmm::trading_test {

inline constexpr size_t kAsOfSize = 8;  // client -> gateway blocks: [as-of, big-endian][OUCH inbound]
inline constexpr size_t kItchTimestampOffset = 5;

// ---- The day ----

// A generated ITCH day kept in memory, so several loops replay the same bytes.
struct Day {
  std::vector<uint8_t> bytes;
  std::vector<size_t> offsets;       // message i is bytes[offsets[i], offsets[i + 1])
  std::vector<std::string> symbols;  // the generator's: index = locate - 1
  book::BookCapacity capacity;

  size_t size() const noexcept { return offsets.size() - 1; }
  const uint8_t* message(size_t i) const noexcept { return bytes.data() + offsets[i]; }
  size_t length(size_t i) const noexcept { return offsets[i + 1] - offsets[i]; }
  uint64_t timestamp(size_t i) const noexcept { return load_be48(message(i) + kItchTimestampOffset); }
  uint16_t locate(size_t i) const noexcept { return load_be16(message(i) + 1); }
};

inline Day make_day(uint64_t seed, uint64_t messages, uint32_t symbols, uint32_t live_orders) {
  Day d;
  d.capacity.max_orders = 1u << 16;
  d.capacity.max_levels = 1u << 15;
  d.capacity.max_locates = 1024;
  d.capacity.level_index_entries = 1u << 17;
  gen::ItchDayGenerator g(gen::DayConfig{seed, messages, symbols, live_orders});
  d.symbols = g.symbols();
  uint8_t buf[itch::kMaxMessageLength];
  d.offsets.push_back(0);
  while (const size_t len = g.next(buf)) {
    d.bytes.insert(d.bytes.end(), buf, buf + len);
    d.offsets.push_back(d.bytes.size());
  }
  return d;
}

// The n symbols with the most messages in the day (ties: lower locate first).
inline std::vector<std::string> most_active_symbols(const Day& day, size_t n) {
  std::vector<uint64_t> count(day.symbols.size() + 1, 0);
  for (size_t i = 0; i < day.size(); ++i) {
    const uint16_t l = day.locate(i);
    if (l >= 1 && l < count.size()) ++count[l];
  }
  std::vector<uint16_t> locates;
  for (size_t l = 1; l < count.size(); ++l) locates.push_back(static_cast<uint16_t>(l));
  std::stable_sort(locates.begin(), locates.end(), [&](uint16_t a, uint16_t b) { return count[a] > count[b]; });
  std::vector<std::string> out;
  for (size_t i = 0; i < n && i < locates.size(); ++i) out.push_back(day.symbols[locates[i] - 1u]);
  return out;
}

// ---- Configuration helpers ----

// A trading configuration for `symbols` from strategy JSON and uniform limits (both through their
// public readers/builders, so they validate as the appliance's would).
inline risk::TradingConfig trading_config(const std::vector<std::string>& symbols, const std::string& strategy_json,
                                          const risk::RiskLimits& limits) {
  risk::TradingConfig c;
  c.symbols = symbols;
  const std::string e = strategy::parse_strategy_json(strategy_json, symbols, c.strategy);
  if (!e.empty()) throw std::invalid_argument(e);
  c.risk = limits;
  c.orders.max_open_orders = 64;
  c.orders.max_symbols = static_cast<uint32_t>(symbols.size());
  c.orders.fill_history = 4096;
  c.epoch = 7;
  c.firm = "PMM1";
  c.session = "PMMORDERS";
  c.history_messages = 1u << 16;
  c.retry_ns = 20'000'000;
  c.held_responses = 1u << 14;
  c.burst = 64;
  return c;
}

inline risk::RiskLimits loose_limits(const std::vector<std::string>& symbols) {
  risk::SymbolLimits d;
  d.max_position = 100000;
  d.max_order_notional = 100'000'000;
  d.max_order_shares = 100000;
  d.max_open_orders_per_symbol = 16;
  d.price_collar_bps = 1000;
  return risk::uniform_limits(symbols, d, 1'000'000, 64, 100000, 1000);
}

// ---- Engine <-> OUCH ----

using sim::encode_response;  // the gateway's own encoder (perf/sim/ouch_response_encoding.hpp)

// ---- The loop ----

struct LinkDelay {
  uint32_t max_messages = 0;  // each packet waits min..max feed messages (seeded), order kept
  uint64_t seed = 1;
  uint32_t min_messages = 0;
};

struct LoopOptions {
  uint64_t latency_ns = 0;           // deterministic mode: engine at as-of + L, stage responses at T + L
  LinkDelay to_engine, to_stage;     // delays of the two directions
  uint32_t heartbeat_every = 0;      // the gateway's heartbeat every N feed messages (0: none)
  sim::MatchingConfig matching;      // book capacity is taken from the day
  // The stage is handed a TX stage, as on one pipeline core (QuoteWiring::tx): it sends its orders
  // within its own step, through the loop's packet sink.
  bool stage_sends = false;
};

// One packet the stage sent (a message block or a re-request), as the loop saw it leave.
struct StagePacket {
  bool request = false;         // a 20-byte MoldUDP64 request for the gateway's messages
  bool retransmission = false;  // a message sequence already seen leaving once
  uint64_t sequence = 0;        // of the message (request: the first wanted)
  uint16_t count = 0;           // request: messages wanted
  uint64_t as_of = 0;
  const uint8_t* ouch = nullptr;  // the OUCH inbound message (not for a request)
  uint16_t ouch_length = 0;
  const uint8_t* packet = nullptr;  // the whole datagram
  size_t packet_length = 0;
  size_t feed_index = 0;        // feed messages processed when it left
};

// One order-entry request as the engine gets it.
struct EngineRequest {
  uint64_t sequence = 0;  // in the stage's session
  uint64_t as_of = 0;
  uint64_t now = 0;       // the engine time it was applied at
  char type = 0;          // 'O', 'U', 'X'
  std::vector<uint8_t> ouch;
};

class NullOrderSink final : public orders::OrderEventSink {
 public:
  void on_event(const orders::OrderEvent&) noexcept override { ++events; }
  uint64_t events = 0;
};

class TradingLoop {
 public:
  TradingLoop(const Day& day, risk::TradingConfig config, const LoopOptions& options)
      : day_(day),
        options_(options),
        book_(day.capacity),
        engine_(std::make_unique<sim::MatchingEngine>(matching_config(day, options))),
        tops_(std::make_unique<pipe::SpscRawRing>(sizeof(pipe::TopEvent), 256)),
        responses_(std::make_unique<pipe::SpscRawRing>(sizeof(pipe::OrderResponseEvent), 4096)),
        orders_(std::make_unique<pipe::SpscRawRing>(sizeof(pipe::TxEvent), 4096)),
        clock_(pipe::TscClock::with_rate(1.0)),
        gateway_sender_(mold::make_session("PMMSIM0001"), 1u << 16),
        gateway_receiver_(1'000'000, 1024),
        received_(mold::make_session(config.session.c_str()), 1u << 16),
        to_engine_rng_(options.to_engine.seed),
        to_stage_rng_(options.to_stage.seed) {
    config.response_latency_ns = options.latency_ns;
    symbols_ = config.symbols;
    slot_of_locate_.assign(day.capacity.max_locates, 0);
    for (size_t s = 0; s < symbols_.size(); ++s) {
      const auto it = std::find(day.symbols.begin(), day.symbols.end(), symbols_[s]);
      if (it == day.symbols.end()) throw std::invalid_argument("symbol not in the day: " + symbols_[s]);
      const size_t locate = static_cast<size_t>(it - day.symbols.begin()) + 1;
      slot_of_locate_.at(locate) = static_cast<uint8_t>(s + 1);
      locates_.push_back(static_cast<uint16_t>(locate));
    }
    account_ = sim::make_account(config.firm);
    pipeline_config_.symbols = symbols_;
    if (options.stage_sends)
      tx_ = std::make_unique<pipe::TxStage>(tx_sink_, tx_requests_, &orders_, 64, clock_);
    stage_ = std::make_unique<risk::TradingStage>(config, wiring(), sink_);
    login();
  }

  // The stage's session login (docs/order-entry.md, "Login"), with the links flushed: done before the
  // feed moves on, so when quoting starts does not depend on the links' delays.
  void login() {
    flush_ = true;
    for (int i = 0; i < 10000 && stage_->figures().login_state.get() < 2; ++i) round();
    flush_ = false;
  }

  // ---- Driving ----

  // Processes the next feed message and lets everything it causes settle. False at the end of the day.
  bool step() {
    if (index_ >= day_.size()) return false;
    const uint8_t* msg = day_.message(index_);
    const size_t len = day_.length(index_);
    const uint64_t ts = day_.timestamp(index_);
    ++index_;
    // The exchange: held requests due by this message's time go in just before it.
    exchange_ns_ = std::max(exchange_ns_, ts);
    release_held(exchange_ns_);
    engine_now_ = std::max(engine_now_, exchange_ns_);
    engine_->on_feed_message(msg, len, engine_now_);
    // The appliance's books, and the tops of the quoted symbols.
    book_.on_message(msg, len);
    for (const uint16_t locate : book_.changed_locates()) {
      if (locate >= slot_of_locate_.size() || slot_of_locate_[locate] == 0) continue;
      const book::TopOfBook t = book_.books().top(locate);
      pipe::TopEvent e;
      e.rx_tsc = pipe::read_tsc();
      e.sequence = index_;
      e.exchange_ns = ts;
      e.locate = locate;
      e.kind = pipe::TopKind::kTop;
      e.symbol_slot = slot_of_locate_[locate];
      e.bid_price = t.bid.price;
      e.bid_shares = static_cast<uint32_t>(std::min<uint64_t>(t.bid.shares, UINT32_MAX));
      e.ask_price = t.ask.price;
      e.ask_shares = static_cast<uint32_t>(std::min<uint64_t>(t.ask.shares, UINT32_MAX));
      push_top(e);
    }
    book_.clear_changes();
    if (msg[0] == 'H') {
      itch::StockTradingAction h;
      itch::decode(msg, h);
      if (h.h.locate < slot_of_locate_.size() && slot_of_locate_[h.h.locate] != 0)
        push_top(control_top(pipe::TopKind::kTradingState, slot_of_locate_[h.h.locate], h.trading_state, ts));
    }
    if (options_.heartbeat_every != 0 && index_ % options_.heartbeat_every == 0) send_gateway_heartbeat();
    pump();
    return true;
  }

  void run_to(size_t index) {
    while (index_ < index && step()) {
    }
  }
  void run_all() {
    while (step()) {
    }
  }

  // A TopEvent other than a top (feed stale/whole, end of session, a trading state) into the stage.
  void inject(pipe::TopKind kind, uint8_t symbol_slot = 0, char trading_state = ' ') {
    push_top(control_top(kind, symbol_slot, trading_state, exchange_ns_));
    pump();
  }

  // The feed is over: held requests go in (in due order), delayed packets are delivered.
  void finish_feed() {
    feed_ended_ = true;
    release_held(UINT64_MAX);
    flush_links();
  }
  // Everything delayed on either link goes now.
  void flush_links() {
    flush_ = true;
    pump();
    flush_ = false;
  }

  // Runs rounds until nothing moves. Returns the rounds run.
  size_t pump() {
    size_t rounds = 0;
    while (round() != 0) {
      if (++rounds > 200000) {
        ADD_FAILURE() << "the loop does not settle at feed message " << index_;
        break;
      }
    }
    return rounds;
  }

  // The gateway announces its next sequence number (reveals a lost last response).
  void send_gateway_heartbeat() {
    pipe::OrderResponseEvent e;
    e.kind = pipe::OrderEventKind::kHeartbeat;
    e.sequence = gateway_sender_.next_sequence();
    std::memcpy(e.session, gateway_sender_.session().data(), sizeof e.session);
    to_stage(e);
  }

  // A crash of the appliance (tests/trading/test_recovery_in_loop.cpp): the stage and whatever sat in
  // its rings (tops, responses not yet read, packets not yet sent) are gone; `make` builds the new stage
  // on the same wiring (e.g. restored from recovered state). The engine, the gateway's session and the
  // links keep going.
  using StageMaker =
      std::function<std::unique_ptr<risk::TradingStage>(const pipe::QuoteWiring&, orders::OrderEventSink&)>;
  void replace_stage(const StageMaker& make) {
    pipe::TopEvent t[64];
    while (tops_.pop_burst(t, 64) != 0) {
    }
    pipe::OrderResponseEvent r[64];
    while (responses_.pop_burst(r, 64) != 0) {
    }
    pipe::TxEvent x[64];
    while (orders_.pop_burst(x, 64) != 0) {
    }
    stage_.reset();
    stage_ = make(wiring(), sink_);
    login();
  }

  // ---- Hooks ----
  std::function<void(const StagePacket&)> on_stage_packet;        // every packet the stage sends
  std::function<bool(const StagePacket&)> drop_stage_packet;      // true: lost on the way
  std::function<bool(uint64_t sequence)> drop_response;           // the gateway's message, first sending
  std::function<void(const EngineRequest&, const sim::MatchingEngine&)> before_engine_request;

  // ---- State ----
  risk::TradingStage& stage() noexcept { return *stage_; }
  const risk::TradingStage& stage() const noexcept { return *stage_; }
  const sim::MatchingEngine& engine() const noexcept { return *engine_; }
  const BookBuilder& book() const noexcept { return book_; }
  const sim::Account& account() const noexcept { return account_; }
  const std::vector<std::string>& symbols() const noexcept { return symbols_; }
  uint16_t locate_of(size_t symbol) const noexcept { return locates_[symbol]; }
  int symbol_of_locate(uint16_t locate) const noexcept {
    return locate < slot_of_locate_.size() ? int{slot_of_locate_[locate]} - 1 : -1;
  }
  size_t index() const noexcept { return index_; }
  uint64_t exchange_ns() const noexcept { return exchange_ns_; }
  const std::vector<EngineRequest>& engine_requests() const noexcept { return engine_requests_; }
  const orders::SessionReceiver& gateway_receiver() const noexcept { return gateway_receiver_; }
  const orders::SessionSender& gateway_sender() const noexcept { return gateway_sender_; }
  uint64_t late_orders() const noexcept { return late_orders_; }  // requests the feed had passed
  uint64_t stage_requests() const noexcept { return stage_requests_; }  // re-requests (logins not counted)
  uint64_t login_requests() const noexcept { return login_requests_; }
  uint64_t stage_heartbeats() const noexcept { return stage_heartbeats_; }
  uint64_t login_echoes() const noexcept { return login_echoes_; }
  uint64_t gateway_requests() const noexcept { return gateway_requests_; }
  uint64_t dropped_stage_packets() const noexcept { return dropped_stage_; }
  uint64_t dropped_responses() const noexcept { return dropped_responses_; }
  size_t held_requests() const noexcept { return held_.size(); }
  bool links_empty() const noexcept { return engine_link_.empty() && stage_link_.empty(); }

  // The engine's positions of our account by configured symbol (0 when none).
  std::vector<int64_t> engine_positions() const {
    std::vector<int64_t> out(symbols_.size(), 0);
    for (const sim::PositionView& p : engine_->positions(account_)) {
      const int s = symbol_of_locate(p.locate);
      if (s >= 0) out[static_cast<size_t>(s)] = p.shares;
    }
    return out;
  }
  // Open orders as (token, side, price, open shares), sorted: the engine's for our account, and the
  // stage's tracker's live orders.
  struct OpenOrder {
    std::string token;
    char side = ' ';
    uint32_t price = 0;
    uint32_t open = 0;
    uint16_t locate = 0;
    bool operator==(const OpenOrder&) const = default;
    bool operator<(const OpenOrder& o) const { return token < o.token; }
  };
  std::vector<OpenOrder> engine_open_orders() const {
    std::vector<OpenOrder> out;
    for (const sim::OpenOrderView& o : engine_->open_orders(account_))
      out.push_back({std::string(o.token.data(), o.token.size()), o.side == 'B' ? 'B' : 'S', o.price, o.open_shares,
                     o.locate});
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<OpenOrder> stage_open_orders() const {
    std::vector<OpenOrder> out;
    const orders::OrderTracker& t = stage_->tracker();
    for (uint32_t i = 0; i < t.config().max_open_orders; ++i) {
      const orders::OrderRecord& r = t.slot(i);
      if (!orders::is_live(r.state)) continue;
      out.push_back({std::string(r.token.view()), r.side == orders::Side::kBuy ? 'B' : 'S', r.price, r.open,
                     locates_[r.symbol]});
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<int64_t> stage_positions() const {
    std::vector<int64_t> out(symbols_.size(), 0);
    for (size_t s = 0; s < symbols_.size(); ++s)
      out[s] = stage_->tracker().positions().position(static_cast<uint32_t>(s)).shares;
    return out;
  }

 private:
  // The stage's packets when it sends them itself (LoopOptions::stage_sends): the same path as popped.
  class LoopTxSink final : public pipe::PacketSink {
   public:
    explicit LoopTxSink(TradingLoop& loop) : loop_(loop) {}
    uint32_t send_burst(const pipe::TxEvent* d, uint32_t n) noexcept override {
      for (uint32_t i = 0; i < n; ++i) loop_.from_stage(d[i]);
      return n;
    }

   private:
    TradingLoop& loop_;
  };

  pipe::QuoteWiring wiring() {
    pipe::QuoteWiring w{pipeline_config_, tops_, responses_, orders_, clock_};
    w.tx = tx_.get();
    return w;
  }

  struct Held {
    uint64_t due = 0;
    EngineRequest request;
  };
  struct ToEngine {
    uint64_t release = 0;
    std::vector<uint8_t> packet;
  };
  struct ToStage {
    uint64_t release = 0;
    pipe::OrderResponseEvent event;
  };

  static sim::MatchingConfig matching_config(const Day& day, const LoopOptions& o) {
    sim::MatchingConfig c = o.matching;
    c.book = day.capacity;
    c.max_accounts = 4;
    c.max_open_orders = 4096;
    c.max_day_tokens = 1u << 20;
    c.max_positions = 256;
    c.max_queued_responses = 1u << 16;
    return c;
  }

  static pipe::TopEvent control_top(pipe::TopKind kind, uint8_t slot, char state, uint64_t ts) {
    pipe::TopEvent e;
    e.rx_tsc = pipe::read_tsc();
    e.exchange_ns = ts;
    e.kind = kind;
    e.symbol_slot = slot;
    e.trading_state = state;
    return e;
  }

  void push_top(const pipe::TopEvent& e) {
    // The stage drains its tops every round: make room rather than lose one.
    while (tops_.push_burst(&e, 1) != 1) round();
  }

  uint64_t release_at(std::mt19937_64& rng, const LinkDelay& d, uint64_t& last) {
    assert(d.min_messages <= d.max_messages);
    const uint64_t spread = d.max_messages - d.min_messages;
    uint64_t r = index_ + d.min_messages + (spread == 0 ? 0 : rng() % (spread + 1));
    r = std::max(r, last);
    last = r;
    return r;
  }

  // One pass over every queue. Returns how much moved.
  size_t round() {
    size_t moved = stage_->run_once();
    gateway_now_ += 1000;  // the gateway's clock: 1 us a round
    // The stage's packets onto the link to the exchange.
    pipe::TxEvent tx[64];
    while (const uint32_t n = orders_.pop_burst(tx, 64)) {
      moved += n;
      for (uint32_t i = 0; i < n; ++i) from_stage(tx[i]);
    }
    // Due packets off the link into the gateway.
    while (!engine_link_.empty() && (flush_ || engine_link_.front().release <= index_)) {
      const std::vector<uint8_t> p = std::move(engine_link_.front().packet);
      engine_link_.pop_front();
      gateway_receive(p.data(), p.size());
      ++moved;
    }
    if (mold::Request r; gateway_receiver_.poll(gateway_now_, r)) {
      ++gateway_requests_;
      pipe::OrderResponseEvent e;
      e.kind = pipe::OrderEventKind::kRequest;
      e.sequence = r.sequence;
      e.length = r.count;
      std::memcpy(e.session, r.session.data(), sizeof e.session);
      to_stage(e);
      ++moved;
    }
    // The engine's answers onto the gateway's session.
    sim::Response rs[64];
    while (const size_t n = engine_->poll(feed_ended_ ? UINT64_MAX : engine_now_, rs, 64)) {
      moved += n;
      for (size_t i = 0; i < n; ++i) send_response(rs[i]);
    }
    // Due events off the link into the stage's ring.
    while (!stage_link_.empty() && (flush_ || stage_link_.front().release <= index_)) {
      pipe::OrderResponseEvent e = stage_link_.front().event;
      e.rx_tsc = pipe::read_tsc();
      if (responses_.push_burst(&e, 1) != 1) break;  // full: the stage drains it next round
      stage_link_.pop_front();
      ++moved;
    }
    return moved;
  }

  void from_stage(const pipe::TxEvent& tx) {
    if (mold::Request r; ouch::classify_datagram(tx.payload, tx.length) == ouch::DatagramKind::kRequest &&
                         mold::parse_request(tx.payload, tx.length, r) && r.session != gateway_sender_.session()) {
      ++login_requests_;  // a login: not one of the packets the hooks see
      ToEngine t;
      t.release = release_at(to_engine_rng_, options_.to_engine, engine_last_release_);
      t.packet.assign(tx.payload, tx.payload + tx.length);
      engine_link_.push_back(std::move(t));
      return;
    }
    if (mold::DownstreamPacket hb; ouch::classify_datagram(tx.payload, tx.length) != ouch::DatagramKind::kRequest &&
                                   mold::parse_downstream(tx.payload, tx.length, hb) == mold::ParseError::kNone &&
                                   hb.is_heartbeat()) {
      // The stage's idle heartbeat (wall-clock driven, so it appears only when a slow machine makes the
      // stage quiet long enough): the gateway takes it as any heartbeat; it is not an order packet and
      // draws no link delay, so the order stream stays the same whether or not one appears.
      ++stage_heartbeats_;
      ToEngine t;
      t.release = engine_last_release_;
      t.packet.assign(tx.payload, tx.payload + tx.length);
      engine_link_.push_back(std::move(t));
      return;
    }
    StagePacket sp;
    sp.feed_index = index_;
    sp.packet = tx.payload;
    sp.packet_length = tx.length;
    if (ouch::classify_datagram(tx.payload, tx.length) == ouch::DatagramKind::kRequest) {
      mold::Request r;
      EXPECT_TRUE(mold::parse_request(tx.payload, tx.length, r));
      sp.request = true;
      sp.sequence = r.sequence;
      sp.count = r.count;
      ++stage_requests_;
    } else {
      mold::DownstreamPacket pkt;
      EXPECT_EQ(mold::parse_downstream(tx.payload, tx.length, pkt), mold::ParseError::kNone);
      EXPECT_EQ(pkt.header.count, 1u) << "one message per packet";
      pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t n) {
        EXPECT_GT(n, kAsOfSize);
        sp.sequence = seq;
        sp.as_of = load_be64(m);
        sp.ouch = m + kAsOfSize;
        sp.ouch_length = static_cast<uint16_t>(n - kAsOfSize);
      });
      sp.retransmission = sp.sequence < stage_next_seen_;
      stage_next_seen_ = std::max(stage_next_seen_, sp.sequence + 1);
    }
    if (on_stage_packet) on_stage_packet(sp);
    if (!sp.retransmission && drop_stage_packet && drop_stage_packet(sp)) {
      ++dropped_stage_;
      return;
    }
    ToEngine t;
    t.release = release_at(to_engine_rng_, options_.to_engine, engine_last_release_);
    t.packet.assign(tx.payload, tx.payload + tx.length);
    engine_link_.push_back(std::move(t));
  }

  void to_stage(const pipe::OrderResponseEvent& e) {
    ToStage t;
    t.release = release_at(to_stage_rng_, options_.to_stage, stage_last_release_);
    t.event = e;
    stage_link_.push_back(t);
  }

  // ---- The gateway side ----

  void gateway_receive(const uint8_t* p, size_t len) {
    if (ouch::classify_datagram(p, len) == ouch::DatagramKind::kRequest) {
      mold::Request r;
      ASSERT_TRUE(mold::parse_request(p, len, r));
      if (r.session != gateway_sender_.session()) return answer_login(r);
      for (uint64_t s = r.sequence; s < r.sequence + r.count && s < gateway_sender_.next_sequence(); ++s) {
        uint8_t packet[pipe::kTxPayloadCapacity];
        const size_t n = gateway_sender_.retransmit(s, packet, sizeof packet);
        EXPECT_NE(n, 0u) << "gateway message " << s << " no longer in the history";
        if (n != 0) to_stage_packet(packet, n);
      }
      return;
    }
    mold::DownstreamPacket pkt;
    ASSERT_EQ(mold::parse_downstream(p, len, pkt), mold::ParseError::kNone);
    char session[10];
    std::memcpy(session, pkt.header.session.data(), sizeof session);
    if (pkt.is_heartbeat() || pkt.is_end_of_session()) {
      gateway_receiver_.on_heartbeat(session, pkt.header.sequence, gateway_now_);
      return;
    }
    pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t n) {
      if (gateway_receiver_.on_message(session, seq, gateway_now_) != orders::SessionReceiver::Verdict::kDeliver)
        return;
      received_.adopt(seq, m, n);
      on_client_message(seq, m, n);
    });
  }

  // The login (as perf/sim/order_gateway.cpp answers it): the stage's messages from r.sequence we
  // received, a heartbeat under its session with our next expected, our own heartbeat.
  void answer_login(const mold::Request& r) {
    EXPECT_EQ(r.session, received_.session());
    const uint64_t expected = gateway_receiver_.expected();
    for (uint64_t s = r.sequence; s < expected && s - r.sequence < r.count; ++s) {
      uint8_t packet[pipe::kTxPayloadCapacity];
      const size_t n = received_.retransmit(s, packet, sizeof packet);
      EXPECT_NE(n, 0u) << "stage message " << s << " no longer kept";
      if (n == 0) break;
      ++login_echoes_;
      to_stage_packet(packet, n);
    }
    pipe::OrderResponseEvent e;
    e.kind = pipe::OrderEventKind::kHeartbeat;
    e.sequence = expected;
    std::memcpy(e.session, r.session.data(), sizeof e.session);
    to_stage(e);
    send_gateway_heartbeat();
  }

  // A gateway packet (one message) as the stage's parse stage would hand it over.
  void to_stage_packet(const uint8_t* packet, size_t len) {
    mold::DownstreamPacket pkt;
    ASSERT_EQ(mold::parse_downstream(packet, len, pkt), mold::ParseError::kNone);
    pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t n) {
      pipe::OrderResponseEvent e;
      e.kind = pipe::OrderEventKind::kMessage;
      e.sequence = seq;
      e.length = n;
      std::memcpy(e.session, pkt.header.session.data(), sizeof e.session);
      std::memcpy(e.message, m, n);
      to_stage(e);
    });
  }

  void on_client_message(uint64_t seq, const uint8_t* m, uint16_t n) {
    ASSERT_GT(n, kAsOfSize);
    Held h;
    h.request.sequence = seq;
    h.request.as_of = load_be64(m);
    h.request.type = static_cast<char>(m[kAsOfSize]);
    h.request.ouch.assign(m + kAsOfSize, m + n);
    if (options_.latency_ns == 0) return apply(h.request, engine_now_);
    h.due = h.request.as_of + options_.latency_ns;
    if (h.due <= exchange_ns_) {  // the feed already passed the request's time
      ++late_orders_;
      return apply(h.request, engine_now_);
    }
    if (feed_ended_) return apply(h.request, h.due);
    // As-of times never decrease on one session: the queue stays in due order.
    EXPECT_TRUE(held_.empty() || held_.back().due <= h.due);
    held_.push_back(std::move(h));
  }

  void release_held(uint64_t until) {
    while (!held_.empty() && held_.front().due <= until) {
      Held h = std::move(held_.front());
      held_.pop_front();
      apply(h.request, h.due);
    }
  }

  struct InboundHandler : ouch::IgnoreInbound {
    using ouch::IgnoreInbound::on;
    TradingLoop& loop;
    uint64_t now;
    explicit InboundHandler(TradingLoop& l, uint64_t t) : loop(l), now(t) {}
    void on(const ouch::EnterOrder& m) noexcept {
      loop.engine_->enter(sim::enter_request(m), now);
    }
    void on(const ouch::ReplaceOrder& m) noexcept {
      loop.engine_->replace(sim::replace_request(m, loop.account_), now);
    }
    void on(const ouch::CancelOrder& m) noexcept {
      loop.engine_->cancel(sim::cancel_request(m, loop.account_), now);
    }
  };

  void apply(EngineRequest r, uint64_t now) {
    engine_now_ = std::max(engine_now_, now);
    r.now = engine_now_;
    if (before_engine_request) before_engine_request(r, *engine_);
    InboundHandler h(*this, engine_now_);
    const ouch::DecodeResult d = ouch::dispatch_inbound(r.ouch.data(), r.ouch.size(), h);
    EXPECT_EQ(d.status, ouch::DecodeStatus::kOk) << "stage message " << r.sequence;
    engine_requests_.push_back(std::move(r));
  }

  void send_response(const sim::Response& r) {
    EXPECT_EQ(r.account, account_);
    uint8_t m[ouch::kMaxMessageLength];
    const size_t n = encode_response(r, m);
    ASSERT_NE(n, 0u);
    uint8_t packet[pipe::kTxPayloadCapacity];
    const uint64_t seq = gateway_sender_.next_sequence();
    const size_t len = gateway_sender_.send(m, static_cast<uint16_t>(n), packet, sizeof packet);
    ASSERT_NE(len, 0u);
    if (drop_response && drop_response(seq)) {
      ++dropped_responses_;
      return;
    }
    to_stage_packet(packet, len);
  }

  const Day& day_;
  LoopOptions options_;
  BookBuilder book_;
  std::unique_ptr<sim::MatchingEngine> engine_;
  pipe::EventRing<pipe::TopEvent> tops_;
  pipe::EventRing<pipe::OrderResponseEvent> responses_;
  pipe::EventRing<pipe::TxEvent> orders_;
  pipe::TscClock clock_;
  pipe::PipelineConfig pipeline_config_;
  NullOrderSink sink_;
  LoopTxSink tx_sink_{*this};
  pipe::EventRing<pipe::TxEvent> tx_requests_{std::make_unique<pipe::SpscRawRing>(sizeof(pipe::TxEvent), 16)};
  std::unique_ptr<pipe::TxStage> tx_;  // LoopOptions::stage_sends
  std::unique_ptr<risk::TradingStage> stage_;
  std::vector<std::string> symbols_;
  std::vector<uint16_t> locates_;
  std::vector<uint8_t> slot_of_locate_;
  sim::Account account_{};

  orders::SessionSender gateway_sender_;
  orders::SessionReceiver gateway_receiver_;
  orders::SessionSender received_;  // the stage's messages as delivered (its session, its numbers): logins echo them
  std::deque<ToEngine> engine_link_;
  std::deque<ToStage> stage_link_;
  std::deque<Held> held_;
  std::vector<EngineRequest> engine_requests_;
  std::mt19937_64 to_engine_rng_, to_stage_rng_;
  uint64_t engine_last_release_ = 0, stage_last_release_ = 0;

  size_t index_ = 0;
  uint64_t exchange_ns_ = 0;  // latest feed timestamp
  uint64_t engine_now_ = 0;   // the latest time handed to the engine
  uint64_t gateway_now_ = 0;
  uint64_t stage_next_seen_ = 1;
  bool feed_ended_ = false;
  bool flush_ = false;
  uint64_t late_orders_ = 0, stage_requests_ = 0, gateway_requests_ = 0, dropped_stage_ = 0,
           dropped_responses_ = 0, login_requests_ = 0, login_echoes_ = 0,
           stage_heartbeats_ = 0;
};

}  // namespace pmm::trading_test
