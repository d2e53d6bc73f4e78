// Shared by the durability proofs (docs/journal.md, "Proof"): the recovery step they all run after a
// crash, a check of every record against proof_records.hpp, child processes with a line pipe, and the
// harness sizes (CI-sized by default, the full size from an environment variable).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "persistence/journal_reader.hpp"
#include "persistence/journal_repair.hpp"
#include "tests/persistence/proof_records.hpp"

namespace pmm::persistence::proof {

// The harness size: `env` (e.g. PMM_PROOF_KILLS) if set, else the full size if PMM_PROOF_FULL=1, else
// the CI size.
inline uint64_t proof_size(const char* env, uint64_t ci, uint64_t full) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return std::strtoull(v, nullptr, 10);
  if (const char* f = std::getenv("PMM_PROOF_FULL"); f != nullptr && std::string(f) == "1") return full;
  return ci;
}

inline uint64_t proof_seed(uint64_t fallback) {
  if (const char* v = std::getenv("PMM_PROOF_SEED"); v != nullptr && *v != '\0')
    return std::strtoull(v, nullptr, 10);
  return fallback;
}

// ---- the recovery step ----

enum class Outcome { Success, CleanStart, Failed };
inline const char* to_string(Outcome o) {
  return o == Outcome::Success ? "Success" : o == Outcome::CleanStart ? "CleanStart" : "Failed";
}

struct RecoveryOutcome {
  Outcome status = Outcome::Failed;
  std::string reason;            // Failed: the damage (file, offset, what)
  bool tail_repaired = false;
  uint64_t records_dropped = 0;  // records with a valid CRC inside a cut tail
  JournalReport report;          // the journal after recovery (after the repair, if any)
};

// Start-up order of docs/journal.md at the journal level: verify; Failed stops; a torn tail is repaired
// (and must then verify Clean); Empty is a clean start.
inline RecoveryOutcome recover_journal(const std::string& journal_dir) {
  RecoveryOutcome out;
  out.report = verify_journal(journal_dir);
  switch (out.report.status) {
    case JournalStatus::Empty:
      out.status = Outcome::CleanStart;
      return out;
    case JournalStatus::Clean:
      out.status = Outcome::Success;
      return out;
    case JournalStatus::Failed:
      out.reason = "Journal replay failed: " + out.report.damage.detail;
      return out;
    case JournalStatus::TornTail: break;
  }
  const JournalRepairResult rep = repair_journal(journal_dir, false);
  if (!rep.ok) {
    out.reason = "repair: " + rep.error;
    return out;
  }
  out.tail_repaired = true;
  out.records_dropped = rep.records_dropped;
  out.report = verify_journal(journal_dir);
  if (out.report.status != JournalStatus::Clean) {
    out.reason = "not Clean after the repair: " + out.report.summary();
    return out;
  }
  out.status = Outcome::Success;
  return out;
}

// ---- every record against its expected bytes ----

struct RecordCheck {
  uint64_t records = 0;
  uint64_t first = 0, last = 0;  // sequences delivered (0: none)
  uint64_t wrong = 0;            // out of order, or bytes not the expected ones
  std::string first_problem;
  std::string error;             // replay_journal's
};

// Replays `journal_dir` after `after` and checks that the sequences are contiguous from after + 1 and
// that every record carries exactly proof_record(seed, sequence, max_length).
inline RecordCheck check_proof_records(const std::string& journal_dir, uint64_t seed, uint16_t max_length,
                                       uint64_t after) {
  RecordCheck c;
  uint64_t expect = after + 1;
  JournalReplayOptions o;
  o.after_sequence = after;
  const JournalReplayResult r = replay_journal(journal_dir, o, [&](const JournalRecordView& v) {
    if (c.records++ == 0) c.first = v.sequence;
    c.last = v.sequence;
    if (v.sequence != expect || !is_proof_record(seed, v.sequence, max_length, v.type, v.payload, v.length)) {
      if (c.wrong++ == 0)
        c.first_problem = "sequence " + std::to_string(v.sequence) + " (expected " + std::to_string(expect) +
                          ") in " + *v.file + " at offset " + std::to_string(v.offset) +
                          (v.sequence == expect ? ": bytes differ" : ": out of order");
    }
    expect = v.sequence + 1;
    return true;
  });
  c.error = r.error;
  return c;
}

// ---- child processes ----

// An executable built next to the running test (tests/persistence in the build tree), or `env` if set.
inline std::string sibling_executable(const char* name, const char* env) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return v;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / name).string();
}

class Child {
 public:
  // Starts argv[0] with `env` added to the environment; its stdout is a pipe read by next_line(), its
  // stderr goes to `stderr_path`.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& stderr_path) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0 && fd_ >= 0; }
  pid_t pid() const { return pid_; }

  // The next complete line, waiting at most until `deadline`. False at the deadline or at EOF (eof()).
  bool next_line(std::string& line, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return true;
      }
      if (eof_) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      char chunk[4096];
      const ssize_t got = ::read(fd_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        eof_ = true;
        continue;
      }
      buf_.append(chunk, static_cast<size_t>(got));
    }
  }
  bool eof() const { return eof_ && buf_.find('\n') == std::string::npos; }

  void kill9() { ::kill(pid_, SIGKILL); }
  // Reaps the child; returns the raw wait status.
  int wait() {
    if (reaped_) return status_;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

// "word rest" -> word, rest.
inline void split_line(const std::string& line, std::string& word, std::string& rest) {
  const size_t sp = line.find(' ');
  word = line.substr(0, sp);
  rest = sp == std::string::npos ? "" : line.substr(sp + 1);
}

}  // namespace pmm::persistence::proof
