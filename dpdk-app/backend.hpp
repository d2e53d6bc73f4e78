// A backend is how packets reach the shared stages and how the stages' cores are started: DPDK
// (dpdk_backend.cpp), AF_PACKET (afpacket_backend.cpp, Linux) or portable UDP sockets and threads
// (portable_backend.cpp). The pipeline and its stages are the same objects on all three.
#pragma once

#include <memory>
#include <string>

#include "core/pipeline/event_ring.hpp"
#include "core/pipeline/packet_io.hpp"
#include "core/pipeline/pipeline.hpp"
#include "core/pipeline/pipeline_config.hpp"

namespace pmm::app {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "dpdk", "afpacket", "portable"
  // One line for the operator: devices, addresses, cores.
  virtual std::string describe() const = 0;
  // The device's own counters (NIC or kernel ring drops, errors), for the final report; "" if none.
  virtual std::string device_status() const { return {}; }
  // Control thread: packets the device lost before the RX stage saw them (NIC misses and errors,
  // kernel ring drops) since start; 0 where the backend cannot tell (portable sockets).
  virtual uint64_t device_drops() const { return 0; }

  virtual pipe::PacketSource& source() = 0;
  virtual pipe::PacketSink& sink() = 0;
  virtual pipe::RingFactory& rings() = 0;
  // Runs before the objects of the stages placed on `cpu` are allocated (NUMA placement), -1: unpinned.
  virtual void before_core(int cpu) { (void)cpu; }

  // Starts one loop per configured core (pipe::run_core_loop over p.core_stages(i)), pinned, and
  // returns at once; join() waits for them after p's control says stopped.
  virtual void launch(pipe::Pipeline& p) = 0;
  virtual void join() = 0;
};

// Each returns nullptr with `error` set when the backend cannot start (what failed and why).
std::unique_ptr<Backend> make_portable_backend(const pipe::PipelineConfig& config, std::string& error);
std::unique_ptr<Backend> make_afpacket_backend(const pipe::PipelineConfig& config, std::string& error);
std::unique_ptr<Backend> make_dpdk_backend(const pipe::PipelineConfig& config, std::string& error);

bool afpacket_available() noexcept;  // built for Linux
bool dpdk_available() noexcept;      // built with DPDK

}  // namespace pmm::app
