// Runs the fuzz_feed target without libFuzzer, so every build (gcc included) exercises its checks:
//   fuzz_feed_replay                      the deterministic corpus (20000 generated inputs)
//   fuzz_feed_replay --count N            the first N generated inputs
//   fuzz_feed_replay --write-seeds DIR N  writes the first N generated inputs to DIR (seed corpus)
//   fuzz_feed_replay FILE...              replays files, e.g. a crash reproducer from libFuzzer
// A failed check aborts inside LLVMFuzzerTestOneInput with a message saying what and where.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/feed_input_generator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr uint64_t kDefaultCount = 20000;

bool parse_count(const char* s, uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return end != s && *end == '\0' && out > 0;
}

int run_generated(uint64_t count) {
  uint64_t bytes = 0;
  for (uint64_t seed = 0; seed < count; ++seed) {
    const std::vector<uint8_t> input = pmm::fuzz::FeedInputGenerator::make(seed);
    bytes += input.size();
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("fuzz_feed_replay: %llu generated inputs (%llu bytes) passed every check\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(bytes));
  return 0;
}

int write_seeds(const std::string& dir, uint64_t count) {
  for (uint64_t seed = 0; seed < count; ++seed) {
    const std::vector<uint8_t> input = pmm::fuzz::FeedInputGenerator::make(seed);
    char name[32];
    std::snprintf(name, sizeof name, "/seed-%06llu", static_cast<unsigned long long>(seed));
    std::ofstream f(dir + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
    if (!f) {
      std::fprintf(stderr, "fuzz_feed_replay: cannot write %s%s\n", dir.c_str(), name);
      return 1;
    }
  }
  std::printf("fuzz_feed_replay: wrote %llu seeds to %s\n", static_cast<unsigned long long>(count), dir.c_str());
  return 0;
}

int replay_files(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "fuzz_feed_replay: cannot open %s\n", argv[i]);
      return 1;
    }
    const std::vector<uint8_t> input{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    std::printf("fuzz_feed_replay: %s (%zu bytes)\n", argv[i], input.size());
    std::fflush(stdout);
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("fuzz_feed_replay: %d files passed every check\n", argc - 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = kDefaultCount;
  if (argc == 1) return run_generated(count);
  if (std::strcmp(argv[1], "--count") == 0) {
    if (argc != 3 || !parse_count(argv[2], count)) {
      std::fprintf(stderr, "usage: %s --count N (N > 0)\n", argv[0]);
      return 2;
    }
    return run_generated(count);
  }
  if (std::strcmp(argv[1], "--write-seeds") == 0) {
    if (argc != 4 || !parse_count(argv[3], count)) {
      std::fprintf(stderr, "usage: %s --write-seeds DIR N (N > 0)\n", argv[0]);
      return 2;
    }
    return write_seeds(argv[2], count);
  }
  return replay_files(argc, argv);
}
