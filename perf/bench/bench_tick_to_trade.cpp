// Tick-to-trade of the whole appliance on the DPDK backend, without a NIC, in a closed loop: the
// appliance's own Pipeline with the trading stage (strategy -> pre-trade risk -> order tracker -> OUCH,
// built by dpdk-app/trading_setup as pinnaclemm builds it) runs every stage on one worker lcore over a
// net_ring port, while the main lcore is the outside world:
//   feed      a generated day framed as Ethernet/IPv4/UDP/MoldUDP64 (--packet-messages per packet),
//             injected into net_ring's RX ring at --rate messages/s, paced on the TSC;
//   exchange  the order datagrams the pipeline sends (net_ring's TX queue is pointed at a ring of our
//             own, so they do not loop back into RX) go to the simulator's MatchingEngine behind an
//             in-process OUCH/MoldUDP64 gateway (SessionReceiver in, SessionSender out, the engine fed
//             the quoted symbols' messages as they are injected); its responses are framed to the
//             order port and injected into RX, so fills come back and move positions.
// Reports tick-to-trade (the TX stage's histogram: RX timestamp of the packet behind an order -> its
// burst handed to the backend), RX -> book, orders, fills and risk rejects (docs/performance.md).
//
// Persistence (--persistence): the stage journals through the appliance's TradingPersistence (journal
// ring -> journal thread, unpinned, so on the main lcore's CPU). With --snapshot-every-ms N the run has
// two phases over the same feed: journal without snapshots, then journal with a snapshot every N ms;
// the ratio of their p99s is issue 5's "data plane unchanged while snapshots are taken". Each phase
// also prints where CPU time went that could explain a difference: the injector's lag, the data-plane
// lcore's involuntary context switches and the kernel's time on its CPU (/proc), and the journal
// thread's snapshot captures. --pause-when-late makes a late injector shift its schedule instead of
// bursting the backlog (docs/performance.md, "Snapshots and the data plane's p99").
//
// Needs root (EAL), no hugepages: --no-huge -m 2048. Exit 77 (skipped) when not root.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cassert>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/byte_order.hpp"
#include "core/moldudp64.hpp"
#include "core/order_session_framing.hpp"
#include "core/orders/order_session.hpp"
#include "core/ouch42.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/udp_frame.hpp"
#include "dpdk-app/dpdk_backend.hpp"
#include "dpdk-app/trading_persistence.hpp"
#include "dpdk-app/trading_setup.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"
#include "perf/sim/matching_engine.hpp"
#include "perf/sim/ouch_request_decoding.hpp"
#include "perf/sim/ouch_response_encoding.hpp"
#include "persistence/persistence_config.hpp"
#include "risk/trading_stage.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = pmm::sim;
constexpr size_t kAsOfSize = 8;  // client -> gateway blocks: [as-of][OUCH inbound]
constexpr size_t kItchLocateOffset = 1;
constexpr size_t kItchTimestampOffset = 5;
constexpr uint16_t kGatewayPort = 26420;
constexpr uint32_t kGatewayIp = 0x0A4D0001;  // 10.77.0.1
constexpr uint32_t kLocalIp = 0x0A4D0002;    // 10.77.0.2 (network.local_ip)

// The generated day as whole Ethernet frames back to back, and how active each symbol is.
struct FeedFrames {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> offsets;  // frame i is bytes[offsets[i], offsets[i + 1])
  uint64_t messages = 0;
  std::vector<std::string> symbols;      // index = locate - 1
  std::vector<uint64_t> messages_of;     // per locate
  size_t frames() const noexcept { return offsets.size() - 1; }
  const uint8_t* frame(size_t i) const noexcept { return bytes.data() + offsets[i]; }
  size_t length(size_t i) const noexcept { return offsets[i + 1] - offsets[i]; }
};

FeedFrames make_feed(const pmm::gen::DayConfig& day, uint16_t packet_messages) {
  FeedFrames f;
  pmm::gen::ItchDayGenerator generator(day);
  pmm::gen::PacketizerConfig pc;
  pc.max_messages = packet_messages;
  pmm::gen::FeedPacketizer packetizer(pc);
  const pmm::net::FrameAddress address = pmm::gen::default_feed_address();
  const uint64_t packets = day.messages / packet_messages + 16;
  f.bytes.reserve(day.messages * 36 + packets * (pmm::net::kUdpFrameOverhead + pmm::mold::kHeaderSize));
  f.offsets.reserve(packets + 1);
  f.offsets.push_back(0);
  f.symbols = generator.symbols();
  f.messages_of.assign(f.symbols.size() + 1, 0);
  uint8_t frame[2048];
  const auto keep = [&] {
    const std::span<const uint8_t> p = packetizer.packet();
    const size_t len = pmm::net::build_udp_frame(frame, sizeof frame, address, p.data(), p.size(),
                                                 static_cast<uint16_t>(f.offsets.size()));
    f.bytes.insert(f.bytes.end(), frame, frame + len);
    f.offsets.push_back(f.bytes.size());
  };
  uint8_t msg[64];
  for (size_t len; (len = generator.next(msg)) != 0;) {
    ++f.messages;
    const uint16_t locate = pmm::load_be16(msg + kItchLocateOffset);
    if (locate < f.messages_of.size()) ++f.messages_of[locate];
    if (packetizer.add(msg, static_cast<uint16_t>(len))) keep();
  }
  if (packetizer.flush()) keep();
  return f;
}

