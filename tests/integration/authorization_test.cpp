// docs/api.md §4: decision rules of the built-in ACL, admin protection, remote authorizer.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <atomic>

#include "service_fixture.hpp"
#include "support/concurrency_meter.hpp"
#include "support/eventually.hpp"

namespace cg::test {
namespace {

class AuthorizationTest : public ServiceTest {
  protected:
    // Sends one request and returns the callback's (status, reason).
    std::pair<std::string, std::string> decide(const std::string& token,
                                               const std::string& station = kStation) {
        const size_t before = receiver_.count();
        const auto r =
            post_json(url("/api/v1/charging-session"), body(station, token, receiver_.url()));
        EXPECT_EQ(r.status, 200) << r.body;
        const auto id = str(parse_object(r.body), "request_id");
        EXPECT_TRUE(receiver_.wait_for(
            [&](const std::vector<Recorded>& log) {
                for (size_t i = before; i < log.size(); ++i) {
                    if (log[i].header("webhook-id") == id) return true;
                }
                return false;
            },
            std::chrono::seconds(10)));
        for (const auto& cb : receiver_.requests()) {
            if (cb.header("webhook-id") == id) {
                const auto o = parse_object(cb.body);
                return {str(o, "status"), str(o, "reason")};
            }
        }
        return {};
    }
    using Decision = std::pair<std::string, std::string>;
};

TEST_F(AuthorizationTest, EveryAclRuleGivesItsReason) {
    start();
    const std::string other = "00000000-0000-4000-8000-000000000001";
    EXPECT_EQ(decide("UNKNOWN-token-000000000"), Decision("not_allowed", "token_unknown"));
    auto put = [&](const std::string& token, const std::string& json) {
        const auto r = http_request("PUT", url("/api/v1/acl/" + token),
                                    {{"Content-Type", "application/json"}}, json);
        ASSERT_EQ(r.status, 200) << r.body;
    };
    put("BLOCKED-token-000000000", R"({"status":"blocked","stations":null,"expires_at":null})");
    EXPECT_EQ(decide("BLOCKED-token-000000000"), Decision("not_allowed", "token_blocked"));
    put("EXPIRED-token-000000000",
        R"({"status":"allowed","stations":null,"expires_at":"2020-01-01T00:00:00Z"})");
    EXPECT_EQ(decide("EXPIRED-token-000000000"), Decision("not_allowed", "token_expired"));
    put("ELSEWHERE-token-0000000",
        R"({"status":"allowed","stations":[")" + other + R"("],"expires_at":null})");
    EXPECT_EQ(decide("ELSEWHERE-token-0000000"), Decision("not_allowed", "station_not_permitted"));
    EXPECT_EQ(decide("ELSEWHERE-token-0000000", other), Decision("allowed", "acl_allowed"));
    put(kToken, R"({"status":"allowed","stations":null,"expires_at":"2099-01-01T00:00:00Z"})");
    EXPECT_EQ(decide(kToken), Decision("allowed", "acl_allowed"));
    auto r = http_request("PUT", url("/api/v1/stations/" + kStation),
                          {{"Content-Type", "application/json"}}, R"({"active":false})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(decide(kToken), Decision("not_allowed", "station_inactive"));
    r = http_request("PUT", url("/api/v1/stations/" + kStation),
                     {{"Content-Type", "application/json"}}, R"({"active":true})");
    ASSERT_EQ(r.status, 200);
    // An ACL change applies to every decision made after it was acknowledged.
    put(kToken, R"({"status":"blocked"})");
    EXPECT_EQ(decide(kToken), Decision("not_allowed", "token_blocked"));
    r = http_request("DELETE", url("/api/v1/acl/" + kToken));
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(decide(kToken), Decision("not_allowed", "token_unknown"));
}

TEST_F(AuthorizationTest, AdminEntriesReadBack) {
    start();
    const auto put =
        http_request("PUT", url("/api/v1/acl/" + kToken), {{"Content-Type", "application/json"}},
                     R"({"status":"allowed","stations":[")" +
                         std::string("123E4567-E89B-12D3-A456-426614174000") +
                         R"("],"expires_at":"2030-01-01T00:00:00+01:00"})");
    ASSERT_EQ(put.status, 200) << put.body;
    const auto got = http_get(url("/api/v1/acl/" + kToken));
    ASSERT_EQ(got.status, 200);
    const auto o = parse_object(got.body);
    EXPECT_EQ(str(o, "status"), "allowed");
    EXPECT_EQ(std::string(o.at("stations").as_array()[0].as_string()), kStation);
    EXPECT_EQ(str(o, "expires_at"), "2029-12-31T23:00:00.000Z");
    EXPECT_EQ(http_get(url("/api/v1/acl/NOBODY-token-0000000000")).status, 404);
    EXPECT_EQ(http_get(url("/api/v1/stations/" + kStation)).status, 404);  // never registered
    const auto bad =
        http_request("PUT", url("/api/v1/acl/" + kToken), {{"Content-Type", "application/json"}},
                     R"({"status":"maybe","stations":"all","expires_at":"soon"})");
    ASSERT_EQ(bad.status, 400);
    EXPECT_EQ(parse_object(bad.body).at("errors").as_array().size(), 3u);
}

