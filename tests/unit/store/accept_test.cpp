// accept(): durable storage, group commit, idempotency keys and the queued rows.
#include <atomic>
#include <thread>
#include <vector>

#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

TEST_F(StoreTest, AcceptedRequestIsReadableOnceDoneRan) {
    auto s = open();
    Waiter<AcceptResult> w;
    s->accept(make_request("id-1", 1234), w.cb());
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
    EXPECT_EQ(c.max_seq, r.seq);
    EXPECT_FALSE(s->open_reader()->find_request("unknown"));
}

TEST_F(StoreTest, SeqsGrowInArrivalOrder) {
    auto s = open();
    int64_t last = 0;
    for (int i = 0; i < 20; ++i) {
        const auto seq = stored(*s, "id-" + std::to_string(i));
        EXPECT_GT(seq, last);
        last = seq;
    }
    EXPECT_EQ(s->counters().max_seq, last);
}

TEST_F(StoreTest, DuplicateRequestIdFailsAloneAndLeavesTheBatch) {
    auto s = open();
    stored(*s, "id-1");
    // Queued together, so they usually share one commit: the duplicate fails on its own.
    Waiter<AcceptResult> dup;
    Waiter<AcceptResult> fresh;
    s->accept(make_request("id-1"), dup.cb());
    s->accept(make_request("id-2"), fresh.cb());
    EXPECT_EQ(dup.get().status, AcceptStatus::kUnavailable);
    EXPECT_EQ(fresh.get().status, AcceptStatus::kStored);
    EXPECT_EQ(s->counters().queued, 2);
    EXPECT_TRUE(s->counters().writable);
}

TEST_F(StoreTest, ConcurrentAcceptsShareCommits) {
    auto s = open();
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
    EXPECT_GT(metrics_.commit_batch_size.count(), 0u);
    EXPECT_LT(metrics_.commit_batch_size.count(), static_cast<uint64_t>(kTotal));
    EXPECT_EQ(s->counters().queued, kTotal);
    EXPECT_EQ(s->open_reader()->load_queued(0, kTotal + 10).size(), static_cast<size_t>(kTotal));
}

TEST_F(StoreTest, SameKeyAndBodyReplaysTheFirstRequest) {
    auto s = open();
    const auto first = accept(*s, with_key(make_request("id-a", 1000), "key", 1));
    ASSERT_EQ(first.status, AcceptStatus::kStored);
    const auto again = accept(*s, with_key(make_request("id-b", 2000), "key", 1));
    EXPECT_EQ(again.status, AcceptStatus::kReplayed);
    EXPECT_EQ(again.request_id, "id-a");
    EXPECT_FALSE(s->open_reader()->find_request("id-b"));
    EXPECT_EQ(s->counters().queued, 1);
}

TEST_F(StoreTest, SameKeyOtherBodyIsAConflict) {
    auto s = open();
    ASSERT_EQ(accept(*s, with_key(make_request("id-a", 1000), "key", 1)).status,
              AcceptStatus::kStored);
    const auto r = accept(*s, with_key(make_request("id-c", 3000), "key", 2));
    EXPECT_EQ(r.status, AcceptStatus::kKeyConflict);
    EXPECT_FALSE(s->open_reader()->find_request("id-c"));
    EXPECT_EQ(s->counters().queued, 1);
}

TEST_F(StoreTest, KeysAreSeparateAndRequestsWithoutKeyNeverReplay) {
    auto s = open();
    EXPECT_EQ(accept(*s, with_key(make_request("id-a"), "key-1", 1)).status, AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, with_key(make_request("id-b"), "key-2", 1)).status, AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, make_request("id-c")).status, AcceptStatus::kStored);
    EXPECT_EQ(s->counters().queued, 3);
}

TEST_F(StoreTest, ReplayWithinOneCommitSeesTheFirstClaim) {
    auto s = open();
    Waiter<AcceptResult> a;
    Waiter<AcceptResult> b;
    s->accept(with_key(make_request("id-a"), "key", 1), a.cb());
    s->accept(with_key(make_request("id-b"), "key", 1), b.cb());
    EXPECT_EQ(a.get().status, AcceptStatus::kStored);
    const auto rb = b.get();
    EXPECT_EQ(rb.status, AcceptStatus::kReplayed);
    EXPECT_EQ(rb.request_id, "id-a");
}

TEST_F(StoreTest, ExpiredKeyIsStoredAnew) {
    auto s = open();
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

TEST_F(StoreTest, ExpireIdempotencyKeysForgetsOldKeysOnly) {
    auto s = open();
    ASSERT_EQ(accept(*s, with_key(make_request("id-old", 1000), "old", 1)).status,
              AcceptStatus::kStored);
    ASSERT_EQ(accept(*s, with_key(make_request("id-new", 5000), "new", 1)).status,
              AcceptStatus::kStored);
    s->expire_idempotency_keys(2000);
    // Writes apply in submission order, so these accepts run after the expiry.
    EXPECT_EQ(accept(*s, with_key(make_request("id-old-2", 6000), "old", 2)).status,
              AcceptStatus::kStored);
    EXPECT_EQ(accept(*s, with_key(make_request("id-new-2", 6000), "new", 2)).status,
              AcceptStatus::kKeyConflict);
}

TEST_F(StoreTest, KeysSurviveReopen) {
    {
        auto s = open();
        ASSERT_EQ(accept(*s, with_key(make_request("id-a", 1000), "key", 1)).status,
                  AcceptStatus::kStored);
    }
    auto s = open();
    const auto r = accept(*s, with_key(make_request("id-b", 2000), "key", 1));
    EXPECT_EQ(r.status, AcceptStatus::kReplayed);
    EXPECT_EQ(r.request_id, "id-a");
}

TEST_F(StoreTest, LoadQueuedPagesInArrivalOrderSkippingDecidedRows) {
    auto s = open();
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
    EXPECT_EQ(page[0].traceparent, make_request("x").traceparent);
    EXPECT_EQ(page[0].created_at_ms, 1000);
    const auto rest = reader->load_queued(page.back().seq, 100);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest.back().seq, seqs[9]);
    EXPECT_TRUE(reader->load_queued(seqs[9], 100).empty());
}

TEST_F(StoreTest, CountersAreRebuiltOnReopen) {
    int64_t last = 0;
    {
        auto s = open();
        const auto a = stored(*s, "id-a");
        const auto b = stored(*s, "id-b");
        const auto c = stored(*s, "id-c");
        last = stored(*s, "id-d");
        ASSERT_TRUE(decide(*s, a));
        ASSERT_TRUE(decide(*s, b));
        ASSERT_TRUE(decide(*s, c));
        ASSERT_TRUE(attempt(*s, {c, 1, 3000, 5, 200, "", AttemptOutcome::kDelivered, 0}));
        const auto before = s->counters();
        EXPECT_EQ(before.queued, 1);
        EXPECT_EQ(before.delivering, 2);
        s->close();
    }
    auto s = open();
    const auto after = s->counters();
    EXPECT_EQ(after.queued, 1);
    EXPECT_EQ(after.delivering, 2);
    EXPECT_EQ(after.max_seq, last);
    EXPECT_TRUE(after.writable);
}

}  // namespace
}  // namespace cg::store::sqlite::test
