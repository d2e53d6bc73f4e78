// What the feed publisher tells whoever else lives on its thread (the order gateway): every message as
// it is published, the end of the feed, and idle moments in which to do other non-blocking work. The
// publisher's thread is the simulator's main loop, so everything that must see the feed in order (the
// matching engine) and everything that must not slow it down (socket polling) runs here, in one thread.
#pragma once

#include <cstdint>

namespace pmm::sim {

class FeedObserver {
 public:
  virtual ~FeedObserver() = default;

  // Each message, in sequence order, as its packet is published (also a packet left off the wire by
  // the drop plan: its messages are published all the same), before the packet is sent.
  virtual void on_published(const uint8_t* msg, uint16_t len) noexcept = 0;
  // No more messages: the source ended or publishing stopped. Called once.
  virtual void on_feed_end() noexcept = 0;
  // After every packet and on every turn of a wait (start delay, pacing, lingering). Must not block.
  virtual void on_idle() noexcept = 0;
};

}  // namespace pmm::sim
