// DPDK's environment abstraction layer (EAL) for this process: started once from the configured
// arguments (dpdk.eal), stopped once at teardown. EAL cannot be started twice in a process, nor again
// after rte_eal_cleanup, so a process has at most one DPDK backend. Control thread only.
#pragma once

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

namespace pmm::app::dpdk {

class Eal {
 public:
  // rte_eal_init with argv = {program, args...}. Returns "" or what failed, with a hint for the usual
  // causes. EAL's own log goes to stderr, so stdout stays the status line's and the summary's.
  static std::string start(const std::string& program, const std::vector<std::string>& args) {
    if (state().load() != kNever)
      return state().load() == kFailed ? "dpdk: EAL failed to start earlier in this process and cannot be started again"
                                       : "dpdk: EAL was already started in this process (one DPDK backend per process)";
    // EAL may keep pointers into argv: the strings live as long as the process.
    static std::vector<std::string> storage;
    static std::vector<char*> argv;
    storage.clear();
    storage.push_back(program);
    storage.insert(storage.end(), args.begin(), args.end());
    argv.clear();
    for (std::string& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    rte_openlog_stream(stderr);
    // EAL prints its usage (and some drivers their notes) with printf: stdout points at stderr meanwhile.
    std::fflush(stdout);
    const int saved_stdout = ::dup(STDOUT_FILENO);
    if (saved_stdout >= 0) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
    const int e = rte_errno;
    if (saved_stdout >= 0) {
      std::fflush(stdout);
      ::dup2(saved_stdout, STDOUT_FILENO);
      ::close(saved_stdout);
    }
    if (rc < 0) {
      state().store(kFailed);
      return "dpdk: rte_eal_init(" + joined(args) + ") failed: " + rte_strerror(e) + hint(e);
    }
    state().store(kRunning);
    return "";
  }

  static bool running() noexcept { return state().load() == kRunning; }

  // rte_eal_cleanup: every worker lcore must have returned (rte_eal_mp_wait_lcore) and every DPDK object
  // the process still uses is gone with it. The runtime directory (/var/run/dpdk/<file-prefix>) is
  // removed when EAL left it empty (--no-shconf); with shared files in it, it stays, as DPDK leaves it.
  static void stop() noexcept {
    if (state().load() != kRunning) return;
    state().store(kStopped);
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    ::rmdir(runtime_dir.c_str());  // fails harmlessly when not empty
  }

 private:
  enum State : int { kNever, kRunning, kFailed, kStopped };
  static std::atomic<int>& state() noexcept {
    static std::atomic<int> s{kNever};
    return s;
  }
  static std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
    return out.empty() ? "no arguments" : out;
  }
  static std::string hint(int e) {
    switch (e) {
      case EINVAL:
        return " (an argument in dpdk.eal is not valid: EAL's message above names it)";
      case EACCES:
        return " (no hugepages, or not permitted: as root either reserve hugepages or put \"--no-huge\", \"-m\", "
               "\"512\" in dpdk.eal; otherwise run as root)";
      case ENOMEM:
      case ENODEV:
      case EAGAIN:
        return " (no memory for EAL: without hugepages put \"--no-huge\", \"-m\", \"512\" in dpdk.eal; a second "
               "process needs its own --file-prefix)";
      case EALREADY:
        return " (EAL already started in this process)";
      default:
        return "";
    }
  }
};

}  // namespace pmm::app::dpdk
