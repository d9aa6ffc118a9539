#include "ratelimit/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace cg::ratelimit {

namespace {
// Refill arithmetic in doubles leaves crumbs like 2.9999999999: a bucket that short of a
// token is treated as having it, so that counts seen by a client are the obvious ones.
constexpr double kEpsilon = 1e-9;

int64_t ceil_seconds(double seconds) {
    if (seconds <= kEpsilon) return 0;
    return static_cast<int64_t>(std::ceil(seconds - kEpsilon));
}

void refill(Bucket& b, const Settings& s, int64_t now_ms) {
    if (now_ms > b.updated_ms) {
        const double added = static_cast<double>(now_ms - b.updated_ms) * s.rate_per_second / 1000;
        b.tokens = std::min(static_cast<double>(s.burst), b.tokens + added);
    }
    b.updated_ms = now_ms;  // also after a step back of the clock: count from now on
}
}  // namespace

Bucket full_bucket(const Settings& s, int64_t now_ms) {
    return {static_cast<double>(s.burst), now_ms};
}

Decision take_token(Bucket& b, const Settings& s, int64_t now_ms) {
    refill(b, s, now_ms);
    const bool allowed = b.tokens + kEpsilon >= 1;
    if (allowed) b.tokens = std::max(0.0, b.tokens - 1);
    return decision_for(allowed, b.tokens, s);
}

bool is_full(const Bucket& b, const Settings& s, int64_t now_ms) {
    Bucket copy = b;
    refill(copy, s, now_ms);
    return copy.tokens + kEpsilon >= static_cast<double>(s.burst);
}

Decision decision_for(bool allowed, double tokens, const Settings& s) {
    tokens = std::clamp(tokens, 0.0, static_cast<double>(s.burst));
    Decision d;
    d.allowed = allowed;
    d.limit = s.burst;
    d.remaining = static_cast<int64_t>(std::floor(tokens + kEpsilon));
    d.window = std::max<int64_t>(1, ceil_seconds(static_cast<double>(s.burst) / s.rate_per_second));
    d.reset = ceil_seconds((static_cast<double>(s.burst) - tokens) / s.rate_per_second);
    if (!allowed) {
        d.retry_after = std::max<int64_t>(1, ceil_seconds((1 - tokens) / s.rate_per_second));
        d.reset = d.retry_after;
    }
    return d;
}

}  // namespace cg::ratelimit
