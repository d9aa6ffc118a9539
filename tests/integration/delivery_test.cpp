// docs/api.md §2 and §4: retries, 410, dead letters and redelivery.
#include <atomic>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

class DeliveryTest : public ServiceTest {
  protected:
    std::string accept_one() {
        const auto r = post_session(receiver_.url());
        EXPECT_EQ(r.status, 200) << r.body;
        return str(parse_object(r.body), "request_id");
    }
};

TEST_F(DeliveryTest, FailuresAreRetriedUntilSuccess) {
    std::atomic<int> calls{0};
    receiver_.set_handler([&](const Recorded&) {
        return ++calls <= 2 ? Reply{500, "no"} : Reply{200, "{}"};
    });
    start();
    const auto id = accept_one();
    ASSERT_TRUE(wait_state(id, "delivered"));
    const auto s = status_of(id);
    const auto& cb = s.at("callback").as_object();
    EXPECT_EQ(cb.at("attempts").as_int64(), 3);
    EXPECT_EQ(cb.at("last_status_code").as_int64(), 200);
    EXPECT_FALSE(cb.at("delivered_at").is_null());
    EXPECT_EQ(s.at("attempts").as_array().size(), 3u);
    EXPECT_EQ(s.at("attempts").as_array()[0].as_object().at("status_code").as_int64(), 500);
    const auto log = receiver_.requests();
    ASSERT_EQ(log.size(), 3u);
    for (const auto& r : log) EXPECT_EQ(r.header("webhook-id"), id);  // same id every attempt
    EXPECT_EQ(log[0].body, log[2].body);
}

TEST_F(DeliveryTest, GoneStopsAtOnce) {
    receiver_.set_handler([](const Recorded&) { return Reply{410, "gone"}; });
    start();
    const auto id = accept_one();
    ASSERT_TRUE(wait_state(id, "failed"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(receiver_.count(), 1u);
    const auto cb = status_of(id).at("callback").as_object();
    EXPECT_EQ(cb.at("attempts").as_int64(), 1);
    EXPECT_EQ(cb.at("last_status_code").as_int64(), 410);
    EXPECT_TRUE(cb.at("next_attempt_at").is_null());
}

TEST_F(DeliveryTest, ExhaustionDeadLettersAndRedeliverySendsTheSameDecision) {
    std::atomic<bool> healthy{false};
    receiver_.set_handler([&](const Recorded&) {
        return healthy ? Reply{200, "{}"} : Reply{500, "down"};
    });
    env["CALLBACK_MAX_ATTEMPTS"] = "3";
    start();
    const auto id = accept_one();
    ASSERT_TRUE(wait_state(id, "failed"));
    auto s = status_of(id);
    EXPECT_EQ(s.at("callback").as_object().at("attempts").as_int64(), 3);
    EXPECT_EQ(s.at("callback").as_object().at("last_status_code").as_int64(), 500);
    EXPECT_FALSE(s.at("callback").as_object().at("last_error").is_null());
    EXPECT_EQ(receiver_.count(), 3u);

    // Not finished requests cannot be redelivered; unknown ones are 404.
    EXPECT_EQ(http_request("POST", url("/api/v1/charging-session/"
                                       "00000000-0000-4000-8000-000000000000/redeliver"))
                  .status,
              404);

    healthy = true;
    const auto r = http_request("POST", url("/api/v1/charging-session/" + id + "/redeliver"));
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_TRUE(wait_state(id, "delivered"));
    const auto log = receiver_.requests();
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log.back().header("webhook-id"), id);
    const auto first = parse_object(log.front().body);
    const auto last = parse_object(log.back().body);
    EXPECT_EQ(str(first, "status"), str(last, "status"));
    EXPECT_EQ(str(first, "decided_at"), str(last, "decided_at"));
    EXPECT_EQ(status_of(id).at("callback").as_object().at("attempts").as_int64(), 4);
    // A delivered request may be redelivered again.
    EXPECT_EQ(http_request("POST", url("/api/v1/charging-session/" + id + "/redeliver")).status,
              202);
    EXPECT_TRUE(receiver_.wait_for_count(5, std::chrono::seconds(10)));
}

TEST_F(DeliveryTest, RetryAfterIsHonoured) {
    std::atomic<int> calls{0};
    receiver_.set_handler([&](const Recorded&) {
        if (++calls == 1) return Reply{503, "busy", {{"Retry-After", "1"}}};
        return Reply{200, "{}"};
    });
    env["CALLBACK_RETRY_MAX_MS"] = "5000";  // Retry-After is honoured up to the ceiling
    start();
    const auto id = accept_one();
    ASSERT_TRUE(wait_state(id, "delivered"));
    const auto log = receiver_.requests();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_GE(log[1].at - log[0].at, std::chrono::milliseconds(950));
}

TEST_F(DeliveryTest, ParkedRetryIsVisibleInStatus) {
    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    env["CALLBACK_RETRY_BASE_MS"] = "60000";
    env["CALLBACK_RETRY_MAX_MS"] = "60000";
    start();
    const auto id = accept_one();
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    ASSERT_TRUE(wait_state(id, "delivering"));
    bool parked = false;
    for (int i = 0; i < 100 && !parked; ++i) {
        parked = !status_of(id).at("callback").as_object().at("next_attempt_at").is_null();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(parked);
}

}  // namespace
}  // namespace cg::test
