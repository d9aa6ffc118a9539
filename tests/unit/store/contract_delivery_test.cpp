// Store conformance, the delivery state machine: decisions, attempts (retry, delivered,
// failed), the attempt log, parking and due reads, dead letters, redelivery and crash recovery.
// Run against every backend.
#include <algorithm>

#include "store_fixture.hpp"

namespace cg::store::test {
namespace {

template <typename S>
class DeliveryContract : public StoreContract<S> {};
TYPED_TEST_SUITE(DeliveryContract, Backends);

TYPED_TEST(DeliveryContract, DecisionMovesTheRequestToDelivering) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    const auto r =
        decide_checked(*s, {{seq, Decision{DecisionStatus::kNotAllowed, "acl_blocked", 2000}}});
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.superseded.empty());
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kDelivering);
    ASSERT_TRUE(v->decision);
    EXPECT_EQ(v->decision->status, DecisionStatus::kNotAllowed);
    EXPECT_EQ(v->decision->reason, "acl_blocked");
    EXPECT_EQ(v->decision->decided_at_ms, 2000);
    EXPECT_EQ(s->counters().queued, 0);
    EXPECT_EQ(s->counters().delivering, 1);
    // Resident in the deciding process's delivery engine: no due read returns it.
    EXPECT_TRUE(take_due(*s).empty());
    if constexpr (TestFixture::kShared) {
        // Resident under a lease: due once the lease ran out (should this process die).
        const auto due_at = reader->next_due_at();
        ASSERT_TRUE(due_at);
        EXPECT_GT(*due_at, now_ms());
    } else {
        EXPECT_FALSE(reader->next_due_at());
        EXPECT_FALSE(v->next_attempt_at_ms);
    }
    EXPECT_TRUE(reader->load_queued(0, 10).empty());
    EXPECT_FALSE(reader->oldest_queued_at());
}

TYPED_TEST(DeliveryContract, ASecondDecisionChangesNothing) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq, DecisionStatus::kAllowed, "acl_allowed"));
    ASSERT_TRUE(decide(*s, seq, DecisionStatus::kNotAllowed, "acl_blocked"));
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->decision->reason, "acl_allowed");
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_EQ(s->counters().queued, 0);
}

TYPED_TEST(DeliveryContract, ManyDecisionsInOneCall) {
    auto s = this->open();
    std::vector<DecisionRecord> decisions;
    for (int i = 0; i < 5; ++i) {
        decisions.push_back({stored(*s, "id-" + std::to_string(i)),
                             Decision{DecisionStatus::kUnknown, "authorizer_timeout", 3000}});
    }
    ASSERT_TRUE(decide_many(*s, std::move(decisions)));
    EXPECT_EQ(s->counters().queued, 0);
    EXPECT_EQ(s->counters().delivering, 5);
    const auto v = s->open_reader()->find_request("id-3");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->decision->status, DecisionStatus::kUnknown);
    EXPECT_EQ(v->decision->reason, "authorizer_timeout");
}

TYPED_TEST(DeliveryContract, RetryParksTheDeliveryUntilItsTime) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*s, retry(seq, 1, t, t + kHourMs)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kDelivering);
    EXPECT_EQ(v->attempts, 1);
    EXPECT_EQ(v->last_status_code, 500);
    EXPECT_EQ(v->last_error, "receiver answered 500");
    EXPECT_EQ(v->next_attempt_at_ms, t + kHourMs);
    EXPECT_FALSE(v->delivered_at_ms);
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_TRUE(take_due(*s).empty());
    EXPECT_EQ(reader->next_due_at(), t + kHourMs);
}

TYPED_TEST(DeliveryContract, ADeliveryWhoseTimeCameIsDueWithEverythingToSendIt) {
    auto s = this->open();
    NewRequest req = make_request("id-1");
    req.client_id = "client-7";
    const auto a = accept(*s, std::move(req));
    ASSERT_EQ(a.status, AcceptStatus::kStored);
    const auto seq = a.seq;
    ASSERT_TRUE(decide(*s, seq));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*s, retry(seq, 1, t - 5000, t - 1000)));
    auto reader = s->open_reader();
    EXPECT_EQ(reader->next_due_at(), t - 1000);
    const auto due = take_due(*s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, seq);
    EXPECT_EQ(due[0].id, "id-1");
    EXPECT_EQ(due[0].station_id, kStation);
    EXPECT_EQ(due[0].driver_token, kToken);
    EXPECT_EQ(due[0].callback_url, "https://client.app/cb");
    EXPECT_EQ(due[0].traceparent, kTraceparent);
    EXPECT_EQ(due[0].client_id, "client-7");
    EXPECT_EQ(due[0].created_at_ms, 1000);
    EXPECT_EQ(due[0].decision.status, DecisionStatus::kAllowed);
    EXPECT_EQ(due[0].decision.reason, "acl_allowed");
    EXPECT_EQ(due[0].decision.decided_at_ms, 2000);
    EXPECT_EQ(due[0].attempts, 1);
    EXPECT_EQ(due[0].round_attempts, 1);
}

