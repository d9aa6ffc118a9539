#include "obs/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cg::obs {

namespace {
void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string format_bound(double b) { return fmt::format("{}", b); }
}  // namespace

std::string label_pair(std::string_view name, std::string_view value) {
    std::string out;
    out.reserve(name.size() + value.size() + 3);
    out.append(name);
    out.append("=\"");
    for (const char c : value) {
        switch (c) {
            case '\\':
                out.append("\\\\");
                break;
            case '"':
                out.append("\\\"");
                break;
            case '\n':
                out.append("\\n");
                break;
            default:
                out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

CounterVec::CounterVec(std::string name, std::string help, std::string label,
                       std::initializer_list<std::string_view> values)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_(std::move(label)),
      values_(values.begin(), values.end()),
      counters_(std::make_unique<Counter[]>(values.size())) {}

void CounterVec::inc(std::string_view value, uint64_t n) {
    for (size_t i = 0; i < values_.size(); ++i) {
        if (values_[i] == value) {
            counters_[i].inc(n);
            return;
        }
    }
    counters_[values_.size() - 1].inc(n);
}

uint64_t CounterVec::value(std::string_view value) const {
    for (size_t i = 0; i < values_.size(); ++i) {
        if (values_[i] == value) return counters_[i].value();
    }
    return 0;
}

uint64_t CounterVec::total() const {
    uint64_t sum = 0;
    for (size_t i = 0; i < values_.size(); ++i) sum += counters_[i].value();
    return sum;
}

void CounterVec::render(std::string& out) const {
    header(out, name_, help_, "counter");
    for (size_t i = 0; i < values_.size(); ++i) {
        out += fmt::format("{}{{{}=\"{}\"}} {}\n", name_, label_, values_[i], counters_[i].value());
    }
}

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(bounds)),
      buckets_(std::make_unique<Counter[]>(bounds_.size() + 1)) {
    std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    buckets_[static_cast<size_t>(it - bounds_.begin())].inc();
    count_.inc();
    sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
    std::vector<uint64_t> out(bounds_.size() + 1);
    for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].value();
    return out;
}

void Histogram::render(std::string& out) const {
    header(out, name_, help_, "histogram");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += buckets_[i].value();
        out +=
            fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name_, format_bound(bounds_[i]), cumulative);
    }
    cumulative += buckets_[bounds_.size()].value();
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name_, cumulative);
    out += fmt::format("{}_sum {}\n", name_,
                       static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
    out += fmt::format("{}_count {}\n", name_, cumulative);
}

HttpCounter::HttpCounter(std::initializer_list<std::string_view> routes)
    : routes_(routes.begin(), routes.end()),
      counters_(std::make_unique<Counter[]>(routes.size() * kCodes)) {}

void HttpCounter::inc(std::string_view route, int code) {
    if (code < 100 || code > 599) code = 599;
    size_t r = routes_.size() - 1;
    for (size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i] == route) {
            r = i;
            break;
        }
    }
    counters_[r * kCodes + static_cast<size_t>(code - 100)].inc();
}

uint64_t HttpCounter::value(std::string_view route, int code) const {
    if (code < 100 || code > 599) return 0;
    for (size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i] == route)
            return counters_[i * kCodes + static_cast<size_t>(code - 100)].value();
    }
    return 0;
}

void HttpCounter::render(std::string& out) const {
    header(out, "http_requests_total", "HTTP requests answered, by route and status code",
           "counter");
    for (size_t r = 0; r < routes_.size(); ++r) {
        for (int c = 0; c < kCodes; ++c) {
            const uint64_t v = counters_[r * kCodes + static_cast<size_t>(c)].value();
            if (v == 0) continue;
            out += fmt::format("http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", routes_[r],
                               c + 100, v);
        }
    }
}

namespace {
std::vector<double> latency_bounds() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

// End to end includes retries with back-off: from a millisecond up to an hour.
std::vector<double> end_to_end_bounds() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1,     2.5,    5,     10,   30,    60,   300, 900,  3600};
}
}  // namespace

