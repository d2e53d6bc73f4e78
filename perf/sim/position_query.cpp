#include "perf/sim/position_query.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "perf/json_text.hpp"

namespace pmm::sim {

namespace {

constexpr const char* kUsage = "expected 'accounts', 'positions ACCOUNT [FROM]' or 'orders ACCOUNT [FROM]'";

// An alpha field without its padding; bytes outside printable ASCII as '?'.
template <size_t N>
std::string trimmed(const std::array<char, N>& a) {
  std::string s(a.data(), N);
  s.erase(s.find_last_not_of(' ') + 1);
  for (char& c : s)
    if (c < 0x20 || c > 0x7E) c = '?';
  return s;
}

std::string quoted(const std::string& s) { return "\"" + tools::json_escape(s) + "\""; }

std::string error_answer(const std::string& what) { return "{\"ok\": false, \"error\": " + quoted(what) + "}"; }

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string head(const MatchingEngine& engine, uint64_t exchange_time) {
  return "{\"ok\": true, \"exchange_time\": " + std::to_string(exchange_time) +
         ", \"version\": " + std::to_string(engine.stats().responses);
}

// A page of `items` from `from`: the JSON array members and "total"/"next".
template <class Item, class Write>
std::string page(const std::vector<Item>& items, size_t from, const char* name, Write&& write) {
  const size_t end = std::min(items.size(), from + kMaxItemsPerAnswer);
  std::string out = ", \"total\": " + std::to_string(items.size()) + ", \"from\": " + std::to_string(from) +
                    ", \"next\": " + (end < items.size() ? std::to_string(end) : std::string("null")) + ", \"" +
                    name + "\": [";
  for (size_t i = from; i < end; ++i) {
    if (i != from) out += ", ";
    out += write(items[i]);
  }
  return out + "]}";
}

}  // namespace

std::string answer_position_query(const MatchingEngine& engine, std::string_view request, uint64_t exchange_time) {
  if (request.size() > kMaxQueryRequest)
    return error_answer("request: longer than " + std::to_string(kMaxQueryRequest) + " bytes; " + kUsage);
  while (!request.empty() && (request.back() == '\n' || request.back() == '\r')) request.remove_suffix(1);
  for (size_t i = 0; i < request.size(); ++i)
    if (request[i] < 0x20 || request[i] > 0x7E)
      return error_answer("request: byte " + std::to_string(static_cast<unsigned char>(request[i])) +
                          " at offset " + std::to_string(i) + " is not printable ASCII; " + kUsage);
  const std::vector<std::string_view> w = words(request);
  if (w.empty()) return error_answer(std::string("request: empty; ") + kUsage);
  const std::string command(w[0]);
  if (command == "accounts") {
    if (w.size() != 1) return error_answer("accounts: takes no argument, got '" + std::string(w[1]) + "'");
    std::string out = head(engine, exchange_time) + ", \"accounts\": [";
    const char* sep = "";
    for (const Account& a : engine.accounts()) {
      out += sep + quoted(trimmed(a));
      sep = ", ";
    }
    return out + "]}";
  }
  if (command != "positions" && command != "orders")
    return error_answer("request: unknown command '" + command + "'; " + kUsage);
  if (w.size() < 2 || w.size() > 3)
    return error_answer(command + ": expected '" + command + " ACCOUNT [FROM]', got " + std::to_string(w.size() - 1) +
                        " argument(s)");
  if (w[1].size() > 4)
    return error_answer(command + ": account '" + std::string(w[1]) + "' is longer than 4 characters (OUCH Firm)");
  size_t from = 0;
  if (w.size() == 3) {
    const auto [end, ec] = std::from_chars(w[2].data(), w[2].data() + w[2].size(), from);
    if (ec != std::errc() || end != w[2].data() + w[2].size())
      return error_answer(command + ": FROM '" + std::string(w[2]) + "' is not a non-negative integer");
  }
  const Account account = make_account(w[1]);
  std::string out = head(engine, exchange_time) + ", \"account\": " + quoted(trimmed(account));
  if (command == "positions") {
    const std::vector<PositionView> items = engine.positions(account);
    if (from > items.size())
      return error_answer("positions: FROM " + std::to_string(from) + " is beyond the " +
                          std::to_string(items.size()) + " positions of " + trimmed(account));
    return out + page(items, from, "positions", [](const PositionView& p) {
             return "{\"symbol\": " + quoted(trimmed(p.stock)) + ", \"locate\": " + std::to_string(p.locate) +
                    ", \"shares\": " + std::to_string(p.shares) + ", \"cash\": " + std::to_string(p.cash) +
                    ", \"fees\": " + std::to_string(p.fees) + ", \"bought\": " + std::to_string(p.bought) +
                    ", \"sold\": " + std::to_string(p.sold) + "}";
           });
  }
  const std::vector<OpenOrderView> items = engine.open_orders(account);
  if (from > items.size())
    return error_answer("orders: FROM " + std::to_string(from) + " is beyond the " + std::to_string(items.size()) +
                        " open orders of " + trimmed(account));
  return out + page(items, from, "open_orders", [](const OpenOrderView& o) {
           return "{\"token\": " + quoted(trimmed(o.token)) + ", \"symbol\": " + quoted(trimmed(o.stock)) +
                  ", \"side\": " + quoted(std::string(1, o.side)) + ", \"price\": " + std::to_string(o.price) +
                  ", \"remaining\": " + std::to_string(o.open_shares) +
                  ", \"executed\": " + std::to_string(o.executed_shares) +
                  ", \"order_ref\": " + std::to_string(o.order_ref) + "}";
         });
}

std::unique_ptr<PositionQueryServer> PositionQueryServer::create(const Endpoint& listen, std::string& error) {
  UdpSocket socket = UdpSocket::open(listen, "position query", error);
  if (!socket.valid()) return nullptr;
  return std::unique_ptr<PositionQueryServer>(new PositionQueryServer(std::move(socket)));
}

void PositionQueryServer::service(const MatchingEngine& engine, uint64_t exchange_time) noexcept {
  for (int i = 0; i < kMaxRequestsPerTurn; ++i) {
    uint8_t buf[kMaxQueryRequest + 1];  // one byte more: an over-long request is told so, not cut
    const Received r = socket_.receive(buf, sizeof buf, 0);
    if (r.kind != Received::Kind::kDatagram) return;
    ++stats_.requests;
    std::string answer;
    try {
      answer = answer_position_query(engine, std::string_view(reinterpret_cast<const char*>(buf), r.len), exchange_time);
    } catch (const std::bad_alloc&) {
      answer = error_answer("out of memory");
    }
    if (answer.rfind("{\"ok\": false", 0) == 0) ++stats_.bad_requests;
    if (socket_.send_to(reinterpret_cast<const uint8_t*>(answer.data()), answer.size(), r.from) != 0)
      ++stats_.send_errors;
  }
}

}  // namespace pmm::sim
