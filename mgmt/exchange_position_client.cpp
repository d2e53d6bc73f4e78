#include "mgmt/exchange_position_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

namespace pmm::mgmt {

namespace {

constexpr int kMaxPagesPerRead = 1 << 16;  // a bound on one account_state() (the server pages by 128)
constexpr int kMaxVersionRetries = 8;      // the state kept changing between pages: give up

bool parse_address(std::string_view text, sockaddr_in& out, std::string& error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = "address '" + std::string(text) + "': expected IP:PORT (e.g. 127.0.0.1:26421)";
    return false;
  }
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  const std::string ip(text.substr(0, colon));
  if (::inet_pton(AF_INET, ip.c_str(), &out.sin_addr) != 1) {
    error = "address '" + std::string(text) + "': '" + ip + "' is not an IPv4 address";
    return false;
  }
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    error = "address '" + std::string(text) + "': port '" + std::string(port_text) + "' is not in 1..65535";
    return false;
  }
  uint8_t* p = reinterpret_cast<uint8_t*>(&out.sin_port);  // network order, byte by byte
  p[0] = static_cast<uint8_t>(port >> 8);
  p[1] = static_cast<uint8_t>(port);
  return true;
}

// Typed reads of one answer's members; the first failure names the key.
class AnswerReader {
 public:
  explicit AnswerReader(std::string context) : context_(std::move(context)) {}
  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  const rapidjson::Value* member(const rapidjson::Value& v, const char* key, const std::string& where) {
    if (!v.IsObject() || !v.HasMember(key)) {
      fail(where + key, "missing");
      return nullptr;
    }
    return &v[key];
  }
  template <class Int>
  Int integer(const rapidjson::Value& v, const char* key, const std::string& where = "") {
    const rapidjson::Value* m = member(v, key, where);
    if (m == nullptr) return 0;
    if constexpr (std::is_signed_v<Int>) {
      if (m->IsInt64() && m->GetInt64() >= std::numeric_limits<Int>::min() &&
          m->GetInt64() <= std::numeric_limits<Int>::max())
        return static_cast<Int>(m->GetInt64());
    } else {
      if (m->IsUint64() && m->GetUint64() <= std::numeric_limits<Int>::max()) return static_cast<Int>(m->GetUint64());
    }
    fail(where + key, "expected an integer that fits " + std::to_string(sizeof(Int) * 8) + " bits");
    return 0;
  }
  std::string text(const rapidjson::Value& v, const char* key, const std::string& where = "") {
    const rapidjson::Value* m = member(v, key, where);
    if (m == nullptr) return {};
    if (!m->IsString()) {
      fail(where + key, "expected a string");
      return {};
    }
    return std::string(m->GetString(), m->GetStringLength());
  }
  const rapidjson::Value* array(const rapidjson::Value& v, const char* key) {
    const rapidjson::Value* m = member(v, key, "");
    if (m != nullptr && !m->IsArray()) {
      fail(key, "expected an array");
      return nullptr;
    }
    return m;
  }
  void fail(const std::string& key, const std::string& what) {
    if (error_.empty()) error_ = context_ + ": key '" + key + "': " + what;
  }

 private:
  std::string context_;
  std::string error_;
};

}  // namespace

ExchangePositionClient::ExchangePositionClient(std::string_view address, int timeout_ms, int attempts)
    : timeout_ms_(timeout_ms), attempts_(attempts) {
  sockaddr_in a;
  if (!parse_address(address, a, error_)) return;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    error_ = "socket: " + std::string(std::strerror(errno));
    return;
  }
  // Connected: only the server's datagrams reach us, and an ICMP refusal shows up as ECONNREFUSED.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    error_ = "connect " + std::string(address) + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  fd_ = fd;
}

ExchangePositionClient::~ExchangePositionClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool ExchangePositionClient::request(std::string_view line, std::string& answer) {
  if (fd_ < 0) return false;  // error_ says why
  std::string buf(65536, '\0');
  for (int attempt = 0; attempt < attempts_; ++attempt) {
    // A late answer to an earlier attempt must not pass for this one's.
    while (::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) {
    }
    if (::send(fd_, line.data(), line.size(), 0) < 0) {
      error_ = "'" + std::string(line) + "': send: " + std::strerror(errno);
      if (errno == ECONNREFUSED) continue;  // nobody listening (yet): try again
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms_) <= 0) {
      error_ = "'" + std::string(line) + "': no answer within " + std::to_string(timeout_ms_) + " ms (" +
               std::to_string(attempt + 1) + " attempt(s))";
      continue;
    }
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      error_ = "'" + std::string(line) + "': receive: " + std::strerror(errno);
      continue;
    }
    answer.assign(buf.data(), static_cast<size_t>(n));
    return true;
  }
  return false;
}

