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

PacketOutcome BookBuilder::on_packet(const uint8_t* p, size_t len) noexcept {
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
  MessageRef batch[kBatch];
  size_t n = 0;
  pkt.for_each_message(
      [&](uint64_t, const uint8_t* msg, uint16_t msg_len) {
        batch[n++] = MessageRef{msg, msg_len};
        if (n == kBatch) {
          on_messages(batch, n);
          n = 0;
        }
        ++out.applied;
      },
      out.verdict.skip);
  on_messages(batch, n);
  return out;
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
}  // namespace

void BookBuilder::on_messages(const MessageRef* messages, size_t n) noexcept {
  // A software pipeline over the messages, one dependent load per stage, each stage kStage
  // messages ahead of the next, so every load has a few hundred nanoseconds to arrive:
  //   lead 3*kStage: decode; prefetch the order slot (order references) or book header (adds);
  //   lead 2*kStage: read the slot to learn the order's locate and side; prefetch its book header;
  //   lead   kStage: read the book header; prefetch the side's best levels;
  //   lead        0: apply.
  struct Pending {
    Prefetch kind;
    char side;
    uint16_t locate;
    uint64_t ref;
  };
  constexpr size_t kStage = 4;
  constexpr size_t kRing = 4 * kStage;  // > 3*kStage, a power of two
  Pending ring[kRing];
  for (size_t i = 0; i < n + 3 * kStage; ++i) {
    if (i < n) {
      const uint8_t* p = messages[i].data;
      Pending& q = ring[i % kRing];
      // Malformed messages are not looked into: on_message counts them.
      q.kind = messages[i].len != 0 && messages[i].len == kLengths[p[0]] ? kPrefetchKinds[p[0]] : Prefetch::kNone;
      if (q.kind == Prefetch::kOrderRef) {
        q.ref = load_be64(p + 11);
        books_.prefetch_order(q.ref);
      } else if (q.kind == Prefetch::kAdd) {
        q.locate = load_be16(p + 1);
        q.side = static_cast<char>(p[19]);
        books_.prefetch_book(q.locate);
      }
    }
    if (const size_t j = i - kStage; i >= kStage && j < n) {
      Pending& q = ring[j % kRing];
      if (q.kind == Prefetch::kOrderRef) {
        if (books_.order_side(q.ref, q.locate, q.side)) books_.prefetch_book(q.locate);
        else q.kind = Prefetch::kNone;
      }
    }
    if (const size_t j = i - 2 * kStage; i >= 2 * kStage && j < n) {
      const Pending& q = ring[j % kRing];
      if (q.kind != Prefetch::kNone) books_.prefetch_top_levels(q.locate, q.side);
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
