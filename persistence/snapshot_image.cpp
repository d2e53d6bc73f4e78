#include "persistence/snapshot_image.hpp"

#include <cerrno>
#include <cstring>

#include "persistence/file_ops.hpp"
#include "persistence/snapshot_file.hpp"

namespace pmm::persistence {

// The one "file" SnapshotWriter writes, in memory: writes append or patch within the capacity (EFBIG
// beyond it); sync, close, rename, unlink and sync_dir have nothing to do. Nothing reads it back
// through here.
class SnapshotImage::BufferFileOps final : public FileOps {
 public:
  explicit BufferFileOps(size_t capacity) : bytes_(new uint8_t[capacity]), capacity_(capacity) {
    std::memset(bytes_.get(), 0, capacity_);  // resident before the first capture
  }
  void clear() noexcept {
    size_ = 0;
    overflow_ = false;
  }
  const uint8_t* data() const noexcept { return bytes_.get(); }
  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return capacity_; }
  bool overflow() const noexcept { return overflow_; }

  int open_write(const std::string&, int& fd) override {
    clear();
    fd = kFd;
    return 0;
  }
  int write_all(int fd, const void* data, size_t n) override {
    if (fd != kFd) return EBADF;
    if (n > capacity_ - size_) return too_big();
    std::memcpy(bytes_.get() + size_, data, n);
    size_ += n;
    return 0;
  }
  int write_at(int fd, uint64_t offset, const void* data, size_t n) override {
    if (fd != kFd) return EBADF;
    if (offset > size_ || n > size_ - offset) return EINVAL;  // SnapshotWriter only patches its header
    std::memcpy(bytes_.get() + offset, data, n);
    return 0;
  }
  int sync(int) override { return 0; }
  int close(int) override { return 0; }
  int rename(const std::string&, const std::string&) override { return 0; }
  int sync_dir(const std::string&) override { return 0; }
  int unlink(const std::string&) override { return 0; }
  int open_read(const std::string&, int&) override { return ENOTSUP; }
  int read(int, void*, size_t, size_t&) override { return ENOTSUP; }
  int file_size(int, uint64_t&) override { return ENOTSUP; }
  int make_dir(const std::string&) override { return ENOTSUP; }
  int is_dir(const std::string&) override { return ENOTSUP; }
  int list_dir(const std::string&, std::vector<std::string>&) override { return ENOTSUP; }

 private:
  static constexpr int kFd = 3;
  int too_big() noexcept {
    overflow_ = true;
    return EFBIG;
  }
  std::unique_ptr<uint8_t[]> bytes_;
  size_t capacity_;
  size_t size_ = 0;
  bool overflow_ = false;
};

SnapshotImage::SnapshotImage(size_t capacity) : buffer_(std::make_unique<BufferFileOps>(capacity)) {}
SnapshotImage::~SnapshotImage() = default;

const uint8_t* SnapshotImage::data() const noexcept { return buffer_->data(); }
size_t SnapshotImage::size() const noexcept { return buffer_->size(); }
size_t SnapshotImage::capacity() const noexcept { return buffer_->capacity(); }

std::string SnapshotImage::capture(const RecoverableState& state, uint64_t sequence, uint64_t created_unix_ns) {
  sequence_ = sequence;
  block_count_ = 0;
  std::string error;
  const std::string name = "snapshot image at sequence " + std::to_string(sequence);
  std::unique_ptr<SnapshotWriter> w = SnapshotWriter::create(*buffer_, name, sequence, created_unix_ns, error);
  if (w) {
    if (std::string e = state.write_snapshot(*w); !e.empty()) {
      error = "writing the state failed: " + e;
    } else if (!w->commit()) {
      error = w->error();
    }
  }
  if (buffer_->overflow()) {
    error = "the snapshot at sequence " + std::to_string(sequence) + " needs more than the " +
            std::to_string(capacity()) + "-byte buffer (persistence.snapshotBufferBytes)";
  }
  if (!error.empty()) {
    buffer_->clear();
    return error;
  }
  block_count_ = w->block_count();
  return "";
}

}  // namespace pmm::persistence
