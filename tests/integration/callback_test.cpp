// Contract §2: what the receiver gets.
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
    const auto r =
        post_session(receiver_.url("/api/callbacks/charge-result"), {{"traceparent", incoming}});
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
}

TEST_F(CallbackTest, WithoutSecretNoSignatureAndANewTrace) {
    start();
    const auto r = post_session(receiver_.url());
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    const auto cb = receiver_.requests().at(0);
    EXPECT_TRUE(cb.header("webhook-signature").empty());
    EXPECT_EQ(cb.header("traceparent").size(), 55u);
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
