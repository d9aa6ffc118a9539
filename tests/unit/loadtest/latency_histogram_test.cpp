#include "loadtest/latency_histogram.hpp"

#include <gtest/gtest.h>

namespace cg::loadtest {
namespace {

TEST(LatencyHistogram, ExactBelowOneMillisecond) {
    LatencyHistogram h;
    for (int v = 1; v <= 100; ++v) h.record(v);
    EXPECT_EQ(h.count(), 100);
    EXPECT_EQ(h.quantile(0.5), 50);
    EXPECT_EQ(h.quantile(0.99), 99);
    EXPECT_EQ(h.quantile(1.0), 100);
    EXPECT_EQ(h.max(), 100);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogram, RelativeErrorStaysSmallAtEveryMagnitude) {
    for (int64_t v : {1500LL, 12345LL, 987654LL, 30'000'000LL, 4'000'000'000LL}) {
        LatencyHistogram h;
        h.record(v);
        h.record(v * 2);
        const auto q = h.quantile(0.5);
        EXPECT_GE(q, v);
        EXPECT_LE(static_cast<double>(q - v) / static_cast<double>(v), 0.004) << v;
    }
}

TEST(LatencyHistogram, MergeAddsCounts) {
    LatencyHistogram a, b;
    for (int i = 0; i < 90; ++i) a.record(100);
    for (int i = 0; i < 10; ++i) b.record(5000);
    a.merge(b);
    EXPECT_EQ(a.count(), 100);
    EXPECT_EQ(a.quantile(0.9), 100);
    EXPECT_GE(a.quantile(0.95), 5000);
    EXPECT_EQ(a.max(), 5000);
    LatencyHistogram empty;
    EXPECT_EQ(empty.quantile(0.99), 0);
}

}  // namespace
}  // namespace cg::loadtest
