#include "ratelimit/token_bucket.hpp"

#include <gtest/gtest.h>

namespace cg::ratelimit {
namespace {

constexpr int64_t kBucketT0 = 1'767'225'600'000;

TEST(TokenBucket, BurstIsSpentThenTheNextRequestWaitsForOneToken) {
    const Settings s{1, 3};
    Bucket b = full_bucket(s, kBucketT0);
    const int64_t expected_remaining[] = {2, 1, 0};
    for (int i = 0; i < 3; ++i) {
        const auto d = take_token(b, s, kBucketT0);
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.limit, 3);
        EXPECT_EQ(d.window, 3);  // three seconds to fill an empty bucket of three
        EXPECT_EQ(d.remaining, expected_remaining[i]);
        EXPECT_EQ(d.reset, i + 1);  // one second per missing token
        EXPECT_EQ(d.retry_after, 0);
    }
    const auto refused = take_token(b, s, kBucketT0);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(refused.retry_after, 1);
    EXPECT_EQ(refused.reset, refused.retry_after);  // refused: reset is when to come back

    // 400 ms later: 0.4 token, still refused, and the wait is rounded up to a whole second.
    const auto early = take_token(b, s, kBucketT0 + 400);
    EXPECT_FALSE(early.allowed);
    EXPECT_EQ(early.retry_after, 1);  // 0.6 s rounded up
    EXPECT_EQ(early.reset, 1);

    const auto later = take_token(b, s, kBucketT0 + 1000);
    EXPECT_TRUE(later.allowed);
    EXPECT_EQ(later.remaining, 0);
}

TEST(TokenBucket, FractionalRatesAndLongWaits) {
    const Settings s{0.25, 1};  // one request every four seconds
    Bucket b = full_bucket(s, kBucketT0);
    const auto first = take_token(b, s, kBucketT0);
    EXPECT_TRUE(first.allowed);
    EXPECT_EQ(first.reset, 4);
    const auto second = take_token(b, s, kBucketT0 + 1000);
    EXPECT_FALSE(second.allowed);
    EXPECT_EQ(second.retry_after, 3);
    EXPECT_TRUE(take_token(b, s, kBucketT0 + 4000).allowed);
}

TEST(TokenBucket, RefillStopsAtTheBurst) {
    const Settings s{10, 5};
    Bucket b = full_bucket(s, kBucketT0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(take_token(b, s, kBucketT0).allowed);
    EXPECT_FALSE(take_token(b, s, kBucketT0).allowed);
    EXPECT_FALSE(is_full(b, s, kBucketT0 + 400));
    EXPECT_TRUE(is_full(b, s, kBucketT0 + 500));
    const auto d = take_token(b, s, kBucketT0 + 3'600'000);  // an hour idle: still only 5
    EXPECT_EQ(d.remaining, 4);
    EXPECT_EQ(d.reset, 1);  // 0.1 s rounded up
}

TEST(TokenBucket, AFastRateStillAsksForAtLeastOneSecond) {
    const Settings s{1000, 2};
    Bucket b = full_bucket(s, kBucketT0);
    EXPECT_TRUE(take_token(b, s, kBucketT0).allowed);
    EXPECT_TRUE(take_token(b, s, kBucketT0).allowed);
    const auto d = take_token(b, s, kBucketT0);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, 1);  // Retry-After is whole seconds, at least 1
    EXPECT_EQ(d.reset, 1);
}

TEST(TokenBucket, AClockThatStepsBackAddsNothingAndDoesNotFreezeTheBucket) {
    const Settings s{1, 2};
    Bucket b = full_bucket(s, kBucketT0);
    ASSERT_TRUE(take_token(b, s, kBucketT0).allowed);
    ASSERT_TRUE(take_token(b, s, kBucketT0).allowed);
    EXPECT_FALSE(take_token(b, s, kBucketT0 - 60'000).allowed);  // wall clock stepped back a minute
    // One second after the step: one token, as if counting started at the step.
    EXPECT_TRUE(take_token(b, s, kBucketT0 - 59'000).allowed);
}

TEST(TokenBucket, DecisionForClampsItsInput) {
    const Settings s{2, 4};
    const auto d = decision_for(true, 7.5, s);
    EXPECT_EQ(d.remaining, 4);
    EXPECT_EQ(d.reset, 0);
    const auto e = decision_for(false, -1, s);
    EXPECT_EQ(e.remaining, 0);
    EXPECT_EQ(e.retry_after, 1);
    EXPECT_EQ(e.reset, 1);
    EXPECT_EQ(e.window, 2);
}

}  // namespace
}  // namespace cg::ratelimit
