// The remote authorizer's protection layers (cache → circuit breaker → inner), driven by a
// scripted inner authorizer so every outcome is under the test's control.
#include <gtest/gtest.h>

#include <deque>

#include "authz/breaker_authorizer.hpp"
#include "authz/caching_authorizer.hpp"

namespace cg::authz {
namespace {

class ScriptedAuthorizer final : public Authorizer {
  public:
    void authorize(const AuthorizationRequest&, DecisionCallback done) override {
        ++calls;
        if (hold) {
            held.push_back(std::move(done));
            return;
        }
        done(next);
    }
    [[nodiscard]] bool healthy() const override { return true; }
    [[nodiscard]] const char* kind() const override { return "remote"; }

    Decision next;
    bool hold = false;
    int calls = 0;
    std::deque<DecisionCallback> held;
};

AuthorizationRequest request(std::string token) {
    return AuthorizationRequest{"req", "123e4567-e89b-12d3-a456-426614174000", std::move(token),
                                ""};
}

Decision decide(Authorizer& a, const std::string& token) {
    Decision out;
    bool called = false;
    a.authorize(request(token), [&](Decision d) {
        out = std::move(d);
        called = true;
    });
    EXPECT_TRUE(called);
    return out;
}

CircuitBreakerOptions breaker_options() {
    CircuitBreakerOptions o;
    o.window_ms = 10000;
    o.min_calls = 3;
    o.failure_ratio = 0.5;
    o.open_ms = 1000;
    o.half_open_probes = 1;
    return o;
}

TEST(ProtectedAuthorizer, OpenCircuitAnswersUnknownAtOnceWithoutCallingTheAuthorizer) {
    ManualClock clock(1'000'000);
    ScriptedAuthorizer inner;
    BreakerAuthorizer breaker(inner, breaker_options(), clock);
    inner.next = Decision{DecisionStatus::kUnknown, "authorizer_timeout", 0};
    for (int i = 0; i < 3; ++i) EXPECT_EQ(decide(breaker, "t").reason, "authorizer_timeout");
    EXPECT_EQ(breaker.state(), CircuitState::kOpen);
    EXPECT_FALSE(breaker.healthy());
    const Decision d = decide(breaker, "t");
    EXPECT_EQ(d.status, DecisionStatus::kUnknown);
    EXPECT_EQ(d.reason, "circuit_open");
    EXPECT_EQ(d.decided_at_ms, 1'000'000);
    EXPECT_EQ(inner.calls, 3);

    boost::json::object details;
    breaker.health_details(details);
    EXPECT_EQ(details.at("circuit").at("state").as_string(), "open");
    EXPECT_EQ(details.at("circuit").at("refused").as_uint64(), 1u);

    // After open_ms one probe goes out; the authorizer is back, so the circuit closes.
    clock.advance(1000);
    inner.next = Decision{DecisionStatus::kAllowed, "authorizer_allowed", 0};
    EXPECT_EQ(decide(breaker, "t").status, DecisionStatus::kAllowed);
    EXPECT_EQ(breaker.state(), CircuitState::kClosed);
    EXPECT_TRUE(breaker.healthy());
    EXPECT_EQ(inner.calls, 4);
}

TEST(ProtectedAuthorizer, DeniedAnswersAreSuccessesForTheBreaker) {
    ManualClock clock(0);
    ScriptedAuthorizer inner;
    BreakerAuthorizer breaker(inner, breaker_options(), clock);
    inner.next = Decision{DecisionStatus::kNotAllowed, "authorizer_denied", 0};
    for (int i = 0; i < 20; ++i) decide(breaker, "t");
    EXPECT_EQ(breaker.state(), CircuitState::kClosed);
}

TEST(ProtectedAuthorizer, CacheServesDefiniteAnswersEvenWhileTheCircuitIsOpen) {
    ManualClock clock(1'000'000);
    ScriptedAuthorizer inner;
    BreakerAuthorizer breaker(inner, breaker_options(), clock);
    DecisionCache cache({300000, 1000}, clock);
    CachingAuthorizer cached(breaker, cache, clock);

    inner.next = Decision{DecisionStatus::kAllowed, "vip", 5};
    EXPECT_EQ(decide(cached, "known").reason, "vip");
    EXPECT_EQ(inner.calls, 1);
    clock.advance(10);
    const Decision again = decide(cached, "known");
    EXPECT_EQ(again.reason, "vip");
    EXPECT_EQ(again.decided_at_ms, 1'000'010);  // decided now, from the cache
    EXPECT_EQ(inner.calls, 1);

    inner.next = Decision{DecisionStatus::kUnknown, "authorizer_error", 0};
    for (int i = 0; i < 3; ++i) decide(cached, "new" + std::to_string(i));
    ASSERT_EQ(breaker.state(), CircuitState::kOpen);
    EXPECT_EQ(decide(cached, "known").status, DecisionStatus::kAllowed);  // cached
    EXPECT_EQ(decide(cached, "new0").reason, "circuit_open");             // never cached
    EXPECT_EQ(cached.hits(), 2u);
}

TEST(ProtectedAuthorizer, AnInvalidationDuringACallKeepsItsAnswerOutOfTheCache) {
    ManualClock clock(0);
    ScriptedAuthorizer inner;
    DecisionCache cache({300000, 1000}, clock);
    CachingAuthorizer cached(inner, cache, clock);
    inner.hold = true;
    Decision got;
    cached.authorize(request("t"), [&](Decision d) { got = std::move(d); });
    cache.invalidate_all();  // e.g. the ACL changed while the call was out
    inner.held.front()(Decision{DecisionStatus::kAllowed, "old_rule", 0});
    EXPECT_EQ(got.reason, "old_rule");
    inner.hold = false;
    inner.next = Decision{DecisionStatus::kNotAllowed, "new_rule", 0};
    EXPECT_EQ(decide(cached, "t").reason, "new_rule");
    EXPECT_EQ(inner.calls, 2);
}

}  // namespace
}  // namespace cg::authz
