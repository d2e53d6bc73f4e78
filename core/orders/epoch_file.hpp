// The instance epoch: a durable counter file incremented at every start, so order tokens
// (order_token.hpp) never repeat across restarts. Start-up only (it makes system calls).
//
// The file holds the last epoch handed out as decimal text and a newline. advance_epoch_file reads
// it (a missing file counts as 0), adds one and replaces the file atomically: write "<path>.tmp",
// fsync it, rename it over <path>, fsync the directory. A crash at any point leaves either the old
// or the new value, never a torn one; the new epoch is returned only after it is durable, so an
// epoch is never used twice even if the process dies right after.
#pragma once

#include <cstdint>
#include <string>

namespace pmm::orders {

struct EpochResult {
  uint32_t epoch = 0;  // valid when error is empty; 1 on the first start
  std::string error;   // names the path, the system call and errno text, or the bad content
};

// Fails (and writes nothing) when the file is unreadable or malformed (not 1-10 decimal digits and
// an optional newline) or when the next epoch would exceed kMaxEpoch.
EpochResult advance_epoch_file(const std::string& path);

}  // namespace pmm::orders
