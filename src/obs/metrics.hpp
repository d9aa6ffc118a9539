#pragma once
// Prometheus metrics (docs/api.md §5). Every series is a set of atomics created at start-up, so
// recording on a hot path is a relaxed atomic add: no lock, no allocation.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cg::obs {

class Counter {
  public:
    void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] uint64_t value() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<uint64_t> v_{0};
};

// A counter with one label whose values are fixed at construction.
class CounterVec {
  public:
    CounterVec(std::string name, std::string help, std::string label,
               std::initializer_list<std::string_view> values);
    // Unknown values are counted under the last value given at construction.
    void inc(std::string_view value, uint64_t n = 1);
    [[nodiscard]] uint64_t value(std::string_view value) const;
    // The sum over every label value.
    [[nodiscard]] uint64_t total() const;
    void render(std::string& out) const;

  private:
    std::string name_, help_, label_;
    std::vector<std::string> values_;
    std::unique_ptr<Counter[]> counters_;
};

// Cumulative histogram with fixed upper bounds (seconds).
class Histogram {
  public:
    Histogram(std::string name, std::string help, std::vector<double> bounds);
    void observe(double seconds);
    void render(std::string& out) const;
    [[nodiscard]] uint64_t count() const { return count_.value(); }
    [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
    // Per-bucket counts (not cumulative), bounds().size() + 1 of them, the last for +Inf.
    [[nodiscard]] std::vector<uint64_t> bucket_counts() const;
    [[nodiscard]] double sum() const {
        return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    }

  private:
    std::string name_, help_;
    std::vector<double> bounds_;
    std::unique_ptr<Counter[]> buckets_;  // bounds_.size() + 1 (the last one is +Inf)
    Counter count_;
    std::atomic<uint64_t> sum_ns_{0};
};

// http_requests_total{route,code}: routes fixed, codes 100..599.
class HttpCounter {
  public:
    explicit HttpCounter(std::initializer_list<std::string_view> routes);
    void inc(std::string_view route, int code);
    [[nodiscard]] uint64_t value(std::string_view route, int code) const;
    void render(std::string& out) const;

  private:
    static constexpr int kCodes = 500;
    std::vector<std::string> routes_;
    std::unique_ptr<Counter[]> counters_;
};

// `name="value"` with the value escaped as the text format requires (\\, \" and \n), for
// GaugeSample::labels built from outside text such as a receiver's host.
std::string label_pair(std::string_view name, std::string_view value);

// A series computed at scrape time: a gauge, or a counter when its name ends in `_total`.
struct GaugeSample {
    std::string name;
    std::string help;
    double value = 0;
    std::string labels;  // e.g. `component="queue"`, may be empty
};

struct Metrics {
    Metrics();

    CounterVec charging_requests;    // charging_requests_total{status}
    Histogram authorization_time;    // authorization_processing_time_seconds
    CounterVec decisions;            // authorization_decisions_total{status}
    CounterVec callback_deliveries;  // callback_deliveries_total{result}
    Histogram callback_duration;     // callback_delivery_duration_seconds
    Histogram end_to_end;            // charging_session_end_to_end_seconds (accept to delivered)
    Histogram accept_latency;        // http_accept_duration_seconds (POST, until durable)
    Histogram commit_batch_size;     // store_commit_batch_size
    Histogram commit_duration;       // store_commit_duration_seconds
    HttpCounter http_requests;       // http_requests_total{route,code}
    Counter store_errors;            // store_write_errors_total
    Counter dead_lettered;           // callback_dead_lettered_total
    Counter retries_scheduled;       // callback_retries_scheduled_total
    Counter callback_deferred;       // callback_deferred_total (receiver at its limit)
    CounterVec connections_refused;  // http_connections_refused_total{reason}
    // http_accept_errors_total{error}: accept() failures (the loop pauses after each, see
    // api/http_server.cpp); error is emfile, enfile, enomem or other
    CounterVec accept_errors;
    Counter tls_handshake_failures;  // tls_handshake_failures_total (HTTPS only)
    Counter rate_limited;            // rate_limited_total: requests answered 429
    // rate_limit_fallback_decisions_total: cluster mode, decided by the per-process fallback
    // because Redis was down or slow (the shared limit is not enforced then)
    Counter rate_limit_fallbacks;
    // rate_limit_overflow_decisions_total: decided on a shared overflow bucket because the
    // in-memory limiter was at its key cap
    Counter rate_limit_overflows;

    // Renders every series plus `gauges` (computed by the caller at scrape time).
    [[nodiscard]] std::string render(const std::vector<GaugeSample>& gauges) const;
};

}  // namespace cg::obs
