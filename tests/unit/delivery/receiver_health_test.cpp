#include "delivery/receiver_health.hpp"

#include <gtest/gtest.h>

namespace cg::delivery {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

TEST(ReceiverHealthTest, ListsFailingReceiversWorstFirstUntilTheyRecover) {
    ReceiverHealth h(100, 20, milliseconds(0));
    const auto t = Steady::now();
    h.record("http://a:1", false, 500, "receiver answered 500", 1000);
    h.record("http://b:1", false, 0, "connect_failed", 1001);
    h.record("http://b:1", false, 0, "timeout", 1002);
    h.record("http://c:1", true, 200, "", 1003);
    h.publish_if_due(t);
    auto list = h.snapshot();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(h.failing(), 2u);
    EXPECT_EQ(list[0].receiver, "http://b:1");
    EXPECT_EQ(list[0].consecutive_failures, 2);
    EXPECT_EQ(list[0].last_error, "timeout");
    EXPECT_EQ(list[0].last_failure_at_ms, 1002);
    EXPECT_EQ(list[1].receiver, "http://a:1");
    EXPECT_EQ(list[1].last_status_code, 500);

    h.record("http://b:1", true, 200, "", 1004);
    h.publish_if_due(t + milliseconds(1));
    list = h.snapshot();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].receiver, "http://a:1");
    EXPECT_EQ(h.failing(), 1u);

    // A receiver that fails again keeps its total but restarts its run.
    h.record("http://b:1", false, 503, "receiver answered 503", 1005);
    h.publish_if_due(t + milliseconds(2));
    list = h.snapshot();
    ASSERT_EQ(list.size(), 2u);
    const auto& b = list[0].receiver == "http://b:1" ? list[0] : list[1];
    EXPECT_EQ(b.failures, 3);
    EXPECT_EQ(b.consecutive_failures, 1);
}

TEST(ReceiverHealthTest, PublishesAtMostOncePerInterval) {
    ReceiverHealth h(100, 20, milliseconds(1000));
    const auto t = Steady::now();
    h.record("http://a:1", false, 500, "x", 1);
    h.publish_if_due(t);
    EXPECT_EQ(h.snapshot().size(), 1u);
    h.record("http://b:1", false, 500, "x", 2);
    h.publish_if_due(t + milliseconds(10));
    EXPECT_EQ(h.snapshot().size(), 1u);  // too soon
    h.publish_if_due(t + milliseconds(1000));
    EXPECT_EQ(h.snapshot().size(), 2u);
}

TEST(ReceiverHealthTest, TrackingAndListingAreBounded) {
    ReceiverHealth h(3, 2, milliseconds(0));
    for (int i = 0; i < 10; ++i) {
        h.record("http://r" + std::to_string(i) + ":1", false, 500, "x", i);
    }
    h.publish_if_due(Steady::now());
    EXPECT_EQ(h.failing(), 3u);  // only the first three were tracked
    EXPECT_EQ(h.snapshot().size(), 2u);
    // Once one recovers, room is made for a new one.
    h.record("http://r0:1", true, 200, "", 20);
    h.record("http://new:1", false, 500, "x", 21);
    h.publish_if_due(Steady::now() + milliseconds(1));
    EXPECT_EQ(h.failing(), 3u);  // r1, r2 and the new one
}

ReceiverFlow flow_of(std::string receiver, size_t limit, size_t in_flight, size_t waiting) {
    ReceiverFlow f;
    f.receiver = std::move(receiver);
    f.concurrency_limit = limit;
    f.in_flight = in_flight;
    f.waiting = waiting;
    return f;
}

TEST(ReceiverHealthTest, PublishesTheBusiestFlowsFirstCutToTheListedCount) {
    ReceiverHealth h(100, 2, milliseconds(0));
    int calls = 0;
    h.publish_if_due(Steady::now(), [&] {
        ++calls;
        return std::vector<ReceiverFlow>{
            flow_of("http://quiet:1", 4, 1, 0), flow_of("http://busy:1", 8, 3, 5),
            flow_of("http://b:1", 4, 2, 1), flow_of("http://a:1", 4, 3, 0)};
    });
    EXPECT_EQ(calls, 1);
    const auto flow = h.flow();
    ASSERT_EQ(flow.size(), 2u);                    // max_listed
    EXPECT_EQ(flow[0].receiver, "http://busy:1");  // 3 + 5
    EXPECT_EQ(flow[0].concurrency_limit, 8u);
    EXPECT_EQ(flow[0].in_flight, 3u);
    EXPECT_EQ(flow[0].waiting, 5u);
    EXPECT_EQ(flow[1].receiver, "http://a:1");  // 3 + 0 ties with b's 2 + 1: by name
    // Nothing failed, yet the flows were published.
    EXPECT_TRUE(h.snapshot().empty());
    EXPECT_EQ(h.failing(), 0u);
}

TEST(ReceiverHealthTest, FailingListCarriesTheLimitFromTheFlows) {
    ReceiverHealth h(100, 20, milliseconds(0));
    const auto t = Steady::now();
    h.record("http://slow:1", false, 0, "timeout", 1);
    h.record("http://gone:1", false, 0, "connect_failed", 2);
    h.publish_if_due(t, [] {
        return std::vector<ReceiverFlow>{flow_of("http://slow:1", 3, 3, 2),
                                         flow_of("http://ok:1", 16, 1, 0)};
    });
    const auto list = h.snapshot();
    ASSERT_EQ(list.size(), 2u);
    for (const auto& f : list) {
        if (f.receiver == "http://slow:1") {
            EXPECT_EQ(f.concurrency_limit, 3u);
        } else {
            // No delivery to it is active: no limit.
            EXPECT_EQ(f.receiver, "http://gone:1");
            EXPECT_EQ(f.concurrency_limit, 0u);
        }
    }
    EXPECT_EQ(h.flow().size(), 2u);
}

TEST(ReceiverHealthTest, FlowsAreRefreshedAtMostOncePerInterval) {
    ReceiverHealth h(100, 20, milliseconds(1000));
    const auto t = Steady::now();
    size_t in_flight = 1;
    int calls = 0;
    const auto flows = [&] {
        ++calls;
        return std::vector<ReceiverFlow>{flow_of("http://a:1", 4, in_flight, 0)};
    };
    h.publish_if_due(t, flows);
    in_flight = 4;
    h.publish_if_due(t + milliseconds(10), flows);  // too soon: not even asked
    EXPECT_EQ(calls, 1);
    ASSERT_EQ(h.flow().size(), 1u);
    EXPECT_EQ(h.flow()[0].in_flight, 1u);
    h.publish_if_due(t + milliseconds(1000), flows);
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(h.flow()[0].in_flight, 4u);
    // A receiver whose deliveries all ended leaves the list.
    h.publish_if_due(t + milliseconds(2000), [] { return std::vector<ReceiverFlow>{}; });
    EXPECT_TRUE(h.flow().empty());
}

}  // namespace
}  // namespace cg::delivery
