// Issue 4, back-pressure: bounded undelivered work (503 + Retry-After), connection limits in
// total and per client, and slow or idle clients cut off so they cannot starve the others.

#include <atomic>

#include "service_fixture.hpp"
#include "support/eventually.hpp"
#include "support/raw_connection.hpp"

namespace cg::test {
namespace {

class BackpressureTest : public ServiceTest {
  protected:
    // Opens `n` connections the service has admitted. The start-up readiness probes' connections
    // are released by the service only once it has seen them close, so a slot may still be taken
    // for a moment: a refused connection is dropped and opened again (bounded).
    std::vector<std::unique_ptr<RawConnection>> hold(int n, const char* source = nullptr) {
        std::vector<std::unique_ptr<RawConnection>> held;
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (static_cast<int>(held.size()) < n && std::chrono::steady_clock::now() < end) {
            auto c = std::make_unique<RawConnection>(port_, source);
            if (c->connected() && c->admitted()) {
                held.push_back(std::move(c));
            } else {
                if (c->received().starts_with("HTTP/1.1 503")) ++refused_by_hold_;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        return held;
    }
    int refused_by_hold_ = 0;  // connections hold() saw refused (the service counts them)
};

TEST_F(BackpressureTest, OneClientCannotTakeEveryConnection) {
    env["MAX_CONNECTIONS_PER_CLIENT"] = "4";
    start();
    auto held = hold(4, "127.0.0.1");
    ASSERT_EQ(held.size(), 4u);
    RawConnection fifth(port_, "127.0.0.1");
    const auto answer = fifth.read_all(std::chrono::seconds(3));
    const bool closed = fifth.closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
    EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
    EXPECT_NE(answer.find(R"({"status":"error","message":"Too many connections."})"),
              std::string::npos);
    EXPECT_TRUE(closed);

    // Another client address is served meanwhile.
    RawConnection other(port_, "127.0.0.2");
    ASSERT_TRUE(other.connected());
    ASSERT_TRUE(other.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    EXPECT_TRUE(other.read_all(std::chrono::seconds(3)).starts_with("HTTP/1.1 200"));

    // A freed slot is usable again, once the service has seen the close. A connection refused
    // before that is counted (by the service too) and opened again.
    int refused = refused_by_hold_ + 1;  // and the fifth
    held.pop_back();
    std::string again;
    EXPECT_TRUE(eventually(
        [&] {
            RawConnection c(port_, "127.0.0.1");
            if (!c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) {
                return false;
            }
            again = c.read_all(std::chrono::seconds(3));
            if (again.starts_with("HTTP/1.1 503")) ++refused;
            return again.starts_with("HTTP/1.1 200");
        },
        std::chrono::seconds(10), std::chrono::milliseconds(20)))
        << again;

    // Free this client's slots first: the metrics request comes from 127.0.0.1 too.
    held.clear();
    HttpResult metrics;
    EXPECT_TRUE(eventually(
        [&] {
            metrics = http_get(url("/metrics"));
            if (metrics.status == 503) ++refused;
            return metrics.status == 200;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(20)))
        << metrics.status << " " << metrics.body;
    EXPECT_NE(metrics.body.find(R"(http_connections_refused_total{reason="per_client"} )" +
                                std::to_string(refused) + "\n"),
              std::string::npos)
        << refused << " refused\n"
        << metrics.body;
}

TEST_F(BackpressureTest, TotalConnectionLimitAnswers503) {
    env["MAX_CONNECTIONS"] = "3";
    env["MAX_CONNECTIONS_PER_CLIENT"] = "0";
    start();
    const auto held = hold(3);
    ASSERT_EQ(held.size(), 3u);
    RawConnection fourth(port_, "127.0.0.3");
    const auto answer = fourth.read_all(std::chrono::seconds(3));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
}

TEST_F(BackpressureTest, SlowClientIsCutOffWhileOthersAreServed) {
    env["HTTP_REQUEST_TIMEOUT_MS"] = "1000";
    start();
    RawConnection slow(port_);
    ASSERT_TRUE(slow.send("POST /api/v1/charging-session HTTP/1.1\r\n"));
    const auto t0 = std::chrono::steady_clock::now();
    bool cut = false;
    const std::string header = "Content-Type: application/json\r\nX-Padding: abcdefghijklmnop\r\n";
    for (char c : header) {
        // One byte every 100 ms: the header would take ~6 s to arrive.
        if (!slow.send(std::string_view(&c, 1))) {
            cut = true;
            break;
        }
        slow.read_all(std::chrono::milliseconds(100));
        if (slow.closed()) {
            cut = true;
            break;
        }
        // Meanwhile an ordinary request is answered at once.
        if (c == ':') {
            EXPECT_EQ(http_get(url("/health/live")).status, 200);
        }
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(cut);
    EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(BackpressureTest, OversizedHeadersAre431AndTheConnectionIsClosed) {
    start();
    RawConnection c(port_);
    const std::string big(9000, 'a');
    ASSERT_TRUE(c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"));
    const auto answer = c.read_all(std::chrono::seconds(3));
    const bool closed = c.closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer;
    EXPECT_TRUE(closed);
}

TEST_F(BackpressureTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
    env["HTTP_IDLE_TIMEOUT_MS"] = "500";
    start();
    RawConnection idle(port_);
    idle.read_all(std::chrono::seconds(3));
    EXPECT_TRUE(idle.closed());
}

TEST_F(BackpressureTest, UndeliveredWorkIsBoundedWith503AndRetryAfter) {
    std::atomic<bool> receiver_up{false};
    receiver_.set_handler([&](const Recorded&) {
        return receiver_up.load() ? Reply{200, "{}"} : Reply{500, "down"};
    });
    env["MAX_QUEUE_DEPTH"] = "3";
    env["CALLBACK_RETRY_BASE_MS"] = "200";
    env["CALLBACK_RETRY_MAX_MS"] = "200";
    start();
    allow(kToken);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200) << r.body;
        ids.push_back(str(parse_object(r.body), "request_id"));
    }
    // All three wait for the receiver: the fourth is refused, not queued.
    ASSERT_TRUE(receiver_.wait_for_count(3, std::chrono::seconds(10)));
    const auto refused = post_session(receiver_.url());
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(refused.header("retry-after"), "1");
    EXPECT_EQ(str(parse_object(refused.body), "status"), "error");

    receiver_up = true;
    for (const auto& id : ids) EXPECT_TRUE(wait_state(id, "delivered")) << id;
    EXPECT_EQ(post_session(receiver_.url()).status, 200);  // room again
}

}  // namespace
}  // namespace cg::test
