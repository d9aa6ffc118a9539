// Store conformance, accept(): durable storage, group commit, idempotency keys (stored, replayed,
// conflict, TTL, expiry), the queued rows and the counters. Run against every backend.
#include <atomic>
#include <thread>
#include <vector>

#include "store_fixture.hpp"

namespace cg::store::test {
namespace {

template <typename S>
class AcceptContract : public StoreContract<S> {};
TYPED_TEST_SUITE(AcceptContract, Backends);

TYPED_TEST(AcceptContract, AcceptedRequestIsReadableOnceDoneRan) {
    auto s = this->open();
    Waiter<AcceptResult> w;
    NewRequest req = make_request("id-1", 1234);
    req.client_id = "client-7";
    s->accept(std::move(req), w.cb());
    const auto r = w.get();
    ASSERT_EQ(r.status, AcceptStatus::kStored);
    EXPECT_EQ(r.request_id, "id-1");
    EXPECT_GT(r.seq, 0);

    // A reader opened on another thread sees the write as soon as `done` ran.
    std::optional<RequestView> v;
    std::thread([&] { v = s->open_reader()->find_request("id-1"); }).join();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->seq, r.seq);
    EXPECT_EQ(v->id, "id-1");
    EXPECT_EQ(v->station_id, kStation);
    EXPECT_EQ(v->driver_token, kToken);
    EXPECT_EQ(v->callback_url, "https://client.app/cb");
    EXPECT_EQ(v->traceparent, kTraceparent);
    EXPECT_EQ(v->client_id, "client-7");
    EXPECT_EQ(v->state, RequestState::kQueued);
    EXPECT_EQ(v->created_at_ms, 1234);
    EXPECT_FALSE(v->decision);
    EXPECT_EQ(v->attempts, 0);
    EXPECT_FALSE(v->last_status_code);
    EXPECT_FALSE(v->last_error);
    EXPECT_FALSE(v->next_attempt_at_ms);
    EXPECT_FALSE(v->delivered_at_ms);
    EXPECT_TRUE(v->attempt_log.empty());

    const auto c = s->counters();
    EXPECT_EQ(c.queued, 1);
    EXPECT_TRUE(c.writable);
    // The shared store leaves max_seq at 0 (no process knows every seq).
    if constexpr (!TestFixture::kShared) {
        EXPECT_EQ(c.max_seq, r.seq);
    }
    EXPECT_FALSE(s->open_reader()->find_request("unknown"));
}

TYPED_TEST(AcceptContract, SeqsGrowInArrivalOrder) {
    auto s = this->open();
    int64_t last = 0;
    for (int i = 0; i < 20; ++i) {
        const auto seq = stored(*s, "id-" + std::to_string(i));
        EXPECT_GT(seq, last);
        last = seq;
    }
    if constexpr (!TestFixture::kShared) {
        EXPECT_EQ(s->counters().max_seq, last);
    }
}

TYPED_TEST(AcceptContract, DuplicateRequestIdFailsAloneAndLeavesTheBatch) {
    auto s = this->open();
    stored(*s, "id-1");
    // Queued together, so they usually share one commit: the duplicate fails on its own.
    Waiter<AcceptResult> dup;
    Waiter<AcceptResult> fresh;
    s->accept(make_request("id-1"), dup.cb());
    s->accept(make_request("id-2"), fresh.cb());
    EXPECT_EQ(dup.get().status, AcceptStatus::kUnavailable);
    EXPECT_EQ(fresh.get().status, AcceptStatus::kStored);
    EXPECT_EQ(s->counters().queued, 2);
    EXPECT_TRUE(s->open_reader()->find_request("id-2"));
}

TYPED_TEST(AcceptContract, ConcurrentAcceptsShareCommits) {
    auto s = this->open();
    constexpr int kThreads = 4;
    constexpr int kEach = 500;
    std::atomic<int> stored_count{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::vector<Waiter<AcceptResult>> waiters(kEach);
            for (int i = 0; i < kEach; ++i) {
                // Appended: GCC 12 -O3 reports a false -Wrestrict on "t" + std::string.
                std::string key = "t";
                key += std::to_string(t);
                key += '-';
                key += std::to_string(i);
                s->accept(make_request(key), waiters[i].cb());
            }
            for (auto& w : waiters) {
                if (w.get().status == AcceptStatus::kStored) ++stored_count;
            }
        });
    }
    for (auto& t : threads) t.join();
    constexpr int kTotal = kThreads * kEach;
    EXPECT_EQ(stored_count.load(), kTotal);
    // Fewer commits than requests: requests that queued up during a commit shared the next one.
    EXPECT_GT(this->metrics_.commit_batch_size.count(), 0u);
    EXPECT_LT(this->metrics_.commit_batch_size.count(), static_cast<uint64_t>(kTotal));
    EXPECT_EQ(s->counters().queued, kTotal);
    EXPECT_EQ(s->open_reader()->load_queued(0, kTotal + 10).size(), static_cast<size_t>(kTotal));
}

