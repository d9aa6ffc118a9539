#include "delivery/backoff.hpp"

#include <gtest/gtest.h>

namespace cg::delivery {
namespace {

TEST(Backoff, NominalDelayDoublesUpToTheCeiling) {
    const BackoffPolicy p{1000, 3600000};
    EXPECT_EQ(p.nominal_ms(1), 1000);
    EXPECT_EQ(p.nominal_ms(2), 2000);
    EXPECT_EQ(p.nominal_ms(3), 4000);
    EXPECT_EQ(p.nominal_ms(12), 2048000);
    EXPECT_EQ(p.nominal_ms(13), 3600000);
    EXPECT_EQ(p.nominal_ms(1000), 3600000);  // no overflow
    for (int n = 1; n < 12; ++n) EXPECT_EQ(p.nominal_ms(n + 1), 2 * p.nominal_ms(n)) << n;
}

TEST(Backoff, JitterStaysInTheUpperHalfAndIsReproducibleWithASeed) {
    const BackoffPolicy p{1000, 60000};
    SeededRandom a(42), b(42);
    for (int n = 1; n <= 20; ++n) {
        const int64_t nominal = p.nominal_ms(n);
        for (int i = 0; i < 200; ++i) {
            const int64_t d = p.delay_ms(n, a);
            EXPECT_GE(d, nominal / 2);
            EXPECT_LT(d, nominal);
            EXPECT_EQ(d, p.delay_ms(n, b));
        }
    }
}

TEST(Backoff, JitterSpreadsTheDelays) {
    const BackoffPolicy p{1000, 60000};
    SeededRandom rng(7);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto d = p.delay_ms(4, rng);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    EXPECT_LT(lo, 4500);
    EXPECT_GT(hi, 7500);
}

TEST(Backoff, RetryAfterIsAFloorCappedAtTheCeiling) {
    const BackoffPolicy p{100, 10000};
    SeededRandom rng(1);
    EXPECT_EQ(p.delay_ms(1, rng, 5000), 5000);
    EXPECT_EQ(p.delay_ms(1, rng, 999999), 10000);
    const auto d = p.delay_ms(1, rng, 1);  // smaller than the back-off: back-off wins
    EXPECT_GE(d, 50);
    EXPECT_LT(d, 100);
}

}  // namespace
}  // namespace cg::delivery
