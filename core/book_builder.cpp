#include "core/book_builder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/byte_order.hpp"

namespace pmm {

BookBuilder::BookBuilder(const book::BookCapacity& capacity, uint64_t first_sequence)
    : books_(capacity),
      tracker_(first_sequence),
      symbols_(new itch::Symbol[capacity.max_locates]),
      trading_state_(new char[capacity.max_locates]),
      changed_flag_(new uint8_t[capacity.max_locates]()),
      changed_(new uint16_t[capacity.max_locates]) {
  for (uint32_t i = 0; i < capacity.max_locates; ++i) symbols_[i].fill(' ');
  std::memset(trading_state_.get(), ' ', capacity.max_locates);
}

template <class F>
PacketOutcome BookBuilder::accept_packet(const uint8_t* p, size_t len, F&& f) noexcept {
  PacketOutcome out;
  mold::DownstreamPacket pkt;
  out.error = mold::parse_downstream(p, len, pkt);
  if (out.error != mold::ParseError::kNone) [[unlikely]] {
    ++stats_.malformed_packets;
    return out;
  }
  ++stats_.packets;
  out.verdict = tracker_.on_packet(pkt.header);
  if (out.verdict.kind != mold::Verdict::Kind::kDeliver) return out;
  pkt.for_each_message(
      [&](uint64_t, const uint8_t* msg, uint16_t msg_len) {
        f(msg, msg_len);
        ++out.applied;
      },
      out.verdict.skip);
  return out;
}

PacketOutcome BookBuilder::on_packet(const uint8_t* p, size_t len) noexcept {
  MessageRef batch[kBatch];
  size_t n = 0;
  const PacketOutcome out = accept_packet(p, len, [&](const uint8_t* msg, uint16_t msg_len) {
    batch[n++] = MessageRef{msg, msg_len};
    if (n == kBatch) {
      on_messages(batch, n);
      n = 0;
    }
  });
  on_messages(batch, n);
  return out;
}

uint64_t BookBuilder::on_burst(const PacketRef* packets, size_t count) noexcept {
  // The sequence tracker never depends on the books, so every packet can be checked before the
  // messages before it are applied: one pipeline runs across packet boundaries.
  MessageRef batch[kBurstMessages];
  size_t n = 0;
  uint64_t applied = 0;
  for (size_t i = 0; i < count; ++i) {
    applied += accept_packet(packets[i].data, packets[i].len, [&](const uint8_t* msg, uint16_t msg_len) {
                 batch[n++] = MessageRef{msg, msg_len};
                 if (n == kBurstMessages) {
                   on_messages(batch, n);
                   n = 0;
                 }
               }).applied;
  }
  on_messages(batch, n);
  return applied;
}

namespace {
// What the prefetch passes need to know about a message type, by type byte.
enum class Prefetch : uint8_t { kNone, kOrderRef, kAdd };

constexpr std::array<Prefetch, 256> make_prefetch_kinds() {
  std::array<Prefetch, 256> k{};
  for (uint8_t t : {'D', 'U', 'E', 'X', 'C'}) k[t] = Prefetch::kOrderRef;  // ref at offset 11
  for (uint8_t t : {'A', 'F'}) k[t] = Prefetch::kAdd;                     // locate 1, side 19
  return k;
}
constexpr std::array<Prefetch, 256> kPrefetchKinds = make_prefetch_kinds();

constexpr std::array<uint8_t, 256> make_lengths() {
  std::array<uint8_t, 256> l{};
  for (int t = 0; t < 256; ++t) l[t] = static_cast<uint8_t>(itch::message_length(static_cast<uint8_t>(t)));
  return l;
}
constexpr std::array<uint8_t, 256> kLengths = make_lengths();
// Stands in for the fields of a message that does not have them (read at offsets 1..19).
constexpr uint8_t kBlankMessage[20] = {};
}  // namespace

void BookBuilder::on_messages(const MessageRef* messages, size_t n) noexcept {
  // A software pipeline over the messages, one dependent load per stage, each stage kStage
  // messages ahead of the next, so every load has a few hundred nanoseconds to arrive:
  //   lead 3*kStage: decode; prefetch the order slot (order references) or book header (others);
  //   lead 2*kStage: read the slot to learn the order's locate and side; prefetch its book header;
  //   lead   kStage: read the book header; prefetch the side's best levels;
  //   lead        0: apply.
  // The message types come in no order a branch predictor can learn, so the inner stages do not
  // branch on them: a message that is not an order message prefetches some book's header and levels
  // (the fields it is read with are blank bytes), which costs less than a mispredicted branch.
  struct Pending {
    uint64_t ref;
    uint16_t locate;
    uint8_t side;  // 0 bid, 1 ask
    bool by_ref;   // an order reference: locate and side come from the order table
  };
  constexpr size_t kStage = 4;
  constexpr size_t kRing = 4 * kStage;  // > 3*kStage, a power of two
  Pending ring[kRing];
  for (size_t i = 0; i < n + 3 * kStage; ++i) {
    if (i < n) {
      const uint8_t* p = messages[i].data;
      Pending& q = ring[i % kRing];
      // Malformed messages are not looked into (on_message counts them): their fields are read
      // from blank bytes, as are the fields a message type does not have.
      const Prefetch kind =
          messages[i].len != 0 && messages[i].len == kLengths[p[0]] ? kPrefetchKinds[p[0]] : Prefetch::kNone;
      const uint8_t* add = kind == Prefetch::kAdd ? p : kBlankMessage;
      const uint8_t* by_ref = kind == Prefetch::kOrderRef ? p : kBlankMessage;
      q.by_ref = kind == Prefetch::kOrderRef;
      q.ref = load_be64(by_ref + 11);
      q.locate = load_be16(add + 1);
      q.side = add[19] == 'S' ? 1 : 0;
      if (q.by_ref) books_.prefetch_order(q.ref);
      else books_.prefetch_book(q.locate);
    }
    if (const size_t j = i - kStage; i >= kStage && j < n) {
      Pending& q = ring[j % kRing];
      uint16_t locate;
      uint8_t side;
      books_.prefetch_book_of_order(q.ref, locate, side);
      q.locate = q.by_ref ? locate : q.locate;
      q.side = q.by_ref ? side : q.side;
    }
    if (const size_t j = i - 2 * kStage; i >= 2 * kStage && j < n) {
      const Pending& q = ring[j % kRing];
      books_.prefetch_best_levels(q.locate, q.side);
    }
    if (i >= 3 * kStage) on_message(messages[i - 3 * kStage].data, messages[i - 3 * kStage].len);
  }
}

itch::DispatchResult BookBuilder::on_message(const uint8_t* p, size_t len) noexcept {
  const itch::DispatchResult r = itch::dispatch(p, len, *this);
  switch (r) {
    case itch::DispatchResult::kOk:
      ++stats_.messages;
      ++stats_.by_type[p[0]];
      break;
    case itch::DispatchResult::kUnknownType:
      ++stats_.unknown_type;
      ++stats_.by_type[p[0]];
      break;
    case itch::DispatchResult::kBadLength: ++stats_.bad_length; break;
    case itch::DispatchResult::kEmpty: ++stats_.empty_messages; break;
  }
  return r;
}

void BookBuilder::clear_changes() noexcept {
  for (size_t i = 0; i < changed_count_; ++i) changed_flag_[changed_[i]] = 0;
  changed_count_ = 0;
}

void BookBuilder::on(const itch::StockDirectory& m) noexcept {
  if (m.h.locate < books_.max_locates()) symbols_[m.h.locate] = m.stock;
}

void BookBuilder::on(const itch::StockTradingAction& m) noexcept {
  if (m.h.locate < books_.max_locates()) trading_state_[m.h.locate] = m.trading_state;
}

const itch::Symbol& BookBuilder::symbol(uint16_t locate) const noexcept {
  static const itch::Symbol kBlank = itch::make_symbol("");
  return locate < books_.max_locates() ? symbols_[locate] : kBlank;
}

char BookBuilder::trading_state(uint16_t locate) const noexcept {
  return locate < books_.max_locates() ? trading_state_[locate] : ' ';
}

int32_t BookBuilder::find_locate(std::string_view symbol) const noexcept {
  if (symbol.size() > 8) return -1;
  const itch::Symbol want = itch::make_symbol(std::string(symbol).c_str());
  for (uint32_t i = 0; i < books_.max_locates(); ++i)
    if (symbols_[i] == want) return static_cast<int32_t>(i);
  return -1;
}

}  // namespace pmm
