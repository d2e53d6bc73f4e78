// OrderTracker::snapshot / restore: the recovery image of the tracker (docs/order-manager.md,
// "Snapshot format"). Big-endian, versioned; integrity (CRC) is the journal's job around it.
#include <cassert>
#include <cstring>

#include "core/byte_order.hpp"
#include "core/orders/order_tracker.hpp"

namespace pmm::orders {

namespace {

constexpr uint32_t kMagic = 0x504D4F54;  // "PMOT"
constexpr uint16_t kVersion = 1;
constexpr size_t kHeaderSize = 4 + 2 + 2 + 4 + 8 + 4 + 4 + 4;          // 32
constexpr size_t kPositionSize = 4 + 8 + 16 + 16 + 16 + 8 + 8;        // 76
constexpr size_t kOrderSize = 4 + 3 * kTokenSize + 2 + 1 + 1 + 1 + 6 * 4;  // 75
constexpr size_t kFillSize = kTokenSize + 8 + 8 + 4 + 4 + 2 + 1 + 1;  // 42

__extension__ typedef unsigned __int128 MoneyBits;

constexpr uint8_t kFlagAcked = 1, kFlagPending = 2, kFlagPrevious = 4;

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { grow(2); store_be16(end(2), v); }
  void u32(uint32_t v) { grow(4); store_be32(end(4), v); }
  void u64(uint64_t v) { grow(8); store_be64(end(8), v); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void money(Money v) {
    const auto u = static_cast<MoneyBits>(v);
    u64(static_cast<uint64_t>(u >> 64));
    u64(static_cast<uint64_t>(u));
  }
  void token(const OrderToken& t) { out_.insert(out_.end(), t.chars.begin(), t.chars.end()); }

 private:
  void grow(size_t n) { out_.resize(out_.size() + n); }
  uint8_t* end(size_t n) { return out_.data() + out_.size() - n; }
  std::vector<uint8_t>& out_;
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t offset() const { return off_; }
  bool has(size_t k) const { return n_ - off_ >= k; }
  uint8_t u8() { return p_[off_++]; }
  uint16_t u16() { off_ += 2; return load_be16(p_ + off_ - 2); }
  uint32_t u32() { off_ += 4; return load_be32(p_ + off_ - 4); }
  uint64_t u64() { off_ += 8; return load_be64(p_ + off_ - 8); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  Money money() {
    const MoneyBits hi = u64();
    const MoneyBits lo = u64();
    return static_cast<Money>((hi << 64) | lo);
  }
  OrderToken token() {
    OrderToken t;
    std::memcpy(t.chars.data(), p_ + off_, kTokenSize);
    off_ += kTokenSize;
    return t;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
};

std::string at(size_t offset, const std::string& what) {
  return "order snapshot, offset " + std::to_string(offset) + ": " + what;
}

}  // namespace

std::vector<uint8_t> OrderTracker::snapshot() const {
  uint32_t positions = 0;
  for (uint32_t s = 0; s < positions_.max_symbols(); ++s)
    if (!(positions_.position(s) == Position{})) ++positions;
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + positions * kPositionSize + live_orders_ * kOrderSize + fills_.size() * kFillSize);
  Writer w(out);
  w.u32(kMagic);
  w.u16(kVersion);
  w.u16(0);
  w.u32(tokens_.epoch());
  w.u64(sequence_);
  w.u32(positions);
  w.u32(live_orders_);
  w.u32(fills_.size());
  assert(out.size() == kHeaderSize);
  for (uint32_t s = 0; s < positions_.max_symbols(); ++s) {
    const Position& p = positions_.position(s);
    if (p == Position{}) continue;
    w.u32(s);
    w.i64(p.shares);
    w.money(p.cost_basis);
    w.money(p.realized);
    w.money(p.fees);
    w.u64(p.bought);
    w.u64(p.sold);
  }
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const OrderRecord& o = slots_[i];
    if (!is_live(o.state)) continue;
    w.u32(i);
    w.token(o.token);
    w.token(o.pending_token);
    w.token(o.previous_token);
    w.u16(o.symbol);
    w.u8(static_cast<uint8_t>(o.side));
    w.u8(static_cast<uint8_t>(o.state));
    w.u8(static_cast<uint8_t>((o.acked ? kFlagAcked : 0) | (o.has_pending ? kFlagPending : 0) |
                              (o.has_previous ? kFlagPrevious : 0)));
    w.u32(o.price);
    w.u32(o.pending_price);
    w.u32(o.shares);
    w.u32(o.open);
    w.u32(o.executed);
    w.u32(o.pending_shares);
  }
  for (uint32_t i = 0; i < fills_.size(); ++i) {
    const FillRecord& f = fills_.at(i);
    w.token(f.token);
    w.u64(f.match_number);
    w.i64(f.fee);
    w.u32(f.price);
    w.u32(f.shares);
    w.u16(f.symbol);
    w.u8(static_cast<uint8_t>(f.side));
    w.u8(f.broken ? 1 : 0);
  }
  return out;
}

std::string OrderTracker::restore(const uint8_t* data, size_t size) {
  if (tokens_.issued() != 0 || sequence_ != 0 || fills_.size() != 0)
    return "order snapshot: restore needs a tracker that has issued nothing";
  Reader r(data, size);
  if (!r.has(kHeaderSize)) return at(0, "shorter than the 32-byte header (" + std::to_string(size) + " bytes)");
  if (r.u32() != kMagic) return at(0, "bad magic (expected \"PMOT\")");
  const uint16_t version = r.u16();
  if (version != kVersion) return at(4, "version " + std::to_string(version) + ", this build reads 1");
  r.u16();
  r.u32();  // the writer's epoch: informational
  const uint64_t sequence = r.u64();
  const uint32_t npos = r.u32();
  const uint32_t nord = r.u32();
  const uint32_t nfill = r.u32();
  const uint64_t need = kHeaderSize + uint64_t{npos} * kPositionSize + uint64_t{nord} * kOrderSize +
                        uint64_t{nfill} * kFillSize;
  if (need != size)
    return at(kHeaderSize, "counts say " + std::to_string(need) + " bytes, the snapshot has " + std::to_string(size));

  // Parse everything first; the tracker changes only once all of it checked out.
  std::vector<std::pair<uint32_t, Position>> positions(npos);
  std::vector<bool> seen_symbol(config_.max_symbols, false);
  for (auto& [sym, p] : positions) {
    const size_t off = r.offset();
    sym = r.u32();
    if (sym >= config_.max_symbols)
      return at(off, "position symbol " + std::to_string(sym) + " >= orders.max_symbols " + std::to_string(config_.max_symbols));
    if (seen_symbol[sym]) return at(off, "position symbol " + std::to_string(sym) + " appears twice");
    seen_symbol[sym] = true;
    p.shares = r.i64();
    p.cost_basis = r.money();
    p.realized = r.money();
    p.fees = r.money();
    p.bought = r.u64();
    p.sold = r.u64();
  }
  std::vector<std::pair<uint32_t, OrderRecord>> orders(nord);
  std::vector<bool> seen_slot(slots_.size(), false);
  for (auto& [slot, o] : orders) {
    const size_t off = r.offset();
    slot = r.u32();
    if (slot >= slots_.size())
      return at(off, "order slot " + std::to_string(slot) + " >= orders.max_open_orders " + std::to_string(slots_.size()));
    if (seen_slot[slot]) return at(off, "order slot " + std::to_string(slot) + " appears twice");
    seen_slot[slot] = true;
    o.token = r.token();
    o.pending_token = r.token();
    o.previous_token = r.token();
    o.symbol = r.u16();
    const uint8_t side = r.u8();
    const uint8_t state = r.u8();
    const uint8_t flags = r.u8();
    o.price = r.u32();
    o.pending_price = r.u32();
    o.shares = r.u32();
    o.open = r.u32();
    o.executed = r.u32();
    o.pending_shares = r.u32();
    if (o.symbol >= config_.max_symbols) return at(off + 46, "order symbol " + std::to_string(o.symbol) + " >= orders.max_symbols");
    if (side > 1) return at(off + 48, "order side " + std::to_string(side) + " (expected 0 buy or 1 sell)");
    o.side = static_cast<Side>(side);
    if (state >= kStateCount || !is_live(static_cast<OrderState>(state)))
      return at(off + 49, "order state " + std::to_string(state) + " is not a live state (1..5)");
    o.state = static_cast<OrderState>(state);
    if (flags > 7) return at(off + 50, "order flags " + std::to_string(flags) + " (expected bits 0-2 only)");
    o.acked = (flags & kFlagAcked) != 0;
    o.has_pending = (flags & kFlagPending) != 0;
    o.has_previous = (flags & kFlagPrevious) != 0;
    TokenParts parts;
    if (!decode_token(o.token, parts) || parts.slot != slot)
      return at(off + 4, "order token \"" + std::string(o.token.view()) + "\" is not ours or names another slot");
    if (o.has_pending && (!decode_token(o.pending_token, parts) || parts.slot != slot))
      return at(off + 18, "pending token \"" + std::string(o.pending_token.view()) + "\" is not ours or names another slot");
    if ((o.state == OrderState::kPendingReplace) != o.has_pending)
      return at(off + 50, "pending-replace state and pending-token flag disagree");
  }
  std::vector<FillRecord> fills(nfill);
  for (FillRecord& f : fills) {
    const size_t off = r.offset();
    f.token = r.token();
    f.match_number = r.u64();
    f.fee = r.i64();
    f.price = r.u32();
    f.shares = r.u32();
    f.symbol = r.u16();
    const uint8_t side = r.u8();
    const uint8_t broken = r.u8();
    if (f.symbol >= config_.max_symbols) return at(off + 38, "fill symbol " + std::to_string(f.symbol) + " >= orders.max_symbols");
    if (side > 1) return at(off + 40, "fill side " + std::to_string(side) + " (expected 0 or 1)");
    if (broken > 1) return at(off + 41, "fill broken flag " + std::to_string(broken) + " (expected 0 or 1)");
    f.side = static_cast<Side>(side);
    f.broken = broken == 1;
  }
  // Duplicate fills are checked against a scratch history so a failure leaves ours untouched.
  FillHistory scratch(config_.fill_history);
  for (uint32_t i = 0; i < nfill; ++i) {
    if (scratch.find(fills[i].match_number, fills[i].token) != nullptr)
      return at(kHeaderSize + npos * kPositionSize + nord * kOrderSize + i * kFillSize,
                "fill (match " + std::to_string(fills[i].match_number) + ") appears twice");
    scratch.add(fills[i]);
  }

  // All checked: apply.
  for (const auto& [sym, p] : positions) positions_.restore(sym, p);
  for (const auto& [slot, o] : orders) {
    slots_[slot] = o;
    view(o);
  }
  // Free slots in index order, the restored ones taken out.
  free_count_ = 0;
  free_head_ = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (!seen_slot[i]) free_[free_count_++] = i;
  for (const FillRecord& f : fills) fills_.add(f);  // a smaller history keeps the newest
  sequence_ = sequence;
  return "";
}

}  // namespace pmm::orders
