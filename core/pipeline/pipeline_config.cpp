#include "core/pipeline/pipeline_config.hpp"

#include "core/config_section.hpp"
#include "core/pipeline/net_address.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>

namespace pmm::pipe {

const char* const kEmbeddedDevConfig = R"({
  // Development profile: everything on one core, portable-friendly defaults (hw-profiles/dev.json).
  "backend": "auto",
  "symbols": ["AAPL", "MSFT", "NVDA", "AMZN"],
  "feed": { "port": 26400, "group": "", "listen": "127.0.0.1", "session": "" },
  "retransmission": { "server": "127.0.0.1:26410", "port": 26401, "retry_ms": 20, "max_retries": 5,
                      "window_messages": 262144, "max_request_messages": 10000 },
  "orders": { "port": 26402, "gateway": "127.0.0.1:26420", "firm": "PMM1", "session": "PMMORDERS",
              "max_open_orders": 256, "history_messages": 65536, "retry_ms": 20, "heartbeat_ms": 100,
              "login_retry_ms": 50, "login_max_echo": 4096,
              "fee_maker_e4": -20, "fee_taker_e4": 30, "response_latency_us": 0 },
  "pipeline": { "burst": 32, "ring_size": 4096, "pool_packets": 8192,
                "cores": [ { "cpu": -1, "stages": ["rx", "parse", "book", "quote", "tx"] } ] },
  "books": { "max_orders": 2097152, "max_levels": 1048576, "max_locates": 65536,
             "level_index_entries": 4194304 },
  "network": { "local_ip": "10.77.0.2", "local_mac": "auto", "gateway_mac": "" },
  "dpdk": { "eal": ["--no-huge", "-m", "512", "--no-pci", "--file-prefix=pmm"], "port": 0 },
  "afpacket": { "interface": "", "frames": 4096, "frame_size": 2048 },
  "status": { "interval_ms": 1000 },
  "strategy": { "gamma": 0.01, "k": 100, "horizon_ms": 60000, "quote_size": 100, "max_inventory": 1000,
                "requote_threshold_ticks": 1, "min_requote_interval_us": 1000 },
  "risk": { "max_position": 2000, "max_order_shares": 1000, "max_order_notional": 1000000,
            "max_open_orders_per_symbol": 4, "price_collar_bps": 100, "max_total_position": 8000,
            "max_open_orders": 32, "max_orders_per_second": 1000, "order_burst": 50,
            "kill_switch": false, "control_ring_size": 64 },
  "persistence": { "enabled": true, "dataDirectory": "data" },
  "exit_at_end_of_session": false
})";

