#include "mgmt/pmmctl/exchange_commands.hpp"

#include <cinttypes>
#include <cstdio>

#include "mgmt/exchange_position_client.hpp"

namespace pmm::mgmt {

namespace {

std::string fixed4(int64_t v) {  // 1/10000 units -> "-12.3456"
  char buf[48];
  const uint64_t a = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%04" PRIu64, v < 0 ? "-" : "", a / 10000, a % 10000);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // the server sends printable ASCII only
    o += c;
  }
  return o + "\"";
}

}  // namespace

int exchange_positions(const std::string& address, const std::string& account, bool json, std::ostream& out,
                       std::ostream& err) {
  ExchangePositionClient client(address);
  ExchangeAccountState s;
  if (!client.valid() || !client.account_state(account, s)) {
    err << "pmmctl exchange positions: " << client.error() << "\n";
    return 1;
  }
  if (json) {
    out << "{\"account\": " << json_string(s.account) << ", \"exchange_time\": " << s.exchange_time
        << ", \"version\": " << s.version << ",\n \"positions\": [";
    for (size_t i = 0; i < s.positions.size(); ++i) {
      const ExchangePosition& p = s.positions[i];
      out << (i ? ",\n  " : "\n  ") << "{\"symbol\": " << json_string(p.symbol) << ", \"shares\": " << p.shares
          << ", \"bought\": " << p.bought << ", \"sold\": " << p.sold << ", \"cash\": " << p.cash
          << ", \"fees\": " << p.fees << "}";
    }
    out << "],\n \"open_orders\": [";
    for (size_t i = 0; i < s.open_orders.size(); ++i) {
      const ExchangeOpenOrder& o = s.open_orders[i];
      out << (i ? ",\n  " : "\n  ") << "{\"token\": " << json_string(o.token) << ", \"symbol\": "
          << json_string(o.symbol) << ", \"side\": " << json_string(std::string(1, o.side)) << ", \"price\": " << o.price
          << ", \"remaining\": " << o.remaining << ", \"executed\": " << o.executed << "}";
    }
    out << "]}\n";
    return 0;
  }
  out << "account " << s.account << " at exchange time " << s.exchange_time << " ns (version " << s.version
      << "): " << s.positions.size() << " position(s), " << s.open_orders.size() << " open order(s)\n";
  for (const ExchangePosition& p : s.positions)
    out << "  position " << p.symbol << ": " << p.shares << " shares (bought " << p.bought << ", sold " << p.sold
        << "), cash " << fixed4(p.cash) << ", fees " << fixed4(p.fees) << "\n";
  for (const ExchangeOpenOrder& o : s.open_orders)
    out << "  order " << o.token << " " << o.symbol << " " << o.side << " " << o.remaining << " @ " << fixed4(o.price)
        << " (executed " << o.executed << ")\n";
  return 0;
}

int exchange_accounts(const std::string& address, std::ostream& out, std::ostream& err) {
  ExchangePositionClient client(address);
  std::vector<std::string> accounts;
  if (!client.valid() || !client.accounts(accounts)) {
    err << "pmmctl exchange accounts: " << client.error() << "\n";
    return 1;
  }
  for (const std::string& a : accounts) out << a << "\n";
  return 0;
}

}  // namespace pmm::mgmt
