#pragma once
// The token-bucket arithmetic, shared by the in-memory limiter and (as a Lua transcription in
// redis_rate_limiter.cpp) the Redis one. Pure functions, so the maths is unit-tested with
// a hand-moved clock.
#include <cstdint>

#include "ratelimit/rate_limiter.hpp"

namespace cg::ratelimit {

struct Bucket {
    double tokens = 0;       // may be fractional
    int64_t updated_ms = 0;  // when `tokens` was last brought up to date
};

// A fresh (full) bucket at `now_ms`.
Bucket full_bucket(const Settings& s, int64_t now_ms);

// Refills `b` up to `now_ms` (a clock that went backwards adds nothing and restarts the
// count from `now_ms`), then takes one token if there is one. Returns the decision.
Decision take_token(Bucket& b, const Settings& s, int64_t now_ms);

// True when the bucket would be full at `now_ms`: forgetting it changes no later decision.
bool is_full(const Bucket& b, const Settings& s, int64_t now_ms);

// The decision for a bucket holding `tokens` after the take (allowed or not).
Decision decision_for(bool allowed, double tokens, const Settings& s);

}  // namespace cg::ratelimit
