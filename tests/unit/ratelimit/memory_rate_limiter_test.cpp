#include "ratelimit/memory_rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cg::ratelimit {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;

MemoryOptions options(Settings s, size_t max_keys = 1000, size_t shards = 8) {
    return {s, max_keys, shards, 10'000, nullptr};
}

TEST(MemoryRateLimiter, EachKeyHasItsOwnBucket) {
    ManualClock clock(kT0);
    MemoryRateLimiter limiter(options({1, 2}), clock);
    EXPECT_TRUE(limiter.take_now("ip:10.0.0.1").allowed);
    EXPECT_TRUE(limiter.take_now("ip:10.0.0.1").allowed);
    EXPECT_FALSE(limiter.take_now("ip:10.0.0.1").allowed);
    EXPECT_TRUE(limiter.take_now("ip:10.0.0.2").allowed);
    EXPECT_TRUE(limiter.take_now("client:10.0.0.1").allowed);
    clock.advance(1000);
    EXPECT_TRUE(limiter.take_now("ip:10.0.0.1").allowed);
}

TEST(MemoryRateLimiter, TakeAnswersInline) {
    ManualClock clock(kT0);
    MemoryRateLimiter limiter(options({1, 1}), clock);
    int calls = 0;
    limiter.take("k", [&](const Decision& d) {
        ++calls;
        EXPECT_TRUE(d.allowed);
    });
    EXPECT_EQ(calls, 1);
}

TEST(MemoryRateLimiter, IdleFullBucketsAreEvictedAndPartlyUsedOnesKept) {
    ManualClock clock(kT0);
    MemoryRateLimiter limiter(options({1, 5}, 1000, 1), clock);
    for (int i = 0; i < 200; ++i) limiter.take_now("ip:idle-" + std::to_string(i));
    for (int i = 0; i < 5; ++i) limiter.take_now("ip:busy");
    EXPECT_EQ(limiter.size(), 201u);

    // Past the sweep interval the idle buckets (one token short, refilled after 1 s) are full
    // and dropped; "busy" keeps using its bucket, so it is never full and never forgotten.
    for (int step = 0; step < 12; ++step) {
        clock.advance(1000);
        limiter.take_now("ip:busy");
        for (int i = 0; i < 8; ++i) limiter.take_now("ip:other-" + std::to_string(i));
    }
    EXPECT_LE(limiter.size(), 1u + 8u);
    EXPECT_FALSE(limiter.take_now("ip:busy").allowed);  // still limited: its state survived
}

TEST(MemoryRateLimiter, AFloodOfDistinctKeysStaysWithinTheCapAndSharesOneBucket) {
    ManualClock clock(kT0);
    obs::Counter overflow_metric;
    MemoryRateLimiter limiter({{1, 3}, 8, 1, 10'000, &overflow_metric}, clock);
    int allowed = 0;
    for (int i = 0; i < 10'000; ++i) {
        if (limiter.take_now("ip:flood-" + std::to_string(i)).allowed) ++allowed;
    }
    EXPECT_EQ(limiter.size(), 8u);  // memory bounded by the cap
    EXPECT_EQ(allowed, 8 + 3);      // 8 tracked keys + one overflow burst
    EXPECT_EQ(limiter.overflowed(), 10'000u - 8u);
    EXPECT_EQ(overflow_metric.value(), 10'000u - 8u);

    // Once the tracked buckets are full again they are swept, and new keys get their own.
    clock.advance(10'000);
    EXPECT_TRUE(limiter.take_now("ip:newcomer").allowed);
    EXPECT_EQ(limiter.size(), 1u);
}

TEST(MemoryRateLimiter, ConcurrentTakesOnOneKeyNeverExceedTheBurst) {
    ManualClock clock(kT0);  // time stands still: no refill
    MemoryRateLimiter limiter(options({0.001, 50}), clock);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                if (limiter.take_now("ip:shared").allowed) allowed.fetch_add(1);
                limiter.take_now("ip:other-" + std::to_string(i));
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 50);
}

}  // namespace
}  // namespace cg::ratelimit