TYPED_TEST(AcceptContract, SameKeyAndBodyReplaysTheFirstRequest) {
    auto s = this->open();
    const auto first = accept(*s, with_key(make_request("id-a", 1000), "key", 1));
    ASSERT_EQ(first.status, AcceptStatus::kStored);
    const auto again = accept(*s, with_key(make_request("id-b", 2000), "key", 1));
    EXPECT_EQ(again.status, AcceptStatus::kReplayed);
    EXPECT_EQ(again.request_id, "id-a");
    EXPECT_FALSE(s->open_reader()->find_request("id-b"));
    EXPECT_EQ(s->counters().queued, 1);
}

TYPED_TEST(AcceptContract, SameKeyOtherBodyIsAConflict) {
    auto s = this->open();
    ASSERT_EQ(accept(*s, with_key(make_request("id-a", 1000), "key", 1)).status,
              AcceptStatus::kStored);
    const auto r = accept(*s, with_key(make_request("id-c", 3000), "key", 2));
    EXPECT_EQ(r.status, AcceptStatus::kKeyConflict);
    EXPECT_EQ(r.request_id, "id-a");
    EXPECT_FALSE(s->open_reader()->find_request("id-c"));
    EXPECT_EQ(s->counters().queued, 1);
}

TYPED_TEST(AcceptContract, KeysAreSeparateAndRequestsWithoutKeyNeverReplay) {
    auto s = this->open();
    EXPECT_EQ(accept(*s, with_key(make_request("id-a"), "key-1", 1)).status, AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, with_key(make_request("id-b"), "key-2", 1)).status, AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, make_request("id-c")).status, AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, make_request("id-d")).status, AcceptStatus::kStored);
    EXPECT_EQ(s->counters().queued, 4);
}

TYPED_TEST(AcceptContract, ReplayWithinOneCommitSeesTheFirstClaim) {
    auto s = this->open();
    Waiter<AcceptResult> a;
    Waiter<AcceptResult> b;
    s->accept(with_key(make_request("id-a"), "key", 1), a.cb());
    s->accept(with_key(make_request("id-b"), "key", 1), b.cb());
    EXPECT_EQ(a.get().status, AcceptStatus::kStored);
    const auto rb = b.get();
    EXPECT_EQ(rb.status, AcceptStatus::kReplayed);
    EXPECT_EQ(rb.request_id, "id-a");
    EXPECT_EQ(s->counters().queued, 1);
}

TYPED_TEST(AcceptContract, ExpiredKeyIsStoredAnew) {
    auto s = this->open();
    ASSERT_EQ(accept(*s, with_key(make_request("id-a", 1000), "key", 1)).status,
              AcceptStatus::kStored);
    // Exactly at the TTL the key still holds.
    EXPECT_EQ(accept(*s, with_key(make_request("id-b", 1000 + kTtlMs), "key", 1)).status,
              AcceptStatus::kReplayed);
    // Older than the TTL: a new request, even with another body, and the key now names it.
    const auto later = accept(*s, with_key(make_request("id-d", 1000 + kTtlMs + 1), "key", 2));
    EXPECT_EQ(later.status, AcceptStatus::kStored);
    EXPECT_EQ(later.request_id, "id-d");
    const auto replay = accept(*s, with_key(make_request("id-e", 1000 + kTtlMs + 2), "key", 2));
    EXPECT_EQ(replay.status, AcceptStatus::kReplayed);
    EXPECT_EQ(replay.request_id, "id-d");
    EXPECT_EQ(s->counters().queued, 2);
}

TYPED_TEST(AcceptContract, ExpireIdempotencyKeysForgetsOldKeysOnly) {
    auto s = this->open();
    ASSERT_EQ(accept(*s, with_key(make_request("id-old", 1000), "old", 1)).status,
              AcceptStatus::kStored);
    ASSERT_EQ(accept(*s, with_key(make_request("id-new", 5000), "new", 1)).status,
              AcceptStatus::kStored);
    expire_keys(*s, 2000);
    // Writes apply in submission order, so these accepts run after the expiry. Within the TTL
    // of both keys: only the expired one is free again.
    EXPECT_EQ(accept(*s, with_key(make_request("id-old-2", 6000), "old", 2)).status,
              AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, with_key(make_request("id-new-2", 6000), "new", 2)).status,
              AcceptStatus::kKeyConflict);
    // Expiry forgets keys, never requests.
    EXPECT_TRUE(s->open_reader()->find_request("id-old"));
}

