// Cluster mode, docs/api.md §1 Idempotency-Key across processes: the same key sent to two API
// processes at once creates one request and one callback.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <set>

#include "cluster/cluster_support.hpp"
#include "support/http_client.hpp"
#include "support/test_http_server.hpp"

namespace cg::test::cluster {
namespace {

using namespace std::chrono_literals;

class ClusterIdempotencyTest : public ::testing::Test {
  protected:
    TestHttpServer receiver;
    Cluster cluster;

    void TearDown() override {
        for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
        if (HasFailure()) std::cerr << cluster.logs();
    }
};

TEST_F(ClusterIdempotencyTest, OneKeyOnTwoApiProcessesAtOnceIsOneRequest) {
    cluster.start_backends();
    cluster.launch("api-0", "api");
    cluster.launch("api-1", "api");
    cluster.launch("worker", "worker");
    ASSERT_TRUE(cluster.wait_all_ready());
    const std::string body = R"({"station_id":"123e4567-e89b-12d3-a456-426614174000",)"
                             R"("driver_token":"IDEM-token-000000000001","callback_url":")" +
                             receiver.url() + R"("})";
    for (int round = 0; round < 5; ++round) {
        const std::string key = "cluster-race-" + std::to_string(round);
        std::vector<std::future<HttpResult>> results;
        for (int i = 0; i < 8; ++i) {
            const std::string api = i % 2 == 0 ? "api-0" : "api-1";
            results.push_back(std::async(std::launch::async, [&, api] {
                return post_json(cluster.url(api, "/api/v1/charging-session"), body,
                                 {{"Idempotency-Key", key}});
            }));
        }
        std::set<std::string> ids;
        for (auto& f : results) {
            const auto r = f.get();
            if (r.status == 200) {
                boost::system::error_code ec;
                const auto v = boost::json::parse(r.body, ec);
                ids.insert(std::string(v.as_object().at("request_id").as_string()));
            } else {
                EXPECT_EQ(r.status, 409) << r.body;  // the same key still in flight
            }
        }
        EXPECT_EQ(ids.size(), 1u) << key;
    }
    ASSERT_TRUE(receiver.wait_for_count(5, 15s));
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(receiver.count(), 5u);
}

}  // namespace
}  // namespace cg::test::cluster
