// docs/api.md §2: what the receiver gets.
#include <algorithm>

#include "service_fixture.hpp"
#include "support/webhook_verify.hpp"

namespace cg::test {
namespace {

class CallbackTest : public ServiceTest {};

TEST_F(CallbackTest, BodyAndStandardWebhooksHeaders) {
    env["CALLBACK_SIGNING_SECRET"] = kSecret;
    start();
    allow(kToken);
    const std::string incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const std::string state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    const auto r = post_session(receiver_.url("/api/callbacks/charge-result"),
                                {{"traceparent", incoming}, {"tracestate", state}});
    ASSERT_EQ(r.status, 200);
    const auto id = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    const auto cb = receiver_.requests().at(0);
    EXPECT_EQ(cb.method, "POST");
    EXPECT_EQ(cb.target, "/api/callbacks/charge-result");
    EXPECT_EQ(cb.header("content-type"), "application/json");
    const auto o = parse_object(cb.body);
    EXPECT_EQ(o.size(), 6u);
    EXPECT_EQ(str(o, "request_id"), id);
    EXPECT_EQ(str(o, "station_id"), kStation);
    EXPECT_EQ(str(o, "driver_token"), kToken);
    EXPECT_EQ(str(o, "status"), "allowed");
    EXPECT_EQ(str(o, "reason"), "acl_allowed");
    const auto decided = str(o, "decided_at");
    ASSERT_EQ(decided.size(), 24u) << decided;  // 2026-11-22T10:30:45.123Z
    EXPECT_EQ(decided[10], 'T');
    EXPECT_EQ(decided[19], '.');
    EXPECT_EQ(decided.back(), 'Z');
    EXPECT_EQ(cb.header("webhook-id"), id);
    const auto ts = std::stoll(cb.header("webhook-timestamp"));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_LE(std::llabs(now - ts), 5);
    EXPECT_TRUE(verify_webhook(kSecret, id, cb.header("webhook-timestamp"), cb.body,
                               cb.header("webhook-signature")))
        << cb.header("webhook-signature");
    EXPECT_FALSE(verify_webhook("whsec_b3RoZXItc2VjcmV0", id, cb.header("webhook-timestamp"),
                                cb.body, cb.header("webhook-signature")));
    const auto tp = cb.header("traceparent");
    ASSERT_EQ(tp.size(), 55u) << tp;
    EXPECT_EQ(tp.substr(0, 36), incoming.substr(0, 36));    // same trace id
    EXPECT_NE(tp.substr(36, 16), incoming.substr(36, 16));  // our own span
    EXPECT_EQ(cb.header("tracestate"), state);              // forwarded with it
}

// Secret rotation: with the old and the new secret configured, every callback carries a
// signature for each, so receivers still on the old secret and those already on the new one
// both verify it.
TEST_F(CallbackTest, TwoSecretsSatisfyReceiversOfEither) {
    const std::string old_secret = kSecret;
    const std::string new_secret = "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==";
    env["CALLBACK_SIGNING_SECRET"] = old_secret + ", " + new_secret;
    start();
    allow(kToken);
    const auto r = post_session(receiver_.url("/cb"));
    ASSERT_EQ(r.status, 200);
    const auto id = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    const auto cb = receiver_.requests().at(0);
    const auto signature = cb.header("webhook-signature");
    const auto ts = cb.header("webhook-timestamp");
    EXPECT_EQ(std::count(signature.begin(), signature.end(), ' '), 1) << signature;
    EXPECT_EQ(signature.rfind("v1,", 0), 0u) << signature;
    EXPECT_TRUE(verify_webhook(old_secret, id, ts, cb.body, signature)) << signature;
    EXPECT_TRUE(verify_webhook(new_secret, id, ts, cb.body, signature)) << signature;
    EXPECT_FALSE(verify_webhook("whsec_b3RoZXItc2VjcmV0", id, ts, cb.body, signature));
    // The old secret's signature comes first, as configured.
    EXPECT_TRUE(
        verify_webhook(old_secret, id, ts, cb.body, signature.substr(0, signature.find(' '))));
}

TEST_F(CallbackTest, AMalformedSecretStopsStartUpNamingItsPosition) {
    env["CALLBACK_SIGNING_SECRET"] = kSecret + " whsec_abc";
    const auto r = run_command(binary(), {"migrate"}, env);  // loads the configuration first
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("CALLBACK_SIGNING_SECRET: secret 2 of 2"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("whsec_abc"), std::string::npos) << r.err;
}

TEST_F(CallbackTest, WithoutSecretNoSignatureAndANewTrace) {
    start();
    const auto r = post_session(receiver_.url());
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    const auto cb = receiver_.requests().at(0);
    EXPECT_TRUE(cb.header("webhook-signature").empty());
    EXPECT_EQ(cb.header("traceparent").size(), 55u);
    EXPECT_TRUE(cb.header("tracestate").empty());  // none came in, none goes out
    EXPECT_EQ(str(parse_object(cb.body), "reason"), "token_unknown");
}

TEST_F(CallbackTest, ConnectionsToTheReceiverAreReused) {
    start();
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(post_session(receiver_.url()).status, 200);
        ASSERT_TRUE(receiver_.wait_for_count(static_cast<size_t>(i + 1), std::chrono::seconds(10)));
    }
    EXPECT_LE(receiver_.connections(), 2);
}

}  // namespace
}  // namespace cg::test
