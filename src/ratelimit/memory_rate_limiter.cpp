#include "ratelimit/memory_rate_limiter.hpp"

#include <algorithm>
#include <functional>

#include "obs/log.hpp"

namespace cg::ratelimit {

namespace {
// A shard at its cap sweeps at most this often, so a flood of new keys does not turn every
// request into a scan of the shard.
constexpr int64_t kFullShardSweepGapMs = 100;
constexpr int64_t kOverflowLogGapMs = 60'000;
}  // namespace

MemoryRateLimiter::MemoryRateLimiter(MemoryOptions options, const Clock& clock)
    : options_(options),
      clock_(clock),
      per_shard_cap_(std::max<size_t>(1, options.max_keys / std::max<size_t>(1, options.shards))),
      shards_(std::make_unique<Shard[]>(std::max<size_t>(1, options.shards))) {
    options_.shards = std::max<size_t>(1, options_.shards);
    const int64_t now = clock_.now_ms();
    for (size_t i = 0; i < options_.shards; ++i) {
        shards_[i].overflow = full_bucket(options_.settings, now);
        shards_[i].last_sweep_ms = now;
    }
}

MemoryRateLimiter::Shard& MemoryRateLimiter::shard_for(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % options_.shards];
}

void MemoryRateLimiter::sweep(Shard& shard, int64_t now_ms) const {
    std::erase_if(shard.buckets,
                  [&](const auto& kv) { return is_full(kv.second, options_.settings, now_ms); });
    shard.last_sweep_ms = now_ms;
}

Decision MemoryRateLimiter::take_now(const std::string& key) {
    Shard& shard = shard_for(key);
    const int64_t now = clock_.now_ms();
    std::lock_guard lock(shard.mu);
    const int64_t since_sweep = now - shard.last_sweep_ms;
    if (since_sweep >= options_.sweep_interval_ms || since_sweep < 0) sweep(shard, now);
    auto it = shard.buckets.find(key);
    if (it == shard.buckets.end()) {
        if (shard.buckets.size() >= per_shard_cap_ &&
            now - shard.last_sweep_ms >= kFullShardSweepGapMs) {
            sweep(shard, now);
        }
        if (shard.buckets.size() >= per_shard_cap_) {
            note_overflow(now);
            return take_token(shard.overflow, options_.settings, now);
        }
        it = shard.buckets.emplace(key, full_bucket(options_.settings, now)).first;
    }
    return take_token(it->second, options_.settings, now);
}

void MemoryRateLimiter::note_overflow(int64_t now_ms) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
    if (options_.overflow_counter != nullptr) options_.overflow_counter->inc();
    int64_t logged = overflow_logged_ms_.load(std::memory_order_relaxed);
    // INT64_MIN: never logged (subtracting it would overflow).
    if ((logged == INT64_MIN || now_ms - logged >= kOverflowLogGapMs) &&
        overflow_logged_ms_.compare_exchange_strong(logged, now_ms)) {
        obs::log_warn(
            "rate limiter: key cap reached; new keys share one overflow bucket per shard (a "
            "flood of distinct clients?)")
            .kv("max_keys", static_cast<int64_t>(options_.max_keys));
    }
}

size_t MemoryRateLimiter::size() const {
    size_t n = 0;
    for (size_t i = 0; i < options_.shards; ++i) {
        std::lock_guard lock(shards_[i].mu);
        n += shards_[i].buckets.size();
    }
    return n;
}

}  // namespace cg::ratelimit
