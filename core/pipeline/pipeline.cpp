#include "core/pipeline/pipeline.hpp"

#include <cinttypes>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "core/pipeline/net_address.hpp"

namespace pmm::pipe {

void run_core_loop(const std::vector<Stage*>& stages, const RunControl& control) noexcept {
  while (!control.stopped()) {
    for (Stage* s : stages) s->run_once();
  }
}

namespace {

// Index of the core list that runs `stage` (validate() checked there is exactly one).
size_t core_of(const PipelineConfig& c, const std::string& stage) {
  for (size_t i = 0; i < c.cores.size(); ++i)
    for (const std::string& s : c.cores[i].stages)
      if (s == stage) return i;
  throw std::logic_error("stage " + stage + " on no core (validate() should have said so)");
}

int cpu_of(const PipelineConfig& c, const std::string& stage) {
  for (const CoreAssignment& a : c.cores)
    for (const std::string& s : a.stages)
      if (s == stage) return a.cpu;
  throw std::logic_error("stage " + stage + " on no core (validate() should have said so)");
}

template <class T>
std::unique_ptr<EventRing<T>> make_ring(RingFactory& f, const char* name, uint32_t capacity) {
  return std::make_unique<EventRing<T>>(f.make(name, sizeof(T), capacity, -1));
}

}  // namespace

Pipeline::Pipeline(const PipelineConfig& config, PacketSource& source, PacketSink& sink, RingFactory& rings,
                   const TscClock& clock, const std::function<void(int cpu)>& before_core,
                   const QuoteStageFactory& quote_factory)
    : cfg_(config) {
  if (std::string e = validate(config); !e.empty()) throw std::invalid_argument("config: " + e);
  const auto place = [&](const char* stage) {
    if (before_core) before_core(cpu_of(config, stage));
  };
  // Each ring lives with its consumer: the consumer's reads are the latency path.
  place("parse");
  rx_ring_ = make_ring<RxPacket>(rings, "pmm_rx", config.ring_size);
  place("book");
  md_ring_ = make_ring<MdEvent>(rings, "pmm_md", config.ring_size);
  place("quote");
  top_ring_ = make_ring<TopEvent>(rings, "pmm_top", config.ring_size);
  response_ring_ = make_ring<OrderResponseEvent>(rings, "pmm_ordrsp", config.ring_size);
  place("tx");
  tx_ring_ = make_ring<TxEvent>(rings, "pmm_tx", config.ring_size);
  order_ring_ = make_ring<TxEvent>(rings, "pmm_ordtx", config.ring_size);

  place("rx");
  rx_ = std::make_unique<RxStage>(source, *rx_ring_, config.burst, control_);
  ParseConfig pc;
  pc.feed_port = config.feed_port;
  pc.retrans_port = config.retrans_port;
  pc.order_port = config.order_port;
  if (!config.local_ip.empty() && !parse_ipv4(config.local_ip, pc.local_ip))
    throw std::invalid_argument("config: network.local_ip: expected a dotted IPv4 address, got \"" + config.local_ip + "\"");
  pc.burst = config.burst;
  pc.staging_events = std::max<uint32_t>(2048, config.burst * 64);
  pc.sequencer.window_messages = config.window_messages;
  pc.sequencer.session = config.feed_session;
  pc.sequencer.retry_ticks = clock.from_ns(uint64_t{config.retry_ms} * 1'000'000);
  pc.sequencer.max_retries = config.max_retries;
  pc.sequencer.max_request_messages = config.max_request_messages;
  place("parse");
  parse_ = std::make_unique<ParseStage>(pc, source, *rx_ring_, *md_ring_, *tx_ring_, response_ring_.get(), clock);
  BookStageConfig bc;
  bc.capacity = config.books;
  bc.burst = config.burst * 2;
  bc.watched_symbols = config.symbols;
  place("book");
  book_ = std::make_unique<BookStage>(bc, *md_ring_, *top_ring_, clock);
  // TX before quote: a quote stage on TX's core is handed the TX stage to send its orders at once.
  place("tx");
  tx_ = std::make_unique<TxStage>(sink, *tx_ring_, order_ring_.get(), config.burst, clock);
  place("quote");
  if (quote_factory) {
    QuoteWiring w{config, *top_ring_, *response_ring_, *order_ring_, clock};
    if (core_of(config, "quote") == core_of(config, "tx")) w.tx = tx_.get();
    quote_ = quote_factory(w);
    if (!quote_) throw std::logic_error("the quote stage factory returned nothing");
  } else {
    quote_ = std::make_unique<QuoteStage>(*top_ring_, response_ring_.get(), config.burst * 2, clock);
  }

  for (const CoreAssignment& a : config.cores) {
    std::vector<Stage*> list;
    for (const std::string& s : a.stages) {
      if (s == "rx") list.push_back(rx_.get());
      else if (s == "parse") list.push_back(parse_.get());
      else if (s == "book") list.push_back(book_.get());
      else if (s == "quote") list.push_back(quote_.get());
      else if (s == "tx") list.push_back(tx_.get());
    }
    core_stages_.push_back(std::move(list));
  }
}

bool Pipeline::quiescent() const noexcept {
  return rx_ring_->size() == 0 && md_ring_->size() == 0 && top_ring_->size() == 0 && tx_ring_->size() == 0 &&
         response_ring_->size() == 0 && order_ring_->size() == 0 && rx_->idle() && parse_->idle() && book_->idle() && quote_->idle() && tx_->idle();
}

bool Pipeline::unwind(uint64_t deadline_ms) {
  quote_->request_unwind();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  while (!quote_->unwound()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool Pipeline::drain_and_stop(uint64_t deadline_ms) {
  int expected = RunControl::kRunning;
  control_.phase.compare_exchange_strong(expected, RunControl::kDraining);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  // Quiet three times in a row, 1 ms apart: a stage between popping and pushing is not mistaken for idle.
  int quiet = 0;
  bool clean = false;
  while (std::chrono::steady_clock::now() < deadline) {
    quiet = quiescent() ? quiet + 1 : 0;
    if (quiet >= 3) {
      clean = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  control_.phase.store(RunControl::kStopped, std::memory_order_relaxed);
  return clean;
}

PipelineSnapshot Pipeline::snapshot() const {
  PipelineSnapshot s;
  const RxCounters& rx = rx_->counters();
  s.rx_packets = rx.packets.get();
    s.rx_ring_full = rx.ring_full.get();
  const ParseCounters& p = parse_->counters();
  s.feed_packets = p.feed_packets.get();
  s.retrans_packets = p.retrans_packets.get();
  s.bad_frames = p.bad_frames.get();
  s.wrong_port = p.wrong_port.get();
  s.wrong_address = p.wrong_address.get();
  s.malformed_mold = p.malformed_mold.get();
  s.wrong_session = p.wrong_session.get();
  s.unknown_type = p.unknown_type.get();
  s.bad_length = p.bad_length.get();
  s.messages = p.delivered.get();
  s.gaps = p.gaps.get();
  s.gaps_filled = p.gaps_filled.get();
  s.gaps_unrecovered = p.gaps_unrecovered.get();
  s.messages_lost = p.messages_lost.get();
  s.requests = p.requests_sent.get();
  s.duplicates = p.duplicates.get();
  s.window_overflow = p.window_overflow.get();
  s.held = p.held.get();
  s.parse_ring_full = p.ring_full.get();
  const BookCounters& b = book_->counters();
  s.applied = b.messages.get();
  s.live_orders = b.live_orders.get();
  s.capacity_rejects = b.capacity_rejects.get();
  s.book_ring_full = b.ring_full.get();
  s.stale = b.stale.get() != 0;
  s.top_events = quote_->top_events();
  s.end_of_session = quote_->end_of_session();
  s.tx_sent = tx_->counters().sent.get();
  s.tx_failed = tx_->counters().send_failed.get();
  s.order_packets = p.order_packets.get();
  s.malformed_order = p.malformed_order.get();
  s.order_ring_full = p.order_ring_full.get();
  s.orders_sent = tx_->counters().orders_sent.get();
  s.orders_failed = tx_->counters().orders_failed.get();
  s.ring_fill = {rx_ring_->size(), md_ring_->size(), top_ring_->size(), tx_ring_->size(), response_ring_->size(),
                 order_ring_->size()};
  s.ring_capacity = {rx_ring_->capacity(), md_ring_->capacity(), top_ring_->capacity(), tx_ring_->capacity(),
                     response_ring_->capacity(), order_ring_->capacity()};
  s.parse_latency = parse_->latency().snapshot();
  s.book_latency = book_->latency().snapshot();
  s.quote_latency = quote_->latency().snapshot();
  s.tick_to_trade = tx_->tick_to_trade().snapshot();
  return s;
}

namespace {

std::string human_rate(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string price_text(book::Price p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%04u", p / 10000, p % 10000);
  return buf;
}

std::string percentiles(const LatencySnapshot& s) {
  if (s.total == 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%" PRIu64 "/%" PRIu64 "/%" PRIu64, s.percentile(0.5), s.percentile(0.99),
                s.percentile(0.9999));
  return buf;
}

}  // namespace

std::string Pipeline::status_line(const PipelineSnapshot& now, const PipelineSnapshot& prev, double seconds) const {
  if (seconds <= 0) seconds = 1;
  std::string line;
  char buf[256];
  std::snprintf(buf, sizeof buf, "feed %s msg/s %s pkt/s | msgs %" PRIu64 " gaps %" PRIu64 " filled %" PRIu64
                " lost %" PRIu64 "%s | orders %" PRIu64,
                human_rate(static_cast<double>(now.messages - prev.messages) / seconds).c_str(),
                human_rate(static_cast<double>(now.rx_packets - prev.rx_packets) / seconds).c_str(), now.messages,
                now.gaps, now.gaps_filled, now.messages_lost, now.stale ? " STALE" : "", now.live_orders);
  line += buf;
  line += " |";
  for (size_t i = 0; i < book_->watched_symbols().size(); ++i) {
    book::TopOfBook t;
    line += " " + book_->watched_symbols()[i] + " ";
    if (!book_->watched(i).read(t)) {
      line += "-";
      continue;
    }
    line += (t.bid.shares ? std::to_string(t.bid.shares) + "@" + price_text(t.bid.price) : std::string("-")) + "/" +
            (t.ask.shares ? std::to_string(t.ask.shares) + "@" + price_text(t.ask.price) : std::string("-"));
  }
  line += quote_->status_text();
  std::snprintf(buf, sizeof buf, " | rings rx %u md %u top %u tx %u /%u full %" PRIu64 "/%" PRIu64 "/%" PRIu64, now.ring_fill[0],
                now.ring_fill[1], now.ring_fill[2], now.ring_fill[3], now.ring_capacity[0], now.rx_ring_full - prev.rx_ring_full,
                now.parse_ring_full - prev.parse_ring_full, now.book_ring_full - prev.book_ring_full);
  line += buf;
  line += " | ns p50/p99/p99.99 parse " + percentiles(now.parse_latency.since(prev.parse_latency)) + " book " +
          percentiles(now.book_latency.since(prev.book_latency)) + " quote " +
          percentiles(now.quote_latency.since(prev.quote_latency));
  if (now.tick_to_trade.total != 0)
    line += " tick-to-trade " + percentiles(now.tick_to_trade.since(prev.tick_to_trade));
  return line;
}

std::string Pipeline::summary_json(const std::string& backend) const {
  const PipelineSnapshot s = snapshot();
  const BookBuilder& b = book_->builder();
  std::string j = "{\n";
  char buf[256];
  j += "  \"backend\": \"" + backend + "\",\n";
  std::snprintf(buf, sizeof buf, "  \"digest\": \"0x%016" PRIx64 "\",\n", b.books().digest());
  j += buf;
  const auto field = [&](const char* k, uint64_t v, bool last = false) {
    std::snprintf(buf, sizeof buf, "  \"%s\": %" PRIu64 "%s\n", k, v, last ? "" : ",");
    j += buf;
  };
  field("live_orders", b.books().live_orders());
  field("live_levels", b.books().live_levels());
  field("messages", s.messages);
  field("applied", s.applied);
  field("rx_packets", s.rx_packets);
  field("rx_ring_full", s.rx_ring_full);
  field("feed_packets", s.feed_packets);
  field("retrans_packets", s.retrans_packets);
  field("bad_frames", s.bad_frames);
  field("wrong_address", s.wrong_address);
  field("wrong_port", s.wrong_port);
  field("malformed_packets", s.malformed_mold);
  field("wrong_session", s.wrong_session);
  field("unknown_type", s.unknown_type);
  field("bad_length", s.bad_length);
  field("duplicates", s.duplicates);
  field("gaps", s.gaps);
  field("gaps_filled", s.gaps_filled);
  field("gaps_unrecovered", s.gaps_unrecovered);
  field("messages_lost", s.messages_lost);
  field("window_overflow", s.window_overflow);
  field("requests", s.requests);
  field("top_events", s.top_events);
  field("capacity_rejects", s.capacity_rejects);
  field("stale", s.stale ? 1 : 0);
  field("end_of_session", s.end_of_session ? 1 : 0);
  j += "  \"by_type\": {";
  const auto& types = parse_->sequencer().by_type();
  bool first = true;
  for (int t = 0; t < 256; ++t) {
    if (types[static_cast<size_t>(t)] == 0) continue;
    if (t >= 0x21 && t < 0x7f && t != '"' && t != '\\')
      std::snprintf(buf, sizeof buf, "%s\"%c\": %" PRIu64, first ? "" : ", ", t, types[static_cast<size_t>(t)]);
    else
      std::snprintf(buf, sizeof buf, "%s\"0x%02x\": %" PRIu64, first ? "" : ", ", t, types[static_cast<size_t>(t)]);
    j += buf;
    first = false;
  }
  j += "},\n";
  std::snprintf(buf, sizeof buf, "  \"latency_ns\": {\"parse_p50\": %" PRIu64 ", \"parse_p99\": %" PRIu64
                ", \"book_p50\": %" PRIu64 ", \"book_p99\": %" PRIu64 ", \"book_p9999\": %" PRIu64 "},\n",
                s.parse_latency.percentile(0.5), s.parse_latency.percentile(0.99), s.book_latency.percentile(0.5),
                s.book_latency.percentile(0.99), s.book_latency.percentile(0.9999));
  j += buf;
  std::snprintf(buf, sizeof buf, "  \"tick_to_trade_ns\": {\"count\": %" PRIu64 ", \"p50\": %" PRIu64
                ", \"p99\": %" PRIu64 ", \"p9999\": %" PRIu64 "},\n", s.tick_to_trade.total,
                s.tick_to_trade.percentile(0.5), s.tick_to_trade.percentile(0.99), s.tick_to_trade.percentile(0.9999));
  j += buf;
  j += quote_->summary_members();
  field("order_packets", s.order_packets);
  field("malformed_order_packets", s.malformed_order);
  field("order_ring_full", s.order_ring_full);
  field("order_datagrams_sent", s.orders_sent);  // orders, re-requests, retransmissions, heartbeats
  field("order_datagrams_failed", s.orders_failed);
  field("tx_sent", s.tx_sent);
  field("tx_failed", s.tx_failed, true);
  j += "}\n";
  return j;
}

}  // namespace pmm::pipe
