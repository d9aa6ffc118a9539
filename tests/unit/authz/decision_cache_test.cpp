#include "authz/decision_cache.hpp"

#include <gtest/gtest.h>

namespace cg::authz {
namespace {

Decision decision(DecisionStatus s, std::string reason) {
    return Decision{s, std::move(reason), 1};
}

TEST(DecisionCache, ReturnsADefiniteAnswerUntilItExpires) {
    ManualClock clock(1'000'000);
    DecisionCache cache({1000, 100}, clock);
    cache.put("st", "tok", decision(DecisionStatus::kAllowed, "vip"), cache.generation());
    auto hit = cache.get("st", "tok");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->status, DecisionStatus::kAllowed);
    EXPECT_EQ(hit->reason, "vip");
    EXPECT_FALSE(cache.get("st", "other"));
    EXPECT_FALSE(cache.get("other", "tok"));
    clock.advance(999);
    EXPECT_TRUE(cache.get("st", "tok"));
    clock.advance(1);
    EXPECT_FALSE(cache.get("st", "tok"));
    EXPECT_EQ(cache.size(), 0u);
}

TEST(DecisionCache, NeverStoresUnknown) {
    ManualClock clock(0);
    DecisionCache cache({1000, 100}, clock);
    cache.put("st", "tok", decision(DecisionStatus::kUnknown, "authorizer_timeout"),
              cache.generation());
    EXPECT_FALSE(cache.get("st", "tok"));
    cache.put("st", "tok", decision(DecisionStatus::kNotAllowed, "authorizer_denied"),
              cache.generation());
    ASSERT_TRUE(cache.get("st", "tok"));
    EXPECT_EQ(cache.get("st", "tok")->status, DecisionStatus::kNotAllowed);
}

TEST(DecisionCache, InvalidationDropsEverythingAndRefusesAnswersFromBefore) {
    ManualClock clock(0);
    DecisionCache cache({60000, 100}, clock);
    cache.put("st", "a", decision(DecisionStatus::kAllowed, "x"), cache.generation());
    const uint64_t started = cache.generation();  // a call starts here
    cache.invalidate_all();
    EXPECT_FALSE(cache.get("st", "a"));
    cache.put("st", "b", decision(DecisionStatus::kAllowed, "x"), started);  // its late answer
    EXPECT_FALSE(cache.get("st", "b"));
    cache.put("st", "b", decision(DecisionStatus::kAllowed, "x"), cache.generation());
    EXPECT_TRUE(cache.get("st", "b"));
}

TEST(DecisionCache, StaysWithinItsBound) {
    ManualClock clock(0);
    DecisionCache cache({60000, 64}, clock);
    for (int i = 0; i < 10000; ++i) {
        cache.put("st", "tok" + std::to_string(i), decision(DecisionStatus::kAllowed, "x"),
                  cache.generation());
    }
    EXPECT_LE(cache.size(), 64u);
    EXPECT_TRUE(cache.get("st", "tok9999"));  // the newest is kept
}

TEST(DecisionCache, ZeroTtlTurnsItOff) {
    ManualClock clock(0);
    DecisionCache cache({0, 100}, clock);
    EXPECT_FALSE(cache.enabled());
    cache.put("st", "tok", decision(DecisionStatus::kAllowed, "x"), cache.generation());
    EXPECT_FALSE(cache.get("st", "tok"));
}

}  // namespace
}  // namespace cg::authz
