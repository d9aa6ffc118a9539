// Cluster mode, Redis is only a hint: a Redis without persistence that is killed loses its
// streams and consumer group, yet every request acknowledged before is delivered, because
// PostgreSQL holds them and the outbox relay publishes again what no worker has claimed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <iostream>
#include <set>
#include <thread>

#include "cluster/cluster_support.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/test_http_server.hpp"

namespace cg::test::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kLossStation = "123e4567-e89b-12d3-a456-426614174000";
const std::string kLossToken = "REDISLOSS-token-0000001";

RedisServer::Options redis_losing_everything() {
    RedisServer::Options o;
    o.appendonly = false;
    return o;
}

class RedisLossTest : public ::testing::Test {
  protected:
    TestHttpServer receiver;
    Cluster cluster{{}, redis_losing_everything()};

    void TearDown() override {
        for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
        if (HasFailure()) std::cerr << cluster.logs();
    }

    std::string post() {
        const auto r =
            post_json(cluster.url("api", "/api/v1/charging-session"),
                      R"({"station_id":")" + kLossStation + R"(","driver_token":")" + kLossToken +
                          R"(","callback_url":")" + receiver.url() + R"("})");
        EXPECT_EQ(r.status, 200) << r.body;
        boost::system::error_code ec;
        const auto v = boost::json::parse(r.body, ec);
        const auto* id = !ec && v.is_object() ? v.as_object().if_contains("request_id") : nullptr;
        return id && id->is_string() ? std::string(id->as_string()) : std::string();
    }

    bool all_received(const std::set<std::string>& ids, std::chrono::milliseconds timeout) {
        return receiver.wait_for(
            [&](const std::vector<Recorded>& log) {
                std::set<std::string> seen;
                for (const auto& r : log) seen.insert(r.header("webhook-id"));
                return std::includes(seen.begin(), seen.end(), ids.begin(), ids.end());
            },
            timeout);
    }
};

TEST_F(RedisLossTest, RequestsWhoseHintsRedisLostAreStillDelivered) {
    cluster.start_backends();
    cluster.add("api", "api");
    cluster.add("worker", "worker");
    std::set<std::string> warm_up;
    for (int i = 0; i < 5; ++i) warm_up.insert(post());
    ASSERT_TRUE(all_received(warm_up, 15s));

    // No worker: the hints wait in the stream, unclaimed. Then Redis dies and comes back empty.
    cluster.process("worker").kill9();
    std::set<std::string> ids;
    for (int i = 0; i < 50; ++i) ids.insert(post());
    ASSERT_EQ(ids.size(), 50u);
    // Until the API process has published their hints (XADD answered): only then can Redis
    // lose them.
    std::string metrics;
    ASSERT_TRUE(eventually(
        [&] {
            metrics = http_get(cluster.url("api", "/metrics")).body;
            return metrics.find("\nbroker_unpublished_hints ") != std::string::npos &&
                   metric_sum(metrics, "broker_unpublished_hints") == 0;
        },
        15s))
        << "the API process never published the hints:\n"
        << metrics;
    cluster.redis().kill9();
    cluster.redis().restart();
    const auto restarted_at = Clock::now();
    auto& worker = cluster.process("worker");
    worker.start();
    ASSERT_TRUE(worker.wait_ready(60s));

    const bool all = all_received(ids, 30s);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - restarted_at);
    std::cout << "[ redis loss ] 50 requests whose hints Redis lost: "
              << (all ? "all delivered " : "NOT all delivered after ") << took.count()
              << " ms after Redis came back empty (CLUSTER_TAKEOVER_MS=3000)\n";
    EXPECT_TRUE(all);
}

}  // namespace
}  // namespace cg::test::cluster