TYPED_TEST(DeliveryContract, DueDeliveriesComeEarliestFirstUpToTheLimit) {
    auto s = this->open();
    const auto a = stored(*s, "id-a");
    const auto b = stored(*s, "id-b");
    const auto c = stored(*s, "id-c");
    const auto later = stored(*s, "id-later");
    for (const auto seq : {a, b, c, later}) ASSERT_TRUE(decide(*s, seq));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*s, retry(a, 1, t - 9000, t - 1000)));
    ASSERT_TRUE(attempt(*s, retry(b, 1, t - 9000, t - 3000)));
    ASSERT_TRUE(attempt(*s, retry(c, 1, t - 9000, t - 2000)));
    ASSERT_TRUE(attempt(*s, retry(later, 1, t - 9000, t + kHourMs)));
    auto reader = s->open_reader();
    EXPECT_EQ(reader->next_due_at(), t - 3000);
    EXPECT_TRUE(take_due(*s, 0).empty());
    EXPECT_EQ(seqs_of(take_due(*s, 2)), (std::vector<int64_t>{b, c}));
    const auto rest = seqs_of(take_due(*s, 10));
    if constexpr (TestFixture::kShared) {
        // What a due read returned is leased to this process: not returned again.
        EXPECT_EQ(rest, (std::vector<int64_t>{a}));
    } else {
        EXPECT_EQ(rest, (std::vector<int64_t>{b, c, a}));
    }
}

TYPED_TEST(DeliveryContract, DeferParksAResidentDeliveryWithoutAnAttempt) {
    auto s = this->open();
    const auto a = stored(*s, "id-a");
    const auto b = stored(*s, "id-b");
    const auto queued = stored(*s, "id-queued");
    ASSERT_TRUE(decide(*s, a));
    ASSERT_TRUE(decide(*s, b));
    const int64_t t = now_ms();
    ASSERT_TRUE(defer(*s, {{a, t + kHourMs}, {b, t - 500}, {queued, t - 500}}));
    auto reader = s->open_reader();
    const auto va = reader->find_request("id-a");
    ASSERT_TRUE(va);
    EXPECT_EQ(va->state, RequestState::kDelivering);
    EXPECT_EQ(va->next_attempt_at_ms, t + kHourMs);
    EXPECT_EQ(va->attempts, 0);
    EXPECT_TRUE(va->attempt_log.empty());
    EXPECT_EQ(reader->next_due_at(), t - 500);
    const auto due = take_due(*s);
    ASSERT_EQ(seqs_of(due), std::vector<int64_t>{b});
    EXPECT_EQ(due[0].attempts, 0);
    EXPECT_EQ(due[0].round_attempts, 0);
    // Only deliveries are parked: a queued request stays queued.
    EXPECT_EQ(reader->find_request("id-queued")->state, RequestState::kQueued);
    EXPECT_EQ(s->counters().queued, 1);
    EXPECT_EQ(s->counters().delivering, 2);
}

TYPED_TEST(DeliveryContract, DeliveredIsFinal) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*s, retry(seq, 1, t - 9000, t - 5000)));
    ASSERT_TRUE(attempt(*s, delivered(seq, 2, t, 7)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kDelivered);
    EXPECT_EQ(v->delivered_at_ms, t + 7);
    EXPECT_EQ(v->attempts, 2);
    EXPECT_EQ(v->last_status_code, 200);
    EXPECT_FALSE(v->last_error);
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_TRUE(take_due(*s).empty());
    EXPECT_FALSE(reader->next_due_at());
    EXPECT_EQ(s->counters().delivering, 0);
    EXPECT_EQ(reader->dead_letters(std::nullopt, 10).total, 0);
}

TYPED_TEST(DeliveryContract, FailedIsFinalAndADeadLetter) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, failed(seq, 1, 3000)));
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kFailed);
    EXPECT_EQ(v->attempts, 1);
    EXPECT_FALSE(v->last_status_code);  // no HTTP answer
    EXPECT_EQ(v->last_error, "connection refused");
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_FALSE(v->delivered_at_ms);
    EXPECT_TRUE(take_due(*s).empty());
    EXPECT_FALSE(reader->next_due_at());
    EXPECT_EQ(s->counters().delivering, 0);
    const auto page = reader->dead_letters(std::nullopt, 10);
    EXPECT_EQ(page.total, 1);
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "id-1");
    EXPECT_EQ(page.items[0].state, RequestState::kFailed);
    EXPECT_EQ(page.items[0].last_error, "connection refused");
}

