// Where recovery, snapshot taking and compaction send their log lines: the appliance routes them to its
// log, tests capture them. Operators grep these lines (docs/recovery.md lists the patterns), so the
// text of each line is part of the interface. Start-up and shutdown only: never on the hot path.
#pragma once

#include <functional>
#include <string>

namespace pmm::persistence {

enum class LogLevel : unsigned char { Info, Warning, Error };

inline const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Info: return "INFO";
    case LogLevel::Warning: return "WARN";
    case LogLevel::Error: return "ERROR";
  }
  return "?";
}

// An empty Logger drops every line.
using Logger = std::function<void(LogLevel, const std::string&)>;

inline void log_line(const Logger& log, LogLevel level, const std::string& text) {
  if (log) log(level, text);
}

}  // namespace pmm::persistence
