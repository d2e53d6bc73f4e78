// The DPDK backend's start-up errors are messages, never aborts: bad addresses are reported by key
// before EAL starts, an EAL argument EAL rejects comes back as rte_eal_init's error, and EAL cannot be
// started again after that (one attempt per process: this executable holds this one test). Runs
// without root: EAL fails while parsing its arguments, before it needs any privilege.
#include <gtest/gtest.h>

#include <string>

#include "dpdk-app/backend.hpp"
#include "dpdk-app/dpdk_backend.hpp"

namespace pmm::test {
namespace {

pipe::PipelineConfig sending_config() {
  pipe::PipelineConfig c;
  c.backend = "dpdk";
  c.gateway_mac = "02:00:00:00:00:01";
  c.local_ip = "10.77.0.2";
  c.retrans_server = "10.77.0.1:26410";
  c.dpdk_eal = {"--no-such-eal-option"};
  return c;
}

// Error text for config c, which must fail.
std::string start_error(const pipe::PipelineConfig& c) {
  std::string error;
  std::unique_ptr<app::Backend> b = app::make_dpdk_backend(c, error);
  EXPECT_EQ(b, nullptr);
  return error;
}

TEST(DpdkBackendStart, ErrorsAreMessagesNamingTheKeyOrTheCall) {
  EXPECT_TRUE(app::dpdk_available());

  // Addresses first, before EAL: each error names its key.
  pipe::PipelineConfig c = sending_config();
  c.gateway_mac = "";
  EXPECT_NE(start_error(c).find("network.gateway_mac"), std::string::npos) << start_error(c);
  c.gateway_mac = "02:00:00:00:00";
  EXPECT_NE(start_error(c).find("network.gateway_mac"), std::string::npos) << start_error(c);
  c = sending_config();
  c.local_mac = "ours";
  EXPECT_NE(start_error(c).find("network.local_mac"), std::string::npos) << start_error(c);
  c = sending_config();
  c.local_ip = "10.77.0";
  EXPECT_NE(start_error(c).find("network.local_ip"), std::string::npos) << start_error(c);
  c = sending_config();
  c.retrans_server = "10.77.0.1";
  EXPECT_NE(start_error(c).find("retransmission.server"), std::string::npos) << start_error(c);
  c = sending_config();
  c.ring_size = 1000;
  EXPECT_NE(start_error(c).find("pipeline.ring_size"), std::string::npos) << start_error(c);

  // None of that started EAL; an argument EAL rejects is rte_eal_init's error, with the argument.
  const std::string eal = start_error(sending_config());
  EXPECT_NE(eal.find("rte_eal_init"), std::string::npos) << eal;
  EXPECT_NE(eal.find("--no-such-eal-option"), std::string::npos) << eal;
  EXPECT_NE(eal.find("dpdk.eal"), std::string::npos) << eal;

  // And EAL does not get a second chance in this process.
  const std::string again = start_error(sending_config());
  EXPECT_NE(again.find("cannot be started again"), std::string::npos) << again;
}

}  // namespace
}  // namespace pmm::test
