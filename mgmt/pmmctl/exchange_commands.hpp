// pmmctl exchange: the exchange's own view of our account, read over its position query
// (mgmt/exchange_position_client.hpp, docs/exchange-simulator.md "Position query").
#pragma once

#include <ostream>
#include <string>

namespace pmm::mgmt {

// Exit codes: 0 answered; 1 no answer, or an error answer (the reason on err).
int exchange_positions(const std::string& address, const std::string& account, bool json, std::ostream& out,
                       std::ostream& err);
int exchange_accounts(const std::string& address, std::ostream& out, std::ostream& err);

}  // namespace pmm::mgmt