// The n symbols with the most messages (ties: lower locate first).
std::vector<std::string> most_active(const FeedFrames& f, size_t n) {
  std::vector<uint16_t> locates;
  for (size_t l = 1; l < f.messages_of.size(); ++l) locates.push_back(static_cast<uint16_t>(l));
  std::stable_sort(locates.begin(), locates.end(),
                   [&](uint16_t a, uint16_t b) { return f.messages_of[a] > f.messages_of[b]; });
  std::vector<std::string> out;
  for (size_t i = 0; i < n && i < locates.size(); ++i) out.push_back(f.symbols[locates[i] - 1u]);
  return out;
}

// Main lcore -> net_ring's RX ring (the injector is its only producer): frames copied into mbufs of
// our own pool; its size bounds what is in flight.
class Injector {
 public:
  Injector(rte_mempool* pool, rte_ring* ring) : pool_(pool), ring_(ring) {}
  void one(const uint8_t* frame, size_t len) {
    rte_mbuf* m = nullptr;
    while ((m = rte_pktmbuf_alloc(pool_)) == nullptr) ++pool_empty_;
    std::memcpy(pmm::app::dpdk::mbuf_data(m), frame, len);
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
    while (rte_ring_enqueue_burst(ring_, reinterpret_cast<void* const*>(&m), 1, nullptr) != 1) ++ring_full_;
  }
  // Spins waiting: the pipeline was behind (RX ring full, every mbuf in flight).
  uint64_t ring_full() const noexcept { return ring_full_; }
  uint64_t pool_empty() const noexcept { return pool_empty_; }

 private:
  uint64_t ring_full_ = 0, pool_empty_ = 0;
  rte_mempool* pool_;
  rte_ring* ring_;
};

struct ExchangeStats {
  uint64_t datagrams = 0, other_datagrams = 0, malformed = 0, orders = 0, enters = 0, replaces = 0, cancels = 0,
           responses = 0, requests_from_stage = 0, requests_to_stage = 0, retransmitted = 0, logins = 0;
};

// The exchange side, on the main lcore: the engine behind an OUCH/MoldUDP64 gateway (as
// perf/sim/order_gateway.cpp, without its socket, and with no latency: a request is applied as it is
// read, at the latest feed time injected).
class Exchange {
 public:
  Exchange(const sim::MatchingConfig& matching, const std::string& firm, rte_ring* from_pipeline, Injector& to_pipeline,
           const pmm::pipe::TscClock& clock)
      : engine_(std::make_unique<sim::MatchingEngine>(matching)),
        sender_(pmm::mold::make_session("PMMSIM0001"), 1u << 16),
        receiver_(20'000'000, 1024),
        account_(sim::make_account(firm)),
        from_(from_pipeline),
        to_(to_pipeline),
        clock_(clock) {
    address_.src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    address_.src_ip = kGatewayIp;
    address_.dst_ip = kLocalIp;
    address_.src_port = kGatewayPort;
  }
  void set_order_port(uint16_t port, const std::array<uint8_t, 6>& mac) {
    address_.dst_port = port;
    address_.dst_mac = mac;
  }

  void on_feed_message(const uint8_t* msg, size_t len) noexcept {
    const uint64_t ts = pmm::load_be48(msg + kItchTimestampOffset);
    if (ts > now_) now_ = ts;
    engine_->on_feed_message(msg, len, now_);
  }

  // One turn: the pipeline's datagrams, a re-request if one is due, the engine's responses.
  uint32_t service() noexcept {
    rte_mbuf* m[32];
    const unsigned n = rte_ring_dequeue_burst(from_, reinterpret_cast<void**>(m), 32, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      pmm::net::UdpView udp;
      ++stats_.datagrams;
      if (pmm::net::parse_udp_frame(pmm::app::dpdk::mbuf_data(m[i]), m[i]->data_len, udp) !=
              pmm::net::FrameError::kNone ||
          udp.addr.dst_port != kGatewayPort)
        ++stats_.other_datagrams;  // feed re-requests (no gaps here), anything else
      else
        on_datagram(udp.payload, udp.len);
    }
    if (n != 0) rte_pktmbuf_free_bulk(m, n);
    uint32_t work = n;
    if (pmm::mold::Request r; receiver_.poll(clock_.to_ns(rte_rdtsc()), r)) {
      uint8_t p[pmm::mold::kHeaderSize];
      send(p, pmm::mold::encode_request(p, r));
      ++stats_.requests_to_stage;
      ++work;
    }
    sim::Response rs[32];
    while (const size_t k = engine_->poll(now_, rs, 32)) {
      for (size_t i = 0; i < k; ++i) respond(rs[i]);
      work += static_cast<uint32_t>(k);
    }
    return work;
  }

  const ExchangeStats& stats() const noexcept { return stats_; }
  const sim::MatchingEngine& engine() const noexcept { return *engine_; }
  int64_t net_position() const {
    int64_t net = 0;
    for (const sim::PositionView& p : engine_->positions(account_)) net += p.shares;
    return net;
  }
  size_t open_orders() const { return engine_->open_orders(account_).size(); }

 private:
  struct Requests : pmm::ouch::IgnoreInbound {
    using pmm::ouch::IgnoreInbound::on;
    Exchange& x;
    explicit Requests(Exchange& e) : x(e) {}
    void on(const pmm::ouch::EnterOrder& m) noexcept {
      x.engine_->enter(sim::enter_request(m), x.now_);
      ++x.stats_.enters;
    }
    void on(const pmm::ouch::ReplaceOrder& m) noexcept {
      x.engine_->replace(sim::replace_request(m, x.account_), x.now_);
      ++x.stats_.replaces;
    }
    void on(const pmm::ouch::CancelOrder& m) noexcept {
      x.engine_->cancel(sim::cancel_request(m, x.account_), x.now_);
      ++x.stats_.cancels;
    }
  };