namespace {

using config::Section;
using rapidjson::Value;

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

std::string parse_config(const std::string& json, PipelineConfig& c) {
  rapidjson::Document doc;
  if (std::string e = config::parse_json(json, doc, "config"); !e.empty()) return e;
  std::string error;
  Section top(doc, "", error);
  top.string("backend", c.backend);
  top.strings("symbols", c.symbols);
  top.boolean("exit_at_end_of_session", c.exit_at_end_of_session);
  if (const Value* v = top.child("feed")) {
    Section s(*v, "feed", error);
    s.uint("port", c.feed_port, 1);
    s.string("group", c.feed_group);
    s.string("listen", c.listen_address);
    s.string("session", c.feed_session);
    s.finish();
  }
  if (const Value* v = top.child("retransmission")) {
    Section s(*v, "retransmission", error);
    s.string("server", c.retrans_server);
    s.uint("port", c.retrans_port, 1);
    s.uint("retry_ms", c.retry_ms, 1, 60000);
    s.uint("max_retries", c.max_retries, 0, 1000);
    s.uint("window_messages", c.window_messages, 2, 1u << 24);
    s.uint("max_request_messages", c.max_request_messages, 1, 65534);
    s.finish();
  }
  if (const Value* v = top.child("orders")) {
    Section s(*v, "orders", error);
    s.uint("port", c.order_port, 1);
    s.string("gateway", c.order_gateway);
    s.string("firm", c.order_firm);
    s.string("session", c.order_session);
    s.uint("max_open_orders", c.max_open_orders, 1, 1u << 20);
    s.uint("history_messages", c.order_history, 64, 1u << 24);
    s.uint("retry_ms", c.order_retry_ms, 1, 60000);
    s.uint("heartbeat_ms", c.order_heartbeat_ms, 0, 60000);
    s.uint("login_retry_ms", c.order_login_retry_ms, 1, 60000);
    s.uint("login_max_echo", c.order_login_max_echo, 1, 65534);
    s.integer("fee_maker_e4", c.fee_maker_e4, -1000000, 1000000);
    s.integer("fee_taker_e4", c.fee_taker_e4, -1000000, 1000000);
    s.uint("response_latency_us", c.response_latency_us, 0, 3600000000ull);
    s.finish();
  }
  if (const Value* v = top.child("pipeline")) {
    Section s(*v, "pipeline", error);
    s.uint("burst", c.burst, 1, 512);
    s.uint("ring_size", c.ring_size, 64, 1u << 24);
    s.uint("pool_packets", c.pool_packets, 64, 1u << 24);
    if (const Value* cores = s.child("cores")) {
      if (!cores->IsArray() || cores->Empty()) {
        s.fail("pipeline.cores", "a non-empty array of {\"cpu\": N, \"stages\": [...]}");
      } else {
        c.cores.clear();
        for (rapidjson::SizeType i = 0; i < cores->Size(); ++i) {
          CoreAssignment a;
          Section cs((*cores)[i], "pipeline.cores[" + std::to_string(i) + "]", error);
          cs.integer("cpu", a.cpu, -1, 4095);
          cs.strings("stages", a.stages);
          cs.finish();
          c.cores.push_back(std::move(a));
        }
      }
    }
    s.finish();
  }
  if (const Value* v = top.child("books")) {
    Section s(*v, "books", error);
    s.uint("max_orders", c.books.max_orders, 1);
    s.uint("max_levels", c.books.max_levels, 1);
    s.uint("max_locates", c.books.max_locates, 1, 65536);
    s.uint("level_index_entries", c.books.level_index_entries, 1);
    s.finish();
  }
  if (const Value* v = top.child("network")) {
    Section s(*v, "network", error);
    s.string("local_ip", c.local_ip);
    s.string("local_mac", c.local_mac);
    s.string("gateway_mac", c.gateway_mac);
    s.finish();
  }
  if (const Value* v = top.child("dpdk")) {
    Section s(*v, "dpdk", error);
    s.strings("eal", c.dpdk_eal);
    s.uint("port", c.dpdk_port);
    s.finish();
  }
  if (const Value* v = top.child("afpacket")) {
    Section s(*v, "afpacket", error);
    s.string("interface", c.afpacket_interface);
    s.uint("frames", c.afpacket_frames, 8, 1u << 20);
    s.uint("frame_size", c.afpacket_frame_size, 256, 65536);
    s.finish();
  }
  if (const Value* v = top.child("status")) {
    Section s(*v, "status", error);
    s.uint("interval_ms", c.status_interval_ms, 0, 3600000);
    s.finish();
  }
  // Read by their own layers (the appliance passes them on): kept as text here.
  for (const auto& [key, out] : {std::pair<const char*, std::string*>{"strategy", &c.strategy_json},
                                 {"risk", &c.risk_json}, {"persistence", &c.persistence_json}}) {
    if (const Value* v = top.child(key)) {
      if (!v->IsObject()) {
        top.fail(key, "an object");
        continue;
      }
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      v->Accept(w);
      *out = buf.GetString();
    }
  }
  top.finish();
  if (!error.empty()) return "config: " + error;
  if (std::string e = validate(c); !e.empty()) return "config: " + e;
  return "";
}

std::string validate(const PipelineConfig& c) {
  if (c.backend != "auto" && c.backend != "dpdk" && c.backend != "afpacket" && c.backend != "portable")
    return "backend: expected one of auto, dpdk, afpacket, portable; got \"" + c.backend + "\"";
  if (!is_power_of_two(c.ring_size)) return "pipeline.ring_size: expected a power of two, got " + std::to_string(c.ring_size);
  if (!is_power_of_two(c.window_messages))
    return "retransmission.window_messages: expected a power of two, got " + std::to_string(c.window_messages);
  if (!is_power_of_two(c.afpacket_frames))
    return "afpacket.frames: expected a power of two, got " + std::to_string(c.afpacket_frames);
  if (c.pool_packets < 2 * c.burst) return "pipeline.pool_packets: expected at least 2 * pipeline.burst";
  if (c.feed_port == c.retrans_port || c.feed_port == c.order_port || c.retrans_port == c.order_port)
    return "feed.port, retransmission.port, orders.port: expected three different ports";
  if (!c.order_gateway.empty()) {
    uint32_t ip = 0;
    uint16_t port = 0;
    if (!parse_endpoint(c.order_gateway, ip, port))
      return "orders.gateway: expected IP:PORT or \"\" (no order entry), got \"" + c.order_gateway + "\"";
  }
  if (c.order_firm.empty() || c.order_firm.size() > 4)
    return "orders.firm: expected 1 to 4 characters (OUCH Firm), got \"" + c.order_firm + "\"";
  if (c.order_session.empty() || c.order_session.size() > 10)
    return "orders.session: expected 1 to 10 characters (MoldUDP64 session), got \"" + c.order_session + "\"";
  if (!is_power_of_two(c.order_history))
    return "orders.history_messages: expected a power of two, got " + std::to_string(c.order_history);
  if (c.feed_session.size() > 10)
    return "feed.session: expected at most 10 characters (MoldUDP64 session), got \"" + c.feed_session + "\"";
  if (c.symbols.size() > 16) return "symbols: expected at most 16 symbols";
  for (const std::string& s : c.symbols)
    if (s.empty() || s.size() > 8) return "symbols: expected 1 to 8 characters per symbol, got \"" + s + "\"";
  // book::validate names its fields "book.<field>"; here they live under "books".
  if (std::string e = book::validate(c.books); !e.empty()) return "books." + (e.rfind("book.", 0) == 0 ? e.substr(5) : e);
  std::set<std::string> placed;
  for (size_t i = 0; i < c.cores.size(); ++i) {
    for (const std::string& s : c.cores[i].stages) {
      const auto& names = stage_names();
      if (std::find(names.begin(), names.end(), s) == names.end())
        return "pipeline.cores[" + std::to_string(i) + "].stages: unknown stage \"" + s +
               "\" (expected rx, parse, book, quote, tx)";
      if (!placed.insert(s).second)
        return "pipeline.cores[" + std::to_string(i) + "].stages: stage \"" + s + "\" is on more than one core";
    }
  }
  for (const std::string& s : stage_names())
    if (!placed.count(s)) return "pipeline.cores: stage \"" + s + "\" is on no core";
  return "";
}

std::string apply_override(const std::string& assignment, std::string& json) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return "--set " + assignment + ": expected key.path=value";
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  rapidjson::Document doc;
  if (std::string e = config::parse_json(json, doc, "config"); !e.empty()) return e;
  if (!doc.IsObject()) return "config: expected a JSON object at the top level";
  rapidjson::Document value(&doc.GetAllocator());
  value.Parse<config::kParseFlags>(text.c_str());
  Value v;
  if (value.HasParseError()) v.SetString(text.c_str(), doc.GetAllocator());  // a bare word is a string
  else v.CopyFrom(value, doc.GetAllocator());
  Value* node = &doc;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) return "--set " + assignment + ": empty key in \"" + path + "\"";
    auto it = node->FindMember(key.c_str());
    if (dot == std::string::npos) {
      if (it != node->MemberEnd()) it->value = v;
      else node->AddMember(Value(key.c_str(), doc.GetAllocator()), v, doc.GetAllocator());
      break;
    }
    if (it == node->MemberEnd()) {
      node->AddMember(Value(key.c_str(), doc.GetAllocator()), Value(rapidjson::kObjectType), doc.GetAllocator());
      it = node->FindMember(key.c_str());
    }
    if (!it->value.IsObject()) return "--set " + assignment + ": \"" + key + "\" is not an object";
    node = &it->value;
    start = dot + 1;
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  doc.Accept(w);
  json = out.GetString();
  return "";
}

}  // namespace pmm::pipe
