// The fields of each core/itch.hpp message struct, under the names tests/oracle/itch50_oracle.lua
// gives them in tshark ("itch50.<message>.<field>"). One list per type serves both the renderer
// (decoded struct -> tshark text) and the random message maker (random values -> struct -> encode).
// A wrong pairing of struct member and name here shows up as a mismatch against tshark.
//
// A visitor V provides:
//   begin(const char* message, Header&)            once, first
//   u32 / u64 / price8(const char* field, uintN_t&)
//   price4(const char* field, uint32_t&)           Price(4)
//   alpha(const char* field, char&) and alpha(const char* field, std::array<char, N>&)
#pragma once

#include <cstdint>

#include "core/itch.hpp"

namespace pmm::oracle {

// Message names used in the Lua table, by type byte; nullptr for a type ITCH 5.0 does not define.
constexpr const char* itch50_message_name(uint8_t type) noexcept {
  switch (type) {
    case 'S': return "system_event";
    case 'R': return "stock_directory";
    case 'H': return "trading_action";
    case 'Y': return "reg_sho";
    case 'L': return "participant_position";
    case 'V': return "mwcb_decline";
    case 'W': return "mwcb_status";
    case 'K': return "ipo_quoting";
    case 'J': return "luld_collar";
    case 'h': return "operational_halt";
    case 'A': return "add_order";
    case 'F': return "add_order_mpid";
    case 'E': return "order_executed";
    case 'C': return "order_executed_price";
    case 'X': return "order_cancel";
    case 'D': return "order_delete";
    case 'U': return "order_replace";
    case 'P': return "trade";
    case 'Q': return "cross_trade";
    case 'B': return "broken_trade";
    case 'I': return "noii";
    case 'N': return "retail_interest";
    case 'O': return "dlcr_price_discovery";
    default: return nullptr;
  }
}

template <class V>
void visit_fields(itch::SystemEvent& m, V& v) {
  v.begin("system_event", m.h);
  v.alpha("event_code", m.event_code);
}

template <class V>
void visit_fields(itch::StockDirectory& m, V& v) {
  v.begin("stock_directory", m.h);
  v.alpha("stock", m.stock);
  v.alpha("market_category", m.market_category);
  v.alpha("financial_status", m.financial_status);
  v.u32("round_lot_size", m.round_lot_size);
  v.alpha("round_lots_only", m.round_lots_only);
  v.alpha("issue_classification", m.issue_classification);
  v.alpha("issue_subtype", m.issue_subtype);
  v.alpha("authenticity", m.authenticity);
  v.alpha("short_sale_threshold", m.short_sale_threshold);
  v.alpha("ipo_flag", m.ipo_flag);
  v.alpha("luld_tier", m.luld_tier);
  v.alpha("etp_flag", m.etp_flag);
  v.u32("etp_leverage", m.etp_leverage);
  v.alpha("inverse", m.inverse);
}

template <class V>
void visit_fields(itch::StockTradingAction& m, V& v) {
  v.begin("trading_action", m.h);
  v.alpha("stock", m.stock);
  v.alpha("trading_state", m.trading_state);
  v.alpha("reserved", m.reserved);
  v.alpha("reason", m.reason);
}

template <class V>
void visit_fields(itch::RegShoRestriction& m, V& v) {
  v.begin("reg_sho", m.h);
  v.alpha("stock", m.stock);
  v.alpha("action", m.action);
}

template <class V>
void visit_fields(itch::MarketParticipantPosition& m, V& v) {
  v.begin("participant_position", m.h);
  v.alpha("mpid", m.mpid);
  v.alpha("stock", m.stock);
  v.alpha("primary_market_maker", m.primary_market_maker);
  v.alpha("market_maker_mode", m.market_maker_mode);
  v.alpha("participant_state", m.participant_state);
}

template <class V>
void visit_fields(itch::MwcbDeclineLevel& m, V& v) {
  v.begin("mwcb_decline", m.h);
  v.price8("level1", m.level1);
  v.price8("level2", m.level2);
  v.price8("level3", m.level3);
}

template <class V>
void visit_fields(itch::MwcbStatus& m, V& v) {
  v.begin("mwcb_status", m.h);
  v.alpha("breached_level", m.breached_level);
}

template <class V>
void visit_fields(itch::IpoQuotingPeriod& m, V& v) {
  v.begin("ipo_quoting", m.h);
  v.alpha("stock", m.stock);
  v.u32("release_time", m.release_time);
  v.alpha("release_qualifier", m.release_qualifier);
  v.price4("ipo_price", m.ipo_price);
}

template <class V>
void visit_fields(itch::LuldAuctionCollar& m, V& v) {
  v.begin("luld_collar", m.h);
  v.alpha("stock", m.stock);
  v.price4("reference_price", m.reference_price);
  v.price4("upper_price", m.upper_price);
  v.price4("lower_price", m.lower_price);
  v.u32("extension", m.extension);
}

template <class V>
void visit_fields(itch::OperationalHalt& m, V& v) {
  v.begin("operational_halt", m.h);
  v.alpha("stock", m.stock);
  v.alpha("market_code", m.market_code);
  v.alpha("action", m.action);
}

template <class V>
void visit_fields(itch::AddOrder& m, V& v) {
  v.begin("add_order", m.h);
  v.u64("order_ref", m.ref);
  v.alpha("side", m.side);
  v.u32("shares", m.shares);
  v.alpha("stock", m.stock);
  v.price4("price", m.price);
}

template <class V>
void visit_fields(itch::AddOrderMpid& m, V& v) {
  v.begin("add_order_mpid", m.h);
  v.u64("order_ref", m.ref);
  v.alpha("side", m.side);
  v.u32("shares", m.shares);
  v.alpha("stock", m.stock);
  v.price4("price", m.price);
  v.alpha("attribution", m.attribution);
}

template <class V>
void visit_fields(itch::OrderExecuted& m, V& v) {
  v.begin("order_executed", m.h);
  v.u64("order_ref", m.ref);
  v.u32("executed_shares", m.shares);
  v.u64("match", m.match);
}

template <class V>
void visit_fields(itch::OrderExecutedWithPrice& m, V& v) {
  v.begin("order_executed_price", m.h);
  v.u64("order_ref", m.ref);
  v.u32("executed_shares", m.shares);
  v.u64("match", m.match);
  v.alpha("printable", m.printable);
  v.price4("execution_price", m.price);
}

template <class V>
void visit_fields(itch::OrderCancel& m, V& v) {
  v.begin("order_cancel", m.h);
  v.u64("order_ref", m.ref);
  v.u32("canceled_shares", m.shares);
}

template <class V>
void visit_fields(itch::OrderDelete& m, V& v) {
  v.begin("order_delete", m.h);
  v.u64("order_ref", m.ref);
}

template <class V>
void visit_fields(itch::OrderReplace& m, V& v) {
  v.begin("order_replace", m.h);
  v.u64("original_ref", m.old_ref);
  v.u64("new_ref", m.new_ref);
  v.u32("shares", m.shares);
  v.price4("price", m.price);
}

template <class V>
void visit_fields(itch::Trade& m, V& v) {
  v.begin("trade", m.h);
  v.u64("order_ref", m.ref);
  v.alpha("side", m.side);
  v.u32("shares", m.shares);
  v.alpha("stock", m.stock);
  v.price4("price", m.price);
  v.u64("match", m.match);
}

template <class V>
void visit_fields(itch::CrossTrade& m, V& v) {
  v.begin("cross_trade", m.h);
  v.u64("shares", m.shares);
  v.alpha("stock", m.stock);
  v.price4("cross_price", m.price);
  v.u64("match", m.match);
  v.alpha("cross_type", m.cross_type);
}

template <class V>
void visit_fields(itch::BrokenTrade& m, V& v) {
  v.begin("broken_trade", m.h);
  v.u64("match", m.match);
}

template <class V>
void visit_fields(itch::Noii& m, V& v) {
  v.begin("noii", m.h);
  v.u64("paired_shares", m.paired_shares);
  v.u64("imbalance_shares", m.imbalance_shares);
  v.alpha("imbalance_direction", m.imbalance_direction);
  v.alpha("stock", m.stock);
  v.price4("far_price", m.far_price);
  v.price4("near_price", m.near_price);
  v.price4("reference_price", m.reference_price);
  v.alpha("cross_type", m.cross_type);
  v.alpha("price_variation", m.price_variation);
}

template <class V>
void visit_fields(itch::RetailInterest& m, V& v) {
  v.begin("retail_interest", m.h);
  v.alpha("stock", m.stock);
  v.alpha("interest_flag", m.interest_flag);
}

template <class V>
void visit_fields(itch::DirectListingPriceDiscovery& m, V& v) {
  v.begin("dlcr_price_discovery", m.h);
  v.alpha("stock", m.stock);
  v.alpha("open_eligibility", m.open_eligibility);
  v.price4("min_price", m.min_price);
  v.price4("max_price", m.max_price);
  v.price4("near_price", m.near_price);
  v.u64("near_time", m.near_time);
  v.price4("lower_collar", m.lower_collar);
  v.price4("upper_collar", m.upper_collar);
}

}  // namespace pmm::oracle