  void on_datagram(const uint8_t* p, size_t len) noexcept {
    if (pmm::ouch::classify_datagram(p, len) == pmm::ouch::DatagramKind::kRequest) {
      pmm::mold::Request r;
      if (!pmm::mold::parse_request(p, len, r)) {
        ++stats_.malformed;
        return;
      }
      if (r.session != sender_.session()) {
        // The stage's session login (core/orders/session_login.hpp) names its own session: every phase
        // starts fresh, so there is nothing to echo; the answer is our next expected sequence of its
        // stream (a heartbeat under its session), then our own heartbeat.
        ++stats_.logins;
        if (r.sequence < receiver_.expected()) ++stats_.malformed;  // would need echoes: not in a fresh run
        uint8_t hb[pmm::mold::kHeaderSize];
        send(hb, pmm::mold::encode_heartbeat(hb, r.session, receiver_.expected()));
        send(hb, pmm::mold::encode_heartbeat(hb, sender_.session(), sender_.next_sequence()));
        return;
      }
      ++stats_.requests_from_stage;
      for (uint64_t s = r.sequence; s < r.sequence + r.count && s < sender_.next_sequence(); ++s) {
        uint8_t packet[pmm::pipe::kTxPayloadCapacity];
        if (const size_t k = sender_.retransmit(s, packet, sizeof packet); k != 0) {
          send(packet, k);
          ++stats_.retransmitted;
        }
      }
      return;
    }
    pmm::mold::DownstreamPacket pkt;
    if (pmm::mold::parse_downstream(p, len, pkt) != pmm::mold::ParseError::kNone) {
      ++stats_.malformed;
      return;
    }
    char session[10];
    std::memcpy(session, pkt.header.session.data(), sizeof session);
    const uint64_t real_ns = clock_.to_ns(rte_rdtsc());
    if (pkt.is_heartbeat() || pkt.is_end_of_session()) {
      receiver_.on_heartbeat(session, pkt.header.sequence, real_ns);
      return;
    }
    pkt.for_each_message([&](uint64_t seq, const uint8_t* m, uint16_t n) {
      if (receiver_.on_message(session, seq, real_ns) != pmm::orders::SessionReceiver::Verdict::kDeliver) return;
      if (n <= kAsOfSize) {
        ++stats_.malformed;
        return;
      }
      ++stats_.orders;
      Requests h(*this);
      if (pmm::ouch::dispatch_inbound(m + kAsOfSize, n - kAsOfSize, h).status != pmm::ouch::DecodeStatus::kOk)
        ++stats_.malformed;
    });
  }

  void respond(const sim::Response& r) noexcept {
    uint8_t m[pmm::ouch::kMaxMessageLength];
    const size_t n = sim::encode_response(r, m);
    uint8_t packet[pmm::pipe::kTxPayloadCapacity];
    const size_t len = sender_.send(m, static_cast<uint16_t>(n), packet, sizeof packet);
    assert(len != 0);
    send(packet, len);
    ++stats_.responses;
  }

  void send(const uint8_t* payload, size_t len) noexcept {
    uint8_t frame[256];
    const size_t n = pmm::net::build_udp_frame(frame, sizeof frame, address_, payload, len, ip_id_++);
    assert(n != 0);
    to_.one(frame, n);
  }

  std::unique_ptr<sim::MatchingEngine> engine_;
  pmm::orders::SessionSender sender_;
  pmm::orders::SessionReceiver receiver_;
  sim::Account account_;
  rte_ring* from_;
  Injector& to_;
  pmm::pipe::TscClock clock_;
  pmm::net::FrameAddress address_{};
  uint16_t ip_id_ = 0;
  uint64_t now_ = 0;  // latest feed timestamp injected: the engine's time
  ExchangeStats stats_;
};

// --stage-timing: the trading stage inside a wrapper that times each step (two TSC reads a step), to
// tell the stage's own cost from the rest of the path. The stage itself is the appliance's.
class TimedQuotingStage final : public pmm::pipe::QuotingStage {
 public:
  TimedQuotingStage(std::unique_ptr<pmm::risk::TradingStage> inner, const pmm::pipe::TscClock& clock)
      : inner_(std::move(inner)), clock_(clock) {}
  uint32_t run_once() noexcept override {
    const uint64_t sent = inner_->figures().orders_sent.get();
    const uint64_t t0 = pmm::pipe::read_tsc();
    const uint32_t n = inner_->run_once();
    const uint64_t t1 = pmm::pipe::read_tsc();
    if (inner_->figures().orders_sent.get() != sent) with_orders_.record(clock_.to_ns(t1 - t0));
    else if (n != 0) without_orders_.record(clock_.to_ns(t1 - t0));
    return n;
  }
  uint64_t top_events() const noexcept override { return inner_->top_events(); }
  bool end_of_session() const noexcept override { return inner_->end_of_session(); }
  const pmm::pipe::LatencyHistogram& latency() const noexcept override { return inner_->latency(); }
  void request_unwind() noexcept override { inner_->request_unwind(); }
  bool unwound() const noexcept override { return inner_->unwound(); }
  std::string status_text() const override { return inner_->status_text(); }
  std::string summary_members() const override { return inner_->summary_members(); }

  pmm::risk::TradingStage& stage() noexcept { return *inner_; }
  // Steps that sent at least one order, and busy steps that sent none.
  const pmm::pipe::LatencyHistogram& with_orders() const noexcept { return with_orders_; }
  const pmm::pipe::LatencyHistogram& without_orders() const noexcept { return without_orders_; }