TEST_F(AuthorizationTest, AdminTokenIsRequiredWhenSet) {
    env["ADMIN_TOKEN"] = "s3cret-admin-token";
    start();
    const std::string acl = url("/api/v1/acl/" + kToken);
    const std::string json = R"({"status":"allowed","stations":null,"expires_at":null})";
    auto r = http_request("PUT", acl, {{"Content-Type", "application/json"}}, json);
    EXPECT_EQ(r.status, 401);
    EXPECT_FALSE(r.header("www-authenticate").empty());
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
    r = http_request("PUT", acl,
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer wrong"}},
                     json);
    EXPECT_EQ(r.status, 401);
    r = http_request(
        "PUT", acl,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret-admin-token"}},
        json);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(service_->log().find("s3cret-admin-token"), std::string::npos);
}

// An IPv4 address of this machine that is not loopback, or empty.
std::string non_loopback_ipv4() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {};
    std::string found;
    for (const ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
        const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
        char text[INET_ADDRSTRLEN] = {};
        if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) found = text;
    }
    ::freeifaddrs(list);
    return found;
}

TEST_F(AuthorizationTest, WithoutAdminTokenTheAdminApiAnswersLoopbackOnly) {
    const std::string address = non_loopback_ipv4();
    if (address.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address";
    env["BIND_ADDRESS"] = "0.0.0.0";
    start();
    const std::string path = "/api/v1/acl/" + kToken;
    const auto remote =
        http_get("http://" + address + ":" + std::to_string(port_) + path);  // peer: not loopback
    EXPECT_EQ(remote.status, 403) << remote.body;
    EXPECT_EQ(str(parse_object(remote.body), "status"), "error");
    EXPECT_EQ(http_get(url(path)).status, 404);  // loopback: served (no such entry)
}

class RemoteAuthorizerTest : public AuthorizationTest {
  protected:
    static boost::json::object authorizer_health(const std::string& health_body) {
        const auto o = parse_object(health_body);
        const auto* comps = o.if_contains("components");
        if (!comps || !comps->is_object()) return {};
        const auto* a = comps->as_object().if_contains("authorizer");
        return a && a->is_object() ? a->as_object() : boost::json::object{};
    }
    static std::string circuit_state(const std::string& health_body) {
        const auto a = authorizer_health(health_body);
        const auto* c = a.if_contains("circuit");
        return c && c->is_object() ? str(c->as_object(), "state") : std::string();
    }
    TestHttpServer authorizer_;
};

TEST_F(RemoteAuthorizerTest, DecisionsComeFromTheAuthorizer) {
    authorizer_.set_handler([](const Recorded& r) {
        const auto o = parse_object(r.body);
        if (str(o, "driver_token") == kToken) {
            return Reply{200, R"({"status":"allowed","reason":"fleet_contract"})"};
        }
        if (str(o, "driver_token") == "HANG-token-00000000000") {
            return Reply{200, R"({"status":"allowed"})", {}, std::chrono::milliseconds(3000)};
        }
        if (str(o, "driver_token") == "FAIL-token-00000000000") return Reply{500, "oops"};
        return Reply{200, R"({"status":"not_allowed","reason":"no_contract"})"};
    });
    env["AUTHORIZER_URL"] = authorizer_.url("/authorize");
    env["AUTHORIZATION_TIMEOUT_MS"] = "500";
    start();
    EXPECT_EQ(decide(kToken), Decision("allowed", "fleet_contract"));
    EXPECT_EQ(decide("OTHER-token-0000000000"), Decision("not_allowed", "no_contract"));
    EXPECT_EQ(decide("HANG-token-00000000000"), Decision("unknown", "authorizer_timeout"));
    EXPECT_EQ(decide("FAIL-token-00000000000"), Decision("unknown", "authorizer_error"));
    const auto first = authorizer_.requests().at(0);
    const auto o = parse_object(first.body);
    EXPECT_EQ(str(o, "station_id"), kStation);
    EXPECT_EQ(str(o, "driver_token"), kToken);
    EXPECT_EQ(first.header("traceparent").size(), 55u);
}

TEST_F(RemoteAuthorizerTest, DeadAuthorizerGivesUnknown) {
    env["AUTHORIZER_URL"] = "http://127.0.0.1:" + std::to_string(free_port()) + "/authorize";
    start();
    EXPECT_EQ(decide(kToken), Decision("unknown", "authorizer_error"));
}

// Issue 4: circuit breaker. While the authorizer hangs, three timeouts open the circuit; then
// decisions are unknown/circuit_open without a call; /health shows it, readiness does not
// change; when the authorizer is back, one probe closes it again.
TEST_F(RemoteAuthorizerTest, CircuitBreakerOpensWhileTheAuthorizerHangsAndClosesAfter) {
    std::atomic<bool> hanging{true};
    authorizer_.set_handler([&](const Recorded&) {
        if (hanging.load()) {
            return Reply{200, R"({"status":"allowed"})", {}, std::chrono::milliseconds(1500)};
        }
        return Reply{200, R"({"status":"allowed","reason":"back_again"})"};
    });
    env["AUTHORIZER_URL"] = authorizer_.url("/authorize");
    env["AUTHORIZATION_TIMEOUT_MS"] = "300";
    env["AUTHORIZER_BREAKER_MIN_CALLS"] = "3";
    env["AUTHORIZER_BREAKER_OPEN_MS"] = "1500";
    env["AUTHORIZER_BREAKER_PROBES"] = "1";
    env["AUTHORIZER_CACHE_TTL_MS"] = "0";
    start();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(decide("HANG-token-0000000000" + std::to_string(i)),
                  Decision("unknown", "authorizer_timeout"));
    }
    auto health = http_get(url("/health"));
    EXPECT_EQ(health.status, 503) << health.body;
    EXPECT_EQ(str(authorizer_health(health.body), "status"), "DOWN");
    EXPECT_EQ(circuit_state(health.body), "open") << health.body;
    EXPECT_EQ(http_get(url("/health/ready")).status, 200);  // accepting stays safe
    EXPECT_NE(http_get(url("/metrics")).body.find("\nauthorizer_circuit_state 1\n"),
              std::string::npos);

    const size_t calls_when_open = authorizer_.count();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(decide("OPEN-token-00000000000"), Decision("unknown", "circuit_open"));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));
    EXPECT_EQ(authorizer_.count(), calls_when_open);  // refused without a call

    // Back: once AUTHORIZER_BREAKER_OPEN_MS has passed, the next decision is the probe that
    // closes the circuit; until then each is still circuit_open, without a call.
    hanging = false;
    Decision back;
    ASSERT_TRUE(eventually(
        [&] {
            back = decide("BACK-token-00000000000");
            return back != Decision("unknown", "circuit_open");
        },
        std::chrono::seconds(15), std::chrono::milliseconds(100)))
        << "the circuit never let a probe through";
    EXPECT_EQ(back, Decision("allowed", "back_again"));
    health = http_get(url("/health"));
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(circuit_state(health.body), "closed") << health.body;
    const auto log = service_->log();
    EXPECT_NE(log.find(R"("to":"open")"), std::string::npos);
    EXPECT_NE(log.find(R"("to":"half_open")"), std::string::npos);
    EXPECT_NE(log.find(R"("to":"closed")"), std::string::npos);
}

