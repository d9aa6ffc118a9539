#pragma once
// Token buckets in this process's memory: the limiter of embedded mode, and the fallback of
// RedisRateLimiter while Redis is unreachable.
//
// Sharded: a key's bucket lives in one of `shards` maps, each behind its own mutex held only
// for a lookup and a few arithmetic operations, so there is no global lock on the hot path.
//
// Memory is bounded. A full bucket carries no information (a missing key gets a full bucket),
// so full buckets are dropped by a sweep of their shard every `sweep_interval_ms`. At most
// `max_keys` buckets are kept (spread over the shards). When a shard is at its cap even after a
// sweep, a key without a bucket shares that shard's single *overflow* bucket with every other
// such key: a flood of distinct keys (e.g. many source addresses) is limited as one client
// instead of growing memory or passing unlimited. A genuine new client arriving during such a
// flood may be refused along with it until the flood's buckets refill and are swept.
#include <atomic>
#include <climits>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"
#include "obs/metrics.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "ratelimit/token_bucket.hpp"

namespace cg::ratelimit {

struct MemoryOptions {
    Settings settings;
    size_t max_keys = 100'000;  // ~100 bytes each plus the key: about 20 MB at the cap
    size_t shards = 64;
    int64_t sweep_interval_ms = 10'000;
    // Counts decisions taken on an overflow bucket (rate_limit_overflow_decisions_total); may
    // be null.
    obs::Counter* overflow_counter = nullptr;
};

class MemoryRateLimiter final : public RateLimiter {
  public:
    MemoryRateLimiter(MemoryOptions options, const Clock& clock);

    // Answers inline, on the calling thread.
    void take(const std::string& key, Callback done) override { done(take_now(key)); }
    Decision take_now(const std::string& key);

    // Buckets held now (all shards). Takes every shard's lock: for tests and gauges only.
    [[nodiscard]] size_t size() const;
    // Decisions taken on an overflow bucket because a shard was at its cap.
    [[nodiscard]] uint64_t overflowed() const { return overflowed_.load(); }

  private:
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, Bucket> buckets;
        Bucket overflow;
        int64_t last_sweep_ms = 0;
    };
    Shard& shard_for(const std::string& key);
    void sweep(Shard& shard, int64_t now_ms) const;
    void note_overflow(int64_t now_ms);

    MemoryOptions options_;
    const Clock& clock_;
    size_t per_shard_cap_;
    std::unique_ptr<Shard[]> shards_;
    std::atomic<uint64_t> overflowed_{0};
    std::atomic<int64_t> overflow_logged_ms_{INT64_MIN};  // at most one warning a minute
};

}  // namespace cg::ratelimit
