// Cluster mode: the per-client rate limit is one budget shared by every API instance (buckets
// in Redis), fails open to per-process buckets while Redis is gone, and is shared again once
// Redis is back.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "cluster/cluster_support.hpp"
#include "support/http_client.hpp"

namespace cg::test::cluster {
namespace {

using namespace std::chrono_literals;

const std::string kUnknownId = "00000000-0000-4000-8000-000000000000";

RedisServer::Options without_persistence() {
    RedisServer::Options o;
    o.appendonly = false;
    return o;
}

size_t occurrences(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class ClusterRateLimitTest : public ::testing::Test {
  protected:
    // Burst 4, one token per 100 s: nothing refills during the test. The Redis bound is
    // generous so that a busy test machine does not turn a shared decision into a local one.
    Cluster cluster{{{"RATE_LIMIT_PER_SECOND", "0.01"},
                     {"RATE_LIMIT_BURST", "4"},
                     {"RATE_LIMIT_REDIS_TIMEOUT_MS", "2000"}},
                    without_persistence()};

    void TearDown() override {
        for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
        if (HasFailure()) std::cerr << cluster.logs();
    }

    // A GET on a limited route; 404 (no such request) means "let through".
    long get(const std::string& instance) {
        const auto r = http_get(cluster.url(instance, "/api/v1/charging-session/" + kUnknownId));
        EXPECT_TRUE(r.status == 404 || r.status == 429) << instance << ": " << r.status << r.body;
        return r.status;
    }

    // `n` requests alternating between api1 and api2; how many were let through.
    int passed_of_alternating(int n) {
        int passed = 0;
        for (int i = 0; i < n; ++i) {
            if (get(i % 2 == 0 ? "api1" : "api2") == 404) ++passed;
        }
        return passed;
    }

    int64_t metric(const std::string& instance, const std::string& name) {
        return metric_sum(http_get(cluster.url(instance, "/metrics")).body, name);
    }

    bool wait_metric(const std::string& instance, const std::string& name, int64_t value) {
        const auto end = std::chrono::steady_clock::now() + 60s;
        while (std::chrono::steady_clock::now() < end) {
            if (metric(instance, name) == value) return true;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
};

TEST_F(ClusterRateLimitTest, InstancesShareOneBudgetAndFailOpenWhileRedisIsDown) {
    cluster.start_backends();
    cluster.add("api1", "api");
    cluster.add("api2", "api");

    // One client, two instances, one budget of 4.
    EXPECT_EQ(passed_of_alternating(8), 4);
    EXPECT_EQ(metric("api1", "rate_limited_total") + metric("api2", "rate_limited_total"), 4);
    EXPECT_EQ(metric("api1", "rate_limit_fallback_decisions_total"), 0);

    // Redis gone: every request is still answered, each instance limits on its own (fail open
    // to a per-process budget of 4), and says so once in its log.
    cluster.redis().kill9();
    for (const std::string instance : {"api1", "api2"}) {
        int passed = 0;
        for (int i = 0; i < 6; ++i) {
            if (get(instance) == 404) ++passed;
        }
        EXPECT_EQ(passed, 4) << instance;
        EXPECT_EQ(metric(instance, "rate_limit_redis_up"), 0) << instance;
        EXPECT_GE(metric(instance, "rate_limit_fallback_decisions_total"), 6) << instance;
        EXPECT_EQ(occurrences(cluster.process(instance).log(), "rate limiter: Redis failed"), 1u)
            << instance;
    }
    EXPECT_EQ(http_get(cluster.url("api1", "/health/live")).status, 200);

    // Redis back (empty: a full shared bucket): the instances find it on their own and share
    // one budget again.
    cluster.redis().restart();
    ASSERT_TRUE(wait_metric("api1", "rate_limit_redis_up", 1));
    ASSERT_TRUE(wait_metric("api2", "rate_limit_redis_up", 1));
    EXPECT_EQ(passed_of_alternating(8), 4);
    for (const std::string instance : {"api1", "api2"}) {
        EXPECT_EQ(occurrences(cluster.process(instance).log(), "Redis answers again"), 1u)
            << instance;
    }
}

}  // namespace
}  // namespace cg::test::cluster