// Issue 4: bulkhead. However many requests wait, at most AUTHORIZER_MAX_CONCURRENCY calls are
// out at once.
TEST_F(RemoteAuthorizerTest, ConcurrentCallsAreCapped) {
    ConcurrencyMeter meter;
    authorizer_.set_handler([&](const Recorded&) {
        const ConcurrencyMeter::Scope in_call(meter);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return Reply{200, R"({"status":"allowed"})"};
    });
    env["AUTHORIZER_URL"] = authorizer_.url("/authorize");
    env["AUTHORIZER_MAX_CONCURRENCY"] = "2";
    env["WORKERS"] = "4";
    start();
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(
            post_session(receiver_.url(), {}, "BULK-token-0000000000" + std::to_string(i)).status,
            200);
    }
    ASSERT_TRUE(receiver_.wait_for_count(8, std::chrono::seconds(15)));
    EXPECT_EQ(meter.max(), 2);
}

// Issue 4: decision cache. A repeated (station, token) is answered without a call, also while
// the authorizer is down; an ACL change empties it; unknown is never cached.
TEST_F(RemoteAuthorizerTest, DecisionCacheAnswersRepeatsUntilAnAclChange) {
    std::atomic<bool> failing{false};
    authorizer_.set_handler([&](const Recorded&) {
        if (failing.load()) return Reply{503, "down"};
        return Reply{200, R"({"status":"allowed","reason":"fleet_contract"})"};
    });
    env["AUTHORIZER_URL"] = authorizer_.url("/authorize");
    start();
    EXPECT_EQ(decide(kToken), Decision("allowed", "fleet_contract"));
    EXPECT_EQ(decide(kToken), Decision("allowed", "fleet_contract"));
    EXPECT_EQ(authorizer_.count(), 1u);

    failing = true;
    EXPECT_EQ(decide(kToken), Decision("allowed", "fleet_contract"));  // from the cache
    EXPECT_EQ(decide("OTHER-token-0000000000"), Decision("unknown", "authorizer_error"));
    EXPECT_EQ(decide("OTHER-token-0000000000"), Decision("unknown", "authorizer_error"));
    EXPECT_EQ(authorizer_.count(), 3u);  // unknown was not cached

    allow("SOME-other-token-0000");  // any ACL change invalidates the cache
    EXPECT_EQ(decide(kToken), Decision("unknown", "authorizer_error"));
    EXPECT_EQ(authorizer_.count(), 4u);
    const auto authz = authorizer_health(http_get(url("/health")).body);
    EXPECT_EQ(authz.at("cache").as_object().at("hits").to_number<int64_t>(), 2);
}

}  // namespace
}  // namespace cg::test
