// The messages a feed has published, kept for retransmission: a ring of the latest `capacity`
// messages in fixed-size slots, written by the publisher thread and read concurrently by the
// retransmission server. Allocated and zeroed once; storing and reading never allocate or lock.
//
// Each slot carries the sequence number of the message in it, written last with release order; a
// reader copies the slot and then checks the number again (a seqlock), so a slot overwritten while it
// was being copied is reported as no longer kept instead of being returned torn. The message words
// are relaxed atomics so that this benign race is also a well-defined one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace pmm::sim {

class MessageHistory {
 public:
  // capacity >= 1 messages of at most max_message_length bytes each.
  MessageHistory(uint64_t capacity, size_t max_message_length);

  // Publisher thread. Sequences are stored in order from 1; a stored message is not readable by
  // read() until publish() passes it.
  void store(uint64_t sequence, const uint8_t* msg, uint16_t len) noexcept;
  void publish(uint64_t next_sequence) noexcept;

  // Any thread. Copies message `sequence` into out (room for max_message_length() bytes). False
  // when it is not published yet or no longer kept (overwritten by a message `capacity` later).
  bool read(uint64_t sequence, uint8_t* out, uint16_t& len) const noexcept;
  // Publisher thread: also messages stored but not yet published.
  bool read_stored(uint64_t sequence, uint8_t* out, uint16_t& len) const noexcept;

  // One past the last published sequence (1 before anything is published).
  uint64_t published_end() const noexcept { return published_end_.load(std::memory_order_acquire); }
  uint64_t capacity() const noexcept { return capacity_; }
  size_t max_message_length() const noexcept { return max_len_; }
  size_t bytes() const noexcept { return capacity_ * slot_words_ * sizeof(uint64_t); }

 private:
  std::atomic<uint64_t>* slot(uint64_t sequence) const noexcept {
    return words_.get() + ((sequence - 1) % capacity_) * slot_words_;
  }

  uint64_t capacity_;
  size_t max_len_;
  size_t slot_words_;  // word 0: sequence (0: being written); then the length (2 bytes) and the message
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::atomic<uint64_t> published_end_{1};
};

}  // namespace pmm::sim
