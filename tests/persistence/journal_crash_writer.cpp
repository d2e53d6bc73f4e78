// The process the kill -9 and syscall-fault proofs attack (docs/journal.md, "Proof"): opens the journal
// in a directory (continuing after what is there, which must verify Clean), then appends records at
// full speed through the real hot path (one JournalRing, one producer thread) and the real JournalCore
// drain loop with a short group-commit interval, and reports on stdout, one line per event, as it
// happens:
//
//   open <last>                 the writer opened; everything up to <last> is durable
//   durable <N>                 durable_sequence() rose to N (published after the sync returned)
//   failed <durable> <error>    the writer fail-stopped; exit status 3
//   final <durable>             after a failure, once the threads stopped (must equal the failed line's)
//   done <last> <durable>       --records reached and the journal closed; exit status 0
//   open-failed <error>         JournalWriter::open refused; exit status 2
//
// Record `s` is proof_record(seed, s, 60): a checker knows every byte without being told.
//
//   journal_crash_writer --dir <journal dir> --seed <n> [--segment-bytes <n>] [--sync-ms <n>]
//                        [--records <n>]   (0: until killed)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "persistence/journal_core.hpp"
#include "persistence/journal_ring.hpp"
#include "persistence/journal_writer.hpp"
#include "tests/persistence/proof_records.hpp"

namespace {

namespace ps = pmm::persistence;

// Unbuffered: a line the parent reads was written before the kill, whatever happens next.
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
  std::fprintf(stderr,
               "journal_crash_writer: %s\nusage: journal_crash_writer --dir <journal dir> --seed <n> "
               "[--segment-bytes <n>] [--sync-ms <n>] [--records <n>]\n",
               why);
  std::exit(64);
}

uint64_t number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') usage((std::string(flag) + " expects a number").c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t seed = 1, segment_bytes = 256 * 1024, sync_ms = 2, records = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--dir") dir = v;
    else if (a == "--seed") seed = number("--seed", v);
    else if (a == "--segment-bytes") segment_bytes = number("--segment-bytes", v);
    else if (a == "--sync-ms") sync_ms = number("--sync-ms", v);
    else if (a == "--records") records = number("--records", v);
    else usage(("unknown option " + a).c_str());
  }
  if (dir.empty()) usage("--dir is required");
  if (sync_ms < 1 || sync_ms > 60000) usage("--sync-ms: expected 1..60000");

  ps::JournalWriterOptions o;
  o.directory = dir;
  o.segment_bytes = segment_bytes;
  std::string error;
  auto writer = ps::JournalWriter::open(o, error);
  if (!writer) {
    say("open-failed " + error);
    return 2;
  }
  const uint64_t start = writer->last_sequence();
  say("open " + std::to_string(start));

  ps::JournalRing ring(4096);
  ps::JournalCoreOptions co;
  co.sync_interval_ms = static_cast<uint32_t>(sync_ms);
  ps::JournalCore core(*writer, {&ring}, co);

  std::atomic<bool> stop_producer{false}, stop_core{false};
  std::thread producer([&] {
    // One ring: the journal keeps its order, so the k-th record enqueued gets sequence start + k.
    ps::proof::ProofRecord r;
    uint64_t next = start + 1;
    while (!stop_producer.load(std::memory_order_relaxed) && (records == 0 || next <= start + records)) {
      ps::proof::proof_record(seed, next, ps::JournalEntry::kMaxPayload, r);
      while (!ring.enqueue(r.type, r.payload, r.length)) {
        if (ring.closed() || stop_producer.load(std::memory_order_relaxed)) return;
        std::this_thread::yield();
      }
      ++next;
    }
  });
  std::thread journal_core([&] { core.run(stop_core); });

  uint64_t reported = start;
  bool failed = false;
  for (;;) {
    const uint64_t d = writer->durable_sequence();
    if (d > reported) {
      reported = d;
      say("durable " + std::to_string(d));
    }
    if (writer->failed()) {
      failed = true;
      say("failed " + std::to_string(writer->durable_sequence()) + " " + writer->error());
      break;
    }
    if (records != 0 && core.records() == records) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  stop_producer.store(true);
  producer.join();
  stop_core.store(true);
  journal_core.join();  // drain_and_sync(): two commits, so the last marker is durable too
  if (failed) {
    say("final " + std::to_string(writer->durable_sequence()));
    return 3;
  }
  const uint64_t last = writer->last_sequence();
  if (!writer->close()) {
    say("failed " + std::to_string(writer->durable_sequence()) + " " + writer->error());
    say("final " + std::to_string(writer->durable_sequence()));
    return 3;
  }
  if (writer->durable_sequence() > reported) say("durable " + std::to_string(writer->durable_sequence()));
  say("done " + std::to_string(last) + " " + std::to_string(writer->durable_sequence()));
  return 0;
}
