// A receiver that answers every callback well within the deadline, but more slowly than the
// callbacks arrive: more attempts to its host are in flight than CALLBACK_MAX_PER_HOST allows
// connections. Each attempt's CALLBACK_TIMEOUT_MS must count from when it is sent, not from
// when it started waiting for a connection. (Found by the kill -9 chaos test under
// ThreadSanitizer: queued attempts timed out unsent, or after the receiver had answered 2xx,
// were retried as duplicates and dead-lettered.)
#include <iostream>

#include "chaos/chaos_support.hpp"
#include "integration/service_fixture.hpp"

namespace cg::test {
namespace {

using namespace std::chrono_literals;

class SlowReceiverTest : public ServiceTest {};

TEST_F(SlowReceiverTest, AttemptDeadlineExcludesTimeQueuedForAConnection) {
    constexpr int kRequests = 40;
    // Every answer takes 250 ms, a quarter of the deadline; 2 connections serve 8 answers/s,
    // so the 40 callbacks need about 5 s in all.
    receiver_.set_handler([](const Recorded&) { return Reply{200, "{}", {}, 250ms}; });
    env["CALLBACK_MAX_PER_HOST"] = "2";
    env["CALLBACK_TIMEOUT_MS"] = "1000";
    env["CALLBACK_RETRY_BASE_MS"] = "100";
    env["CALLBACK_RETRY_MAX_MS"] = "1000";
    env["CALLBACK_MAX_ATTEMPTS"] = "3";
    start();
    allow(kToken);
    std::vector<std::string> ids;
    for (int i = 0; i < kRequests; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200) << r.body;
        ids.push_back(str(parse_object(r.body), "request_id"));
    }
    size_t delivered = 0;
    size_t failed = 0;
    size_t timeouts = 0;
    for (const auto& id : ids) {
        const auto end = std::chrono::steady_clock::now() + 30s;
        std::string state = str(status_of(id), "state");
        while (state != "delivered" && state != "failed" &&
               std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(50ms);
            state = str(status_of(id), "state");
        }
        ASSERT_TRUE(state == "delivered" || state == "failed") << id << " is " << state;
        const auto s = status_of(id);
        (str(s, "state") == "delivered" ? delivered : failed) += 1;
        for (const auto& a : s.at("attempts").as_array()) {
            const auto& e = a.as_object().at("error");
            if (e.is_string() && std::string(e.as_string()).find("imeout") != std::string::npos) {
                ++timeouts;
            }
        }
    }
    std::set<std::string> seen;
    for (const auto& r : receiver_.requests()) seen.insert(r.header("webhook-id"));
    const size_t duplicates = receiver_.count() - seen.size();
    std::cout << "[ slow receiver ] requests=" << kRequests << " delivered=" << delivered
              << " failed=" << failed << " timed_out_attempts=" << timeouts
              << " receiver_requests=" << receiver_.count() << " duplicates=" << duplicates << "\n";
    // The receiver answers every request in 250 ms: no attempt may time out.
    EXPECT_EQ(timeouts, 0u);
    EXPECT_EQ(failed, 0u);
    EXPECT_EQ(duplicates, 0u);
}

}  // namespace
}  // namespace cg::test
