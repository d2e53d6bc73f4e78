#include "dpdk-app/trading_journal.hpp"

#include <cassert>
#include <cstring>

#include "core/byte_order.hpp"
#include "core/fnv1a.hpp"
#include "persistence/snapshot_file.hpp"
#include "risk/risk_control_record.hpp"

namespace pmm::app {

namespace jr = risk::journal_records;

namespace {
constexpr uint32_t kShadowEpoch = 0;  // the shadow issues no token: its epoch only appears in its snapshot header

}  // namespace

TradingShadowState::TradingShadowState(const orders::OrderTrackerConfig& config, std::optional<risk::RiskLimits> risk,
                                       const JournaledBooksConfig& books)
    : config_(config), limits_(std::move(risk)), books_(books) {
  reset();
}

void TradingShadowState::reset() {
  tracker_ = std::make_unique<orders::OrderTracker>(config_, kShadowEpoch, sink_);
  next_outbound_ = 1;
  expected_inbound_ = 1;
  sequence_ = 0;
  if (limits_) risk_ = std::make_unique<risk::PreTradeRisk>(*limits_);  // throws on invalid limits: set-up
  ++risk_changes_;
  books_.reset();
}

void TradingShadowState::risk_state(risk::RiskStateSnapshot& out) const {
  assert(risk_ != nullptr);
  risk_->snapshot(out);
  // Exposure as the stage derives it (after_tracker_change): from the tracker, whatever a set-position
  // control left in the risk copy until the next order event.
  for (uint16_t i = 0; i < out.symbol_count && i < config_.max_symbols; ++i) {
    const orders::OpenView& v = tracker_->open_view(i);
    out.symbols[i].position = tracker_->positions().position(i).shares;
    out.symbols[i].open_buy_shares = static_cast<int64_t>(v.buy_shares);
    out.symbols[i].open_sell_shares = static_cast<int64_t>(v.sell_shares);
    out.symbols[i].open_orders = v.orders;
  }
}

std::vector<uint8_t> TradingShadowState::risk_bytes() const {
  if (risk_ == nullptr) return {};
  risk::RiskStateSnapshot s;
  risk_state(s);
  std::vector<uint8_t> out(sizeof s);
  std::memcpy(out.data(), &s, sizeof s);  // no padding in the layout (risk_state_snapshot.hpp)
  return out;
}

void TradingShadowState::apply_risk(const persistence::JournalRecordView& record) {
  risk::RiskControlEvent e;
  if (!jr::decode_risk_control(record.payload, record.length, e)) {
    error(record.sequence, "risk-control record of " + std::to_string(record.length) + " bytes does not decode");
    return;
  }
  if (risk_ == nullptr) {
    error(record.sequence, "risk-control record, but the shadow has no risk limits configured");
    return;
  }
  if (e.status != risk::RiskControlStatus::kApplied) {  // refused live: changed nothing
    ++risk_refused_;
    return;
  }
  if (e.kind == risk::RiskControlKind::kResetRateBucket) return;  // the bucket is not part of the state
  risk::RiskControl c;
  c.request_id = e.request_id;
  c.value = e.new_value;
  c.kind = e.kind;
  c.limit = e.limit;
  c.symbol = e.symbol;
  risk::RiskControlEvent replayed[1];
  if (!risk_->submit(c) || risk_->apply_pending_controls(e.applied_ns, replayed) != 1 ||
      replayed[0].status != risk::RiskControlStatus::kApplied || replayed[0].new_value != e.new_value) {
    error(record.sequence, "risk control " + std::string(risk::to_string(e.kind)) + " to " + std::to_string(e.new_value) +
                               " refused on replay");
    return;
  }
  if (e.kind != risk::RiskControlKind::kSetPosition) ++risk_changes_;
}

void TradingShadowState::apply_market_data(const persistence::JournalRecordView& record) {
  switch (record.type) {
    case pipe::md_records::kItchMessage:
      if (std::string e = books_.apply_message(record.payload, record.length); !e.empty()) error(record.sequence, e);
      return;
    case pipe::md_records::kMessagesLost:
      if (record.length != pipe::md_records::kLostBytes) {
        error(record.sequence, "messages-lost record of " + std::to_string(record.length) + " bytes, expected 8");
        return;
      }
      books_.messages_lost(load_be64(record.payload));
      return;
    default:  // kBooksResetRecord
      if (record.length != 0) {
        error(record.sequence, "books-reset record of " + std::to_string(record.length) + " bytes, expected 0");
        return;
      }
      books_.reset();
      return;
  }
}

void TradingShadowState::error(uint64_t sequence, const std::string& what) {
  if (apply_errors_++ == 0) first_error_ = "journal sequence " + std::to_string(sequence) + ": " + what;
}

void TradingShadowState::apply(const persistence::JournalRecordView& record) {
  sequence_ = record.sequence;
  if (record.type == jr::kRiskControl) return apply_risk(record);
  if (record.type == pipe::md_records::kItchMessage || record.type == pipe::md_records::kMessagesLost ||
      record.type == kBooksResetRecord)
    return apply_market_data(record);
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
  if (risk_ != nullptr) {
    const std::vector<uint8_t> r = risk_bytes();
    if (!out.add_block(kRiskBlock, r.data(), r.size())) return "trading snapshot: risk block: " + out.error();
  }
  const std::vector<uint8_t> b = books_.serialize();
  if (!out.add_block(kBooksBlock, b.data(), b.size())) return "trading snapshot: books block: " + out.error();
  return "";
}

std::string TradingShadowState::restore_snapshot(persistence::SnapshotReader& in) {
  persistence::SnapshotBlockView b;
  bool tracker = false, sessions = false, risk = false, books = false;
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
    } else if (b.type == kRiskBlock && !risk && risk_ != nullptr) {
      risk::RiskStateSnapshot s;
      if (b.size != sizeof s) return where + ": expected " + std::to_string(sizeof s) + " bytes, found " + std::to_string(b.size);
      std::memcpy(&s, b.data, sizeof s);
      // Limits and kill switch as journaled; exposure is re-derived from the tracker (risk_state()).
      if (std::string e = risk_->restore(s, risk::LimitsOnRestore::kFromSnapshot, 0); !e.empty()) return where + ": " + e;
      ++risk_changes_;
      risk = true;
    } else if (b.type == kBooksBlock && !books) {
      if (std::string e = books_.restore(b.data, b.size); !e.empty()) return where + ": " + e;
      books = true;
    } else {
      return where + ": unexpected block (a trading snapshot holds one tracker, one sessions, at most one risk "
                     "(with risk limits configured) and at most one books block)";
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
  const std::vector<uint8_t> r = risk_bytes();  // empty without risk limits
  fnv1a(h, r.data(), r.size());
  const uint64_t books = books_.digest();
  uint8_t b[8];
  store_be64(b, books);
  fnv1a(h, b, sizeof b);
  return h;
}

}  // namespace pmm::app
