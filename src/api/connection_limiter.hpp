#pragma once
// Caps open connections in total and per client address, so that one client holding many
// (idle or slow) connections cannot take them all. Counted at connect and disconnect only, never
// per request: the per-address counts are sharded maps with one mutex per shard. Thread-safe.
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace cg::api {

struct ConnectionLimits {
    int64_t max_total = 10000;      // MAX_CONNECTIONS
    int64_t max_per_client = 1000;  // MAX_CONNECTIONS_PER_CLIENT; 0: no per-client cap
};

class ConnectionLimiter {
  public:
    enum class Verdict { kAdmitted, kTooManyTotal, kTooManyFromClient };

    explicit ConnectionLimiter(ConnectionLimits limits) : limits_(limits) {}
    // On kAdmitted the caller must call release() with the same address when it closes.
    Verdict try_admit(const boost::asio::ip::address& client);
    void release(const boost::asio::ip::address& client);
    [[nodiscard]] int64_t open() const { return total_.load(std::memory_order_relaxed); }

  private:
    static constexpr size_t kShards = 16;
    struct Shard {
        std::mutex mu;
        std::unordered_map<boost::asio::ip::address, int64_t> counts;
    };
    Shard& shard_for(const boost::asio::ip::address& client);

    ConnectionLimits limits_;
    std::atomic<int64_t> total_{0};
    std::array<Shard, kShards> shards_;
};

}  // namespace cg::api
