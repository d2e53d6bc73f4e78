// The system calls behind the journal's durability and rollover (JournalWriter, JournalSyncThread), as
// function pointers so a test can inject errors (tests/persistence). Production code never sets
// JournalWriterOptions::syscalls: TEST ONLY. Every function returns 0 or an errno value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pmm::persistence {

struct JournalSyscalls {
  int (*preallocate)(int fd, uint64_t bytes);  // posix_fallocate / F_PREALLOCATE + ftruncate
  int (*sync_range)(void* addr, size_t bytes);  // msync(MS_SYNC); addr OS-page aligned
  int (*sync_file)(int fd);                     // fdatasync (F_FULLFSYNC on macOS)
  int (*sync_dir)(const char* dir);             // fsync of the directory
};
const JournalSyscalls& real_journal_syscalls() noexcept;

// The OS page size (msync works in whole OS pages).
uint64_t os_page_bytes() noexcept;

// The text of a journal failure: "journal <what> failed on <file> at offset <N>: <strerror> (errno E)".
std::string describe_journal_error(const char* what, const std::string& file, uint64_t offset, int err);

}  // namespace pmm::persistence
