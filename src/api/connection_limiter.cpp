#include "api/connection_limiter.hpp"

namespace cg::api {

ConnectionLimiter::Shard& ConnectionLimiter::shard_for(const boost::asio::ip::address& client) {
    return shards_[std::hash<boost::asio::ip::address>{}(client) % kShards];
}

ConnectionLimiter::Verdict ConnectionLimiter::try_admit(const boost::asio::ip::address& client) {
    if (total_.fetch_add(1, std::memory_order_acq_rel) >= limits_.max_total) {
        total_.fetch_sub(1, std::memory_order_acq_rel);
        return Verdict::kTooManyTotal;
    }
    if (limits_.max_per_client > 0) {
        Shard& shard = shard_for(client);
        std::lock_guard lock(shard.mu);
        int64_t& n = shard.counts[client];
        if (n >= limits_.max_per_client) {
            if (n == 0) shard.counts.erase(client);
            total_.fetch_sub(1, std::memory_order_acq_rel);
            return Verdict::kTooManyFromClient;
        }
        ++n;
    }
    return Verdict::kAdmitted;
}

void ConnectionLimiter::release(const boost::asio::ip::address& client) {
    if (limits_.max_per_client > 0) {
        Shard& shard = shard_for(client);
        std::lock_guard lock(shard.mu);
        const auto it = shard.counts.find(client);
        if (it != shard.counts.end() && --it->second <= 0) shard.counts.erase(it);
    }
    total_.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace cg::api
