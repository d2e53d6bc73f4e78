// Whole pipelines (RX -> parse -> book -> quote -> TX) over an in-memory backend that plays the network
// and the retransmission server: a generated feed as Ethernet frames, with feed packets dropped and
// malformed frames mixed in. The books must equal a plain BookBuilder fed every message once, every
// bad frame must be counted under its reason, every gap re-requested and filled, and every received
// packet handed back to the backend exactly once. Runs on one thread (deterministic) and on three.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/book_builder.hpp"
#include "core/itch.hpp"
#include "core/moldudp64.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/udp_frame.hpp"
#include "perf/feed_packetizer.hpp"
#include "perf/itch_day_generator.hpp"

namespace {

using namespace pmm;
using Bytes = std::vector<uint8_t>;

constexpr uint32_t kLocalIp = 0x0A4D0002;   // 10.77.0.2
constexpr uint32_t kServerIp = 0x0A4D0001;  // 10.77.0.1

Bytes frame(const uint8_t* payload, size_t len, uint16_t dst_port, uint32_t dst_ip = kLocalIp) {
  net::FrameAddress a;
  a.src_mac = {2, 0, 0, 0x77, 0, 1};
  a.dst_mac = {2, 0, 0, 0x77, 0, 2};
  a.src_ip = kServerIp;
  a.dst_ip = dst_ip;
  a.src_port = 40000;
  a.dst_port = dst_port;
  Bytes f(net::kUdpFrameOverhead + len);
  f.resize(net::build_udp_frame(f.data(), f.size(), a, payload, len, 1));
  return f;
}

// The network and the exchange's retransmission server, in memory. RX and release may run on
// different threads (as in the pipeline), so the wire is locked: this is a test double, not a hot path.
class MemoryNetwork final : public pipe::PacketSource, public pipe::PacketSink {
 public:
  MemoryNetwork(std::vector<Bytes> history, uint16_t retrans_port) : history_(std::move(history)), retrans_port_(retrans_port) {}

  void put(Bytes f) {
    std::lock_guard<std::mutex> g(m_);
    wire_.push_back(std::move(f));
  }

  uint32_t receive_burst(pipe::RxPacket* out, uint32_t max) noexcept override {
    std::lock_guard<std::mutex> g(m_);
    uint32_t n = 0;
    while (n < max && !wire_.empty()) {
      held_.push_back(std::move(wire_.front()));  // deque: element addresses stay valid
      wire_.pop_front();
      const Bytes& f = held_.back();
      released_.push_back(0);
      pipe::RxPacket& p = out[n++];
      p.data = f.data();
      p.length = static_cast<uint32_t>(f.size());
      p.layer = pipe::PacketLayer::kEthernet;
      p.rx_tsc = pipe::read_tsc();
      p.handle = held_.size() - 1;
    }
    return n;
  }
  void release(const pipe::RxPacket* p, uint32_t n) noexcept override {
    std::lock_guard<std::mutex> g(m_);
    for (uint32_t i = 0; i < n; ++i) ++released_[p[i].handle];
  }

  // Answers each MoldUDP64 request from the history of feed packets, as the exchange does. Order
  // datagrams are kept as they are.
  uint32_t send_burst(const pipe::TxEvent* d, uint32_t n) noexcept override {
    for (uint32_t i = 0; i < n; ++i) {
      if (d[i].destination == pipe::Destination::kOrderGateway) {
        std::lock_guard<std::mutex> g(m_);
        orders_.emplace_back(d[i].payload, d[i].payload + d[i].length);
        continue;
      }
      mold::Request r;
      EXPECT_EQ(d[i].destination, pipe::Destination::kRetransmissionServer);
      EXPECT_TRUE(mold::parse_request(d[i].payload, d[i].length, r));
      ++requests_;
      for (const Bytes& packet : history_) {
        mold::DownstreamPacket p;
        if (mold::parse_downstream(packet.data(), packet.size(), p) != mold::ParseError::kNone) continue;
        const uint64_t end = p.header.sequence + p.message_count();
        if (end > r.sequence && p.header.sequence < r.sequence + r.count)
          put(frame(packet.data(), packet.size(), retrans_port_));
      }
    }
    return n;
  }

  bool every_packet_released_once() {
    std::lock_guard<std::mutex> g(m_);
    for (const int r : released_)
      if (r != 1) return false;
    return true;
  }
  uint64_t received() {
    std::lock_guard<std::mutex> g(m_);
    return released_.size();
  }
  uint64_t requests() const { return requests_; }
  std::vector<Bytes> orders() {
    std::lock_guard<std::mutex> g(m_);
    return orders_;
  }

