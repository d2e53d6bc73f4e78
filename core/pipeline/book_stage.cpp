#include "core/pipeline/book_stage.hpp"

#include <cassert>
#include <stdexcept>

#include "core/itch.hpp"

namespace pmm::pipe {

void WatchedTop::publish(const book::TopOfBook& t) noexcept {
  const uint64_t v = version_.load(std::memory_order_relaxed);
  version_.store(v + 1, std::memory_order_relaxed);  // odd: being written
  std::atomic_thread_fence(std::memory_order_release);
  bid_price_.store(t.bid.price, std::memory_order_relaxed);
  bid_shares_.store(t.bid.shares, std::memory_order_relaxed);
  ask_price_.store(t.ask.price, std::memory_order_relaxed);
  ask_shares_.store(t.ask.shares, std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
}

bool WatchedTop::read(book::TopOfBook& out) const noexcept {
  for (;;) {
    const uint64_t v0 = version_.load(std::memory_order_acquire);
    if (v0 == 0) return false;
    if (v0 & 1) continue;
    out.bid.price = static_cast<book::Price>(bid_price_.load(std::memory_order_relaxed));
    out.bid.shares = bid_shares_.load(std::memory_order_relaxed);
    out.ask.price = static_cast<book::Price>(ask_price_.load(std::memory_order_relaxed));
    out.ask.shares = ask_shares_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (version_.load(std::memory_order_relaxed) == v0) return true;
  }
}

BookStage::BookStage(const BookStageConfig& config, EventRing<MdEvent>& in, EventRing<TopEvent>& out,
                     const TscClock& clock)
    : burst_(config.burst), in_(in), out_(out), clock_(clock), builder_(config.capacity), events_(config.burst),
      refs_(config.burst), staging_(2 * size_t{config.burst}),
      watched_names_(config.watched_symbols), watched_slot_(config.capacity.max_locates, 0) {
  if (config.burst == 0) throw std::invalid_argument("book stage burst must be >= 1");
  if (watched_names_.size() > kMaxWatched)
    throw std::invalid_argument("at most " + std::to_string(kMaxWatched) + " watched symbols");
}

uint32_t BookStage::run_once() noexcept {
  // The parse stage can hand over a whole receive burst's messages in one step (32 packets of up to
  // 64 messages), so one burst per visit would let a backlog sit in the ring while the core visits the
  // other stages: keep going while full bursts come, up to kMaxBurstsPerStep.
  uint32_t total = 0;
  for (uint32_t round = 0; round < kMaxBurstsPerStep; ++round) {
    if (!flush()) {
      counters_.ring_full.add();
      break;
    }
    const uint32_t n = in_.pop_burst(events_.data(), burst_);
    if (n == 0) break;
    apply_burst(n);
    total += n;
    if (n < burst_) break;
  }
  publish_idle(staged_ == flushed_);
  if (total != 0) {
    counters_.live_orders.set(builder_.books().live_orders());
    const book::BookStats& bs = builder_.books().stats();
    counters_.capacity_rejects.set(bs.order_capacity_exceeded + bs.level_capacity_exceeded);
  }
  return total;
}

void BookStage::apply_burst(uint32_t n) noexcept {
  counters_.bursts.add();
  // Messages go to the books in runs (the batch path prefetches across a run); a control event ends a run.
  uint32_t run_start = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const MdEvent& e = events_[i];
    if (e.kind == MdKind::kMessage) continue;
    apply_run(run_start, i);
    on_control(e);
    run_start = i + 1;
  }
  apply_run(run_start, n);
  const uint64_t done = read_tsc();
  uint64_t messages = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (events_[i].kind != MdKind::kMessage) continue;
    ++messages;
    latency_.record(clock_.to_ns(done - events_[i].rx_tsc));
  }
  counters_.messages.add(messages);
  counters_.last_sequence.set(events_[n - 1].sequence);
  flush();
}

void BookStage::apply_run(uint32_t from, uint32_t to) noexcept {
  // A message of a configured (quoted) symbol ends a sub-run, so its top and trading state reach the
  // quote stage stamped with its own exchange time however the packets were batched: the strategy's
  // decisions then depend on the feed alone. Other symbols keep the long batched runs.
  uint32_t start = from;
  for (uint32_t i = from; i < to; ++i) {
    const MdEvent& e = events_[i];
    if (e.message[0] == 'R') note_directory(e);
    const uint16_t locate = load_be16(e.message + 1);  // every ITCH message: stock locate at offset 1
    if (locate < watched_slot_.size() && watched_slot_[locate] != 0) {
      if (journal_ != nullptr && md_records::journaled(e.message[0])) journal_message(e);
      apply_sub_run(start, i + 1);
      start = i + 1;
    }
  }
  apply_sub_run(start, to);
}

void BookStage::apply_sub_run(uint32_t from, uint32_t to) noexcept {
  if (from == to) return;
  uint32_t k = 0;
  bool trading_actions = false;
  for (uint32_t i = from; i < to; ++i) {
    const MdEvent& e = events_[i];
    refs_[k++] = MessageRef{e.message, e.length};
    trading_actions |= e.message[0] == 'H';
  }
  builder_.on_messages(refs_.data(), k);
  emit_tops(events_[to - 1]);
  if (trading_actions) emit_trading_states(from, to);
}

