// Built instead of dpdk_backend.cpp when meson found no DPDK (-Ddpdk=disabled, or macOS).
#include "dpdk-app/backend.hpp"

namespace pmm::app {

bool dpdk_available() noexcept { return false; }

std::unique_ptr<Backend> make_dpdk_backend(const pipe::PipelineConfig&, std::string& error) {
  error = "this build has no DPDK backend (configured with -Ddpdk=disabled or DPDK not found)";
  return nullptr;
}

}  // namespace pmm::app