 private:
  std::mutex m_;
  std::deque<Bytes> wire_;
  std::deque<Bytes> held_;
  std::vector<int> released_;
  std::vector<Bytes> history_;  // MoldUDP64 payloads of the feed
  std::vector<Bytes> orders_;   // order datagrams sent
  uint16_t retrans_port_;
  std::atomic<uint64_t> requests_{0};
};

struct Feed {
  std::vector<Bytes> packets;  // MoldUDP64 payloads in order, end of session last
  std::vector<Bytes> messages_bytes;  // the ITCH messages, sequence i + 1 at index i
  book::BookCapacity capacity;
  uint64_t reference_digest = 0;
  uint64_t messages = 0;
};

Feed make_feed(uint64_t seed, uint64_t messages) {
  Feed f;
  f.capacity.max_orders = 1 << 17;
  f.capacity.max_levels = 1 << 16;
  f.capacity.max_locates = 1024;
  f.capacity.level_index_entries = 1 << 18;
  gen::ItchDayGenerator g(gen::DayConfig{seed, messages, 300, 20000});
  gen::PacketizerConfig pc;
  pc.max_messages = 16;
  gen::FeedPacketizer packer(pc);
  BookBuilder reference(f.capacity);
  uint8_t buf[itch::kMaxMessageLength];
  while (size_t len = g.next(buf)) {
    reference.on_message(buf, len);
    f.messages_bytes.emplace_back(buf, buf + len);
    ++f.messages;
    if (packer.add(buf, static_cast<uint16_t>(len))) f.packets.emplace_back(packer.packet().begin(), packer.packet().end());
  }
  if (packer.flush()) f.packets.emplace_back(packer.packet().begin(), packer.packet().end());
  Bytes eos(mold::kHeaderSize);
  mold::encode_end_of_session(eos.data(), pc.session, packer.next_sequence());
  f.packets.push_back(eos);
  f.reference_digest = reference.books().digest();
  return f;
}

struct Injected {
  uint64_t bad_frames = 0, wrong_port = 0, wrong_address = 0, malformed = 0, wrong_session = 0, dropped = 0;
};

// The wire: every feed packet once except the dropped ones, with malformed frames mixed in.
void load_wire(MemoryNetwork& net, const Feed& feed, const pipe::PipelineConfig& c, uint64_t seed, Injected& inj) {
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < feed.packets.size(); ++i) {
    const Bytes& p = feed.packets[i];
    const bool last = i + 1 == feed.packets.size();
    if (!last && i > 0 && rng() % 50 == 0) {
      ++inj.dropped;  // a gap the parse stage must re-request
    } else {
      net.put(frame(p.data(), p.size(), c.feed_port));
    }
    switch (rng() % 40) {
      case 0: {  // UDP length disagreeing with IPv4
        Bytes f = frame(p.data(), p.size(), c.feed_port);
        f[net::kEthernetHeaderSize + net::kIpv4HeaderSize + 5] ^= 0x10;
        net.put(f);
        ++inj.bad_frames;
        break;
      }
      case 1: {  // truncated: the frame ends before the IPv4 total length says
        Bytes f = frame(p.data(), p.size(), c.feed_port);
        f.resize(f.size() / 2);
        net.put(f);
        ++inj.bad_frames;
        break;
      }
      case 2: {  // garbage, including frames shorter than any header
        Bytes f(rng() % 80);
        for (auto& b : f) b = static_cast<uint8_t>(rng());
        net.put(f);
        ++inj.bad_frames;
        break;
      }
      case 3:
        net.put(frame(p.data(), p.size(), 9999));  // a port we do not serve
        ++inj.wrong_port;
        break;
      case 4:
        net.put(frame(p.data(), p.size(), c.feed_port, 0x0A4D0099));  // someone else's unicast
        ++inj.wrong_address;
        break;
      case 5: {  // MoldUDP64 whose last block runs past the datagram
        if (p.size() <= mold::kHeaderSize + 3) break;
        Bytes bad(p.begin(), p.end() - 3);
        net.put(frame(bad.data(), bad.size(), c.feed_port));
        ++inj.malformed;
        break;
      }
      case 6: {  // another session's packet
        Bytes other = p;
        other[0] ^= 1;
        net.put(frame(other.data(), other.size(), c.feed_port));
        ++inj.wrong_session;
        break;
      }
      default: break;
    }
  }
}

