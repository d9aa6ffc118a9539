// docs/api.md §1: Idempotency-Key.
#include <future>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

class IdempotencyTest : public ServiceTest {};

TEST_F(IdempotencyTest, SameKeySameBodyReturnsTheSameRequestAndOneCallback) {
    start();
    const auto a = post_session(receiver_.url(), {{"Idempotency-Key", "order-42"}});
    const auto b = post_session(receiver_.url(), {{"Idempotency-Key", "order-42"}});
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.header("location"), b.header("location"));
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(receiver_.count(), 1u);
}

TEST_F(IdempotencyTest, SameKeyDifferentBodyIs422) {
    start();
    ASSERT_EQ(post_session(receiver_.url(), {{"Idempotency-Key", "k-1"}}).status, 200);
    const auto r = post_session(receiver_.url("/other"), {{"Idempotency-Key", "k-1"}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
}

TEST_F(IdempotencyTest, InvalidKeyIs400) {
    start();
    const auto r = post_session(receiver_.url(), {{"Idempotency-Key", std::string(256, 'k')}});
    EXPECT_EQ(r.status, 400);
}

TEST_F(IdempotencyTest, ConcurrentUseNeverCreatesTwoRequests) {
    start();
    std::vector<std::future<HttpResult>> results;
    for (int i = 0; i < 8; ++i) {
        results.push_back(std::async(std::launch::async, [&] {
            return post_session(receiver_.url(), {{"Idempotency-Key", "race"}});
        }));
    }
    std::set<std::string> ids;
    int ok = 0;
    for (auto& f : results) {
        const auto r = f.get();
        if (r.status == 200) {
            ++ok;
            ids.insert(str(parse_object(r.body), "request_id"));
        } else {
            EXPECT_EQ(r.status, 409) << r.body;
        }
    }
    EXPECT_GE(ok, 1);
    EXPECT_EQ(ids.size(), 1u);
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(receiver_.count(), 1u);
}

TEST_F(IdempotencyTest, KeysSurviveARestart) {
    start();
    const auto a = post_session(receiver_.url(), {{"Idempotency-Key", "durable"}});
    ASSERT_EQ(a.status, 200);
    service_->terminate();
    ASSERT_EQ(service_->wait_exit(), 0);
    start();
    const auto b = post_session(receiver_.url(), {{"Idempotency-Key", "durable"}});
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(a.body, b.body);
}

}  // namespace
}  // namespace cg::test