void BookStage::emit_trading_states(uint32_t from, uint32_t to) noexcept {
  // Rare (a few per symbol per day): only watched symbols matter to quoting.
  for (uint32_t i = from; i < to; ++i) {
    const MdEvent& e = events_[i];
    if (e.message[0] != 'H') continue;
    itch::StockTradingAction h;
    itch::decode(e.message, h);
    const uint16_t locate = h.h.locate;
    if (locate >= watched_slot_.size() || watched_slot_[locate] == 0) continue;
    if (staged_ == staging_.size()) {  // cannot happen with the bound below; counted, never overrun
      counters_.ring_full.add();
      return;
    }
    TopEvent& ev = staging_[staged_++];
    ev = TopEvent{};
    ev.rx_tsc = e.rx_tsc;
    ev.sequence = e.sequence;
    ev.exchange_ns = h.h.timestamp;
    ev.locate = locate;
    ev.kind = TopKind::kTradingState;
    ev.symbol_slot = watched_slot_[locate];
    ev.trading_state = h.trading_state;  // this message's: a run may hold several H for one stock
  }
}

void BookStage::note_directory(const MdEvent& e) noexcept {
  if (watched_names_.empty()) return;
  itch::StockDirectory m;
  itch::decode(e.message, m);
  for (size_t w = 0; w < watched_names_.size(); ++w) {
    if (watched_[w].locate.load(std::memory_order_relaxed) >= 0) continue;
    if (itch::make_symbol(watched_names_[w].c_str()) != m.stock) continue;
    if (m.h.locate >= watched_slot_.size()) continue;
    watched_[w].locate.store(m.h.locate, std::memory_order_relaxed);
    watched_slot_[m.h.locate] = static_cast<uint8_t>(w + 1);
  }
}

void BookStage::emit_tops(const MdEvent& last) noexcept {
  const uint64_t exchange_ns = load_be48(last.message + 5);  // every ITCH message: timestamp at offset 5
  for (const uint16_t locate : builder_.changed_locates()) {
    const book::TopOfBook t = builder_.books().top(locate);
    TopEvent& ev = staging_[staged_++];
    ev.rx_tsc = last.rx_tsc;
    ev.sequence = last.sequence;
    ev.exchange_ns = exchange_ns;
    ev.locate = locate;
    ev.kind = TopKind::kTop;
    ev.bid_price = t.bid.price;
    ev.bid_shares = static_cast<uint32_t>(std::min<uint64_t>(t.bid.shares, UINT32_MAX));
    ev.ask_price = t.ask.price;
    ev.ask_shares = static_cast<uint32_t>(std::min<uint64_t>(t.ask.shares, UINT32_MAX));
    ev.symbol_slot = watched_slot_[locate];
    ev.trading_state = ' ';
    if (const uint8_t w = watched_slot_[locate]; w != 0) watched_[w - 1].publish(t);
  }
  counters_.top_changes.add(builder_.changed_locates().size());
  builder_.clear_changes();
  // Each message changes at most one top, and adds at most one trading-state record (an H message) or
  // control record, so a step of `burst` events stages at most 2 * burst records (most steps end with a
  // flush).
  assert(staged_ <= staging_.size());
}

void BookStage::on_control(const MdEvent& e) noexcept {
  TopEvent ev;
  ev.sequence = e.sequence;
  switch (e.kind) {
    case MdKind::kFeedStale:
      stale_ = true;
      counters_.stale_events.add();
      ev.kind = TopKind::kFeedStale;
      break;
    case MdKind::kFeedWhole:
      stale_ = false;
      counters_.whole_events.add();
      ev.kind = TopKind::kFeedWhole;
      break;
    case MdKind::kEndOfSession:
      counters_.end_of_session.add();
      ev.kind = TopKind::kEndOfSession;
      break;
    case MdKind::kMessage:
      assert(false);
      return;
  }
  counters_.stale.set(stale_ ? 1 : 0);
  staging_[staged_++] = ev;
}

void BookStage::journal_message(const MdEvent& e) noexcept {
  // The book is applied whatever happens here: a record that does not fit is counted, and the next one
  // that does is preceded by the count, so the shadow knows its books are no longer exact.
  if (journal_lost_pending_ != 0) {
    uint8_t lost[md_records::kLostBytes];
    store_be64(lost, journal_lost_pending_);
    if (!journal_->has_room(2) || !journal_->append(md_records::kMessagesLost, lost, sizeof lost)) {
      ++journal_lost_pending_;
      counters_.journal_lost.add();
      return;
    }
    journal_lost_pending_ = 0;
  }
  if (!journal_->append(md_records::kItchMessage, e.message, e.length)) {
    ++journal_lost_pending_;
    counters_.journal_lost.add();
    return;
  }
  counters_.journaled.add();
}

bool BookStage::flush() noexcept {
  if (flushed_ == staged_) return true;
  flushed_ += out_.push_burst(staging_.data() + flushed_, staged_ - flushed_);
  if (flushed_ != staged_) return false;
  staged_ = flushed_ = 0;
  return true;
}

}  // namespace pmm::pipe
