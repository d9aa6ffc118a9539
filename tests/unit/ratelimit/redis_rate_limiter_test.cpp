// RedisRateLimiter against a real redis-server (tests/support/redis_server.hpp).
#include "ratelimit/redis_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "redis/redis_conn.hpp"
#include "support/redis_server.hpp"

namespace cg::ratelimit {
namespace {

using namespace std::chrono_literals;

// One take, waited for. The bound only turns a hang into a failure.
Decision take(RateLimiter& limiter, const std::string& key) {
    auto promise = std::make_shared<std::promise<Decision>>();
    auto future = promise->get_future();
    limiter.take(key, [promise](const Decision& d) { promise->set_value(d); });
    if (future.wait_for(10s) != std::future_status::ready) {
        ADD_FAILURE() << "no answer from the rate limiter";
        return {};
    }
    return future.get();
}

class RedisRateLimiterTest : public ::testing::Test {
  protected:
    test::RedisServer redis{[] {
        test::RedisServer::Options o;
        o.appendonly = false;  // a restart comes back empty
        return o;
    }()};
    SystemClock clock;
    obs::Metrics metrics;

    void SetUp() override {
        // Needs the redis-server package, like the cluster tests (scripts/install-deps.sh).
        if (!std::filesystem::exists(test::RedisServer::Options{}.binary)) {
            GTEST_SKIP() << "redis-server is not installed";
        }
        redis.start();
    }

    std::unique_ptr<RedisRateLimiter> limiter(Settings s) {
        // A generous bound: these tests are about sharing and failing over, not about speed.
        return std::make_unique<RedisRateLimiter>(
            RedisOptions{redis.url(), "cgtest:rl:", s, 2000ms, 200ms, 256}, clock, metrics);
    }

    bool wait_up(const RedisRateLimiter& l) {
        const auto end = std::chrono::steady_clock::now() + 20s;
        while (!l.redis_up() && std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(20ms);
        }
        return l.redis_up();
    }
};

TEST_F(RedisRateLimiterTest, TwoLimitersShareOneBucket) {
    auto a = limiter({0.01, 4});
    auto b = limiter({0.01, 4});
    int allowed = 0;
    std::vector<int64_t> remaining;
    for (int i = 0; i < 8; ++i) {
        const auto d = take(i % 2 == 0 ? *a : *b, "ip:192.0.2.1");
        if (d.allowed) {
            ++allowed;
            remaining.push_back(d.remaining);
        } else {
            EXPECT_GE(d.retry_after, 1);
        }
        EXPECT_EQ(d.limit, 4);
    }
    EXPECT_EQ(allowed, 4);
    EXPECT_EQ(remaining, (std::vector<int64_t>{3, 2, 1, 0}));
    EXPECT_TRUE(take(*a, "ip:192.0.2.2").allowed);  // another key, another bucket
    EXPECT_EQ(metrics.rate_limit_fallbacks.value(), 0u);
}

TEST_F(RedisRateLimiterTest, BucketsLiveUnderThePrefixAndExpire) {
    auto l = limiter({1, 3});
    ASSERT_TRUE(take(*l, "client:abc").allowed);
    cg::redis::RedisConnection conn(cg::redis::parse_redis_url(redis.url()), 2000ms);
    const auto ttl = conn.command({"PTTL", "cgtest:rl:client:abc"});
    ASSERT_EQ(ttl.get()->type, REDIS_REPLY_INTEGER);
    EXPECT_GT(ttl.get()->integer, 0);         // idle keys vanish
    EXPECT_LE(ttl.get()->integer, 2000 + 1);  // one token to refill plus a second
}

TEST_F(RedisRateLimiterTest, AFlushedScriptCacheIsReloaded) {
    auto l = limiter({0.01, 2});
    ASSERT_TRUE(take(*l, "ip:a").allowed);
    cg::redis::RedisConnection conn(cg::redis::parse_redis_url(redis.url()), 2000ms);
    (void)conn.command({"SCRIPT", "FLUSH"});
    EXPECT_TRUE(take(*l, "ip:a").allowed);
    EXPECT_FALSE(take(*l, "ip:a").allowed);
    EXPECT_TRUE(l->redis_up());
    EXPECT_EQ(metrics.rate_limit_fallbacks.value(), 0u);
}

TEST_F(RedisRateLimiterTest, FailsOpenToPerProcessBucketsAndReturnsToRedis) {
    auto a = limiter({0.01, 2});
    auto b = limiter({0.01, 2});
    ASSERT_TRUE(take(*a, "ip:x").allowed);

    redis.kill9();
    // Every call is still answered; each limiter now has its own bucket of 2 for the key.
    int allowed_a = 0;
    int allowed_b = 0;
    for (int i = 0; i < 4; ++i) {
        if (take(*a, "ip:x").allowed) ++allowed_a;
        if (take(*b, "ip:x").allowed) ++allowed_b;
    }
    EXPECT_EQ(allowed_a, 2);
    EXPECT_EQ(allowed_b, 2);
    EXPECT_FALSE(a->redis_up());
    EXPECT_GE(metrics.rate_limit_fallbacks.value(), 8u);

    redis.restart();
    ASSERT_TRUE(wait_up(*a));  // the limiters probe Redis without traffic
    ASSERT_TRUE(wait_up(*b));
    const auto fallbacks = metrics.rate_limit_fallbacks.value();
    int allowed = 0;
    for (int i = 0; i < 6; ++i) {
        if (take(i % 2 == 0 ? *a : *b, "ip:x").allowed) ++allowed;
    }
    EXPECT_EQ(allowed, 2);  // one shared bucket again (Redis came back empty: a full one)
    EXPECT_EQ(metrics.rate_limit_fallbacks.value(), fallbacks);
}

TEST_F(RedisRateLimiterTest, StopAnswersLaterCallsInline) {
    auto l = limiter({1, 1});
    l->stop();
    bool called = false;
    l->take("ip:late", [&](const Decision& d) {
        called = true;
        EXPECT_TRUE(d.allowed);
    });
    EXPECT_TRUE(called);
}

}  // namespace
}  // namespace cg::ratelimit