TYPED_TEST(DeliveryContract, AttemptLogKeepsEveryAttemptOldestFirst) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 4000, 503)));
    ASSERT_TRUE(attempt(*s, {seq, 2, 4000, 10'000, 0, "timeout", AttemptOutcome::kRetry, 20'000}));
    ASSERT_TRUE(attempt(*s, delivered(seq, 3, 20'000, 9)));
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_TRUE(v);
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

TYPED_TEST(DeliveryContract, AttemptLogShowsTheLastHundred) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    for (int no = 1; no <= 105; ++no) ASSERT_TRUE(attempt(*s, retry(seq, no, 3000 + no, 9000)));
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->attempts, 105);
    ASSERT_EQ(v->attempt_log.size(), 100u);
    EXPECT_EQ(v->attempt_log.front().attempt_no, 6);
    EXPECT_EQ(v->attempt_log.back().attempt_no, 105);
}

// Attempts of one request that share a write (one call, or calls that the writer groups into
// one commit) all count.
TYPED_TEST(DeliveryContract, SeveralAttemptsOfOneRequestInOneWriteAllCount) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    std::vector<AttemptRecord> records;
    for (int no = 1; no <= 3; ++no) records.push_back(retry(seq, no, 3000 + no, 9000));
    ASSERT_TRUE(attempts(*s, std::move(records)));
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->attempts, 3);
    EXPECT_EQ(v->attempt_log.size(), 3u);
}

TYPED_TEST(DeliveryContract, DeadLettersPageNewestFirstWithTheTotal) {
    auto s = this->open();
    std::vector<int64_t> dead;
    for (int i = 0; i < 5; ++i) {
        const auto seq = stored(*s, "id-dead-" + std::to_string(i));
        ASSERT_TRUE(decide(*s, seq));
        ASSERT_TRUE(attempt(*s, failed(seq, 1, 3000)));
        dead.push_back(seq);
        // Requests in other states are no dead letters.
        const auto ok = stored(*s, "id-ok-" + std::to_string(i));
        ASSERT_TRUE(decide(*s, ok));
        ASSERT_TRUE(attempt(*s, delivered(ok, 1, 3000)));
    }
    stored(*s, "id-queued");
    auto reader = s->open_reader();
    const auto first = reader->dead_letters(std::nullopt, 2);
    EXPECT_EQ(first.total, 5);
    ASSERT_EQ(first.items.size(), 2u);
    EXPECT_EQ(first.items[0].seq, dead[4]);
    EXPECT_EQ(first.items[1].seq, dead[3]);
    EXPECT_EQ(first.items[0].id, "id-dead-4");
    EXPECT_EQ(first.items[0].attempts, 1);
    EXPECT_TRUE(first.items[0].attempt_log.empty());
    ASSERT_TRUE(first.items[0].decision);
    EXPECT_EQ(first.items[0].decision->reason, "acl_allowed");
    const auto second = reader->dead_letters(first.items.back().seq, 2);
    EXPECT_EQ(second.total, 5);
    ASSERT_EQ(second.items.size(), 2u);
    EXPECT_EQ(second.items[0].seq, dead[2]);
    EXPECT_EQ(second.items[1].seq, dead[1]);
    const auto last = reader->dead_letters(second.items.back().seq, 2);
    ASSERT_EQ(last.items.size(), 1u);
    EXPECT_EQ(last.items[0].seq, dead[0]);
    EXPECT_TRUE(reader->dead_letters(dead[0], 2).items.empty());

    // A redelivered dead letter leaves the list.
    ASSERT_EQ(redeliver(*s, "id-dead-4", now_ms()), RedeliverStatus::kScheduled);
    const auto after = reader->dead_letters(std::nullopt, 10);
    EXPECT_EQ(after.total, 4);
    ASSERT_EQ(after.items.size(), 4u);
    EXPECT_EQ(after.items[0].seq, dead[3]);
}

