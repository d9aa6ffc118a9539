// What only a shared store (PostgreSQL, cluster mode) guarantees: queued requests and due
// deliveries are leased to one worker at a time (DispatchLedger::claim / release, due reads),
// a lease that runs out is taken over by another worker, the worker that lost it is told its
// decision was superseded, and the outbox relay finds queued requests nobody holds.
// Two PgStores with different owners on one database are two processes of a cluster.
#ifdef CG_STORE_PG_TESTS
#include <algorithm>

#include "store_fixture.hpp"

namespace cg::store::test {
namespace {

class PgLeaseTest : public StoreContract<postgres::PgStore> {
  protected:
    static constexpr int64_t kShortLeaseMs = 300;
};

TEST_F(PgLeaseTest, AQueuedRequestIsLeasedToOneOwnerAtATime) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    const auto s1 = stored(*a, "id-1");
    const auto s2 = stored(*a, "id-2");
    const auto s3 = stored(*a, "id-3");
    const auto first = claim(*a, {s1, s2}, 30'000);
    EXPECT_EQ(claimed_seqs(first), (std::vector<int64_t>{s1, s2}));
    EXPECT_TRUE(first.settled.empty());
    ASSERT_EQ(first.claimed.size(), 2u);
    EXPECT_EQ(first.claimed[0].id, "id-1");
    EXPECT_EQ(first.claimed[0].driver_token, kToken);
    EXPECT_EQ(first.claimed[0].traceparent, kTraceparent);

    // The other owner gets only what nobody holds; the rest (and unknown seqs) are settled.
    const auto second = claim(*b, {s1, s2, s3, 999'999}, 30'000);
    EXPECT_EQ(claimed_seqs(second), std::vector<int64_t>{s3});
    auto settled = second.settled;
    std::sort(settled.begin(), settled.end());
    EXPECT_EQ(settled, (std::vector<int64_t>{s1, s2, 999'999}));
    // A leased request is shown as being authorized.
    EXPECT_EQ(a->open_reader()->find_request("id-1")->state, RequestState::kAuthorizing);
}

TEST_F(PgLeaseTest, ReleaseLetsAnotherOwnerClaimAtOnce) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    const auto s1 = stored(*a, "id-1");
    ASSERT_EQ(claimed_seqs(claim(*a, {s1}, 30'000)), std::vector<int64_t>{s1});
    release(*b, {s1});  // not b's lease: nothing happens
    EXPECT_TRUE(claim(*b, {s1}, 30'000).claimed.empty());
    release(*a, {s1});
    EXPECT_EQ(a->open_reader()->find_request("id-1")->state, RequestState::kQueued);
    EXPECT_EQ(claimed_seqs(claim(*b, {s1}, 30'000)), std::vector<int64_t>{s1});
}

TEST_F(PgLeaseTest, AnExpiredLeaseIsTakenOverAndTheFormerOwnersDecisionIsSuperseded) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    const auto s1 = stored(*a, "id-1");
    const auto s2 = stored(*a, "id-2");
    ASSERT_EQ(claimed_seqs(claim(*a, {s1, s2}, kShortLeaseMs)), (std::vector<int64_t>{s1, s2}));
    // a stalls; once its lease ran out b takes s1 over and decides it.
    ASSERT_TRUE(wait_until([&] { return !claim(*b, {s1}, 30'000).claimed.empty(); }))
        << "the expired lease was never taken over";
    const auto by_b = decide_checked(
        *b, {{s1, Decision{DecisionStatus::kNotAllowed, "acl_blocked", 3000}}}, false);
    ASSERT_TRUE(by_b.ok);
    EXPECT_TRUE(by_b.superseded.empty());

    // a comes back with decisions for both: s1 is no longer its own, s2 (expired but taken by
    // nobody) is still queued under a's name and is applied.
    const auto by_a =
        decide_checked(*a,
                       {{s1, Decision{DecisionStatus::kAllowed, "acl_allowed", 2000}},
                        {s2, Decision{DecisionStatus::kAllowed, "acl_allowed", 2000}}},
                       false);
    ASSERT_TRUE(by_a.ok);
    EXPECT_EQ(by_a.superseded, std::vector<int64_t>{s1});
    auto reader = a->open_reader();
    const auto v1 = reader->find_request("id-1");
    ASSERT_TRUE(v1 && v1->decision);
    EXPECT_EQ(v1->decision->reason, "acl_blocked");  // b's decision stands
    EXPECT_EQ(reader->find_request("id-2")->state, RequestState::kDelivering);
    EXPECT_EQ(a->counters().delivering, 1);  // only what a moved itself
}

TEST_F(PgLeaseTest, ADecisionWithoutTheLeaseIsSuperseded) {
    auto a = open({"worker-a"});
    const auto s1 = stored(*a, "id-1");
    const auto r =
        decide_checked(*a, {{s1, Decision{DecisionStatus::kAllowed, "acl_allowed", 2000}}}, false);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.superseded, std::vector<int64_t>{s1});
    EXPECT_EQ(a->open_reader()->find_request("id-1")->state, RequestState::kQueued);
    EXPECT_EQ(a->counters().queued, 1);
    EXPECT_EQ(a->counters().delivering, 0);
}

TEST_F(PgLeaseTest, TakeUnpublishedReturnsQueuedRequestsNobodyHoldsOldestFirst) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    const auto s1 = stored(*a, "id-1", 1000);
    const auto s2 = stored(*a, "id-2", 2000);
    const auto s3 = stored(*a, "id-3", 3000);
    const auto leased = stored(*a, "id-leased", 500);
    const auto decided = stored(*a, "id-decided", 400);
    ASSERT_TRUE(decide(*a, decided));
    ASSERT_EQ(claimed_seqs(claim(*a, {leased}, 30'000)), std::vector<int64_t>{leased});

    EXPECT_EQ(take_unpublished(*b, 0, 2), (std::vector<int64_t>{s1, s2}));
    // Marked as published now: not returned again until `older_than` has passed.
    EXPECT_EQ(take_unpublished(*b, 60'000, 10), std::vector<int64_t>{s3});
    EXPECT_TRUE(take_unpublished(*a, 60'000, 10).empty());
    // A released lease makes its request the relay's again.
    release(*a, {leased});
    EXPECT_EQ(take_unpublished(*b, 60'000, 10), std::vector<int64_t>{leased});
}

TEST_F(PgLeaseTest, DueDeliveriesLeasedToOneOwnerAreNotReturnedToAnotherUntilTheLeaseEnds) {
    auto a = open({"worker-a", kShortLeaseMs});
    auto b = open({"worker-b", 30'000});
    const auto s1 = stored(*a, "id-1");
    ASSERT_TRUE(decide(*a, s1));
    const int64_t t = now_ms();
    ASSERT_TRUE(attempt(*a, retry(s1, 1, t - 9000, t - 1000)));
    auto ra = a->open_reader();
    auto rb = b->open_reader();
    ASSERT_EQ(seqs_of(take_due(*a)), std::vector<int64_t>{s1});
    // Leased to a: neither a nor b gets it again while the lease lasts...
    EXPECT_TRUE(take_due(*b).empty());
    EXPECT_TRUE(take_due(*a).empty());
    // ...and b gets it once a's lease ran out (a died mid-attempt).
    EXPECT_EQ(seqs_of(wait_due(*b)), std::vector<int64_t>{s1});
    // Now b's for b's (long) lease.
    EXPECT_TRUE(take_due(*a).empty());
    // b's attempt ends the lease: delivered, not due for anyone.
    ASSERT_TRUE(attempt(*b, delivered(s1, 2, now_ms())));
    EXPECT_EQ(rb->find_request("id-1")->state, RequestState::kDelivered);
    EXPECT_FALSE(ra->next_due_at());
}

TEST_F(PgLeaseTest, AResidentDeliveryOfADeadOwnerIsTakenByAnotherAfterTheLease) {
    auto a = open({"worker-a", kShortLeaseMs});
    auto b = open({"worker-b", 30'000});
    const auto s1 = stored(*a, "id-1");
    ASSERT_TRUE(decide(*a, s1));
    a.reset();  // a dies before its first attempt
    auto rb = b->open_reader();
    const auto due = wait_due(*b);
    ASSERT_EQ(seqs_of(due), std::vector<int64_t>{s1});
    EXPECT_EQ(due[0].round_attempts, 0);
    EXPECT_EQ(due[0].decision.reason, "acl_allowed");
}

TEST_F(PgLeaseTest, AnotherProcessSeesTheAuthorizationGenerationMove) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    auto rb = b->open_reader();
    const int64_t before = rb->authorization_generation();
    AclEntry e;
    e.driver_token = kToken;
    ASSERT_EQ(put_acl(*a, e), WriteStatus::kOk);
    EXPECT_GT(rb->authorization_generation(), before);
    EXPECT_TRUE(rb->find_acl(kToken));
}

TEST_F(PgLeaseTest, AClaimReportsTheAuthorizationGenerationAChangeBeforeItMade) {
    auto a = open({"worker-a"});
    auto b = open({"worker-b"});
    EXPECT_FALSE(b->claimed_authorization_generation());  // no claim yet
    const auto s1 = stored(*a, "id-1");
    const auto first = claim(*b, {s1}, 30'000);
    ASSERT_TRUE(first.authorization_generation);
    EXPECT_EQ(b->claimed_authorization_generation(), first.authorization_generation);

    // A change acknowledged by another process before the next claim is in that claim's answer.
    AclEntry e;
    e.driver_token = kToken;
    ASSERT_EQ(put_acl(*a, e), WriteStatus::kOk);
    const auto s2 = stored(*a, "id-2");
    const auto second = claim(*b, {s2}, 30'000);
    ASSERT_TRUE(second.authorization_generation);
    EXPECT_GT(*second.authorization_generation, *first.authorization_generation);
    EXPECT_EQ(*second.authorization_generation, b->open_reader()->authorization_generation());
    EXPECT_EQ(b->claimed_authorization_generation(), second.authorization_generation);

    // A claim that leases nothing reports none and keeps the highest seen.
    const auto none = claim(*b, {s2}, 30'000);
    EXPECT_TRUE(none.claimed.empty());
    EXPECT_FALSE(none.authorization_generation);
    EXPECT_EQ(b->claimed_authorization_generation(), second.authorization_generation);
}

}  // namespace
}  // namespace cg::store::test
#endif
