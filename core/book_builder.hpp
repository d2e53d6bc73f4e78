// The book-building stage: takes MoldUDP64 packets (or bare ITCH messages) in bursts, keeps the
// sequence, decodes ITCH 5.0 and applies it to the L3 books, and reports which locates' top of book
// changed since the consumer last looked. The pipeline's parse and book stages are built from this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/itch.hpp"
#include "core/itch_dispatch.hpp"
#include "core/mold_sequence_tracker.hpp"
#include "core/moldudp64.hpp"
#include "core/order_book.hpp"

namespace pmm {

struct FeedStats {
  uint64_t messages = 0;             // ITCH messages decoded and applied
  uint64_t by_type[256] = {};        // per message type byte, including unknown types
  uint64_t unknown_type = 0;         // skipped by length
  uint64_t bad_length = 0;           // known type, wrong length: malformed, skipped
  uint64_t empty_messages = 0;
  uint64_t malformed_packets = 0;    // MoldUDP64 packets that failed parsing: dropped whole
  uint64_t packets = 0;              // MoldUDP64 packets accepted
};

// One framed ITCH message.
struct MessageRef {
  const uint8_t* data = nullptr;
  uint16_t len = 0;
};

// One received datagram's payload, as a stage hands it over in a burst.
struct PacketRef {
  const uint8_t* data = nullptr;
  size_t len = 0;
};

struct PacketOutcome {
  mold::ParseError error = mold::ParseError::kNone;
  mold::Verdict verdict;
  uint16_t applied = 0;  // messages handed to the books
};

class BookBuilder : public itch::IgnoreAll {
 public:
  explicit BookBuilder(const book::BookCapacity& capacity, uint64_t first_sequence = 1);

  // One MoldUDP64 downstream packet (the UDP payload).
  PacketOutcome on_packet(const uint8_t* p, size_t len) noexcept;
  // A burst of MoldUDP64 packets, in arrival order; returns the messages applied. The same effect
  // as on_packet on each, but the messages of consecutive packets go through one prefetch pipeline
  // (up to kBurstMessages at a time) instead of one per packet.
  uint64_t on_burst(const PacketRef* packets, size_t n) noexcept;
  // One ITCH message as framed by MoldUDP64 or BinaryFILE.
  itch::DispatchResult on_message(const uint8_t* p, size_t len) noexcept;
  // Messages in order, with the same effect as on_message on each, but faster: what each message
  // will touch (order slot, book header, best levels) is prefetched several messages ahead, so
  // cache misses overlap. A book of a million orders does not fit in cache.
  void on_messages(const MessageRef* messages, size_t n) noexcept;
  static constexpr size_t kBatch = 64;  // on_packet hands messages over in batches of this size
  static constexpr size_t kBurstMessages = 512;  // on_burst's batch

  // Locates whose top of book changed since clear_changes(), each listed once.
  std::span<const uint16_t> changed_locates() const noexcept {
    return {changed_.get(), changed_count_};
  }
  void clear_changes() noexcept;

  const book::OrderBooks& books() const noexcept { return books_; }
  const FeedStats& stats() const noexcept { return stats_; }
  const mold::SequenceTracker& sequence() const noexcept { return tracker_; }

  // Directory (R) and trading state (H) per locate.
  const itch::Symbol& symbol(uint16_t locate) const noexcept;
  char trading_state(uint16_t locate) const noexcept;  // ' ' until an H message
  // Locate of a symbol ("AAPL"), or -1. Linear: for set-up and tools, not the hot path.
  int32_t find_locate(std::string_view symbol) const noexcept;

  // ITCH handlers (called by itch::dispatch).
  using itch::IgnoreAll::on;
  void on(const itch::StockDirectory& m) noexcept;
  void on(const itch::StockTradingAction& m) noexcept;
  void on(const itch::AddOrder& m) noexcept { note(books_.add(m.h.locate, m.ref, m.side, m.shares, m.price)); }
  void on(const itch::AddOrderMpid& m) noexcept { note(books_.add(m.h.locate, m.ref, m.side, m.shares, m.price)); }
  void on(const itch::OrderExecuted& m) noexcept { note(books_.execute(m.ref, m.shares)); }
  void on(const itch::OrderExecutedWithPrice& m) noexcept { note(books_.execute(m.ref, m.shares)); }
  void on(const itch::OrderCancel& m) noexcept { note(books_.cancel(m.ref, m.shares)); }
  void on(const itch::OrderDelete& m) noexcept { note(books_.remove(m.ref)); }
  void on(const itch::OrderReplace& m) noexcept { note(books_.replace(m.old_ref, m.new_ref, m.shares, m.price)); }

 private:
  // Checks one packet's framing and sequence; the messages to deliver go to f(msg, len).
  template <class F>
  PacketOutcome accept_packet(const uint8_t* p, size_t len, F&& f) noexcept;
  void note(book::Touch t) noexcept {
    if (t.top_changed && !changed_flag_[t.locate]) {
      changed_flag_[t.locate] = 1;
      changed_[changed_count_++] = static_cast<uint16_t>(t.locate);
    }
  }

  book::OrderBooks books_;
  mold::SequenceTracker tracker_;
  FeedStats stats_;
  std::unique_ptr<itch::Symbol[]> symbols_;
  std::unique_ptr<char[]> trading_state_;
  std::unique_ptr<uint8_t[]> changed_flag_;
  std::unique_ptr<uint16_t[]> changed_;  // bounded by max_locates: each locate at most once
  size_t changed_count_ = 0;
};

}  // namespace pmm
