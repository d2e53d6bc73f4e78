// Where the journal thread runs (dpdk-app/journal_cpu.hpp, persistence.journalCpu): sysfs CPU lists,
// the placement on made-up machines (two NUMA nodes, offline CPUs, isolated CPUs, a full node, an
// unknown platform), the configuration errors, and pinning a real thread on this machine.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "dpdk-app/journal_cpu.hpp"
#include "persistence/persistence_config.hpp"

namespace {

using pmm::app::CpuTopology;
using pmm::app::JournalCpuPlacement;
using pmm::app::place_journal_thread;
using pmm::pipe::CoreAssignment;

constexpr int kAuto = pmm::persistence::PersistenceConfig::kJournalCpuAuto;
const std::string kForm =
    "persistence.journalCpu: expected \"auto\", -1 (unpinned) or an online CPU that no pipeline core uses";

// CPUs 0-7 on node 0, 8-15 on node 1, all online.
CpuTopology two_nodes() {
  CpuTopology t;
  t.known = true;
  t.numa_known = true;
  for (int c = 0; c < 16; ++c) t.node_of.push_back(c < 8 ? 0 : 1);
  return t;
}

std::vector<CoreAssignment> pinned(std::vector<int> cpus) {
  std::vector<CoreAssignment> cores;
  for (int c : cpus) cores.push_back(CoreAssignment{c, {"rx"}});
  return cores;
}

TEST(CpuList, ParsesSysfsLists) {
  std::vector<int> cpus;
  ASSERT_TRUE(pmm::app::parse_cpu_list("0-3,8,10-11\n", cpus));
  EXPECT_EQ(cpus, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  ASSERT_TRUE(pmm::app::parse_cpu_list("\n", cpus));
  EXPECT_TRUE(cpus.empty());
  ASSERT_TRUE(pmm::app::parse_cpu_list("5", cpus));
  EXPECT_EQ(cpus, (std::vector<int>{5}));
  for (const char* bad : {"a", "3-1", "1,,2", "1-", "2,1", "-1", "1,1", "0-3,2", "1 2", "99999"})
    EXPECT_FALSE(pmm::app::parse_cpu_list(bad, cpus)) << bad;
  EXPECT_EQ(pmm::app::format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(pmm::app::format_cpu_list({}), "");
}

TEST(JournalCpu, AutoTakesAFreeCpuOnTheDataPlanesNode) {
  JournalCpuPlacement p;
  // The production profile's shape: stages on 2-6 (node 0); nothing isolated: the highest free CPU.
  ASSERT_EQ(place_journal_thread(kAuto, pinned({2, 3, 4, 5, 6}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, 7);
  EXPECT_NE(p.note.find("journal thread on CPU 7"), std::string::npos) << p.note;
  EXPECT_NE(p.note.find("NUMA node 0"), std::string::npos) << p.note;
  // isolcpus=2-7 as the profile's README asks: 7 is the isolated CPU the stages leave.
  CpuTopology iso = two_nodes();
  iso.isolated = {2, 3, 4, 5, 6, 7};
  ASSERT_EQ(place_journal_thread(kAuto, pinned({2, 3, 4, 5, 6}), iso, p), "");
  EXPECT_EQ(p.cpu, 7);
  EXPECT_NE(p.note.find("isolated"), std::string::npos) << p.note;
  // An isolated CPU wins over a higher one that is not.
  iso.isolated = {1, 2};
  ASSERT_EQ(place_journal_thread(kAuto, pinned({2, 3}), iso, p), "");
  EXPECT_EQ(p.cpu, 1);
  // The data plane on node 1 (the first pinned core decides): a CPU of node 1.
  ASSERT_EQ(place_journal_thread(kAuto, pinned({9, 10, 2}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, 15);
  // Offline CPUs are never taken.
  CpuTopology holes = two_nodes();
  holes.node_of[7] = -1;
  holes.node_of[6] = -1;
  ASSERT_EQ(place_journal_thread(kAuto, pinned({2, 3, 4, 5}), holes, p), "");
  EXPECT_EQ(p.cpu, 1);
}

TEST(JournalCpu, AutoStaysUnpinnedAndSaysWhy) {
  JournalCpuPlacement p;
  // The dev profile: the data plane is not pinned, so there is no node to follow.
  ASSERT_EQ(place_journal_thread(kAuto, std::vector<CoreAssignment>{{-1, {"rx", "tx"}}}, two_nodes(), p), "");
  EXPECT_EQ(p.cpu, -1);
  EXPECT_NE(p.note.find("unpinned: the data plane is not pinned"), std::string::npos) << p.note;
  // Every CPU of the node runs a stage.
  ASSERT_EQ(place_journal_thread(kAuto, pinned({0, 1, 2, 3, 4, 5, 6, 7}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, -1);
  EXPECT_NE(p.note.find("every online CPU of NUMA node 0 runs a pipeline core"), std::string::npos) << p.note;
  // A platform that cannot pin (macOS).
  CpuTopology unknown;
  ASSERT_EQ(place_journal_thread(kAuto, pinned({2}), unknown, p), "");
  EXPECT_EQ(p.cpu, -1);
  EXPECT_NE(p.note.find("Linux-only"), std::string::npos) << p.note;
  // -1: unpinned on purpose.
  ASSERT_EQ(place_journal_thread(-1, pinned({2}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, -1);
  EXPECT_EQ(p.note, "journal thread unpinned (persistence.journalCpu -1)");
}

TEST(JournalCpu, ExplicitCpuIsCheckedAgainstTheMachineAndThePipeline) {
  JournalCpuPlacement p;
  ASSERT_EQ(place_journal_thread(7, pinned({2, 3}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, 7);
  EXPECT_EQ(p.note, "journal thread on CPU 7 (persistence.journalCpu)");
  // Allowed on the other node, with a warning.
  ASSERT_EQ(place_journal_thread(12, pinned({2, 3}), two_nodes(), p), "");
  EXPECT_EQ(p.cpu, 12);
  EXPECT_NE(p.note.find("warning: NUMA node 1, the data plane is on node 0"), std::string::npos) << p.note;
  EXPECT_EQ(place_journal_thread(3, pinned({2, 3}), two_nodes(), p),
            kForm + " (CPU 3 is pipeline.cores[1].cpu)");
  EXPECT_EQ(place_journal_thread(16, pinned({2, 3}), two_nodes(), p),
            kForm + " (CPU 16 is not online here; online: 0-15)");
  CpuTopology holes = two_nodes();
  holes.node_of[5] = -1;
  EXPECT_EQ(place_journal_thread(5, pinned({2}), holes, p), kForm + " (CPU 5 is not online here; online: 0-4,6-15)");
  // A platform that cannot pin: not an error (the same file runs on a Mac), just unpinned.
  ASSERT_EQ(place_journal_thread(3, pinned({2}), CpuTopology{}, p), "");
  EXPECT_EQ(p.cpu, -1);
  EXPECT_NE(p.note.find("persistence.journalCpu 3 ignored"), std::string::npos) << p.note;
}

TEST(JournalCpu, ThisMachine) {
  const CpuTopology t = CpuTopology::of_this_machine();
#if defined(__linux__)
  ASSERT_TRUE(t.known);
  ASSERT_TRUE(t.online(0)) << "CPU 0 is always online on Linux";
  // A real thread pinned to the last online CPU has exactly that CPU in its mask.
  int last = 0;
  for (int c = 0; c < static_cast<int>(t.node_of.size()); ++c)
    if (t.online(c)) last = c;
  std::atomic<bool> go{false};
  std::thread th([&go] {
    while (!go.load()) std::this_thread::yield();
  });
  const std::string e = pmm::app::pin_thread(th, last);
  cpu_set_t set;
  CPU_ZERO(&set);
  const int rc = pthread_getaffinity_np(th.native_handle(), sizeof set, &set);
  go.store(true);
  th.join();
  if (!e.empty()) GTEST_SKIP() << "this process may not use CPU " << last << ": " << e;
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(CPU_COUNT(&set), 1);
  EXPECT_TRUE(CPU_ISSET(last, &set));
#else
  EXPECT_FALSE(t.known);
#endif
}

}  // namespace
