// One test per rule of decide_attempt() (src/delivery/retry_decision.hpp).
#include "delivery/retry_decision.hpp"

#include <gtest/gtest.h>

namespace cg::delivery {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

net::HttpResponse answer(int status, std::optional<int64_t> retry_after_ms = std::nullopt) {
    net::HttpResponse r;
    r.status = status;
    r.retry_after_ms = retry_after_ms;
    return r;
}

net::HttpResponse failure(net::HttpError e, std::string message = "detail") {
    net::HttpResponse r;
    r.error = e;
    r.error_message = std::move(message);
    return r;
}

class RetryDecision : public ::testing::Test {
  protected:
    AttemptVerdict decide(const net::HttpResponse& r, int round_no = 1) {
        return decide_attempt(r, round_no, policy, kNow, rng);
    }
    RetryPolicy policy{5, BackoffPolicy{1000, 60000}};
    SeededRandom rng{1};
};

TEST_F(RetryDecision, AnyTwoHundredIsDelivered) {
    for (const int s : {200, 201, 202, 204, 299}) {
        const auto v = decide(answer(s));
        EXPECT_EQ(v.verdict, Verdict::kDelivered) << s;
        EXPECT_EQ(v.result, "delivered");
        EXPECT_TRUE(v.error.empty());
        EXPECT_FALSE(v.overload);
    }
}

TEST_F(RetryDecision, GoneStopsAtOnceEvenOnTheFirstAttempt) {
    const auto v = decide(answer(410), 1);
    EXPECT_EQ(v.verdict, Verdict::kDeadLetter);
    EXPECT_EQ(v.result, "gone");
    EXPECT_EQ(v.error, "receiver answered 410 Gone");
    EXPECT_FALSE(v.overload);
}

TEST_F(RetryDecision, ARefusedAddressStopsAtOnce) {
    const auto v = decide(failure(net::HttpError::kBlockedAddress), 1);
    EXPECT_EQ(v.verdict, Verdict::kDeadLetter);
    EXPECT_EQ(v.result, "blocked");
    EXPECT_EQ(v.error, "callback address not allowed");
}

TEST_F(RetryDecision, OtherAnswersAndErrorsRetryAfterTheBackOff) {
    for (const auto& r : {answer(500), answer(400), answer(404), answer(301),
                          failure(net::HttpError::kTimeout), failure(net::HttpError::kConnect),
                          failure(net::HttpError::kDns), failure(net::HttpError::kTls)}) {
        const auto v = decide(r, 3);
        EXPECT_EQ(v.verdict, Verdict::kRetry) << describe_failure(r);
        EXPECT_EQ(v.result, "retry");
        // Attempt 3: nominal 4 s, jittered into [2 s, 4 s).
        EXPECT_GE(v.next_attempt_at_ms, kNow + 2000);
        EXPECT_LT(v.next_attempt_at_ms, kNow + 4000);
        EXPECT_EQ(v.pause_until_ms, 0);
        EXPECT_FALSE(v.error.empty());
    }
}

TEST_F(RetryDecision, TheLastAttemptOfTheRoundIsDeadLettered) {
    const auto before = decide(answer(500), 4);
    EXPECT_EQ(before.verdict, Verdict::kRetry);
    const auto last = decide(answer(500), 5);
    EXPECT_EQ(last.verdict, Verdict::kDeadLetter);
    EXPECT_EQ(last.result, "failed");
    EXPECT_EQ(last.error, "receiver answered 500");
}

TEST_F(RetryDecision, RetryAfterOn429Or503SetsTheEarliestRetryAndPausesTheReceiver) {
    for (const int s : {429, 503}) {
        const auto v = decide(answer(s, 30'000), 1);
        EXPECT_EQ(v.verdict, Verdict::kRetry) << s;
        EXPECT_GE(v.next_attempt_at_ms, kNow + 30'000);
        EXPECT_EQ(v.pause_until_ms, kNow + 30'000);
        EXPECT_TRUE(v.overload);
    }
}

TEST_F(RetryDecision, RetryAfterIsCappedAtTheBackOffCeiling) {
    const auto v = decide(answer(503, 3'600'000), 1);
    EXPECT_EQ(v.verdict, Verdict::kRetry);
    EXPECT_LE(v.next_attempt_at_ms, kNow + 60'000);
    EXPECT_EQ(v.pause_until_ms, kNow + 60'000);
}

TEST_F(RetryDecision, RetryAfterOnOtherStatusesIsIgnored) {
    const auto v = decide(answer(500, 30'000), 1);
    EXPECT_EQ(v.verdict, Verdict::kRetry);
    EXPECT_LT(v.next_attempt_at_ms, kNow + 1000);  // attempt 1: [0.5 s, 1 s)
    EXPECT_EQ(v.pause_until_ms, 0);
}

TEST_F(RetryDecision, A429WithoutRetryAfterRetriesOnTheScheduleWithoutAPause) {
    const auto v = decide(answer(429), 1);
    EXPECT_EQ(v.verdict, Verdict::kRetry);
    EXPECT_LT(v.next_attempt_at_ms, kNow + 1000);
    EXPECT_EQ(v.pause_until_ms, 0);
    EXPECT_TRUE(v.overload);
}

TEST_F(RetryDecision, OnlyLoadSignalsCountAsOverload) {
    for (const auto& r : {failure(net::HttpError::kTimeout), failure(net::HttpError::kConnect),
                          answer(429), answer(502), answer(503), answer(504)}) {
        EXPECT_TRUE(decide(r).overload) << describe_failure(r);
    }
    for (const auto& r :
         {answer(400), answer(404), answer(500), answer(410), failure(net::HttpError::kDns),
          failure(net::HttpError::kTls), failure(net::HttpError::kProtocol)}) {
        EXPECT_FALSE(decide(r).overload) << describe_failure(r);
    }
}

TEST_F(RetryDecision, TheErrorNamesTheFailureAndItsDetail) {
    EXPECT_EQ(describe_failure(answer(502)), "receiver answered 502");
    EXPECT_EQ(describe_failure(failure(net::HttpError::kTimeout, "after 10000 ms")),
              "timeout: after 10000 ms");
    EXPECT_EQ(describe_failure(failure(net::HttpError::kConnect, "")), "connect_failed");
}

}  // namespace
}  // namespace cg::delivery
