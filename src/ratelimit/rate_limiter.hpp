#pragma once
// Per-client rate limiting of the public API (docs/architecture.md "Rate limiting"): one token
// bucket per key ("ip:<address>", later "client:<id>"), RATE_LIMIT_PER_SECOND tokens per second
// up to RATE_LIMIT_BURST. Implementations: MemoryRateLimiter (one process, embedded mode) and
// RedisRateLimiter (shared by every instance of a cluster, per-process fallback).
#include <cstdint>
#include <functional>
#include <string>

namespace cg::ratelimit {

struct Settings {
    double rate_per_second = 1;  // tokens added per second, > 0
    int64_t burst = 1;           // bucket size, >= 1
};

// What one take() decided, in the terms of the rate-limit response fields of the IETF httpapi
// draft (draft-ietf-httpapi-ratelimit-headers-09; rate_limit_headers.hpp writes them). Every
// number is a whole number >= 0.
struct Decision {
    bool allowed = true;
    int64_t limit = 0;      // the policy's quota `q`: the bucket size
    int64_t window = 0;     // the policy's window `w`: seconds an empty bucket takes to fill again
    int64_t remaining = 0;  // `r`: whole tokens left after this request
    // `t`: seconds until the quota resets. While allowed, until the bucket is full again; when
    // refused, until the next token is back, which is also Retry-After: a client told to wait
    // that long is served then.
    int64_t reset = 0;
    // Retry-After when refused: seconds until one token is back, at least 1. 0 when allowed.
    int64_t retry_after = 0;
};

class RateLimiter {
  public:
    using Callback = std::function<void(const Decision&)>;
    virtual ~RateLimiter() = default;

    // Takes one token from `key`'s bucket and calls `done` exactly once with the decision.
    // Never blocks the calling thread on I/O. `done` may run inline (before take returns) or
    // on the limiter's own thread, so it must be cheap: hand real work to another executor.
    // Thread-safe.
    virtual void take(const std::string& key, Callback done) = 0;

    // Answers every call still waiting and makes later calls answer inline. Idempotent.
    virtual void stop() {}
};

}  // namespace cg::ratelimit
