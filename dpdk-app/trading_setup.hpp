// Order entry for the appliance: decides whether the configuration asks for it (a "risk" section, an
// order gateway and symbols: no limits, no orders), reads the strategy and risk sections the core
// configuration kept as text, and takes a new durable token epoch, so a restart never reuses a token.
#pragma once

#include <string>

#include "core/orders/order_events.hpp"
#include "core/pipeline/pipeline_config.hpp"
#include "persistence/persistence_config.hpp"
#include "risk/trading_stage.hpp"

namespace pmm::app {

// True when order entry is configured; `why` says what is missing otherwise.
bool trading_enabled(const pipe::PipelineConfig& c, std::string& why);

// Fills `out` (epoch included: this advances <persistence.dataDirectory>/order-epoch). Returns "" or an
// error naming the key ("config: risk.max_position: ...") or the epoch file's problem. The parsed
// "persistence" section (it names the epoch's directory) goes to `persistence` when given.
std::string make_trading_config(const pipe::PipelineConfig& c, risk::TradingConfig& out,
                                persistence::PersistenceConfig* persistence = nullptr);

}  // namespace pmm::app
