// The adaptive per-receiver limit (src/delivery/concurrency_limit.hpp).
#include "delivery/concurrency_limit.hpp"

#include <gtest/gtest.h>

namespace cg::delivery {
namespace {

using std::chrono::microseconds;

// Feeds `windows` full windows of successes at `rtt`.
void windows(AdaptiveLimit& l, int windows, microseconds rtt, bool saturated = true) {
    for (int w = 0; w < windows; ++w) {
        const size_t n = std::max<size_t>(4, l.limit());
        for (size_t i = 0; i < n; ++i) l.on_success(rtt, saturated);
    }
}

TEST(AdaptiveLimit, StartsAtTheMinimum) {
    AdaptiveLimit l({.min = 3, .max = 100});
    EXPECT_EQ(l.limit(), 3U);
    EXPECT_TRUE(l.slow_start());
}

TEST(AdaptiveLimit, SlowStartDoublesPerSaturatedWindowWhileLatencyIsFlat) {
    AdaptiveLimit l({.min = 4, .max = 256});
    windows(l, 1, microseconds(10'000));
    EXPECT_EQ(l.limit(), 8U);
    windows(l, 1, microseconds(10'000));
    EXPECT_EQ(l.limit(), 16U);
    windows(l, 10, microseconds(10'000));
    EXPECT_EQ(l.limit(), 256U);  // never past the maximum
}

TEST(AdaptiveLimit, DoesNotGrowWithoutDemand) {
    AdaptiveLimit l({.min = 4, .max = 256});
    windows(l, 20, microseconds(10'000), /*saturated=*/false);
    EXPECT_EQ(l.limit(), 4U);
}

TEST(AdaptiveLimit, ALimitReachedOnlyNowAndThenDoesNotGrow) {
    AdaptiveLimit l({.min = 8, .max = 256});
    for (int w = 0; w < 10; ++w) {
        l.on_success(microseconds(10'000), true);  // one answer of eight with every slot in use
        for (int i = 0; i < 7; ++i) l.on_success(microseconds(10'000), false);
    }
    EXPECT_EQ(l.limit(), 8U);
}

TEST(AdaptiveLimit, LatencyGrowthCutsByTenPercentAndEndsSlowStart) {
    AdaptiveLimit l({.min = 4, .max = 256});
    windows(l, 4, microseconds(10'000));  // 64
    ASSERT_EQ(l.limit(), 64U);
    windows(l, 1, microseconds(16'000));  // above 1.3 × 10 ms
    EXPECT_EQ(l.limit(), 57U);
    EXPECT_FALSE(l.slow_start());
    EXPECT_EQ(l.baseline(), microseconds(10'000));
}

TEST(AdaptiveLimit, AfterSlowStartGrowthIsOnePerWindow) {
    AdaptiveLimit l({.min = 4, .max = 256});
    windows(l, 4, microseconds(10'000));
    windows(l, 1, microseconds(20'000));
    const size_t after_cut = l.limit();
    windows(l, 3, microseconds(10'000));
    EXPECT_EQ(l.limit(), after_cut + 3);
}

TEST(AdaptiveLimit, SmallLatenciesTolerateAnAbsoluteFloor) {
    // 100 µs baseline: 1.3× would be 130 µs, noise on a busy machine; the floor is 2 ms.
    AdaptiveLimit l({.min = 4, .max = 64});
    windows(l, 1, microseconds(100));
    windows(l, 1, microseconds(1'500));
    EXPECT_EQ(l.limit(), 16U);  // grew twice: 1.5 ms is within 100 µs + 2 ms
    windows(l, 1, microseconds(2'500));
    EXPECT_EQ(l.limit(), 14U);  // cut: above the floor
}

TEST(AdaptiveLimit, OverloadHalvesOncePerWindowOfWhatWasInFlight) {
    AdaptiveLimit l({.min = 2, .max = 256});
    windows(l, 4, microseconds(10'000));  // 32
    ASSERT_EQ(l.limit(), 32U);
    l.on_overload();
    EXPECT_EQ(l.limit(), 16U);
    // The other 31 sent under the old limit fail too: the same overload, one signal.
    for (int i = 0; i < 31; ++i) l.on_overload();
    EXPECT_EQ(l.limit(), 16U);
    l.on_overload();  // a new window: still failing
    EXPECT_EQ(l.limit(), 8U);
    EXPECT_FALSE(l.slow_start());
}

TEST(AdaptiveLimit, NeverBelowTheMinimum) {
    AdaptiveLimit l({.min = 3, .max = 10});
    for (int i = 0; i < 100; ++i) l.on_overload();
    EXPECT_EQ(l.limit(), 3U);
    windows(l, 1, microseconds(1'000));  // baseline 1 ms
    windows(l, 20, microseconds(50'000));
    EXPECT_EQ(l.limit(), 3U);
}

TEST(AdaptiveLimit, AReceiverThatGotSlowerIsFollowedAtTheFloor) {
    AdaptiveLimit l({.min = 4, .max = 64});
    windows(l, 2, microseconds(1'000));  // baseline 1 ms
    // Now the receiver takes 20 ms per answer whatever the load: cut to the floor, then the
    // baseline rises until growth is possible again.
    windows(l, 200, microseconds(20'000));
    EXPECT_GT(l.limit(), 4U);
    EXPECT_GE(l.baseline(), microseconds(13'000));
}

TEST(AdaptiveLimit, TheMinimumIsRaisedToOneAndTheMaximumToTheMinimum) {
    AdaptiveLimit l({.min = 0, .max = 0});
    EXPECT_EQ(l.limit(), 1U);
    AdaptiveLimit m({.min = 8, .max = 2});
    EXPECT_EQ(m.limit(), 8U);
}

}  // namespace
}  // namespace cg::delivery
