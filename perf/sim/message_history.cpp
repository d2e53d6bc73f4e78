#include "perf/sim/message_history.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace pmm::sim {

namespace {

constexpr size_t kLengthBytes = 2;

size_t words_for(size_t bytes) { return (bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t); }

}  // namespace

MessageHistory::MessageHistory(uint64_t capacity, size_t max_message_length)
    : capacity_(capacity),
      max_len_(max_message_length),
      slot_words_(1 + words_for(kLengthBytes + max_message_length)),
      // Value-initialised: every slot starts at sequence 0 ("empty"), and every page is touched now.
      words_(std::make_unique<std::atomic<uint64_t>[]>(capacity * (1 + words_for(kLengthBytes + max_message_length)))) {
  assert(capacity >= 1);
  assert(max_message_length <= 65535);
}

void MessageHistory::store(uint64_t sequence, const uint8_t* msg, uint16_t len) noexcept {
  assert(sequence >= 1);
  assert(len <= max_len_);
  std::atomic<uint64_t>* s = slot(sequence);
  s[0].store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);  // readers see 0 before any new word
  // The slot's bytes after word 0: big-endian length, then the message, zero padded to a word.
  const size_t total = kLengthBytes + len;
  for (size_t off = 0; off < total; off += sizeof(uint64_t)) {
    uint8_t bytes[sizeof(uint64_t)] = {};
    const size_t n = std::min(sizeof(uint64_t), total - off);
    if (off == 0) {
      bytes[0] = static_cast<uint8_t>(len >> 8);
      bytes[1] = static_cast<uint8_t>(len);
      if (n > kLengthBytes) std::memcpy(bytes + kLengthBytes, msg, n - kLengthBytes);
    } else {
      std::memcpy(bytes, msg + off - kLengthBytes, n);
    }
    uint64_t word;
    std::memcpy(&word, bytes, sizeof word);
    s[1 + off / sizeof(uint64_t)].store(word, std::memory_order_relaxed);
  }
  s[0].store(sequence, std::memory_order_release);
}

void MessageHistory::publish(uint64_t next_sequence) noexcept {
  assert(next_sequence >= published_end_.load(std::memory_order_relaxed));
  published_end_.store(next_sequence, std::memory_order_release);
}

bool MessageHistory::read(uint64_t sequence, uint8_t* out, uint16_t& len) const noexcept {
  if (sequence == 0 || sequence >= published_end()) return false;
  return read_stored(sequence, out, len);
}

bool MessageHistory::read_stored(uint64_t sequence, uint8_t* out, uint16_t& len) const noexcept {
  if (sequence == 0) return false;
  const std::atomic<uint64_t>* s = slot(sequence);
  if (s[0].load(std::memory_order_acquire) != sequence) return false;
  uint8_t bytes[sizeof(uint64_t)];
  uint64_t word = s[1].load(std::memory_order_relaxed);
  std::memcpy(bytes, &word, sizeof bytes);
  const size_t n = size_t{bytes[0]} << 8 | bytes[1];
  if (n > max_len_) return false;  // torn by a concurrent store: the re-check below would fail too
  const size_t total = kLengthBytes + n;
  for (size_t off = 0; off < total; off += sizeof(uint64_t)) {
    if (off != 0) {
      word = s[1 + off / sizeof(uint64_t)].load(std::memory_order_relaxed);
      std::memcpy(bytes, &word, sizeof bytes);
    }
    const size_t end = std::min(sizeof(uint64_t), total - off);
    const size_t begin = off == 0 ? kLengthBytes : 0;
    if (end > begin) std::memcpy(out + off + begin - kLengthBytes, bytes + begin, end - begin);
  }
  std::atomic_thread_fence(std::memory_order_acquire);  // the copy is complete before the re-check
  if (s[0].load(std::memory_order_relaxed) != sequence) return false;
  len = static_cast<uint16_t>(n);
  return true;
}

}  // namespace pmm::sim
