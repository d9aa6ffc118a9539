// The delivery state machine: decisions, attempts (retry, delivered, failed), the attempt log,
// redelivery and crash recovery.
#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

AttemptRecord retry(int64_t seq, int no, int64_t started, int64_t next, int status = 500) {
    return {seq,
            no,
            started,
            12,
            status,
            "receiver answered " + std::to_string(status),
            AttemptOutcome::kRetry,
            next};
}

AttemptRecord delivered(int64_t seq, int no, int64_t started, int64_t duration = 7) {
    return {seq, no, started, duration, 200, "", AttemptOutcome::kDelivered, 0};
}

AttemptRecord failed(int64_t seq, int no, int64_t started) {
    return {seq, no, started, 30, 0, "connection refused", AttemptOutcome::kFailed, 0};
}

TEST_F(StoreTest, DecisionMovesTheRequestToDelivering) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq, DecisionStatus::kNotAllowed, "acl_blocked"));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kDelivering);
    ASSERT_TRUE(v->decision);
    EXPECT_EQ(v->decision->status, DecisionStatus::kNotAllowed);
    EXPECT_EQ(v->decision->reason, "acl_blocked");
    EXPECT_EQ(v->decision->decided_at_ms, 2000);
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_EQ(s->counters().queued, 0);
    EXPECT_EQ(s->counters().delivering, 1);
    // Resident in the delivery engine: no poller picks it up.
    EXPECT_TRUE(reader->load_due(1'000'000, 10).empty());
    EXPECT_FALSE(reader->next_due_at());
    EXPECT_TRUE(reader->load_queued(0, 10).empty());
}

TEST_F(StoreTest, ASecondDecisionChangesNothing) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq, DecisionStatus::kAllowed, "acl_allowed"));
    ASSERT_TRUE(decide(*s, seq, DecisionStatus::kNotAllowed, "acl_blocked"));
    const auto v = s->open_reader()->find_request("id-1");
    EXPECT_EQ(v->decision->reason, "acl_allowed");
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_EQ(s->counters().queued, 0);
}

TEST_F(StoreTest, ManyDecisionsInOneCall) {
    auto s = open();
    std::vector<DecisionRecord> decisions;
    for (int i = 0; i < 5; ++i) {
        decisions.push_back({stored(*s, "id-" + std::to_string(i)),
                             Decision{DecisionStatus::kUnknown, "authorizer_timeout", 3000}});
    }
    Waiter<bool> w;
    s->record_decisions(std::move(decisions), w.cb());
    ASSERT_TRUE(w.get());
    EXPECT_EQ(s->counters().queued, 0);
    EXPECT_EQ(s->counters().delivering, 5);
    const auto v = s->open_reader()->find_request("id-3");
    EXPECT_EQ(v->decision->status, DecisionStatus::kUnknown);
}

TEST_F(StoreTest, RetryParksTheDeliveryUntilDue) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 5000)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kDelivering);
    EXPECT_EQ(v->attempts, 1);
    EXPECT_EQ(v->last_status_code, 500);
    EXPECT_EQ(v->last_error, "receiver answered 500");
    EXPECT_EQ(v->next_attempt_at_ms, 5000);
    EXPECT_FALSE(v->delivered_at_ms);
    EXPECT_EQ(s->counters().delivering, 1);

    EXPECT_TRUE(reader->load_due(4999, 10).empty());
    EXPECT_EQ(reader->next_due_at(), 5000);
    const auto due = reader->load_due(5000, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, seq);
    EXPECT_EQ(due[0].id, "id-1");
    EXPECT_EQ(due[0].station_id, kStation);
    EXPECT_EQ(due[0].driver_token, kToken);
    EXPECT_EQ(due[0].callback_url, "https://client.app/cb");
    EXPECT_EQ(due[0].traceparent, make_request("x").traceparent);
    EXPECT_EQ(due[0].decision.status, DecisionStatus::kAllowed);
    EXPECT_EQ(due[0].decision.reason, "acl_allowed");
    EXPECT_EQ(due[0].decision.decided_at_ms, 2000);
    EXPECT_EQ(due[0].attempts, 1);
    EXPECT_EQ(due[0].round_attempts, 1);
}

