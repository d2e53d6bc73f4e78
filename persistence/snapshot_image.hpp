// A snapshot serialised into memory: byte for byte the file SnapshotWriter writes (header, blocks, footer,
// every CRC), in a buffer allocated once with a configured bound (persistence.snapshotBufferBytes). The
// journal thread captures the shadow state into it at an exact sequence without any file-system call;
// SnapshotFileThread (snapshot_file_thread.hpp) then writes the bytes out. docs/recovery.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "persistence/recoverable_state.hpp"

namespace pmm::persistence {

class SnapshotImage {
 public:
  // Allocates and touches `capacity` bytes (so a capture takes no page faults).
  explicit SnapshotImage(size_t capacity);
  ~SnapshotImage();
  SnapshotImage(const SnapshotImage&) = delete;
  SnapshotImage& operator=(const SnapshotImage&) = delete;

  // Serialises `state`, which is at `sequence`, replacing what the image held. "" or what failed (the
  // state's error, or "needs more than the N-byte buffer"); then the image is empty (size() 0).
  std::string capture(const RecoverableState& state, uint64_t sequence, uint64_t created_unix_ns);

  uint64_t sequence() const noexcept { return sequence_; }
  uint32_t block_count() const noexcept { return block_count_; }
  const uint8_t* data() const noexcept;
  size_t size() const noexcept;  // the snapshot file's length; 0 when empty
  size_t capacity() const noexcept;

 private:
  class BufferFileOps;
  std::unique_ptr<BufferFileOps> buffer_;
  uint64_t sequence_ = 0;
  uint32_t block_count_ = 0;
};

}  // namespace pmm::persistence
