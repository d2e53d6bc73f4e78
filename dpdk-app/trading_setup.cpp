#include "dpdk-app/trading_setup.hpp"

#include <filesystem>
#include <system_error>

#include "core/orders/epoch_file.hpp"
#include "persistence/persistence_config.hpp"
#include "risk/risk_limits.hpp"

namespace pmm::app {

bool trading_enabled(const pipe::PipelineConfig& c, std::string& why) {
  if (c.risk_json.empty()) why = "no \"risk\" section: orders need limits";
  else if (c.order_gateway.empty()) why = "orders.gateway is \"\"";
  else if (c.symbols.empty()) why = "no symbols to quote";
  else return true;
  return false;
}

std::string make_trading_config(const pipe::PipelineConfig& c, risk::TradingConfig& out,
                                persistence::PersistenceConfig* persistence) {
  out.symbols = c.symbols;
  if (std::string e = strategy::parse_strategy_json(c.strategy_json.empty() ? "{}" : c.strategy_json, c.symbols,
                                                    out.strategy);
      !e.empty())
    return "config: " + e;
  if (std::string e = risk::parse_risk_limits_json(c.risk_json, c.symbols, out.risk); !e.empty()) return "config: " + e;
  persistence::PersistenceConfig pc;
  if (std::string e = persistence::parse_persistence_config(c.persistence_json.empty() ? "{}" : c.persistence_json, pc);
      !e.empty())
    return "config: " + e;

  out.orders.max_open_orders = c.max_open_orders;
  out.orders.max_symbols = static_cast<uint32_t>(c.symbols.size());
  out.orders.fees.maker_per_share = c.fee_maker_e4;
  out.orders.fees.taker_per_share = c.fee_taker_e4;
  if (std::string e = orders::validate(out.orders); !e.empty()) return "config: " + e;
  out.firm = c.order_firm;
  out.session = c.order_session;
  out.history_messages = c.order_history;
  out.retry_ns = uint64_t{c.order_retry_ms} * 1'000'000;
  out.heartbeat_ns = uint64_t{c.order_heartbeat_ms} * 1'000'000;
  out.login_retry_ns = uint64_t{c.order_login_retry_ms} * 1'000'000;
  out.login_max_echo = static_cast<uint16_t>(c.order_login_max_echo);
  out.response_latency_ns = c.response_latency_us * 1000;
  out.burst = c.burst * 2;

  // The epoch lives with the rest of the durable state, persistence on or off: tokens must never repeat.
  std::error_code ec;
  std::filesystem::create_directories(pc.data_directory, ec);
  if (ec)
    return "persistence.dataDirectory: cannot create " + pc.data_directory + " for the order-token epoch: " +
           ec.message();
  const orders::EpochResult epoch = orders::advance_epoch_file(pc.data_directory + "/order-epoch");
  if (!epoch.error.empty()) return "order-token epoch: " + epoch.error;
  out.epoch = epoch.epoch;
  if (persistence != nullptr) *persistence = pc;
  return "";
}

}  // namespace pmm::app