TYPED_TEST(DeliveryContract, RedeliverAFailedRequestParksItAsDueNow) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 4000)));
    ASSERT_TRUE(attempt(*s, failed(seq, 2, 4000)));
    ASSERT_EQ(s->counters().delivering, 0);

    const int64_t t = now_ms();
    EXPECT_EQ(redeliver(*s, "id-1", t), RedeliverStatus::kScheduled);
    auto reader = s->open_reader();
    const auto v = reader->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kDelivering);
    EXPECT_EQ(v->next_attempt_at_ms, t);
    EXPECT_EQ(v->attempts, 2);  // the life-long count is kept
    EXPECT_EQ(s->counters().delivering, 1);
    const auto due = take_due(*s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, seq);
    EXPECT_EQ(due[0].attempts, 2);
    EXPECT_EQ(due[0].round_attempts, 0);  // a new round

    // The new round runs like the first: attempt 3 delivers.
    ASSERT_TRUE(attempt(*s, delivered(seq, 3, t)));
    EXPECT_EQ(reader->find_request("id-1")->state, RequestState::kDelivered);
    EXPECT_EQ(s->counters().delivering, 0);
}

TYPED_TEST(DeliveryContract, RedeliverADeliveredRequest) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, delivered(seq, 1, 3000)));
    EXPECT_EQ(redeliver(*s, "id-1", now_ms()), RedeliverStatus::kScheduled);
    auto reader = s->open_reader();
    // A new round has not delivered yet: the status shows no delivery time until it does.
    EXPECT_FALSE(reader->find_request("id-1")->delivered_at_ms);
    EXPECT_EQ(seqs_of(take_due(*s)), std::vector<int64_t>{seq});
    // Now delivering again: not finished.
    EXPECT_EQ(redeliver(*s, "id-1", now_ms()), RedeliverStatus::kNotFinished);
}

TYPED_TEST(DeliveryContract, RedeliverAtALaterTimeIsNotDueBefore) {
    auto s = this->open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, failed(seq, 1, 3000)));
    const int64_t later = now_ms() + kHourMs;
    EXPECT_EQ(redeliver(*s, "id-1", later), RedeliverStatus::kScheduled);
    auto reader = s->open_reader();
    EXPECT_TRUE(take_due(*s).empty());
    EXPECT_EQ(reader->next_due_at(), later);
}

TYPED_TEST(DeliveryContract, RedeliverRefusesUnfinishedAndUnknownRequests) {
    auto s = this->open();
    stored(*s, "id-queued");
    const auto seq = stored(*s, "id-delivering");
    ASSERT_TRUE(decide(*s, seq));
    EXPECT_EQ(redeliver(*s, "id-queued", now_ms()), RedeliverStatus::kNotFinished);
    EXPECT_EQ(redeliver(*s, "id-delivering", now_ms()), RedeliverStatus::kNotFinished);
    EXPECT_EQ(redeliver(*s, "nope", now_ms()), RedeliverStatus::kNotFound);
    EXPECT_EQ(s->counters().queued, 1);
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_TRUE(take_due(*s).empty());
}

// A process dies with deliveries in flight: one resident since its decision, one taken by a due
// read mid-attempt. After a restart both are due again (SQLite: recover_in_flight parks them as
// due; PostgreSQL: their leases run out, short here), parked ones keep their time and queued
// requests stay queued.
TYPED_TEST(DeliveryContract, DeliveriesInFlightAtACrashAreDueAgainAfterRestart) {
    const OpenOptions short_lease{"worker-a", 300};
    auto s = this->open(short_lease);
    const auto resident = stored(*s, "id-resident");
    const auto sending = stored(*s, "id-sending");
    const auto parked = stored(*s, "id-parked");
    const auto queued = stored(*s, "id-queued");
    for (const auto seq : {resident, sending, parked}) ASSERT_TRUE(decide(*s, seq));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*s, retry(sending, 1, t - 9000, t - 5000)));
    ASSERT_TRUE(attempt(*s, retry(parked, 1, t - 9000, t + kHourMs)));
    {
        auto reader = s->open_reader();
        ASSERT_EQ(seqs_of(take_due(*s)), std::vector<int64_t>{sending});
    }

    s = this->restart(std::move(s), short_lease);  // the process "dies" and starts again
    auto reader = s->open_reader();
    std::vector<int64_t> due;
    ASSERT_TRUE(wait_until([&] {
        for (const auto seq : seqs_of(take_due(*s))) due.push_back(seq);
        return due.size() >= 2;
    })) << "due again: "
        << due.size();
    std::sort(due.begin(), due.end());
    EXPECT_EQ(due, (std::vector<int64_t>{resident, sending}));
    const auto p = reader->find_request("id-parked");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->next_attempt_at_ms, t + kHourMs);
    EXPECT_EQ(reader->find_request("id-queued")->state, RequestState::kQueued);
    const auto still_queued = reader->load_queued(0, 10);
    ASSERT_EQ(still_queued.size(), 1u);
    EXPECT_EQ(still_queued[0].seq, queued);
    EXPECT_EQ(s->counters().queued, 1);
    EXPECT_EQ(s->counters().delivering, 3);
}

}  // namespace
}  // namespace cg::store::test
