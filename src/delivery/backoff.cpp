#include "delivery/backoff.hpp"

#include <algorithm>

namespace cg::delivery {

int64_t BackoffPolicy::nominal_ms(int attempt) const {
    const int64_t base = std::max<int64_t>(1, base_ms);
    const int64_t ceiling = std::max(base, max_ms);
    int64_t d = base;
    // Doubling stops at the ceiling, so large attempt numbers cannot overflow.
    for (int i = 1; i < attempt && d < ceiling; ++i) d = std::min(ceiling, d * 2);
    return std::min(d, ceiling);
}

int64_t BackoffPolicy::delay_ms(int attempt, Random& rng,
                                std::optional<int64_t> retry_after_ms) const {
    const int64_t nominal = nominal_ms(attempt);
    const int64_t half = nominal / 2;
    int64_t d = half + static_cast<int64_t>(rng.uniform() * static_cast<double>(nominal - half));
    d = std::clamp<int64_t>(d, half, std::max<int64_t>(half, nominal - 1));
    if (retry_after_ms && *retry_after_ms > d) d = std::min(*retry_after_ms, std::max(max_ms, d));
    return std::max<int64_t>(d, 1);
}

}  // namespace cg::delivery