namespace {

// Parses one answer; false with `error` naming the request (and key) when it is not a good answer.
bool parse_answer(const std::string& line, const std::string& text, rapidjson::Document& doc, std::string& error) {
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    error = "'" + line + "': answer is not JSON (byte " + std::to_string(doc.GetErrorOffset()) +
            "): " + rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (!doc.IsObject() || !doc.HasMember("ok") || !doc["ok"].IsBool()) {
    error = "'" + line + "': answer has no boolean 'ok'";
    return false;
  }
  if (!doc["ok"].GetBool()) {
    error = "'" + line + "': the exchange says: " +
            (doc.HasMember("error") && doc["error"].IsString() ? std::string(doc["error"].GetString()) : "error");
    return false;
  }
  return true;
}

}  // namespace

bool ExchangePositionClient::accounts(std::vector<std::string>& out) {
  const std::string line = "accounts";
  std::string text;
  if (!request(line, text)) return false;
  rapidjson::Document doc;
  if (!parse_answer(line, text, doc, error_)) return false;
  AnswerReader r("'" + line + "'");
  const rapidjson::Value* a = r.array(doc, "accounts");
  out.clear();
  if (a != nullptr)
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      if (!(*a)[i].IsString()) r.fail("accounts[" + std::to_string(i) + "]", "expected a string");
      else out.emplace_back((*a)[i].GetString(), (*a)[i].GetStringLength());
    }
  if (!r.ok()) error_ = r.error();
  return r.ok();
}

bool ExchangePositionClient::account_state(std::string_view account, ExchangeAccountState& out) {
  for (int round = 0; round < kMaxVersionRetries; ++round) {
    out = ExchangeAccountState{};
    bool have_version = false;
    bool changed = false;
    for (const char* kind : {"positions", "orders"}) {
      uint64_t from = 0;
      for (int pages = 0;; ++pages) {
        if (pages == kMaxPagesPerRead) {
          error_ = std::string(kind) + " " + std::string(account) + ": more than " + std::to_string(kMaxPagesPerRead) +
                   " pages";
          return false;
        }
        const std::string line = std::string(kind) + " " + std::string(account) + " " + std::to_string(from);
        std::string text;
        if (!request(line, text)) return false;
        rapidjson::Document doc;
        if (!parse_answer(line, text, doc, error_)) return false;
        AnswerReader r("'" + line + "'");
        const uint64_t version = r.integer<uint64_t>(doc, "version");
        out.exchange_time = r.integer<uint64_t>(doc, "exchange_time");
        out.account = r.text(doc, "account");
        if (r.ok() && r.integer<uint64_t>(doc, "from") != from) r.fail("from", "not the FROM asked for");
        if (!have_version) {
          out.version = version;
          have_version = true;
        } else if (version != out.version) {
          changed = true;
        }
        const bool positions = std::strcmp(kind, "positions") == 0;
        const rapidjson::Value* items = r.array(doc, positions ? "positions" : "open_orders");
        if (items != nullptr) {
          for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
            const rapidjson::Value& v = (*items)[i];
            const std::string where = std::string(positions ? "positions" : "open_orders") + "[" + std::to_string(i) + "].";
            if (positions) {
              ExchangePosition p;
              p.symbol = r.text(v, "symbol", where);
              p.locate = r.integer<uint16_t>(v, "locate", where);
              p.shares = r.integer<int64_t>(v, "shares", where);
              p.cash = r.integer<int64_t>(v, "cash", where);
              p.fees = r.integer<int64_t>(v, "fees", where);
              p.bought = r.integer<uint64_t>(v, "bought", where);
              p.sold = r.integer<uint64_t>(v, "sold", where);
              out.positions.push_back(std::move(p));
            } else {
              ExchangeOpenOrder o;
              o.token = r.text(v, "token", where);
              o.symbol = r.text(v, "symbol", where);
              const std::string side = r.text(v, "side", where);
              if (r.ok() && side.size() != 1) r.fail(where + "side", "expected one character");
              o.side = side.empty() ? ' ' : side[0];
              o.price = r.integer<uint32_t>(v, "price", where);
              o.remaining = r.integer<uint32_t>(v, "remaining", where);
              o.executed = r.integer<uint32_t>(v, "executed", where);
              o.order_ref = r.integer<uint64_t>(v, "order_ref", where);
              out.open_orders.push_back(std::move(o));
            }
          }
        }
        const rapidjson::Value* next = r.member(doc, "next", "");
        if (next != nullptr && !next->IsNull() && !next->IsUint64()) r.fail("next", "expected an integer or null");
        if (!r.ok()) {
          error_ = r.error();
          return false;
        }
        if (next->IsNull()) break;
        if (next->GetUint64() <= from) {
          error_ = "'" + line + "': key 'next': " + std::to_string(next->GetUint64()) + " does not move past FROM";
          return false;
        }
        from = next->GetUint64();
      }
    }
    if (!changed) return true;
  }
  error_ = std::string(account) + ": the exchange's state changed between pages " +
           std::to_string(kMaxVersionRetries) + " times in a row";
  return false;
}

}  // namespace pmm::mgmt
