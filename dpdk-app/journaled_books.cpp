#include "dpdk-app/journaled_books.hpp"

#include <algorithm>

#include "core/byte_order.hpp"
#include "core/fnv1a.hpp"
#include "core/itch.hpp"

namespace pmm::app {

namespace {

book::BookCapacity capacity_of(const JournaledBooksConfig& c) {
  book::BookCapacity b;
  b.max_orders = c.max_orders;
  b.max_levels = c.max_levels;
  b.max_locates = 65536;  // any locate the feed can name
  b.level_index_entries = std::max<uint32_t>(4 * c.max_levels, 64);
  return b;
}

constexpr size_t kOrderBytes = 8 + 2 + 1 + 4 + 4;

}  // namespace

JournaledBooks::JournaledBooks(const JournaledBooksConfig& config) : config_(config) { reset(); }

void JournaledBooks::reset() {
  books_ = std::make_unique<book::OrderBooks>(capacity_of(config_));
  orders_.clear();
  states_.clear();
  lost_ = 0;
}

char JournaledBooks::trading_state(uint16_t locate) const noexcept {
  const auto it = states_.find(locate);
  return it == states_.end() ? ' ' : it->second;
}

bool JournaledBooks::admit(uint16_t locate, std::string& error) {
  if (states_.count(locate) != 0) return true;
  if (states_.size() >= config_.max_books) {
    // More quoted symbols in the journal than configured now (the list shrank between runs): a bound,
    // not corruption. Counted as lost; the books-reset at start makes the new run's books exact again.
    ++lost_;
    error.clear();
    return false;
  }
  states_.emplace(locate, ' ');
  return true;
}

void JournaledBooks::sync(uint64_t ref) noexcept {
  uint16_t locate = 0;
  char side = ' ';
  if (!books_->order_side(ref, locate, side)) orders_.erase(ref);
}

std::string JournaledBooks::apply_message(const uint8_t* p, uint16_t length) {
  if (length == 0) return "an empty market-data record";
  const uint8_t type = p[0];
  if (length != itch::message_length(type) || length < 3)
    return "market-data record of type '" + std::string(1, static_cast<char>(type)) + "' has " +
           std::to_string(length) + " bytes, expected " + std::to_string(itch::message_length(type));
  const uint16_t locate = load_be16(p + 1);
  std::string error;
  const book::BookStats& st = books_->stats();
  const uint64_t dropped_before = st.order_capacity_exceeded + st.level_capacity_exceeded;
  // A message the book could not hold (capacity) leaves it inexact, as the live book would be: counted
  // as lost, not an apply error (a bound, not corruption).
  struct CountDrops {
    const book::BookStats& st;
    uint64_t before;
    uint64_t& lost;
    ~CountDrops() { lost += st.order_capacity_exceeded + st.level_capacity_exceeded - before; }
  } count_drops{st, dropped_before, lost_};
  // Each operation goes to the books first; the order table then follows what the books did.
  switch (type) {
    case 'A':
    case 'F': {
      uint64_t ref = 0;
      char side = ' ';
      uint32_t shares = 0, price = 0;
      if (type == 'A') {
        itch::AddOrder m;
        itch::decode(p, m);
        ref = m.ref, side = m.side, shares = m.shares, price = m.price;
      } else {
        itch::AddOrderMpid m;
        itch::decode(p, m);
        ref = m.ref, side = m.side, shares = m.shares, price = m.price;
      }
      if (!admit(locate, error)) return "";
      const bool existed = orders_.count(ref) != 0;
      (void)books_->add(locate, ref, side, shares, price);
      uint16_t l = 0;
      char s = ' ';
      if (!existed && books_->order_side(ref, l, s)) orders_[ref] = Order{locate, side, shares, price};
      return "";
    }
    case 'E':
    case 'C':
    case 'X': {
      uint64_t ref = 0;
      uint32_t shares = 0;
      if (type == 'E') {
        itch::OrderExecuted m;
        itch::decode(p, m);
        ref = m.ref, shares = m.shares;
      } else if (type == 'C') {
        itch::OrderExecutedWithPrice m;
        itch::decode(p, m);
        ref = m.ref, shares = m.shares;
      } else {
        itch::OrderCancel m;
        itch::decode(p, m);
        ref = m.ref, shares = m.shares;
      }
      if (!admit(locate, error)) return "";
      if (type == 'X') (void)books_->cancel(ref, shares);
      else (void)books_->execute(ref, shares);
      if (const auto it = orders_.find(ref); it != orders_.end()) {
        sync(ref);
        if (const auto still = orders_.find(ref); still != orders_.end()) still->second.shares -= shares;
      }
      return "";
    }
    case 'D': {
      itch::OrderDelete m;
      itch::decode(p, m);
      if (!admit(locate, error)) return "";
      (void)books_->remove(m.ref);
      sync(m.ref);
      return "";
    }
    case 'U': {
      itch::OrderReplace m;
      itch::decode(p, m);
      if (!admit(locate, error)) return "";
      const auto old = orders_.find(m.old_ref);
      const bool had_old = old != orders_.end();
      const Order before = had_old ? old->second : Order{};
      const bool new_existed = orders_.count(m.new_ref) != 0;
      (void)books_->replace(m.old_ref, m.new_ref, m.shares, m.price);
      sync(m.old_ref);
      uint16_t l = 0;
      char s = ' ';
      if (had_old && !new_existed && books_->order_side(m.new_ref, l, s))
        orders_[m.new_ref] = Order{before.locate, before.side, m.shares, m.price};
      return "";
    }
    case 'H': {
      itch::StockTradingAction m;
      itch::decode(p, m);
      if (!admit(locate, error)) return "";
      states_[locate] = m.trading_state;
      return "";
    }
    default:
      return "market-data record of type '" + std::string(1, static_cast<char>(type)) +
             "': not a message that changes a book";
  }
}

std::vector<uint8_t> JournaledBooks::serialize() const {
  std::vector<std::pair<uint64_t, Order>> sorted(orders_.begin(), orders_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<uint8_t> out(8 + 4 + states_.size() * 3 + 4 + sorted.size() * kOrderBytes);
  uint8_t* p = out.data();
  store_be64(p, lost_);
  store_be32(p + 8, static_cast<uint32_t>(states_.size()));
  p += 12;
  for (const auto& [locate, state] : states_) {
    store_be16(p, locate);
    p[2] = static_cast<uint8_t>(state);
    p += 3;
  }
  store_be32(p, static_cast<uint32_t>(sorted.size()));
  p += 4;
  for (const auto& [ref, o] : sorted) {
    store_be64(p, ref);
    store_be16(p + 8, o.locate);
    p[10] = static_cast<uint8_t>(o.side);
    store_be32(p + 11, o.shares);
    store_be32(p + 15, o.price);
    p += kOrderBytes;
  }
  return out;
}

std::string JournaledBooks::restore(const uint8_t* data, size_t size) {
  const auto at = [](size_t offset) { return " (offset " + std::to_string(offset) + ")"; };
  if (size < 12) return "market-data books: " + std::to_string(size) + " bytes, expected at least 16" + at(0);
  lost_ = load_be64(data);
  const uint32_t books = load_be32(data + 8);
  size_t off = 12;
  if (books > config_.max_books)
    return "market-data books: " + std::to_string(books) + " books, at most " + std::to_string(config_.max_books) + at(8);
  if (size < off + size_t{books} * 3 + 4) return "market-data books: truncated book list" + at(off);
  for (uint32_t i = 0; i < books; ++i, off += 3) {
    const uint16_t locate = load_be16(data + off);
    if (!states_.emplace(locate, static_cast<char>(data[off + 2])).second)
      return "market-data books: locate " + std::to_string(locate) + " twice" + at(off);
  }
  const uint32_t orders = load_be32(data + off);
  if (orders > config_.max_orders)
    return "market-data books: " + std::to_string(orders) + " orders, at most " + std::to_string(config_.max_orders) + at(off);
  off += 4;
  if (size != off + size_t{orders} * kOrderBytes)
    return "market-data books: " + std::to_string(size) + " bytes, expected " +
           std::to_string(off + size_t{orders} * kOrderBytes) + " for " + std::to_string(orders) + " orders" + at(off);
  uint64_t previous = 0;
  for (uint32_t i = 0; i < orders; ++i, off += kOrderBytes) {
    const uint64_t ref = load_be64(data + off);
    const Order o{load_be16(data + off + 8), static_cast<char>(data[off + 10]), load_be32(data + off + 11),
                  load_be32(data + off + 15)};
    if (i != 0 && ref <= previous) return "market-data books: order references not ascending" + at(off);
    previous = ref;
    if (states_.count(o.locate) == 0 || (o.side != 'B' && o.side != 'S') || o.shares == 0)
      return "market-data books: order " + std::to_string(ref) + " (locate " + std::to_string(o.locate) +
             ") is not a live order of a listed book" + at(off);
    (void)books_->add(o.locate, ref, o.side, o.shares, o.price);
    uint16_t l = 0;
    char s = ' ';
    if (!books_->order_side(ref, l, s)) return "market-data books: order " + std::to_string(ref) + " does not fit" + at(off);
    orders_.emplace(ref, o);
  }
  return "";
}

uint64_t JournaledBooks::digest() const {
  const std::vector<uint8_t> bytes = serialize();
  uint64_t h = kFnv1aOffset;
  fnv1a(h, bytes.data(), bytes.size());
  // And the levels as OrderBooks holds them: a restore that re-added orders wrongly shows here.
  uint8_t levels[8];
  store_be64(levels, books_->digest());
  fnv1a(h, levels, sizeof levels);
  return h;
}

}  // namespace pmm::app
