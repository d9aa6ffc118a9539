#pragma once
// Structured logs: one JSON object per line on stderr (docs/api.md §5).
// Usage: obs::log_info("callback delivered").kv("request_id", id).kv("status", 200);
// The line is written when the temporary is destroyed. Driver tokens must be passed through
// cg::mask_token before they reach a log line. Thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace cg::obs {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void init_logging(config::LogLevel level);
bool log_enabled(Level level);

class LogLine {
  public:
    LogLine(Level level, std::string_view msg);
    ~LogLine();
    LogLine(const LogLine&) = delete;
    LogLine& operator=(const LogLine&) = delete;

    LogLine& kv(std::string_view key, std::string_view value);
    LogLine& kv(std::string_view key, const char* value) {
        return kv(key, std::string_view(value));
    }
    LogLine& kv(std::string_view key, const std::string& value) {
        return kv(key, std::string_view(value));
    }
    LogLine& kv(std::string_view key, int64_t value);
    LogLine& kv(std::string_view key, int value) { return kv(key, static_cast<int64_t>(value)); }
    LogLine& kv(std::string_view key, uint64_t value) {
        return kv(key, static_cast<int64_t>(value));
    }
    LogLine& kv(std::string_view key, double value);
    LogLine& kv(std::string_view key, bool value);

  private:
    void key(std::string_view k);
    bool on_;
    Level level_;
    std::string buf_;
};

inline LogLine log_debug(std::string_view msg) { return {Level::kDebug, msg}; }
inline LogLine log_info(std::string_view msg) { return {Level::kInfo, msg}; }
inline LogLine log_warn(std::string_view msg) { return {Level::kWarn, msg}; }
inline LogLine log_error(std::string_view msg) { return {Level::kError, msg}; }

}  // namespace cg::obs