TEST_F(StoreTest, DueDeliveriesComeEarliestFirst) {
    auto s = open();
    const auto a = stored(*s, "id-a");
    const auto b = stored(*s, "id-b");
    const auto c = stored(*s, "id-c");
    for (auto seq : {a, b, c}) ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(a, 1, 3000, 9000)));
    ASSERT_TRUE(attempt(*s, retry(b, 1, 3000, 7000)));
    ASSERT_TRUE(attempt(*s, retry(c, 1, 3000, 8000)));
    auto reader = s->open_reader();
    EXPECT_EQ(reader->next_due_at(), 7000);
    const auto due = reader->load_due(8500, 10);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].seq, b);
    EXPECT_EQ(due[1].seq, c);
    const auto all = reader->load_due(10'000, 10);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[2].seq, a);
    const auto page = reader->load_due(10'000, 1);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].seq, b);
}

TEST_F(StoreTest, DeliveredIsFinal) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 5000)));
    ASSERT_TRUE(attempt(*s, delivered(seq, 2, 5000, 7)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kDelivered);
    EXPECT_EQ(v->delivered_at_ms, 5007);
    EXPECT_EQ(v->attempts, 2);
    EXPECT_EQ(v->last_status_code, 200);
    EXPECT_FALSE(v->last_error);
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_TRUE(reader->load_due(1'000'000, 10).empty());
    EXPECT_FALSE(reader->next_due_at());
    EXPECT_EQ(s->counters().delivering, 0);
}

TEST_F(StoreTest, FailedIsFinal) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, failed(seq, 1, 3000)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kFailed);
    EXPECT_EQ(v->attempts, 1);
    EXPECT_FALSE(v->last_status_code);  // no HTTP answer
    EXPECT_EQ(v->last_error, "connection refused");
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_FALSE(v->delivered_at_ms);
    EXPECT_TRUE(reader->load_due(1'000'000, 10).empty());
    EXPECT_EQ(s->counters().delivering, 0);
}

TEST_F(StoreTest, AttemptLogKeepsEveryAttemptOldestFirst) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 4000, 503)));
    ASSERT_TRUE(attempt(*s, {seq, 2, 4000, 10'000, 0, "timeout", AttemptOutcome::kRetry, 20'000}));
    ASSERT_TRUE(attempt(*s, delivered(seq, 3, 20'000, 9)));
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_EQ(v->attempt_log.size(), 3u);
    EXPECT_EQ(v->attempt_log[0].attempt_no, 1);
    EXPECT_EQ(v->attempt_log[0].started_at_ms, 3000);
    EXPECT_EQ(v->attempt_log[0].duration_ms, 12);
    EXPECT_EQ(v->attempt_log[0].http_status, 503);
    EXPECT_EQ(v->attempt_log[0].error, "receiver answered 503");
    EXPECT_EQ(v->attempt_log[1].attempt_no, 2);
    EXPECT_EQ(v->attempt_log[1].http_status, 0);
    EXPECT_EQ(v->attempt_log[1].error, "timeout");
    EXPECT_EQ(v->attempt_log[1].duration_ms, 10'000);
    EXPECT_EQ(v->attempt_log[2].attempt_no, 3);
    EXPECT_EQ(v->attempt_log[2].http_status, 200);
    EXPECT_EQ(v->attempt_log[2].error, "");
}

TEST_F(StoreTest, AttemptLogShowsTheLastHundred) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    std::vector<AttemptRecord> attempts;
    for (int no = 1; no <= 120; ++no) attempts.push_back(retry(seq, no, 3000 + no, 9000));
    Waiter<bool> w;
    s->record_attempts(std::move(attempts), w.cb());
    ASSERT_TRUE(w.get());
    const auto v = s->open_reader()->find_request("id-1");
    EXPECT_EQ(v->attempts, 120);
    ASSERT_EQ(v->attempt_log.size(), 100u);
    EXPECT_EQ(v->attempt_log.front().attempt_no, 21);
    EXPECT_EQ(v->attempt_log.back().attempt_no, 120);
}

TEST_F(StoreTest, RedeliverAFailedRequestParksItAsDueNow) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 4000)));
    ASSERT_TRUE(attempt(*s, failed(seq, 2, 4000)));
    ASSERT_EQ(s->counters().delivering, 0);

    EXPECT_EQ(redeliver(*s, "id-1", 9000), RedeliverStatus::kScheduled);
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kDelivering);
    EXPECT_EQ(v->next_attempt_at_ms, 9000);
    EXPECT_EQ(v->attempts, 2);  // the life-long count is kept
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_TRUE(reader->load_due(8999, 10).empty());
    const auto due = reader->load_due(9000, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, seq);
    EXPECT_EQ(due[0].attempts, 2);
    EXPECT_EQ(due[0].round_attempts, 0);  // a new round

    // The new round runs like the first: attempt 3 delivers.
    ASSERT_TRUE(attempt(*s, delivered(seq, 3, 9000)));
    EXPECT_EQ(reader->find_request("id-1")->state, RequestState::kDelivered);
    EXPECT_EQ(s->counters().delivering, 0);
}

