// JSON string escaping for the tools' hand-written --json reports (itch-replay, exchange-sim).
#pragma once

#include <cstdio>
#include <string>

namespace pmm::tools {

inline std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace pmm::tools
