#include "authz/decision_cache.hpp"

#include <algorithm>

namespace cg::authz {

DecisionCache::DecisionCache(DecisionCacheOptions options, const Clock& clock)
    : options_(options),
      clock_(clock),
      per_shard_(std::max<size_t>(1, (options.max_entries + kShards - 1) / kShards)) {}

std::string DecisionCache::key(std::string_view station_id, std::string_view driver_token) {
    std::string k;
    k.reserve(station_id.size() + 1 + driver_token.size());
    k.append(station_id).push_back('\n');  // neither a station id nor a token holds a newline
    k.append(driver_token);
    return k;
}

DecisionCache::Shard& DecisionCache::shard_for(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % kShards];
}

std::optional<Decision> DecisionCache::get(std::string_view station_id,
                                           std::string_view driver_token) {
    if (!enabled()) return std::nullopt;
    const std::string k = key(station_id, driver_token);
    const int64_t now = clock_.now_ms();
    const uint64_t gen = generation();
    Shard& shard = shard_for(k);
    std::lock_guard lock(shard.mu);
    const auto it = shard.map.find(k);
    if (it == shard.map.end()) return std::nullopt;
    if (it->second.generation != gen || it->second.expires_at_ms <= now) {
        shard.map.erase(it);
        return std::nullopt;
    }
    return it->second.decision;
}

void DecisionCache::put(std::string_view station_id, std::string_view driver_token,
                        const Decision& decision, uint64_t generation) {
    if (!enabled() || decision.status == DecisionStatus::kUnknown) return;
    std::string k = key(station_id, driver_token);
    Shard& shard = shard_for(k);
    std::lock_guard lock(shard.mu);
    // Checked under the shard lock: invalidate_all() bumps the generation before it clears, so
    // an answer from before an invalidation either fails here or is cleared right after.
    if (generation != this->generation()) return;
    if (shard.map.size() >= per_shard_ && shard.map.find(k) == shard.map.end()) {
        shard.map.erase(shard.map.begin());
    }
    shard.map.insert_or_assign(std::move(k),
                               Entry{decision, clock_.now_ms() + options_.ttl_ms, generation});
}

void DecisionCache::invalidate_all() {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    for (auto& shard : shards_) {
        std::lock_guard lock(shard.mu);
        shard.map.clear();
    }
}

size_t DecisionCache::size() const {
    size_t n = 0;
    for (const auto& shard : shards_) {
        std::lock_guard lock(shard.mu);
        n += shard.map.size();
    }
    return n;
}

}  // namespace cg::authz
