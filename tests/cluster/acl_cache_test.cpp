// Cluster mode, docs/reliability.md §2: "any ACL or station change through the admin API empties
// the [decision] cache before it is acknowledged". With ROLE=api taking the admin request and
// separate worker processes deciding (each with its own decision cache), the change must reach
// the workers' caches too.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "cluster/cluster_support.hpp"
#include "support/http_client.hpp"
#include "support/test_http_server.hpp"

namespace cg::test::cluster {
namespace {

using namespace std::chrono_literals;

const std::string kStation = "123e4567-e89b-12d3-a456-426614174000";
const std::string kToken = "CACHE-token-00000000001";

std::string field(const std::string& body, const char* key) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    const auto* f = !ec && v.is_object() ? v.as_object().if_contains(key) : nullptr;
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

class ClusterAclCacheTest : public ::testing::Test {
  protected:
    TestHttpServer receiver;
    TestHttpServer authorizer;
    std::atomic<bool> allowing{true};
    Cluster cluster{{{"AUTHORIZER_URL", authorizer.url("/authorize")}}};

    void TearDown() override {
        for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
        if (HasFailure()) std::cerr << cluster.logs();
    }

    // Posts one request for kToken and returns its callback's decision status.
    std::string decide() {
        const size_t before = receiver.count();
        const auto r = post_json(cluster.url("api", "/api/v1/charging-session"),
                                 R"({"station_id":")" + kStation + R"(","driver_token":")" +
                                     kToken + R"(","callback_url":")" + receiver.url() + R"("})");
        EXPECT_EQ(r.status, 200) << r.body;
        if (!receiver.wait_for_count(before + 1, 15s)) return "no callback";
        return field(receiver.requests().at(before).body, "status");
    }
};

TEST_F(ClusterAclCacheTest, AnAclChangeOnTheApiProcessEmptiesTheWorkersDecisionCache) {
    authorizer.set_handler([this](const Recorded&) {
        return allowing.load() ? Reply{200, R"({"status":"allowed","reason":"contract"})"}
                               : Reply{200, R"({"status":"not_allowed","reason":"no_contract"})"};
    });
    cluster.start_backends();
    cluster.add("api", "api");
    cluster.add("worker", "worker");
    EXPECT_EQ(decide(), "allowed");
    EXPECT_EQ(decide(), "allowed");  // from the worker's cache
    EXPECT_EQ(authorizer.count(), 1u);

    allowing = false;
    const auto put = http_request("PUT", cluster.url("api", "/api/v1/acl/OTHER-token-000000001"),
                                  {{"Content-Type", "application/json"}},
                                  R"({"status":"allowed","stations":null,"expires_at":null})");
    ASSERT_EQ(put.status, 200) << put.body;
    // Acknowledged: no decision after this may come from the cache filled before it.
    EXPECT_EQ(decide(), "not_allowed");
    EXPECT_EQ(authorizer.count(), 2u);
}

}  // namespace
}  // namespace cg::test::cluster