TEST_F(StoreTest, RedeliverADeliveredRequest) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, delivered(seq, 1, 3000)));
    EXPECT_EQ(redeliver(*s, "id-1", 9000), RedeliverStatus::kScheduled);
    EXPECT_EQ(s->open_reader()->load_due(9000, 10).size(), 1u);
    // A new round has not delivered yet: the status shows no delivery time until it does.
    EXPECT_FALSE(s->open_reader()->find_request("id-1")->delivered_at_ms);
    // Now delivering again: not finished.
    EXPECT_EQ(redeliver(*s, "id-1", 9000), RedeliverStatus::kNotFinished);
}

TEST_F(StoreTest, RedeliverRefusesUnfinishedAndUnknownRequests) {
    auto s = open();
    const auto queued = stored(*s, "id-queued");
    (void)queued;
    const auto seq = stored(*s, "id-delivering");
    ASSERT_TRUE(decide(*s, seq));
    EXPECT_EQ(redeliver(*s, "id-queued", 9000), RedeliverStatus::kNotFinished);
    EXPECT_EQ(redeliver(*s, "id-delivering", 9000), RedeliverStatus::kNotFinished);
    EXPECT_EQ(redeliver(*s, "nope", 9000), RedeliverStatus::kNotFound);
    EXPECT_EQ(s->counters().queued, 1);
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_TRUE(s->open_reader()->load_due(1'000'000, 10).empty());
}

TEST_F(StoreTest, RecoveryParksResidentDeliveriesAndKeepsParkedTimes) {
    int64_t resident = 0;
    int64_t parked = 0;
    int64_t queued = 0;
    {
        auto s = open();
        resident = stored(*s, "id-resident");
        parked = stored(*s, "id-parked");
        queued = stored(*s, "id-queued");
        ASSERT_TRUE(decide(*s, resident));
        ASSERT_TRUE(decide(*s, parked));
        ASSERT_TRUE(attempt(*s, retry(parked, 1, 3000, 50'000)));
        s->close();  // the process "dies" with id-resident in flight
    }
    auto s = open();
    s->recover_in_flight(7000);
    auto reader = s->open_reader();
    const auto due = reader->load_due(7000, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, resident);
    EXPECT_EQ(reader->find_request("id-parked")->next_attempt_at_ms, 50'000);
    EXPECT_EQ(reader->find_request("id-queued")->state, RequestState::kQueued);
    EXPECT_EQ(reader->load_queued(0, 10).size(), 1u);
    EXPECT_EQ(reader->load_queued(0, 10)[0].seq, queued);
    EXPECT_EQ(s->counters().delivering, 2);
    // Nothing is resident any more: a second recovery changes nothing.
    s->recover_in_flight(8000);
    EXPECT_EQ(reader->find_request("id-resident")->next_attempt_at_ms, 7000);
}

}  // namespace
}  // namespace cg::store::sqlite::test
