#pragma once
// The adaptive in-flight limit of one callback receiver.
//
// Why AIMD with a latency guard rather than a gradient controller: a gradient (Envoy's filter,
// Netflix's Gradient2) needs a minimum-RTT probe in which concurrency drops to a floor, which
// a proxy with many hosts can absorb but our most common deployment, one receiver (the
// operator's backend), cannot: its throughput would fall every probe interval. Gradient2 also
// ignores drops, so timeouts and 429s would not lower it. Loss-based AIMD is the rule the
// concurrency-limits README gives for clients, and Vector's adaptive request concurrency shows
// it works for HTTP sinks when latency growth counts as a loss signal. So:
//
//  * Samples: the time from sending an attempt to its answer, for 2xx answers only (an error's
//    timing says nothing about the receiver's service time). A window closes after `limit`
//    samples, about one round trip, or at least `min_window` samples.
//  * Growth: only when the window was saturated (at least half of its answers came back with
//    every slot in use and deliveries waiting): during slow start the limit doubles per window,
//    afterwards it grows by one per window.
//  * Latency cut: a window whose mean is above max(baseline × tolerance (1.3), baseline +
//    tolerance_floor (2 ms)) multiplies the limit by `latency_ratio` (0.9). With a receiver
//    that queues past K requests in flight this settles the limit a little above K, where its
//    latency is at most ~1.3× its unloaded latency. The baseline is the lowest
//    window mean seen; it may rise only while the limit is at its floor (the receiver really got
//    slower), which avoids the creep under load that Envoy's minRTT showed.
//  * Overload cut: a timeout, a failed connection, 429, 502, 503 or 504 halves the limit, at
//    most once per window; the window is then stretched so that everything sent under the old
//    limit reports within it (a burst of failures from one overload is one signal).
// Any cut ends slow start. The limit stays within [min, max] (CALLBACK_MIN_PER_HOST,
// CALLBACK_MAX_PER_HOST).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cg::delivery {

struct LimitOptions {
    size_t min = 4;    // CALLBACK_MIN_PER_HOST; also the starting limit
    size_t max = 256;  // CALLBACK_MAX_PER_HOST
    double tolerance = 1.3;
    std::chrono::microseconds tolerance_floor{2000};
    double latency_ratio = 0.9;
    double overload_ratio = 0.5;
    size_t min_window = 4;
};

class AdaptiveLimit {
  public:
    explicit AdaptiveLimit(LimitOptions options = {});

    [[nodiscard]] size_t limit() const { return static_cast<size_t>(limit_); }
    [[nodiscard]] bool slow_start() const { return slow_start_; }
    // The lowest window mean seen (0 before the first window closes).
    [[nodiscard]] std::chrono::microseconds baseline() const {
        return std::chrono::microseconds(static_cast<int64_t>(baseline_us_));
    }

    // The mean of the last closed window (0 before the first).
    [[nodiscard]] std::chrono::microseconds last_window_mean() const {
        return std::chrono::microseconds(static_cast<int64_t>(last_mean_us_));
    }

    // A 2xx answer that took `rtt`; `saturated`: deliveries to this receiver were waiting for
    // a slot when it was sent or answered.
    void on_success(std::chrono::microseconds rtt, bool saturated);
    // A sign of overload (see above); it also counts toward the window.
    void on_overload();

  private:
    void end_of_event();
    void close_window();
    void set(double limit);

    LimitOptions o_;
    double limit_;
    bool slow_start_ = true;
    double baseline_us_ = 0;
    double last_mean_us_ = 0;
    size_t window_n_ = 0;        // successes and overloads in this window
    size_t window_samples_ = 0;  // successes
    size_t window_target_ = 0;   // events that close it (0: set at its first event)
    double window_sum_us_ = 0;
    size_t window_saturated_ = 0;  // successes answered while saturated
    bool cut_in_window_ = false;
};

}  // namespace cg::delivery
