#include "authz/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cg::authz {
namespace {

CircuitBreakerOptions options() {
    CircuitBreakerOptions o;
    o.window_ms = 1000;
    o.min_calls = 4;
    o.failure_ratio = 0.5;
    o.open_ms = 500;
    o.half_open_probes = 2;
    return o;
}

void call(CircuitBreaker& b, bool success) {
    const auto p = b.try_acquire();
    ASSERT_TRUE(p.allowed);
    b.record(p, success);
}

TEST(CircuitBreaker, StaysClosedBelowTheMinimumNumberOfCalls) {
    ManualClock clock(1'000'000);
    CircuitBreaker b(options(), clock);
    for (int i = 0; i < 3; ++i) call(b, false);
    EXPECT_EQ(b.state(), CircuitState::kClosed);
    call(b, false);  // the fourth failure reaches min_calls with 100 % failures
    EXPECT_EQ(b.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, StaysClosedBelowTheFailureRatio) {
    ManualClock clock(1'000'000);
    CircuitBreaker b(options(), clock);
    for (int i = 0; i < 10; ++i) call(b, true);
    for (int i = 0; i < 9; ++i) call(b, false);  // 9 of 19 < 50 %
    EXPECT_EQ(b.state(), CircuitState::kClosed);
    call(b, false);  // 10 of 20 = 50 %
    EXPECT_EQ(b.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, OldFailuresLeaveTheWindow) {
    ManualClock clock(1'000'000);
    CircuitBreaker b(options(), clock);
    for (int i = 0; i < 3; ++i) call(b, false);
    clock.advance(1500);  // past the 1 s window
    call(b, false);
    EXPECT_EQ(b.state(), CircuitState::kClosed);
    EXPECT_EQ(b.snapshot().window_failures, 1);
}

TEST(CircuitBreaker, RefusesWhileOpenThenProbesAndCloses) {
    ManualClock clock(1'000'000);
    std::vector<std::pair<CircuitState, CircuitState>> transitions;
    CircuitBreaker b(options(), clock, [&](CircuitState from, CircuitState to, const auto&) {
        transitions.emplace_back(from, to);
    });
    for (int i = 0; i < 4; ++i) call(b, false);
    ASSERT_EQ(b.state(), CircuitState::kOpen);
    EXPECT_FALSE(b.try_acquire().allowed);
    clock.advance(499);
    EXPECT_FALSE(b.try_acquire().allowed);
    clock.advance(1);
    const auto p1 = b.try_acquire();
    const auto p2 = b.try_acquire();
    EXPECT_TRUE(p1.allowed && p1.probe);
    EXPECT_TRUE(p2.allowed && p2.probe);
    EXPECT_EQ(b.state(), CircuitState::kHalfOpen);
    EXPECT_FALSE(b.try_acquire().allowed);  // only two probes at a time
    b.record(p1, true);
    EXPECT_EQ(b.state(), CircuitState::kHalfOpen);
    b.record(p2, true);
    EXPECT_EQ(b.state(), CircuitState::kClosed);
    EXPECT_EQ(b.snapshot().window_calls, 0);  // closes with an empty window
    const std::vector<std::pair<CircuitState, CircuitState>> want = {
        {CircuitState::kClosed, CircuitState::kOpen},
        {CircuitState::kOpen, CircuitState::kHalfOpen},
        {CircuitState::kHalfOpen, CircuitState::kClosed}};
    EXPECT_EQ(transitions, want);
    EXPECT_EQ(b.snapshot().times_opened, 1u);
}

TEST(CircuitBreaker, AFailedProbeOpensItAgainForAFullPeriod) {
    ManualClock clock(1'000'000);
    CircuitBreaker b(options(), clock);
    for (int i = 0; i < 4; ++i) call(b, false);
    clock.advance(500);
    const auto probe = b.try_acquire();
    ASSERT_TRUE(probe.probe);
    clock.advance(100);
    b.record(probe, false);
    EXPECT_EQ(b.state(), CircuitState::kOpen);
    clock.advance(499);
    EXPECT_FALSE(b.try_acquire().allowed);
    clock.advance(1);
    EXPECT_TRUE(b.try_acquire().allowed);
    EXPECT_EQ(b.snapshot().times_opened, 2u);
}

TEST(CircuitBreaker, LateAnswersFromBeforeATransitionDoNotCount) {
    ManualClock clock(1'000'000);
    CircuitBreaker b(options(), clock);
    const auto slow = b.try_acquire();  // started while closed
    for (int i = 0; i < 4; ++i) call(b, false);
    clock.advance(500);
    const auto p1 = b.try_acquire();
    ASSERT_EQ(b.state(), CircuitState::kHalfOpen);
    b.record(slow, false);  // the slow one fails now: not a probe, ignored
    EXPECT_EQ(b.state(), CircuitState::kHalfOpen);
    b.record(slow, true);
    b.record(p1, true);
    EXPECT_EQ(b.state(), CircuitState::kHalfOpen);  // one of two probes so far
}

TEST(CircuitBreaker, ConcurrentCallersAgreeOnOneTransition) {
    ManualClock clock(1'000'000);
    std::atomic<int> opened{0};
    CircuitBreaker b(options(), clock, [&](CircuitState, CircuitState to, const auto&) {
        if (to == CircuitState::kOpen) opened.fetch_add(1);
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) {
                const auto p = b.try_acquire();
                b.record(p, false);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(b.state(), CircuitState::kOpen);
    EXPECT_EQ(opened.load(), 1);  // the clock does not move: it never gets to probe
}

}  // namespace
}  // namespace cg::authz
