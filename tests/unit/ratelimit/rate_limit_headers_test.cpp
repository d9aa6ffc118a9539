#include "ratelimit/rate_limit_headers.hpp"

#include <gtest/gtest.h>

#include "ratelimit/token_bucket.hpp"

namespace cg::ratelimit {
namespace {

constexpr int64_t kHeadersT0 = 1'767'225'600'000;

TEST(RateLimitHeaders, PolicyAndStateAsStructuredFieldItems) {
    const Settings s{2, 10};  // 10 tokens, 2 a second: an empty bucket is full in 5 s
    Bucket b = full_bucket(s, kHeadersT0);
    const auto d = take_token(b, s, kHeadersT0);
    EXPECT_EQ(policy_field_value(d), R"("default";q=10;w=5)");
    EXPECT_EQ(limit_field_value(d), R"("default";r=9;t=1)");  // one token short: 0.5 s, rounded up
}

TEST(RateLimitHeaders, ARefusalsResetIsItsRetryAfter) {
    const Settings s{0.5, 2};  // a token every 2 s
    Bucket b = full_bucket(s, kHeadersT0);
    take_token(b, s, kHeadersT0);
    take_token(b, s, kHeadersT0);
    const auto refused = take_token(b, s, kHeadersT0);
    ASSERT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after, 2);
    EXPECT_EQ(limit_field_value(refused), R"("default";r=0;t=2)");
    EXPECT_EQ(policy_field_value(refused), R"("default";q=2;w=4)");
}

}  // namespace
}  // namespace cg::ratelimit
