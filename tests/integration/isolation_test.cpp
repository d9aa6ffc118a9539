// Issue 4, receiver isolation: a receiver that times out on every attempt holds at most
// CALLBACK_MAX_PER_HOST delivery slots, so callbacks to healthy receivers are not delayed.
// Issue 13: its waiting deliveries wait in memory; slots go round robin between receivers.
#include <atomic>

#include "service_fixture.hpp"
#include "support/concurrency_meter.hpp"

namespace cg::test {
namespace {

class IsolationTest : public ServiceTest {};

TEST_F(IsolationTest, ADeadReceiverDoesNotDelayHealthyOnes) {
    TestHttpServer dead;
    dead.set_handler([&](const Recorded&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the deadline
        return Reply{200, "{}"};
    });
    env["CALLBACK_TIMEOUT_MS"] = "2000";
    env["CALLBACK_MAX_CONCURRENCY"] = "8";
    env["CALLBACK_MAX_PER_HOST"] = "2";
    env["CALLBACK_RETRY_BASE_MS"] = "100";
    env["CALLBACK_RETRY_MAX_MS"] = "200";
    start();
    allow(kToken);
    // Without isolation these 40 would fill all 8 slots for 2 s at a time: ~10 s of waiting.
    for (int i = 0; i < 40; ++i) ASSERT_EQ(post_session(dead.url()).status, 200);
    ASSERT_TRUE(dead.wait_for_count(2, std::chrono::seconds(5)));

    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> healthy_ids;
    for (int i = 0; i < 20; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200);
        healthy_ids.push_back(str(parse_object(r.body), "request_id"));
    }
    ASSERT_TRUE(receiver_.wait_for_count(20, std::chrono::seconds(10)));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(1500))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    for (const auto& id : healthy_ids) EXPECT_TRUE(wait_state(id, "delivered"));

    // The dead receiver's other deliveries waited for its two slots rather than being
    // attempted: within the 2 s deadline it saw no more than its limit of attempts at a time.
    EXPECT_LE(dead.count(), 4u);
    dead.stop();
}

TEST_F(IsolationTest, ASlowReceiverGetsAtMostItsLimitOfConcurrentAttempts) {
    ConcurrencyMeter meter;
    receiver_.set_handler([&](const Recorded&) {
        const ConcurrencyMeter::Scope in_call(meter);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // slow, within the deadline
        return Reply{200, "{}"};
    });
    env["CALLBACK_TIMEOUT_MS"] = "5000";
    env["CALLBACK_MAX_PER_HOST"] = "3";
    start();
    allow(kToken);
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200);
        ids.push_back(str(parse_object(r.body), "request_id"));
    }
    for (const auto& id : ids) EXPECT_TRUE(wait_state(id, "delivered", std::chrono::seconds(30)));
    EXPECT_LE(meter.max(), 3);
    EXPECT_GE(meter.max(), 2);  // it did run them in parallel
    // Parked deliveries were not counted as attempts: each was delivered at the first one.
    for (const auto& id : ids) {
        const auto o = status_of(id);
        const auto* attempts = o.if_contains("attempts");
        ASSERT_TRUE(attempts && attempts->is_array()) << id;
        EXPECT_EQ(attempts->as_array().size(), 1u) << id;
    }
}

// Issue 13: connections are sized to the receiver's limit. 300 callbacks to a receiver that
// takes 20 ms each arrive over at most CALLBACK_MAX_PER_HOST keep-alive connections, not 300,
// and the adaptive limit does use more than its starting point.
TEST_F(IsolationTest, CallbacksReuseConnectionsSizedToTheReceiversLimit) {
    ConcurrencyMeter meter;
    receiver_.set_handler([&](const Recorded&) {
        const ConcurrencyMeter::Scope in_call(meter);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return Reply{200, "{}"};
    });
    env["CALLBACK_MIN_PER_HOST"] = "2";
    env["CALLBACK_MAX_PER_HOST"] = "8";
    start();
    allow(kToken);
    for (int i = 0; i < 300; ++i) ASSERT_EQ(post_session(receiver_.url()).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(300, std::chrono::seconds(30)));
    EXPECT_LE(receiver_.connections(), 8);
    EXPECT_GE(receiver_.connections(), 1);
    EXPECT_LE(meter.max(), 8);
    EXPECT_GT(meter.max(), 2);  // grew past CALLBACK_MIN_PER_HOST
    // The waiting ones waited in memory: nothing was parked in the store.
    const auto metrics = http_get(url("/metrics")).body;
    EXPECT_NE(metrics.find("\ncallback_deferred_total 0\n"), std::string::npos);
}

// A receiver that answers 429 with Retry-After is paused: nothing more is sent to it until the
// time it asked for, and then every delivery still arrives.
TEST_F(IsolationTest, RetryAfterPausesTheReceiver) {
    std::atomic<int> calls{0};
    receiver_.set_handler([&](const Recorded&) {
        if (calls.fetch_add(1) == 0) return Reply{429, "{}", {{"Retry-After", "2"}}};
        return Reply{200, "{}"};
    });
    env["CALLBACK_MIN_PER_HOST"] = "1";
    env["CALLBACK_MAX_PER_HOST"] = "1";
    env["CALLBACK_RETRY_BASE_MS"] = "100";
    env["CALLBACK_RETRY_MAX_MS"] = "5000";  // a pause is capped at the back-off ceiling
    start();
    allow(kToken);
    ASSERT_EQ(post_session(receiver_.url()).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(5)));
    const auto paused_at = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(post_session(receiver_.url()).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(7, std::chrono::seconds(15)));
    const auto reqs = receiver_.requests();
    // The second request to reach the receiver came after the pause.
    EXPECT_GE(reqs.at(1).at - paused_at, std::chrono::milliseconds(1800));
}

}  // namespace
}  // namespace cg::test
