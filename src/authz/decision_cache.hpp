#pragma once
// Remembers the remote authorizer's definite answers (allowed / not_allowed) per
// (station_id, driver_token) for a TTL, so repeated sessions do not call it again and a known
// driver still gets an answer while it is down. `unknown` is never stored.
//
// Bounded: at most `max_entries` (split over shards; a full shard drops an arbitrary entry).
// invalidate_all() makes every stored answer a miss at once (ACL or station changes). An answer
// computed from a call that started before an invalidation is not stored: put() takes the
// generation read when the call started. Sharded mutexes, no global lock. Thread-safe.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/model.hpp"

namespace cg::authz {

struct DecisionCacheOptions {
    int64_t ttl_ms = 300000;      // AUTHORIZER_CACHE_TTL_MS; 0 turns the cache off
    size_t max_entries = 100000;  // AUTHORIZER_CACHE_MAX_ENTRIES
};

class DecisionCache {
  public:
    DecisionCache(DecisionCacheOptions options, const Clock& clock);

    [[nodiscard]] bool enabled() const { return options_.ttl_ms > 0 && options_.max_entries > 0; }
    [[nodiscard]] uint64_t generation() const {
        return generation_.load(std::memory_order_acquire);
    }
    std::optional<Decision> get(std::string_view station_id, std::string_view driver_token);
    // Stores `decision` unless it is unknown or the cache was invalidated after `generation`.
    void put(std::string_view station_id, std::string_view driver_token, const Decision& decision,
             uint64_t generation);
    void invalidate_all();
    [[nodiscard]] size_t size() const;

  private:
    static constexpr size_t kShards = 16;
    struct Entry {
        Decision decision;
        int64_t expires_at_ms = 0;
        uint64_t generation = 0;
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<std::string, Entry> map;
    };
    static std::string key(std::string_view station_id, std::string_view driver_token);
    Shard& shard_for(const std::string& key);

    DecisionCacheOptions options_;
    const Clock& clock_;
    size_t per_shard_;
    std::atomic<uint64_t> generation_{1};
    std::array<Shard, kShards> shards_;
};

}  // namespace cg::authz