pipe::PipelineConfig config_for(const Feed& feed, std::vector<pipe::CoreAssignment> cores) {
  pipe::PipelineConfig c;
  c.books = feed.capacity;
  c.cores = std::move(cores);
  c.local_ip = "10.77.0.2";
  c.retry_ms = 20;  // a starved test thread must not be flooded with repeat answers
  c.max_retries = 100000;
  c.ring_size = 256;  // small rings: back-pressure happens
  c.window_messages = 1 << 14;
  c.symbols = {};
  return c;
}

void expect_result(pipe::Pipeline& p, MemoryNetwork& net, const Feed& feed, const Injected& inj) {
  const pipe::PipelineSnapshot s = p.snapshot();
  EXPECT_EQ(p.books_digest(), feed.reference_digest);
  EXPECT_EQ(s.messages, feed.messages);
  EXPECT_EQ(s.bad_frames, inj.bad_frames);
  EXPECT_EQ(s.wrong_port, inj.wrong_port);
  EXPECT_EQ(s.wrong_address, inj.wrong_address);
  EXPECT_EQ(s.malformed_mold, inj.malformed);
  EXPECT_EQ(s.wrong_session, inj.wrong_session);
  EXPECT_GT(inj.dropped, 0u);
  EXPECT_GE(s.gaps, 1u);
  EXPECT_EQ(s.gaps, s.gaps_filled);
  EXPECT_EQ(s.messages_lost, 0u);
  EXPECT_FALSE(s.stale);
  EXPECT_TRUE(s.end_of_session);
  EXPECT_GT(net.requests(), 0u);
  EXPECT_EQ(s.requests, net.requests());
  EXPECT_TRUE(net.every_packet_released_once());
  EXPECT_EQ(s.rx_packets, net.received());
}