Metrics::Metrics()
    : charging_requests(
          "charging_requests_total", "Charging-session requests answered, by outcome", "status",
          {"accepted", "replayed", "invalid", "unsupported_media_type", "too_large", "conflict",
           "unavailable", "unauthorized", "rate_limited", "malformed", "other"}),
      authorization_time("authorization_processing_time_seconds",
                         "Time from taking a request off the queue to its decision",
                         latency_bounds()),
      decisions("authorization_decisions_total", "Authorization decisions, by status", "status",
                {"allowed", "not_allowed", "unknown"}),
      callback_deliveries("callback_deliveries_total", "Callback attempts, by result", "result",
                          {"delivered", "retry", "failed", "gone", "blocked", "other"}),
      callback_duration("callback_delivery_duration_seconds", "Duration of one callback attempt",
                        latency_bounds()),
      end_to_end("charging_session_end_to_end_seconds",
                 "Time from a request's acceptance to its delivered callback (first round only)",
                 end_to_end_bounds()),
      accept_latency("http_accept_duration_seconds",
                     "Time from a charging-session POST's arrival to its durable answer",
                     latency_bounds()),
      commit_batch_size("store_commit_batch_size", "Writes per group commit",
                        {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}),
      commit_duration("store_commit_duration_seconds",
                      "Duration of one group commit including fsync", latency_bounds()),
      http_requests({"charging_session_create", "charging_session_status",
                     "charging_session_redeliver", "acl", "stations", "admin", "dashboard",
                     "health", "metrics", "other"}),
      connections_refused("http_connections_refused_total",
                          "Connections answered 503 and closed at once, by the limit they hit",
                          "reason", {"total", "per_client"}),
      accept_errors("http_accept_errors_total",
                    "Failed accepts of new connections (the listener pauses after each), by "
                    "errno: emfile (process descriptor limit), enfile (system limit), enomem "
                    "(kernel memory or buffers), other",
                    "error", {"emfile", "enfile", "enomem", "other"}) {}

std::string Metrics::render(const std::vector<GaugeSample>& gauges) const {
    std::string out;
    out.reserve(8192);
    charging_requests.render(out);
    authorization_time.render(out);
    decisions.render(out);
    callback_deliveries.render(out);
    callback_duration.render(out);
    end_to_end.render(out);
    accept_latency.render(out);
    commit_batch_size.render(out);
    commit_duration.render(out);
    http_requests.render(out);
    connections_refused.render(out);
    accept_errors.render(out);
    header(out, "rate_limited_total", "Requests answered 429 by the per-client rate limit",
           "counter");
    out += fmt::format("rate_limited_total {}\n", rate_limited.value());
    header(out, "rate_limit_fallback_decisions_total",
           "Rate-limit decisions made per process because Redis was unreachable (cluster mode)",
           "counter");
    out += fmt::format("rate_limit_fallback_decisions_total {}\n", rate_limit_fallbacks.value());
    header(out, "rate_limit_overflow_decisions_total",
           "Rate-limit decisions on a shared overflow bucket because the key cap was reached",
           "counter");
    out += fmt::format("rate_limit_overflow_decisions_total {}\n", rate_limit_overflows.value());
    header(out, "store_write_errors_total", "Failed group commits", "counter");
    out += fmt::format("store_write_errors_total {}\n", store_errors.value());
    header(out, "callback_deferred_total",
           "Deliveries parked without an attempt because their receiver was at its limit",
           "counter");
    out += fmt::format("callback_deferred_total {}\n", callback_deferred.value());
    header(out, "tls_handshake_failures_total",
           "HTTPS connections closed because the TLS handshake failed or timed out", "counter");
    out += fmt::format("tls_handshake_failures_total {}\n", tls_handshake_failures.value());
    header(out, "callback_dead_lettered_total", "Requests that ended failed", "counter");
    out += fmt::format("callback_dead_lettered_total {}\n", dead_lettered.value());
    header(out, "callback_retries_scheduled_total", "Callback retries scheduled", "counter");
    out += fmt::format("callback_retries_scheduled_total {}\n", retries_scheduled.value());
    std::string last_name;
    for (const auto& g : gauges) {
        if (g.name != last_name) {
            const bool counter = g.name.ends_with("_total");
            header(out, g.name, g.help, counter ? "counter" : "gauge");
            last_name = g.name;
        }
        if (g.labels.empty()) {
            out += fmt::format("{} {}\n", g.name, g.value);
        } else {
            out += fmt::format("{}{{{}}} {}\n", g.name, g.labels, g.value);
        }
    }
    return out;
}

}  // namespace cg::obs
