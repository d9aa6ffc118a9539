#include "delivery/concurrency_limit.hpp"

#include <algorithm>

namespace cg::delivery {

AdaptiveLimit::AdaptiveLimit(LimitOptions options) : o_(options) {
    o_.min = std::max<size_t>(1, o_.min);
    o_.max = std::max(o_.min, o_.max);
    o_.min_window = std::max<size_t>(1, o_.min_window);
    limit_ = static_cast<double>(o_.min);
}

void AdaptiveLimit::set(double limit) {
    limit_ = std::clamp(limit, static_cast<double>(o_.min), static_cast<double>(o_.max));
}

void AdaptiveLimit::on_success(std::chrono::microseconds rtt, bool saturated) {
    window_sum_us_ += static_cast<double>(std::max<int64_t>(1, rtt.count()));
    ++window_samples_;
    if (saturated) ++window_saturated_;
    end_of_event();
}

void AdaptiveLimit::end_of_event() {
    if (window_target_ == 0) window_target_ = std::max(o_.min_window, limit());
    if (++window_n_ >= window_target_) close_window();
}

void AdaptiveLimit::close_window() {
    const size_t samples = window_samples_;
    const double mean = samples > 0 ? window_sum_us_ / static_cast<double>(samples) : 0;
    // Saturated: at least half of the answers came back with the limit in use and deliveries
    // waiting (a limit touched once in a window but mostly unused is no reason to grow).
    const bool saturated = window_saturated_ * 2 >= samples && window_saturated_ > 0;
    const bool cut_already = cut_in_window_;
    window_n_ = 0;
    window_target_ = 0;
    window_samples_ = 0;
    window_sum_us_ = 0;
    window_saturated_ = 0;
    cut_in_window_ = false;
    if (samples == 0 || cut_already) return;  // no latency to judge, or already signalled
    last_mean_us_ = mean;
    if (baseline_us_ <= 0 || mean < baseline_us_) {
        baseline_us_ = mean;
    } else if (limit() <= o_.min) {
        // At the floor and still slower than the baseline: the receiver's own latency rose;
        // follow it slowly so the limit can grow again.
        baseline_us_ = std::min(mean, baseline_us_ * 1.05);
    }
    const double threshold =
        std::max(baseline_us_ * o_.tolerance,
                 baseline_us_ + static_cast<double>(o_.tolerance_floor.count()));
    if (mean > threshold) {
        slow_start_ = false;
        set(limit_ * o_.latency_ratio);
        return;
    }
    if (!saturated) return;
    set(slow_start_ ? limit_ * 2 : limit_ + 1);
}

void AdaptiveLimit::on_overload() {
    if (!cut_in_window_) {
        cut_in_window_ = true;
        slow_start_ = false;
        // What was sent under the old limit reports within this window: one signal.
        window_target_ = window_n_ + std::max(o_.min_window, limit());
        set(limit_ * o_.overload_ratio);
    }
    end_of_event();
}

}  // namespace cg::delivery
