#include "dpdk-app/trading_journal.hpp"

#include "core/byte_order.hpp"
#include "core/fnv1a.hpp"
#include "persistence/snapshot_file.hpp"

namespace pmm::app {

namespace jr = risk::journal_records;

namespace {
constexpr uint32_t kShadowEpoch = 0;  // the shadow issues no token: its epoch only appears in its snapshot header

}  // namespace

TradingShadowState::TradingShadowState(const orders::OrderTrackerConfig& config) : config_(config) { reset(); }

void TradingShadowState::reset() {
  tracker_ = std::make_unique<orders::OrderTracker>(config_, kShadowEpoch, sink_);
  next_outbound_ = 1;
  expected_inbound_ = 1;
  sequence_ = 0;
}

void TradingShadowState::error(uint64_t sequence, const std::string& what) {
  if (apply_errors_++ == 0) first_error_ = "journal sequence " + std::to_string(sequence) + ": " + what;
}

void TradingShadowState::apply(const persistence::JournalRecordView& record) {
  sequence_ = record.sequence;
  jr::TradingRecord r;
  if (!jr::decode(record.type, record.payload, record.length, r)) {
    error(record.sequence, "type " + std::to_string(record.type) + " length " + std::to_string(record.length) +
                               " is not a trading record");
    return;
  }
  orders::OrderTracker& t = *tracker_;
  if (r.type <= jr::kCancelRequest) {
    if (r.sequence + 1 > next_outbound_) next_outbound_ = r.sequence + 1;
  } else if (r.sequence + 1 > expected_inbound_) {
    expected_inbound_ = r.sequence + 1;
  }
  switch (r.type) {
    case jr::kOrderSubmit: {
      const orders::SubmitResult s = t.submit_as(r.token, r.symbol, r.side, r.price, r.shares);
      if (s.error != orders::RequestError::kNone)
        error(record.sequence, "order submit with token " + std::string(r.token.view()) + " refused on replay");
      return;
    }
    case jr::kReplaceRequest: {
      const orders::SubmitResult s = t.request_replace_as(r.token, r.other_token, r.price, r.shares);
      if (s.error != orders::RequestError::kNone)
        error(record.sequence, "replace of " + std::string(r.token.view()) + " refused on replay");
      return;
    }
    case jr::kCancelRequest:
      if (t.request_cancel(r.token) != orders::RequestError::kNone)
        error(record.sequence, "cancel of " + std::string(r.token.view()) + " refused on replay");
      return;
    case jr::kAccepted: t.on_accepted({r.token, r.shares, r.price}); return;
    case jr::kReplaced: t.on_replaced({r.token, r.other_token, r.shares, r.price}); return;
    case jr::kCanceled: t.on_canceled({r.token, r.shares, r.reason}); return;
    case jr::kExecuted: t.on_executed({r.token, r.shares, r.price, r.liquidity, r.match}); return;
    case jr::kBrokenTrade: t.on_broken_trade({r.token, r.match, r.reason}); return;
    case jr::kRejected: t.on_rejected({r.token, r.reason}); return;
    case jr::kCancelPending: t.on_cancel_pending({r.token}); return;
    case jr::kCancelReject: t.on_cancel_reject({r.token}); return;
    default: return;
  }
}

std::string TradingShadowState::write_snapshot(persistence::SnapshotWriter& out) const {
  const std::vector<uint8_t> bytes = tracker_->snapshot();
  if (!out.add_block(kTrackerBlock, bytes.data(), bytes.size())) return "trading snapshot: tracker block: " + out.error();
  uint8_t seqs[16];
  store_be64(seqs, next_outbound_);
  store_be64(seqs + 8, expected_inbound_);
  if (!out.add_block(kSessionsBlock, seqs, sizeof seqs)) return "trading snapshot: sessions block: " + out.error();
  return "";
}

std::string TradingShadowState::restore_snapshot(persistence::SnapshotReader& in) {
  persistence::SnapshotBlockView b;
  bool tracker = false, sessions = false;
  while (in.next(b)) {
    const std::string where = "block " + std::to_string(b.index) + " (type " + std::to_string(b.type) + ", offset " +
                              std::to_string(b.offset) + ")";
    if (b.type == kTrackerBlock && !tracker) {
      if (std::string e = tracker_->restore(b.data, b.size); !e.empty()) return where + ": " + e;
      tracker = true;
    } else if (b.type == kSessionsBlock && !sessions) {
      if (b.size != 16) return where + ": expected 16 bytes, found " + std::to_string(b.size);
      next_outbound_ = load_be64(b.data);
      expected_inbound_ = load_be64(b.data + 8);
      if (next_outbound_ == 0 || expected_inbound_ == 0) return where + ": a session sequence of 0";
      sessions = true;
    } else {
      return where + ": unexpected block (a trading snapshot holds one tracker block then one sessions block)";
    }
  }
  if (in.failed()) return in.damage().to_string();
  if (!tracker || !sessions) return "trading snapshot: " + std::string(!tracker ? "no tracker block" : "no sessions block");
  sequence_ = in.info().sequence;
  return "";
}

uint64_t TradingShadowState::digest() const {
  uint64_t h = kFnv1aOffset;
  const std::vector<uint8_t> bytes = tracker_->snapshot();
  fnv1a(h, bytes.data(), bytes.size());
  uint8_t seqs[16];
  store_be64(seqs, next_outbound_);
  store_be64(seqs + 8, expected_inbound_);
  fnv1a(h, seqs, sizeof seqs);
  return h;
}

}  // namespace pmm::app
