#include "core/book_builder.hpp"

#include <algorithm>
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
// Messages whose first field after the header is an order reference the book must look up.
inline bool references_order(uint8_t type) noexcept {
  return type == 'D' || type == 'U' || type == 'E' || type == 'X' || type == 'C';
}
inline bool adds_order(uint8_t type) noexcept { return type == 'A' || type == 'F'; }
}  // namespace

void BookBuilder::on_messages(const MessageRef* messages, size_t n) noexcept {
  for (size_t base = 0; base < n; base += kBatch) {
    const size_t end = std::min(n, base + kBatch);
    // Only well-formed messages are looked into; the rest go straight to on_message to be counted.
    auto valid = [&](size_t i) {
      return messages[i].len != 0 && messages[i].len == itch::message_length(messages[i].data[0]);
    };
    for (size_t i = base; i < end; ++i) {  // 1: order slots and add targets' book headers
      if (!valid(i)) continue;
      const uint8_t* p = messages[i].data;
      if (references_order(p[0])) books_.prefetch_order(load_be64(p + 11));
      else if (adds_order(p[0])) books_.prefetch_book(load_be16(p + 1));
    }
    for (size_t i = base; i < end; ++i) {  // 2: book headers of referenced orders, best levels of adds
      if (!valid(i)) continue;
      const uint8_t* p = messages[i].data;
      if (references_order(p[0])) books_.prefetch_order_book(load_be64(p + 11));
      else if (adds_order(p[0])) books_.prefetch_top_levels(load_be16(p + 1), static_cast<char>(p[19]));
    }
    for (size_t i = base; i < end; ++i) {  // 3: best levels of referenced orders' sides
      if (!valid(i)) continue;
      const uint8_t* p = messages[i].data;
      if (references_order(p[0])) books_.prefetch_order_levels(load_be64(p + 11));
    }
    for (size_t i = base; i < end; ++i) on_message(messages[i].data, messages[i].len);
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
