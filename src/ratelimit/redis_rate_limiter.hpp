#pragma once
// The cluster's shared rate limit: one token bucket per key in Redis, updated atomically by a
// Lua script on the Redis server's clock (so every instance sees one clock and one budget).
//
// Threads: take() only queues the call; one thread of this class sends the queued calls as a
// pipeline of EVALSHA commands on one connection and calls the callbacks with the answers, so
// no event-loop thread ever waits for Redis. Each round trip is bounded by `call_timeout`.
//
// Fail open: while Redis is unreachable, slow or answers an error, decisions come from a
// per-process MemoryRateLimiter with the same settings (a client can then get up to one budget
// per instance). The first failure of an outage logs one warning; Redis is tried again every
// `retry_interval` (with a PING even without traffic) and the first success logs its return.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "obs/metrics.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "redis/redis_conn.hpp"

namespace cg::ratelimit {

struct RedisOptions {
    std::string redis_url;   // redis://[:password@]host[:port][/db]
    std::string key_prefix;  // "<REDIS_STREAM_PREFIX>:rl:"; the bucket of key k is prefix + k
    Settings settings;
    std::chrono::milliseconds call_timeout{50};
    std::chrono::milliseconds retry_interval{1000};
    size_t max_batch = 256;  // calls per pipeline
};

class RedisRateLimiter final : public RateLimiter {
  public:
    // Starts the thread; does not connect yet (the first call or probe does).
    RedisRateLimiter(RedisOptions options, const Clock& clock, obs::Metrics& metrics);
    ~RedisRateLimiter() override;
    RedisRateLimiter(const RedisRateLimiter&) = delete;
    RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

    // Queues the call; `done` runs on this limiter's thread (or inline after stop()).
    void take(const std::string& key, Callback done) override;
    // Answers the queued calls from the fallback and joins the thread.
    void stop() override;

    // False from a failed call until the next successful one (gauge rate_limit_redis_up).
    [[nodiscard]] bool redis_up() const { return up_.load(); }
    // The Lua script (exposed for tests and docs).
    static const std::string& script();

  private:
    struct Call {
        std::string key;
        Callback done;
    };
    void run();
    void on_redis(std::vector<Call>& batch);
    void from_fallback(std::vector<Call>& batch, size_t from = 0);
    void answer_fallback(Call& call);
    void probe();
    void mark_down(const std::string& why);
    void mark_up();

    RedisOptions options_;
    obs::Metrics& metrics_;
    MemoryRateLimiter fallback_;
    cg::redis::RedisConnection conn_;  // used by thread_ only
    std::string sha_;
    std::string rate_arg_, burst_arg_;
    std::atomic<bool> up_{true};
    std::chrono::steady_clock::time_point next_attempt_{};  // thread_ only

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Call> queued_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace cg::ratelimit
