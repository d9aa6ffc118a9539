// Per-client rate limit of the public API (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST): what a
// client sees. Runs embedded (in-memory buckets) and in the `cluster.` copy (buckets in Redis).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

// A whole number >= 0 written as digits only, as the rate-limit fields promise.
bool is_count(const std::string& v) {
    return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
}

// The parameters of a `"default";k=v;k=v` field (the IETF httpapi rate-limit draft's
// RateLimit-Policy and RateLimit); empty when the field is absent or names another policy.
std::map<std::string, std::string> params_of(const std::string& field) {
    std::map<std::string, std::string> out;
    const std::string kItem = R"("default")";
    if (field.rfind(kItem, 0) != 0) return out;
    std::istringstream in(field.substr(kItem.size()));
    std::string param;
    while (std::getline(in, param, ';')) {
        const auto eq = param.find('=');
        if (eq != std::string::npos) out[param.substr(0, eq)] = param.substr(eq + 1);
    }
    return out;
}

bool has_rate_limit_fields(const HttpResult& r) {
    return !r.header("ratelimit-policy").empty() || !r.header("ratelimit").empty();
}

class RateLimitTest : public ServiceTest {
  protected:
    void limit(const std::string& per_second, const std::string& burst) {
        env["RATE_LIMIT_PER_SECOND"] = per_second;
        env["RATE_LIMIT_BURST"] = burst;
        // Cluster copy: a round trip to Redis on this shared test machine may exceed the 50 ms
        // default, and a fallback decision would be taken on a fresh per-process bucket.
        env["RATE_LIMIT_REDIS_TIMEOUT_MS"] = "2000";
    }

    std::string session_url(const std::string& id) const {
        return url("/api/v1/charging-session/" + id);
    }
};

