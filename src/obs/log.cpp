#include "obs/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <cmath>

#include "common/text.hpp"

namespace cg::obs {

namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

spdlog::logger& sink() {
    // spdlog gives us a thread-safe, buffered stderr sink; the JSON is built by LogLine.
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = spdlog::stderr_logger_mt("chargegate");
        l->set_pattern("%v");
        l->set_level(spdlog::level::trace);
        l->flush_on(spdlog::level::trace);
        return l;
    }();
    return *logger;
}

void append_json_string(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

const char* level_name(Level l) {
    switch (l) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warn";
        case Level::kError:
            return "error";
    }
    return "info";
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
}  // namespace

void init_logging(config::LogLevel level) {
    switch (level) {
        case config::LogLevel::kDebug:
            g_min_level = static_cast<int>(Level::kDebug);
            break;
        case config::LogLevel::kInfo:
            g_min_level = static_cast<int>(Level::kInfo);
            break;
        case config::LogLevel::kWarn:
            g_min_level = static_cast<int>(Level::kWarn);
            break;
        case config::LogLevel::kError:
            g_min_level = static_cast<int>(Level::kError);
            break;
    }
    (void)sink();
}

bool log_enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(); }

LogLine::LogLine(Level level, std::string_view msg) : on_(log_enabled(level)), level_(level) {
    if (!on_) return;
    buf_.reserve(256);
    buf_ += "{\"ts\":\"";
    buf_ += format_rfc3339_ms(now_ms());
    buf_ += "\",\"level\":\"";
    buf_ += level_name(level);
    buf_ += "\",\"msg\":";
    append_json_string(buf_, msg);
}

LogLine::~LogLine() {
    if (!on_) return;
    buf_ += '}';
    try {
        sink().log(spdlog::level::info, buf_);
    } catch (...) {  // logging must never take the process down
    }
}

void LogLine::key(std::string_view k) {
    buf_ += ',';
    append_json_string(buf_, k);
    buf_ += ':';
}

LogLine& LogLine::kv(std::string_view k, std::string_view value) {
    if (!on_) return *this;
    key(k);
    append_json_string(buf_, value);
    return *this;
}

LogLine& LogLine::kv(std::string_view k, int64_t value) {
    if (!on_) return *this;
    key(k);
    buf_ += std::to_string(value);
    return *this;
}

LogLine& LogLine::kv(std::string_view k, double value) {
    if (!on_) return *this;
    key(k);
    buf_ += std::isfinite(value) ? std::to_string(value) : "null";
    return *this;
}

LogLine& LogLine::kv(std::string_view k, bool value) {
    if (!on_) return *this;
    key(k);
    buf_ += value ? "true" : "false";
    return *this;
}

}  // namespace cg::obs