TYPED_TEST(AcceptContract, KeysSurviveReopen) {
    {
        auto s = this->open();
        ASSERT_EQ(accept(*s, with_key(make_request("id-a", 1000), "key", 1)).status,
                  AcceptStatus::kStored);
    }
    auto s = this->open();
    const auto r = accept(*s, with_key(make_request("id-b", 2000), "key", 1));
    EXPECT_EQ(r.status, AcceptStatus::kReplayed);
    EXPECT_EQ(r.request_id, "id-a");
}

TYPED_TEST(AcceptContract, LoadQueuedPagesInArrivalOrderSkippingDecidedRows) {
    auto s = this->open();
    std::vector<int64_t> seqs;
    for (int i = 0; i < 10; ++i) seqs.push_back(stored(*s, "id-" + std::to_string(i)));
    ASSERT_TRUE(decide(*s, seqs[2]));
    auto reader = s->open_reader();
    const auto page = reader->load_queued(seqs[0], 5);
    ASSERT_EQ(page.size(), 5u);
    EXPECT_EQ(page[0].seq, seqs[1]);
    EXPECT_EQ(page[1].seq, seqs[3]);  // decided rows are no longer queued
    EXPECT_EQ(page[4].seq, seqs[6]);
    EXPECT_EQ(page[0].id, "id-1");
    EXPECT_EQ(page[0].station_id, kStation);
    EXPECT_EQ(page[0].driver_token, kToken);
    EXPECT_EQ(page[0].callback_url, "https://client.app/cb");
    EXPECT_EQ(page[0].traceparent, kTraceparent);
    EXPECT_EQ(page[0].created_at_ms, 1000);
    const auto rest = reader->load_queued(page.back().seq, 100);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest.back().seq, seqs[9]);
    EXPECT_TRUE(reader->load_queued(seqs[9], 100).empty());
}

TYPED_TEST(AcceptContract, OldestQueuedAtFollowsTheQueue) {
    auto s = this->open();
    EXPECT_FALSE(s->open_reader()->oldest_queued_at());
    const auto a = stored(*s, "id-a", 1111);
    stored(*s, "id-b", 2222);
    EXPECT_EQ(s->open_reader()->oldest_queued_at(), 1111);
    ASSERT_TRUE(decide(*s, a));
    EXPECT_EQ(s->open_reader()->oldest_queued_at(), 2222);
}

TYPED_TEST(AcceptContract, CountersFollowTheStatesAndAreRebuiltOnReopen) {
    int64_t last = 0;
    {
        auto s = this->open();
        const auto a = stored(*s, "id-a");
        const auto b = stored(*s, "id-b");
        const auto c = stored(*s, "id-c");
        last = stored(*s, "id-d");
        ASSERT_TRUE(decide(*s, a));
        ASSERT_TRUE(decide(*s, b));
        ASSERT_TRUE(decide(*s, c));
        ASSERT_TRUE(attempt(*s, {c, 1, 3000, 5, 200, "", AttemptOutcome::kDelivered, 0}));
        ASSERT_TRUE(attempt(*s, retry(b, 1, 3000, now_ms() + kHourMs)));  // still delivering
        const auto before = s->counters();
        EXPECT_EQ(before.queued, 1);
        EXPECT_EQ(before.delivering, 2);
        EXPECT_TRUE(before.writable);
        EXPECT_TRUE(before.last_error.empty());
        s->close();
    }
    auto s = this->open();
    const auto after = s->counters();
    EXPECT_EQ(after.queued, 1);
    EXPECT_EQ(after.delivering, 2);
    if constexpr (!TestFixture::kShared) {
        EXPECT_EQ(after.max_seq, last);
    }
    EXPECT_TRUE(after.writable);
}

TYPED_TEST(AcceptContract, CloseIsIdempotentAndLaterWritesReportUnavailable) {
    auto s = this->open();
    stored(*s, "id-1");
    s->close();
    s->close();
    EXPECT_EQ(accept(*s, make_request("id-2")).status, AcceptStatus::kUnavailable);
    EXPECT_EQ(put_station(*s, {kStation, true, 1}), WriteStatus::kUnavailable);
}

}  // namespace
}  // namespace cg::store::test
