// The risk state file (<dataDirectory>/state/risk.state, persistence::AtomicStateFile): the limits and
// kill switch in force, as a RiskStateSnapshot, with the journal sequence they are current at. The journal
// thread rewrites it after every risk control that changed them; at start the newer of this file and the
// recovered journal state wins (docs/recovery.md, "Risk state file"). A file newer than the journal is
// applied as risk controls through the stage's control ring, so the change is journaled like any other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "persistence/atomic_state_file.hpp"
#include "risk/risk_control.hpp"
#include "risk/risk_state_snapshot.hpp"

namespace pmm::app {

inline constexpr uint32_t kRiskStatePayloadVersion = 1;

struct RiskStateFileContent {
  uint64_t sequence = 0;  // the journal sequence the state is current at
  risk::RiskStateSnapshot state;
};

// Payload: u64 big-endian sequence, then the RiskStateSnapshot bytes (host order: docs/risk.md).
std::vector<uint8_t> encode_risk_state(const RiskStateFileContent& c);
// "" or what is wrong (version, length, magic, snapshot version).
std::string decode_risk_state(uint32_t payload_version, const std::vector<uint8_t>& payload, RiskStateFileContent& out);

// The controls that take `from`'s limits and kill switch to `to`'s (same symbols, in order): global
// limits and per-symbol defaults first, then each overridden per-symbol limit, then the kill switch.
// An override `from` has and `to` has not cannot be undone by a control: set to `to`'s value instead.
std::vector<risk::RiskControl> controls_between(const risk::RiskStateSnapshot& from, const risk::RiskStateSnapshot& to);

}  // namespace pmm::app