// Runs the pipeline's cores on threads until the feed's session ended, then drains and stops.
void run_to_end(pipe::Pipeline& p) {
  std::vector<std::thread> cores;
  for (size_t i = 0; i < p.core_count(); ++i)
    cores.emplace_back([&p, i] { pipe::run_core_loop(p.core_stages(i), p.control()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!p.end_of_session() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const bool ended = p.end_of_session();
  const bool drained = p.drain_and_stop(2000);
  for (std::thread& t : cores) t.join();
  EXPECT_TRUE(ended);
  EXPECT_TRUE(drained);
}

TEST(Pipeline, OneCoreRebuildsTheExactBooksThroughDropsAndGarbage) {
  const Feed feed = make_feed(21, 60000);
  pipe::PipelineConfig c = config_for(feed, {{-1, {"rx", "parse", "book", "quote", "tx"}}});
  MemoryNetwork net(feed.packets, c.retrans_port);
  Injected inj;
  load_wire(net, feed, c, 21, inj);
  pipe::SpscRingFactory rings;
  pipe::Pipeline p(c, net, net, rings, pipe::TscClock::calibrate(std::chrono::milliseconds(5)));
  run_to_end(p);
  expect_result(p, net, feed, inj);
  EXPECT_GT(p.snapshot().rx_ring_full, 0u);  // the whole wire was waiting: back-pressure happened
}

TEST(Pipeline, ThreeCoresGiveTheSameBooks) {
  const Feed feed = make_feed(22, 60000);
  pipe::PipelineConfig c = config_for(feed, {{-1, {"rx", "tx"}}, {-1, {"parse"}}, {-1, {"book", "quote"}}});
  MemoryNetwork net(feed.packets, c.retrans_port);
  Injected inj;
  load_wire(net, feed, c, 22, inj);
  pipe::SpscRingFactory rings;
  pipe::Pipeline p(c, net, net, rings, pipe::TscClock::calibrate(std::chrono::milliseconds(5)));
  run_to_end(p);
  expect_result(p, net, feed, inj);
}

TEST(Pipeline, DrainingTakesNothingNewAndEmptiesTheRings) {
  const Feed feed = make_feed(23, 20000);
  pipe::PipelineConfig c = config_for(feed, {{-1, {"rx", "parse", "book", "quote", "tx"}}});
  MemoryNetwork net(feed.packets, c.retrans_port);
  for (const Bytes& p : feed.packets) net.put(frame(p.data(), p.size(), c.feed_port));
  pipe::SpscRingFactory rings;
  pipe::Pipeline p(c, net, net, rings, pipe::TscClock::calibrate(std::chrono::milliseconds(5)));
  // Run a little, so packets are in flight, then drain from another thread while the core runs.
  std::thread core([&p] { pipe::run_core_loop(p.core_stages(0), p.control()); });
  // Until messages are in flight (a loaded machine may not run the core thread for a while).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (p.snapshot().messages == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  const uint64_t before = p.snapshot().rx_packets;
  EXPECT_TRUE(p.drain_and_stop(2000));
  core.join();
  const pipe::PipelineSnapshot s = p.snapshot();
  EXPECT_GE(s.rx_packets, before);
  EXPECT_EQ(s.ring_fill, (std::array<uint32_t, 6>{}));
  EXPECT_TRUE(net.every_packet_released_once());
  // Everything delivered before the stop reached the books: they equal a plain book fed exactly the
  // first `messages` messages of the feed.
  EXPECT_GT(s.messages, 0u);
  BookBuilder prefix(feed.capacity);
  for (uint64_t i = 0; i < s.messages; ++i) prefix.on_message(feed.messages_bytes[i].data(), feed.messages_bytes[i].size());
  EXPECT_EQ(p.books_digest(), prefix.books().digest());
}

// A quote stage that records what reaches it and answers every order-session message with one order
// datagram carrying the triggering packet's RX timestamp (so TX measures tick-to-trade).
class RecordingQuoteStage final : public pipe::QuotingStage {
 public:
  explicit RecordingQuoteStage(const pipe::QuoteWiring& w) : w_(w) {}
  uint32_t run_once() noexcept override {
    pipe::TopEvent t[16];
    const uint32_t nt = w_.tops.pop_burst(t, 16);
    for (uint32_t i = 0; i < nt; ++i) tops.push_back(t[i]);  // test double: allocation is fine here
    pipe::OrderResponseEvent r[16];
    const uint32_t nr = w_.responses.pop_burst(r, 16);
    for (uint32_t i = 0; i < nr; ++i) {
      responses.push_back(r[i]);
      pipe::TxEvent order;
      order.rx_tsc = r[i].rx_tsc;
      order.destination = pipe::Destination::kOrderGateway;
      order.length = 8;
      std::memcpy(order.payload, &r[i].sequence, 8);
      EXPECT_EQ(w_.orders.push_burst(&order, 1), 1u);
    }
    return nt + nr;
  }
  uint64_t top_events() const noexcept override { return tops.size(); }
  bool end_of_session() const noexcept override { return false; }
  const pipe::LatencyHistogram& latency() const noexcept override { return latency_; }

  std::vector<pipe::TopEvent> tops;
  std::vector<pipe::OrderResponseEvent> responses;

 private:
  pipe::QuoteWiring w_;
  pipe::LatencyHistogram latency_;
};

Bytes itch_bytes(const auto& m) {
  Bytes b(std::remove_cvref_t<decltype(m)>::kLength);
  itch::encode(m, b.data());
  return b;
}

Bytes mold_packet(const char* session, uint64_t first, const std::vector<Bytes>& messages) {
  Bytes buf(1400);
  mold::PacketBuilder pb(buf.data(), buf.size(), mold::make_session(session), first);
  for (const Bytes& m : messages) EXPECT_TRUE(pb.add(m.data(), static_cast<uint16_t>(m.size())));
  buf.resize(pb.finish());
  return buf;
}

// The order session's inbound side reaches the quote stage one message at a time, with heartbeats and
// the gateway's re-requests told apart and malformed packets counted; configured symbols' trading
// states (ITCH H) reach it too; orders the quote stage queues leave on TX to the order gateway.
TEST(Pipeline, OrderSessionAndTradingStatesReachTheQuoteStage) {
  pipe::PipelineConfig c;
  c.books.max_orders = 1024;
  c.books.max_levels = 1024;
  c.books.max_locates = 64;
  c.books.level_index_entries = 4096;
  c.local_ip = "10.77.0.2";
  c.symbols = {"ZVZZT", "AAPL"};
  MemoryNetwork net({}, c.retrans_port);

  itch::StockDirectory aapl;
  aapl.h.locate = 7;
  aapl.stock = itch::make_symbol("AAPL");
  itch::StockDirectory other = aapl;
  other.h.locate = 8;
  other.stock = itch::make_symbol("MSFT");
  itch::StockTradingAction halt;
  halt.h.locate = 7;
  halt.stock = aapl.stock;
  halt.trading_state = 'H';
  itch::StockTradingAction other_halt = halt;
  other_halt.h.locate = 8;
  other_halt.stock = other.stock;
  itch::StockTradingAction resume = halt;
  resume.trading_state = 'T';
  const Bytes feed = mold_packet("FEED", 1, {itch_bytes(aapl), itch_bytes(other), itch_bytes(halt),
                                             itch_bytes(other_halt), itch_bytes(resume)});
  net.put(frame(feed.data(), feed.size(), c.feed_port));

  // Order session: three messages in one packet, a heartbeat, a re-request of our messages 5..7, a
  // truncated packet and an over-long message.
  const Bytes m1(40, 'a'), m2(66, 'b'), m3(31, 'c');
  const Bytes three = mold_packet("OUCH", 11, {m1, m2, m3});
  net.put(frame(three.data(), three.size(), c.order_port));
  Bytes heartbeat(mold::kHeaderSize);
  mold::encode_heartbeat(heartbeat.data(), mold::make_session("OUCH"), 14);
  net.put(frame(heartbeat.data(), heartbeat.size(), c.order_port));
  Bytes request(mold::kHeaderSize);
  mold::encode_request(request.data(), mold::Request{mold::make_session("OUCH"), 5, 3});
  net.put(frame(request.data(), request.size(), c.order_port));
  const Bytes truncated(three.begin(), three.end() - 1);
  net.put(frame(truncated.data(), truncated.size(), c.order_port));
  const Bytes too_long = mold_packet("OUCH", 14, {Bytes(pipe::kOrderMessageCapacity + 1, 'x')});
  net.put(frame(too_long.data(), too_long.size(), c.order_port));

  pipe::SpscRingFactory rings;
  RecordingQuoteStage* quote = nullptr;
  pipe::Pipeline p(c, net, net, rings, pipe::TscClock::calibrate(std::chrono::milliseconds(5)), {},
                   [&quote](const pipe::QuoteWiring& w) {
                     auto q = std::make_unique<RecordingQuoteStage>(w);
                     quote = q.get();
                     return q;
                   });
  ASSERT_NE(quote, nullptr);
  std::thread core([&p] { pipe::run_core_loop(p.core_stages(0), p.control()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (net.orders().size() < 6 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(p.drain_and_stop(2000));
  core.join();

  // Order session: 3 messages, the heartbeat (next sequence 14), the request and the over-long message
  // as an empty one (it keeps its sequence number, or the session would re-request it for ever).
  ASSERT_EQ(quote->responses.size(), 6u);
  const std::vector<Bytes> bodies = {m1, m2, m3};
  for (size_t i = 0; i < 3; ++i) {
    const pipe::OrderResponseEvent& e = quote->responses[i];
    EXPECT_EQ(e.kind, pipe::OrderEventKind::kMessage);
    EXPECT_EQ(e.sequence, 11 + i);
    EXPECT_EQ(Bytes(e.message, e.message + e.length), bodies[i]);
    EXPECT_EQ(std::string(e.session, 10), "OUCH      ");
    EXPECT_NE(e.rx_tsc, 0u);
  }
  EXPECT_EQ(quote->responses[3].kind, pipe::OrderEventKind::kHeartbeat);
  EXPECT_EQ(quote->responses[3].sequence, 14u);
  EXPECT_EQ(quote->responses[4].kind, pipe::OrderEventKind::kRequest);
  EXPECT_EQ(quote->responses[4].sequence, 5u);
  EXPECT_EQ(quote->responses[4].length, 3u);
  EXPECT_EQ(quote->responses[5].kind, pipe::OrderEventKind::kMessage);
  EXPECT_EQ(quote->responses[5].sequence, 14u);
  EXPECT_EQ(quote->responses[5].length, 0u);
  const pipe::PipelineSnapshot s = p.snapshot();
  EXPECT_EQ(s.order_packets, 5u);
  EXPECT_EQ(s.malformed_order, 2u);
  EXPECT_EQ(s.order_ring_full, 0u);

  // Trading states: only the configured symbol's (AAPL is slot 2), halted then trading again.
  std::vector<pipe::TopEvent> states;
  for (const pipe::TopEvent& t : quote->tops)
    if (t.kind == pipe::TopKind::kTradingState) states.push_back(t);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].locate, 7u);
  EXPECT_EQ(states[0].symbol_slot, 2u);
  EXPECT_EQ(states[0].trading_state, 'H');
  EXPECT_EQ(states[1].trading_state, 'T');

  // Every order the quote stage queued left on TX, to the order gateway, and was timed.
  const std::vector<Bytes> sent = net.orders();
  ASSERT_EQ(sent.size(), 6u);
  for (size_t i = 0; i < sent.size(); ++i) {
    uint64_t seq = 0;
    ASSERT_EQ(sent[i].size(), 8u);
    std::memcpy(&seq, sent[i].data(), 8);
    EXPECT_EQ(seq, quote->responses[i].sequence);
  }
  EXPECT_EQ(s.orders_sent, 6u);
  EXPECT_EQ(s.tick_to_trade.total, 6u);
}

// A quote stage that answers each order-session message with an order and, when it is handed the TX
// stage (QuoteWiring::tx), sends it at once.
class SendingQuoteStage final : public pipe::QuotingStage {
 public:
  explicit SendingQuoteStage(const pipe::QuoteWiring& w) : w_(w) {}
  uint32_t run_once() noexcept override {
    pipe::OrderResponseEvent r[16];
    const uint32_t nr = w_.responses.pop_burst(r, 16);
    for (uint32_t i = 0; i < nr; ++i) {
      pipe::TxEvent order;
      order.rx_tsc = r[i].rx_tsc;
      order.destination = pipe::Destination::kOrderGateway;
      order.length = 8;
      std::memcpy(order.payload, &r[i].sequence, 8);
      EXPECT_EQ(w_.orders.push_burst(&order, 1), 1u);
      if (w_.tx != nullptr) {
        EXPECT_EQ(w_.tx->send_orders(), 1u);
      }
    }
    return nr;
  }
  uint64_t top_events() const noexcept override { return 0; }
  bool end_of_session() const noexcept override { return false; }
  const pipe::LatencyHistogram& latency() const noexcept override { return latency_; }
  bool handed_tx() const noexcept { return w_.tx != nullptr; }

 private:
  pipe::QuoteWiring w_;
  pipe::LatencyHistogram latency_;
};

// With quote and TX on one core the quote stage is handed the TX stage, and what it sends through it
// leaves within its own step (timed as tick-to-trade); on different cores it is not (TX is another
// thread's), and the order waits on the ring for the TX stage's step.
TEST(Pipeline, QuoteStageOnTheTxCoreSendsItsOrdersWithinItsStep) {
  for (const bool one_core : {true, false}) {
    SCOPED_TRACE(one_core ? "one core" : "quote and tx on two cores");
    pipe::PipelineConfig c;
    c.books.max_orders = 1024;
    c.books.max_levels = 1024;
    c.books.max_locates = 64;
    c.books.level_index_entries = 4096;
    c.local_ip = "10.77.0.2";
    if (!one_core) c.cores = {{-1, {"rx", "parse", "book", "quote"}}, {-1, {"tx"}}};
    MemoryNetwork net({}, c.retrans_port);
    const Bytes two = mold_packet("OUCH", 1, {Bytes(20, 'a'), Bytes(20, 'b')});
    net.put(frame(two.data(), two.size(), c.order_port));

    pipe::SpscRingFactory rings;
    SendingQuoteStage* quote = nullptr;
    pipe::Pipeline p(c, net, net, rings, pipe::TscClock::with_rate(1.0), {}, [&quote](const pipe::QuoteWiring& w) {
      auto q = std::make_unique<SendingQuoteStage>(w);
      quote = q.get();
      return q;
    });
    ASSERT_NE(quote, nullptr);
    EXPECT_EQ(quote->handed_tx(), one_core);
    // One pass in data-flow order up to the quote stage, on this thread (no core loop): nothing else
    // runs TX.
    const std::vector<pipe::Stage*>& stages = p.core_stages(0);
    for (pipe::Stage* st : stages) {
      if (st->name() == "tx") break;
      st->run_once();
    }
    EXPECT_EQ(net.orders().size(), one_core ? 2u : 0u);
    EXPECT_EQ(p.snapshot().tick_to_trade.total, one_core ? 2u : 0u);
    // The TX stage's own step sends whatever is left on the ring.
    const std::vector<pipe::Stage*>& tx_core = p.core_stages(one_core ? 0 : 1);
    for (pipe::Stage* st : tx_core)
      if (st->name() == "tx") st->run_once();
    EXPECT_EQ(net.orders().size(), 2u);
    EXPECT_EQ(p.snapshot().orders_sent, 2u);
  }
}

}  // namespace