 private:
  std::unique_ptr<pmm::risk::TradingStage> inner_;
  pmm::pipe::TscClock clock_;
  pmm::pipe::LatencyHistogram with_orders_, without_orders_;
};

// net_ring's RX and TX queues are one loopback ring: point the TX queue at `ring` so the orders reach
// the exchange instead of our own RX. net_ring's queue object begins with its rte_ring pointer (DPDK
// 22.11 drivers/net/ring: struct ring_queue { struct rte_ring *rng; ... }); checked against the ring
// it must hold before it is changed. Before the cores start.
bool redirect_tx(uint16_t port, rte_ring* from, rte_ring* to) {
  void* queue = rte_eth_fp_ops[port].txq.data[0];
  if (queue == nullptr) return false;
  auto* slot = static_cast<rte_ring**>(queue);
  if (*slot != from) return false;
  *slot = to;
  return true;
}

std::vector<std::string> default_lcores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.size() < 2)
    return {"--lcores",
            "0@" + std::to_string(cpus.empty() ? 0 : cpus[0]) + ",1@" + std::to_string(cpus.empty() ? 0 : cpus[0])};
  return {"-l", std::to_string(cpus[0]) + "," + std::to_string(cpus[1])};
}

uint64_t max_of(const pmm::pipe::LatencySnapshot& s) {
  for (size_t i = pmm::pipe::kLatencyBuckets; i-- > 0;)
    if (s.counts[i] != 0) return pmm::pipe::latency_bucket_floor(i);
  return 0;
}

void print_latency(const char* what, const pmm::pipe::LatencySnapshot& s) {
  std::printf("  %-14s p50 %6" PRIu64 "  p90 %6" PRIu64 "  p99 %7" PRIu64 "  p99.9 %7" PRIu64 "  p99.99 %8" PRIu64
              "  max %9" PRIu64 " ns  (%" PRIu64 ")\n",
              what, s.percentile(0.5), s.percentile(0.9), s.percentile(0.99), s.percentile(0.999),
              s.percentile(0.9999), max_of(s), s.total);
}

// Where time went on a CPU and on the data-plane lcore during a phase, from /proc (Linux): the
// kernel's time on the CPU (system, irq, softirq, steal; USER_HZ ticks, 10 ms) and the involuntary
// context switches of this process's threads allowed on that CPU only (the lcore pinned there).
struct CpuAccount {
  uint64_t system = 0, irq = 0, softirq = 0, steal = 0, involuntary = 0;

  static CpuAccount read(unsigned cpu) {
    CpuAccount a;
    if (FILE* f = std::fopen("/proc/stat", "r")) {
      char line[512];
      const std::string want = "cpu" + std::to_string(cpu) + " ";
      while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strncmp(line, want.c_str(), want.size()) != 0) continue;
        unsigned long long v[8] = {};
        if (std::sscanf(line + want.size(), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                        &v[4], &v[5], &v[6], &v[7]) == 8) {
          a.system = v[2], a.irq = v[5], a.softirq = v[6], a.steal = v[7];
        }
      }
      std::fclose(f);
    }
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
      FILE* f = std::fopen((task.path() / "status").c_str(), "r");
      if (f == nullptr) continue;
      char line[256];
      bool only_this_cpu = false;
      uint64_t switches = 0;
      while (std::fgets(line, sizeof line, f) != nullptr) {
        unsigned long long n = 0;
        char list[64] = {};
        if (std::sscanf(line, "Cpus_allowed_list: %63s", list) == 1) only_this_cpu = std::to_string(cpu) == list;
        if (std::sscanf(line, "nonvoluntary_ctxt_switches: %llu", &n) == 1) switches = n;
      }
      std::fclose(f);
      if (only_this_cpu) a.involuntary += switches;
    }
    return a;
  }
  CpuAccount since(const CpuAccount& b) const {
    return {system - b.system, irq - b.irq, softirq - b.softirq, steal - b.steal, involuntary - b.involuntary};
  }
  std::string text() const {
    const long hz = ::sysconf(_SC_CLK_TCK);
    const auto ms = [hz](uint64_t t) { return std::to_string(t * 1000 / static_cast<uint64_t>(hz > 0 ? hz : 100)); };
    return "kernel system " + ms(system) + " ms, irq " + ms(irq) + " ms, softirq " + ms(softirq) + " ms, steal " +
           ms(steal) + " ms; involuntary context switches of the lcore pinned there " + std::to_string(involuntary);
  }
};

struct PhaseResult {
  pmm::pipe::PipelineSnapshot pipe;
  uint64_t orders = 0, fills = 0, risk_rejects = 0, journal_full = 0, journal_lost = 0, snapshots = 0;
  bool ok = false;
};

struct Options {
  double seconds = 60;
  uint64_t rate = 1'000'000;
  uint16_t packet_messages = 4;
  uint32_t burst = 4;
  uint32_t quoted = 8;
  bool persistence = false;
  bool stage_timing = false;
  bool log_persistence = false;
  bool pause_when_late = false;
  uint32_t journal_ring = 65536;  // persistence.journalRingSize (the appliance's default)
  uint32_t snapshot_every_ms = 0;
  std::string data_dir;
  std::string strategy_json =
      R"({"gamma": 0.01, "k": 100, "quote_size": 100, "max_inventory": 1000, "requote_threshold_ticks": 0,
          "min_requote_interval_us": 0})";
  std::string risk_json =
      R"({"max_position": 5000, "max_order_shares": 1000, "max_order_notional": 1000000,
          "max_open_orders_per_symbol": 4, "price_collar_bps": 500, "max_total_position": 20000,
          "max_open_orders": 64, "max_orders_per_second": 100000, "order_burst": 1000,
          "kill_switch": false, "control_ring_size": 64})";
};