TEST_F(RateLimitTest, TheFourthQuickRequestGets429UntilATokenIsBack) {
    limit("1", "3");
    start();

    // POST and GET share the client's bucket.
    const auto created = post_session(receiver_.url());
    ASSERT_EQ(created.status, 200) << created.body;
    const std::string id = str(parse_object(created.body), "request_id");
    ASSERT_FALSE(id.empty());
    const auto second = http_get(session_url(id));
    const auto third = http_get(session_url(id));
    const auto fourth = http_get(session_url(id));

    EXPECT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(third.status, 200) << third.body;
    int expected_remaining = 2;
    for (const auto* r : {&created, &second, &third}) {
        EXPECT_EQ(r->header("ratelimit-policy"), R"("default";q=3;w=3)");
        auto state = params_of(r->header("ratelimit"));
        EXPECT_EQ(state["r"], std::to_string(expected_remaining--)) << r->header("ratelimit");
        EXPECT_TRUE(is_count(state["t"])) << r->header("ratelimit");
        EXPECT_TRUE(r->header("ratelimit-limit").empty());  // the draft's older fields are gone
    }

    ASSERT_EQ(fourth.status, 429) << fourth.body;
    const auto err = parse_object(fourth.body);
    EXPECT_EQ(str(err, "status"), "error");
    EXPECT_FALSE(str(err, "message").empty());
    EXPECT_NE(fourth.header("content-type").find("application/json"), std::string::npos);
    const std::string retry_after = fourth.header("retry-after");
    ASSERT_TRUE(is_count(retry_after)) << retry_after;
    EXPECT_GE(std::stoi(retry_after), 1);
    EXPECT_EQ(fourth.header("ratelimit-policy"), R"("default";q=3;w=3)");
    auto state = params_of(fourth.header("ratelimit"));
    EXPECT_EQ(state["r"], "0");
    EXPECT_EQ(state["t"], retry_after);  // the reset and Retry-After agree

    // A refused POST is counted among the charging-session answers.
    const auto refused_post = post_session(receiver_.url());
    EXPECT_EQ(refused_post.status, 429) << refused_post.body;
    EXPECT_EQ(params_of(refused_post.header("ratelimit"))["t"], refused_post.header("retry-after"));

    // Health and metrics are never limited and carry no rate-limit fields.
    for (const char* path : {"/health", "/health/live", "/health/ready", "/metrics"}) {
        const auto h = http_get(url(path));
        EXPECT_EQ(h.status, 200) << path << ": " << h.body;
        EXPECT_FALSE(has_rate_limit_fields(h)) << path;
    }
    const auto metrics = http_get(url("/metrics")).body;
    EXPECT_NE(metrics.find("rate_limited_total 2\n"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find(R"(charging_requests_total{status="rate_limited"} 1)"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(R"(charging_requests_total{status="accepted"} 1)"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(R"(http_requests_total{route="charging_session_status",code="429"} 1)"),
              std::string::npos)
        << metrics;
    // Cluster copy: every decision came from the shared buckets in Redis, none from the
    // per-process fallback.
    EXPECT_NE(metrics.find("rate_limit_fallback_decisions_total 0\n"), std::string::npos);

    // Waiting as long as Retry-After says is enough.
    std::this_thread::sleep_for(std::chrono::seconds(std::stoi(retry_after)));
    const auto again = http_get(session_url(id));
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(str(parse_object(again.body), "request_id"), id);
    EXPECT_EQ(again.header("ratelimit-policy"), R"("default";q=3;w=3)");
}

TEST_F(RateLimitTest, AdminRoutesAreNotLimited) {
    limit("0.01", "1");
    start();
    ASSERT_EQ(http_get(session_url("00000000-0000-4000-8000-000000000000")).status, 404);
    ASSERT_EQ(http_get(session_url("00000000-0000-4000-8000-000000000000")).status, 429);
    for (int i = 0; i < 3; ++i) {
        const auto r = http_request("PUT", url("/api/v1/acl/" + kToken),
                                    {{"Content-Type", "application/json"}},
                                    R"({"status":"allowed","stations":null})");
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_FALSE(has_rate_limit_fields(r));
        EXPECT_EQ(http_get(url("/api/v1/acl/" + kToken)).status, 200);
    }
    EXPECT_EQ(post_session(receiver_.url()).status, 429);  // the public API still is
}

TEST_F(RateLimitTest, AuthenticatedClientsHaveTheirOwnBucketsAndA401SpendsNone) {
    limit("0.01", "2");
    env["API_AUTH"] = "on";
    env["API_KEYS_REFRESH_MS"] = "200";
    start();
    auto key_for = [this](const std::string& client) {
        auto r = run_command(binary(), {"api-key", "create", "--client", client}, env);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
        return r.out;
    };
    const auto alpha = key_for("alpha");
    const auto beta = key_for("beta");
    // Refused callers (no key, or before the service has read the new keys) spend no token.
    const std::string unknown = session_url("00000000-0000-4000-8000-000000000000");
    for (int i = 0; i < 200; ++i) {
        const auto r = http_get(unknown, {{"X-API-Key", beta}});
        if (r.status != 401) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(http_get(unknown).status, 401);
    EXPECT_EQ(http_get(unknown).status, 401);
    // From one address: alpha's two tokens, then 429; beta still has its own (one was spent
    // by the wait above).
    EXPECT_EQ(http_get(unknown, {{"X-API-Key", alpha}}).status, 404);
    EXPECT_EQ(http_get(unknown, {{"X-API-Key", alpha}}).status, 404);
    EXPECT_EQ(http_get(unknown, {{"X-API-Key", alpha}}).status, 429);
    const auto b = http_get(unknown, {{"X-API-Key", beta}});
    EXPECT_EQ(b.status, 404) << b.body;
    EXPECT_EQ(params_of(b.header("ratelimit"))["r"], "0");
    // A POST without credentials is answered 401 and counted among the charging-session answers.
    EXPECT_EQ(post_session(receiver_.url()).status, 401);
    const auto metrics = http_get(url("/metrics")).body;
    EXPECT_NE(metrics.find(R"(charging_requests_total{status="unauthorized"} 1)"),
              std::string::npos)
        << metrics;
}

TEST_F(RateLimitTest, OffByDefault) {
    start();
    for (int i = 0; i < 30; ++i) {
        const auto r = http_get(session_url("00000000-0000-4000-8000-000000000000"));
        ASSERT_EQ(r.status, 404) << r.body;
        EXPECT_FALSE(has_rate_limit_fields(r));
    }
    EXPECT_NE(http_get(url("/metrics")).body.find("rate_limited_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace cg::test
