#pragma once
// Retry schedule: exponential back-off with "full jitter" on the upper half.
//   nominal(n) = min(base * 2^(n-1), max)   for attempt n = 1, 2, ...
//   delay(n)   = nominal(n) / 2 + uniform[0, nominal(n) / 2)
// so each delay lies in [nominal/2, nominal) and the nominal value doubles every attempt up to
// the ceiling. A Retry-After from the receiver raises the delay to at least that value (capped
// at the ceiling).
#include <cstdint>
#include <optional>

#include "common/random.hpp"

namespace cg::delivery {

struct BackoffPolicy {
    int64_t base_ms = 1000;
    int64_t max_ms = 3600000;

    // Nominal (un-jittered) delay after failed attempt `attempt` (1-based).
    [[nodiscard]] int64_t nominal_ms(int attempt) const;
    // Jittered delay; `retry_after_ms` (if any) is a floor.
    [[nodiscard]] int64_t delay_ms(int attempt, Random& rng,
                                   std::optional<int64_t> retry_after_ms = std::nullopt) const;
};

}  // namespace cg::delivery