// One closed-loop run over the whole feed: a fresh Pipeline, trading stage, exchange and (optionally)
// data directory on the one backend.
PhaseResult run_phase(const char* name, const Options& o, uint32_t snapshot_ms, pmm::pipe::PipelineConfig c,
                      pmm::app::dpdk::DpdkBackend& backend, const FeedFrames& feed, Injector& injector,
                      rte_ring* orders_ring, rte_mempool* pool, const pmm::pipe::TscClock& clock) {
  PhaseResult result;
  const std::string dir = o.data_dir + "/" + name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  c.persistence_json = "{\"enabled\": " + std::string(o.persistence ? "true" : "false") + ", \"dataDirectory\": \"" +
                       dir + "\", \"journalRingSize\": " + std::to_string(o.journal_ring) + "}";
  pmm::risk::TradingConfig tc;
  if (std::string e = pmm::app::make_trading_config(c, tc); !e.empty()) {
    std::fprintf(stderr, "bench_tick_to_trade: %s\n", e.c_str());
    return result;
  }
  std::atomic<uint64_t> snapshots{0};
  std::unique_ptr<pmm::app::TradingPersistence> persistence;
  if (o.persistence) {
    pmm::persistence::PersistenceConfig pc;
    if (std::string e = pmm::persistence::parse_persistence_config(c.persistence_json, pc); !e.empty()) {
      std::fprintf(stderr, "bench_tick_to_trade: %s\n", e.c_str());
      return result;
    }
    std::string e;
    persistence = pmm::app::TradingPersistence::start(
        pc, tc,
        [&snapshots, &o, &clock](pmm::persistence::LogLevel level, const std::string& line) {
          const bool snapshot = line.rfind("Snapshot taken", 0) == 0;
          if (snapshot) snapshots.fetch_add(1, std::memory_order_relaxed);
          if (o.log_persistence || (!snapshot && level != pmm::persistence::LogLevel::Info))
            std::fprintf(stderr, "[persistence %.6f] %s\n", static_cast<double>(clock.to_ns(rte_rdtsc())) / 1e9,
                         line.c_str());
        },
        e);
    if (!persistence) {
      std::fprintf(stderr, "bench_tick_to_trade: persistence: %s\n", e.c_str());
      return result;
    }
    // No snapshots: an interval longer than any run.
    persistence->set_snapshot_interval(snapshot_ms != 0 ? std::chrono::milliseconds(snapshot_ms)
                                                        : std::chrono::milliseconds(24 * 3600 * 1000));
  }
  pmm::orders::NullEventSink events;
  pmm::risk::TradingStage* stage = nullptr;
  TimedQuotingStage* timed = nullptr;
  const pmm::pipe::QuoteStageFactory factory =
      [&](const pmm::pipe::QuoteWiring& w) -> std::unique_ptr<pmm::pipe::QuotingStage> {
    auto s = std::make_unique<pmm::risk::TradingStage>(tc, w, events);
    if (persistence)
      if (std::string e = persistence->attach(*s); !e.empty()) throw std::runtime_error(e);
    stage = s.get();
    if (!o.stage_timing) return s;
    auto t = std::make_unique<TimedQuotingStage>(std::move(s), clock);
    timed = t.get();
    return t;
  };

  sim::MatchingConfig matching;
  matching.book = c.books;
  matching.max_accounts = 4;
  matching.max_open_orders = 4096;
  matching.max_positions = 256;
  Exchange exchange(matching, tc.firm, orders_ring, injector, clock);
  rte_ether_addr mac{};
  rte_eth_macaddr_get(backend.port(), &mac);
  std::array<uint8_t, 6> local_mac{};
  std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), local_mac.begin());
  exchange.set_order_port(c.order_port, local_mac);
  // The engine needs only the quoted symbols' books and the system events (locate 0).
  std::vector<uint8_t> engine_wants(feed.messages_of.size(), 0);
  engine_wants[0] = 1;
  for (const std::string& s : tc.symbols)
    for (size_t l = 1; l < feed.messages_of.size(); ++l)
      if (feed.symbols[l - 1] == s) engine_wants[l] = 1;

  pmm::pipe::Pipeline p(c, backend.source(), backend.sink(), backend.rings(), clock,
                        [&](int cpu) { backend.before_core(cpu); }, factory);
  if (persistence) {
    p.set_book_journal(persistence->market_data_journal());  // as pinnaclemm (null: journalMarketData off)
    persistence->launch();  // unpinned: the main lcore's CPU (EAL pinned this thread, threads inherit it)
  }
  backend.launch(p);

  // Paced injection; the exchange is serviced while waiting for each packet's time.
  const double period = clock.ticks_per_ns() * 1e9 * static_cast<double>(o.packet_messages) /
                        static_cast<double>(o.rate);
  const uint64_t late_ticks = clock.from_ns(10'000);
  uint64_t late = 0, max_lag = 0, paused_ticks = 0;
  const size_t n = feed.frames();
  const uint64_t ring_full_before = injector.ring_full(), pool_empty_before = injector.pool_empty();
  const unsigned data_cpu = rte_lcore_to_cpu_id(static_cast<int>(backend.core_lcores().at(0)));
  const unsigned feed_cpu = rte_lcore_to_cpu_id(static_cast<int>(rte_get_main_lcore()));
  const CpuAccount data_before = CpuAccount::read(data_cpu), feed_before = CpuAccount::read(feed_cpu);
  uint64_t start = rte_rdtsc() + clock.from_ns(1'000'000);
  for (size_t i = 0; i < n; ++i) {
    uint64_t due = start + static_cast<uint64_t>(period * static_cast<double>(i));
    exchange.service();  // at least once a packet, also when the injector runs late
    uint64_t now;
    while ((now = rte_rdtsc()) < due) exchange.service();
    if (now - due > late_ticks) {
      ++late;
      if (o.pause_when_late) {
        // The injector lost its CPU: the feed pauses for as long instead of arriving as a burst.
        start += now - due;
        paused_ticks += now - due;
      }
    }
    max_lag = std::max(max_lag, now - due);
    injector.one(feed.frame(i), feed.length(i));
    // The exchange sees the quoted symbols' messages as they leave.
    pmm::net::UdpView udp;
    pmm::mold::DownstreamPacket pkt;
    if (pmm::net::parse_udp_frame(feed.frame(i), feed.length(i), udp) == pmm::net::FrameError::kNone &&
        pmm::mold::parse_downstream(udp.payload, udp.len, pkt) == pmm::mold::ParseError::kNone)
      pkt.for_each_message([&](uint64_t, const uint8_t* m, uint16_t len) {
        const uint16_t locate = pmm::load_be16(m + kItchLocateOffset);
        if (locate < engine_wants.size() && engine_wants[locate] != 0) exchange.on_feed_message(m, len);
      });
  }
  const double secs = static_cast<double>(clock.to_ns(rte_rdtsc() - start + paused_ticks)) / 1e9;
  const CpuAccount data_cpu_use = CpuAccount::read(data_cpu).since(data_before);
  const CpuAccount feed_cpu_use = CpuAccount::read(feed_cpu).since(feed_before);
  const uint64_t capture_ns = persistence ? persistence->snapshot_capture_ns() : 0;
  const uint64_t capture_max_ns = persistence ? persistence->snapshot_capture_max_ns() : 0;
  // The pipeline's own histograms now, before the unwind's cancels join them.
  const pmm::pipe::PipelineSnapshot at_end = p.snapshot();
  const uint64_t snapshots_in_run = snapshots.load();  // not the final one of the clean shutdown
  // Unwind (as pinnaclemm at the end): every order cancelled and acknowledged while the exchange runs.
  if (stage != nullptr) {
    stage->request_unwind();
    const uint64_t limit = rte_rdtsc() + clock.from_ns(3'000'000'000);
    while (!stage->unwound() && rte_rdtsc() < limit) exchange.service();
  }
  const auto wait_limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (rte_mempool_avail_count(pool) != pool->size && std::chrono::steady_clock::now() < wait_limit)
    exchange.service();
  const bool clean = p.drain_and_stop(2000);
  backend.join();
  std::string perr;
  const bool persisted = persistence ? persistence->stop(perr) : true;

  assert(stage != nullptr);  // the factory ran when the pipeline was built
  const pmm::risk::TradingFigures& f = stage->figures();
  result.pipe = at_end;
  result.orders = f.orders_sent.get();
  result.fills = f.fills.get();
  result.risk_rejects = f.risk_rejects.get();
  result.journal_full = f.journal_full.get();
  result.journal_lost = f.journal_lost.get();
  result.snapshots = snapshots_in_run;
  result.ok = true;

  const pmm::pipe::PipelineSnapshot s = p.snapshot();
  const ExchangeStats& x = exchange.stats();
  std::printf("\nphase %s: %.2f s, %zu packets, %" PRIu64 " messages in sequence, gaps %" PRIu64
              "; injector late > 10 us: %" PRIu64 " packets, max lag %.1f us, spins on a full RX ring %" PRIu64
              ", on an empty pool %" PRIu64 "%s%s\n",
              name, secs, n, s.messages, s.gaps, late, static_cast<double>(clock.to_ns(max_lag)) / 1e3,
              injector.ring_full() - ring_full_before, injector.pool_empty() - pool_empty_before,
              clean ? "" : " (drain deadline passed)",
              o.pause_when_late
                  ? ("; paused instead of bursting (--pause-when-late) " +
                     std::to_string(clock.to_ns(paused_ticks) / 1'000'000) + " ms in all")
                        .c_str()
                  : "");
  std::printf("  CPU %u (data plane): %s\n  CPU %u (feed, exchange%s): %s\n", data_cpu, data_cpu_use.text().c_str(),
              feed_cpu, o.persistence ? ", journal threads" : "", feed_cpu_use.text().c_str());
  if (o.persistence)
    std::printf("  journal thread's snapshot captures: %.1f ms in all, longest %.2f ms\n",
                static_cast<double>(capture_ns) / 1e6, static_cast<double>(capture_max_ns) / 1e6);
  std::printf("  orders %" PRIu64 " (%.0f/s: enter %" PRIu64 " replace %" PRIu64 " cancel %" PRIu64 "), fills %" PRIu64
              ", risk rejects %" PRIu64 ", request errors %" PRIu64 ", anomalies %" PRIu64 ", order ring full %" PRIu64
              "\n",
              result.orders, static_cast<double>(result.orders) / secs, f.enters.get(), f.replaces.get(),
              f.cancels.get(), result.fills, result.risk_rejects, f.request_errors.get(), f.anomalies.get(),
              f.order_ring_full.get());
  std::printf("  positions: stage net %" PRId64 ", exchange net %" PRId64 "; open at exit: stage %" PRIu64
              ", exchange %zu; exchange got %" PRIu64 " orders, sent %" PRIu64 " responses, logins %" PRIu64
              ", re-requests %" PRIu64 "/%" PRIu64 ", other datagrams %" PRIu64 ", malformed %" PRIu64 "\n",
              static_cast<int64_t>(f.net_position.get()), exchange.net_position(), f.open_orders.get(),
              exchange.open_orders(), x.orders, x.responses, x.logins, x.requests_from_stage, x.requests_to_stage,
              x.other_datagrams, x.malformed);
  if (o.persistence)
    std::printf("  journal: %" PRIu64 " records (market data %" PRIu64 ", not taken %" PRIu64 "), %" PRIu64
                " snapshots while the feed ran (%s), trading stage: journal full %" PRIu64 ", lost %" PRIu64
                "%s%s\n",
                persistence->records(), p.book().counters().journaled.get(), p.book().counters().journal_lost.get(),
                result.snapshots,
                snapshot_ms == 0 ? "none scheduled" : ("every " + std::to_string(snapshot_ms) + " ms").c_str(),
                result.journal_full, result.journal_lost, persisted ? "" : "; stop failed: ", perr.c_str());
  std::printf("  latencies until the feed ended (the unwind's cancels excluded):\n");
  print_latency("tick-to-trade", at_end.tick_to_trade);
  print_latency("RX -> parsed", at_end.parse_latency);
  print_latency("RX -> book", at_end.book_latency);
  print_latency("RX -> quote", at_end.quote_latency);
  if (timed != nullptr) {
    std::printf("  trading stage step (--stage-timing, whole run):\n");
    print_latency("with orders", timed->with_orders().snapshot());
    print_latency("without", timed->without_orders().snapshot());
  }
  std::fflush(stdout);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Tick-to-trade: the appliance's pipeline and trading stage over net_ring in a closed loop"};
  Options o;
  pmm::gen::DayConfig day{.seed = 1, .messages = 0, .symbols = 4000, .target_live_orders = 250'000};
  std::string lcores;
  cli.add_option("--seconds", o.seconds, "Feed duration per phase, seconds (rate x seconds messages are generated)")
      ->check(CLI::Range(0.1, 3600.0));
  cli.add_option("--rate", o.rate, "Feed messages per second")->check(CLI::Range(uint64_t{1000}, uint64_t{20'000'000}));
  cli.add_option("--packet-messages", o.packet_messages, "Messages per MoldUDP64 packet at most")
      ->check(CLI::Range(1, 64));
  cli.add_option("--burst", o.burst, "pipeline.burst (the trading stage's is twice this)")->check(CLI::Range(1u, 512u));
  cli.add_option("--quoted", o.quoted, "Quoted symbols: the day's most active")->check(CLI::Range(1u, 16u));
  cli.add_option("--symbols", day.symbols, "Symbols in the generated day");
  cli.add_option("--live-orders", day.target_live_orders, "Live orders the day hovers around");
  cli.add_option("--seed", day.seed, "Generator seed");
  cli.add_option("--strategy", o.strategy_json, "The \"strategy\" object (docs/strategy.md)");
  cli.add_option("--risk", o.risk_json, "The \"risk\" object (docs/risk.md)");
  cli.add_flag("--persistence", o.persistence, "Journal through the appliance's TradingPersistence");
  cli.add_option("--snapshot-every-ms", o.snapshot_every_ms,
                 "With --persistence: a second phase over the same feed taking a snapshot every N ms (0: none)")
      ->check(CLI::Range(0u, 3'600'000u));
  cli.add_option("--data-dir", o.data_dir, "Persistence data directories go under it (default /tmp/pmm-t2t-<pid>)");
  cli.add_option("--journal-ring", o.journal_ring, "persistence.journalRingSize: records, a power of two");
  cli.add_flag("--log-persistence", o.log_persistence, "Every persistence log line, TSC-stamped, on stderr");
  cli.add_flag("--pause-when-late", o.pause_when_late,
               "A late injector (> 10 us) shifts its schedule instead of injecting the backlog as a burst");
  cli.add_flag("--stage-timing", o.stage_timing, "Time each trading stage step (diagnostic; two TSC reads a step)");
  cli.add_option("--lcores", lcores, "EAL -l value: main lcore (feed, exchange), worker (every stage)");
  CLI11_PARSE(cli, argc, argv);
  day.messages = static_cast<uint64_t>(o.seconds * static_cast<double>(o.rate));
  if (const std::string bad = pmm::gen::validate(day); !bad.empty()) {
    std::fprintf(stderr, "day: %s\n", bad.c_str());
    return 2;
  }
  if (o.snapshot_every_ms != 0 && !o.persistence) {
    std::fprintf(stderr, "--snapshot-every-ms needs --persistence\n");
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_tick_to_trade: skipped: DPDK's EAL needs root\n");
    return 77;
  }
  const bool own_data_dir = o.data_dir.empty();
  if (own_data_dir) o.data_dir = "/tmp/pmm-t2t-" + std::to_string(::getpid());

  std::fprintf(stderr, "generating %" PRIu64 " messages, %u symbols, %u live orders...\n", day.messages, day.symbols,
               day.target_live_orders);
  const FeedFrames feed = make_feed(day, o.packet_messages);

  pmm::pipe::PipelineConfig c;
  c.backend = "dpdk";
  c.cores = {{-1, {"rx", "parse", "book", "quote", "tx"}}};
  c.burst = o.burst;
  const std::string prefix = "--file-prefix=pmm-t2t-" + std::to_string(::getpid());
  c.dpdk_eal = {"--no-huge", "-m", "2048", "--no-pci", "--no-shconf", "--no-telemetry", prefix,
                "--log-level=lib.eal:warning", "--vdev=net_ring0"};
  for (const std::string& a : lcores.empty() ? default_lcores() : std::vector<std::string>{"-l", lcores})
    c.dpdk_eal.push_back(a);
  c.retrans_server = "10.77.0.1:26410";  // none is sent (no gaps); the order route needs a next hop
  c.gateway_mac = "02:00:00:00:00:01";
  c.order_gateway = "10.77.0.1:" + std::to_string(kGatewayPort);
  c.symbols = most_active(feed, o.quoted);
  c.strategy_json = o.strategy_json;
  c.risk_json = o.risk_json;
  c.status_interval_ms = 0;
  c.order_heartbeat_ms = 100;
  std::string error;
  std::unique_ptr<pmm::app::dpdk::DpdkBackend> backend = pmm::app::dpdk::DpdkBackend::create(c, error);
  if (!backend) {
    std::fprintf(stderr, "bench_tick_to_trade: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "%s\n", backend->describe().c_str());
  rte_ring* loopback = rte_ring_lookup("ETH_RXTX0_net_ring0");
  rte_ring* orders_ring = rte_ring_create("t2t_orders", 16384, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_mempool* pool = rte_pktmbuf_pool_create("t2t_inject", 8192, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (loopback == nullptr || orders_ring == nullptr || pool == nullptr ||
      !redirect_tx(backend->port(), loopback, orders_ring)) {
    std::fprintf(stderr, "bench_tick_to_trade: %s\n",
                 loopback == nullptr     ? "net_ring0's ring ETH_RXTX0_net_ring0 not found"
                 : orders_ring == nullptr ? "cannot create the orders ring"
                 : pool == nullptr        ? "cannot create the injector's mbuf pool"
                                          : "net_ring0's TX queue does not hold its ring where expected (DPDK version?)");
    return 1;
  }
  Injector injector(pool, loopback);
  const pmm::pipe::TscClock clock = pmm::pipe::TscClock::calibrate();

  std::printf("feed: %" PRIu64 " messages in %zu packets (%.1f MB of frames), %u symbols, seed %" PRIu64
              ", %" PRIu64 " msg/s (%.0f packets/s of up to %u messages)\n",
              feed.messages, feed.frames(), static_cast<double>(feed.bytes.size()) / 1e6, day.symbols, day.seed, o.rate,
              static_cast<double>(o.rate) / o.packet_messages, o.packet_messages);
  std::string quoted;
  for (const std::string& s : c.symbols) {
    size_t l = 1;
    while (feed.symbols[l - 1] != s) ++l;
    quoted += (quoted.empty() ? "" : ", ") + s + " (" + std::to_string(feed.messages_of[l]) + " msgs)";
  }
  std::printf("quoted: %s\n", quoted.c_str());
  std::printf("lcores: main %u feed + exchange%s, worker %u rx parse book quote tx; burst %u; TSC %.3f GHz\n",
              rte_get_main_lcore(), o.persistence ? " + journal thread" : "", backend->core_lcores().at(0), o.burst,
              clock.ticks_per_ns());
  std::fflush(stdout);

  int status = 0;
  if (o.persistence && o.snapshot_every_ms != 0) {
    const PhaseResult a =
        run_phase("journal", o, 0, c, *backend, feed, injector, orders_ring, pool, clock);
    const PhaseResult b =
        run_phase("journal+snapshots", o, o.snapshot_every_ms, c, *backend, feed, injector, orders_ring, pool, clock);
    if (!a.ok || !b.ok) status = 1;
    else {
      const auto ratio = [](uint64_t x, uint64_t y) { return y == 0 ? 0.0 : static_cast<double>(x) / static_cast<double>(y); };
      std::printf("\nsnapshots every %u ms vs none: p99 RX -> book %" PRIu64 " / %" PRIu64 " ns = %.2f, tick-to-trade %" PRIu64
                  " / %" PRIu64 " ns = %.2f; p50 tick-to-trade %.2f; journal full %" PRIu64 " / %" PRIu64 "\n",
                  o.snapshot_every_ms, b.pipe.book_latency.percentile(0.99), a.pipe.book_latency.percentile(0.99),
                  ratio(b.pipe.book_latency.percentile(0.99), a.pipe.book_latency.percentile(0.99)),
                  b.pipe.tick_to_trade.percentile(0.99), a.pipe.tick_to_trade.percentile(0.99),
                  ratio(b.pipe.tick_to_trade.percentile(0.99), a.pipe.tick_to_trade.percentile(0.99)),
                  ratio(b.pipe.tick_to_trade.percentile(0.5), a.pipe.tick_to_trade.percentile(0.5)), b.journal_full,
                  a.journal_full);
    }
  } else {
    const PhaseResult r = run_phase(o.persistence ? "journal" : "no-persistence", o, 0, c, *backend, feed, injector,
                                    orders_ring, pool, clock);
    if (!r.ok) status = 1;
  }
  std::printf("device: %s\n", backend->device_status().c_str());
  std::error_code ec;
  for (const char* phase : {"journal", "journal+snapshots", "no-persistence"}) fs::remove_all(o.data_dir + "/" + phase, ec);
  if (own_data_dir) fs::remove(o.data_dir, ec);
  redirect_tx(backend->port(), orders_ring, loopback);  // the port is closed with its own ring
  rte_ring_free(orders_ring);
  rte_mempool_free(pool);
  backend.reset();
  return status;
}
