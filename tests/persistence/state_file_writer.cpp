// The process the risk-state proofs attack (docs/journal.md, "Proof"): saves versions from..from+n-1
// of one state file with AtomicStateFile on the real file system, payload state_payload(v), and
// reports on stdout as it goes:
//
//   saved <v>            save() of version v returned true
//   failed <v> <error>   save() of version v failed; exit status 3 (fail-stop: nothing is retried)
//   done                 all versions saved; exit status 0
//
//   state_file_writer --path <file> --from <v> --count <n>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "persistence/atomic_state_file.hpp"
#include "persistence/file_ops.hpp"
#include "tests/persistence/proof_records.hpp"

namespace {

void say(const std::string& line) {
  const std::string s = line + "\n";
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "state_file_writer: %s\nusage: state_file_writer --path <file> --from <v> --count <n>\n", why);
  std::exit(64);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  uint64_t from = 1, count = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--path") path = argv[i + 1];
    else if (a == "--from") from = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--count") count = std::strtoull(argv[i + 1], nullptr, 10);
    else usage(("unknown option " + a).c_str());
  }
  if (path.empty() || argc % 2 == 0) usage("--path <file> is required");
  pmm::persistence::PosixFileOps ops;
  pmm::persistence::AtomicStateFile file(ops, path);
  for (uint64_t v = from; v < from + count; ++v) {
    const std::vector<uint8_t> p = pmm::persistence::proof::state_payload(v);
    std::string error;
    if (!file.save(1, p.data(), p.size(), error)) {
      say("failed " + std::to_string(v) + " " + error);
      return 3;
    }
    say("saved " + std::to_string(v));
  }
  say("done");
  return 0;
}
