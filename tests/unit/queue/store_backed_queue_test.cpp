// StoreBackedQueue over a real SQLite store: order, the bounded window (spill and refill), a
// backlog left by an earlier process, concurrent consumers, and close.
#include "queue/store_backed_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "support/test_env.hpp"

namespace cg::queue {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kCallbackTimeout = 20s;

store::NewRequest make_request(int i) {
    store::NewRequest r;
    r.id = "id-" + std::to_string(i);
    r.station_id = "123e4567-e89b-12d3-a456-426614174000";
    r.driver_token = "ABCD-efgh1234567890_~valid.token";
    r.callback_url = "https://client.app/cb";
    r.created_at_ms = i;
    return r;
}

store::QueuedRequest queued(const store::NewRequest& r, int64_t seq) {
    return {r, seq};
}

class QueueTest : public ::testing::Test {
  protected:
    std::unique_ptr<store::sqlite::SqliteStore> open() {
        store::sqlite::SqliteOptions o;
        o.data_dir = data_dir();
        return store::sqlite::open_sqlite_store(o, nullptr);
    }
    [[nodiscard]] std::string data_dir() const { return (dir_.path() / "data").string(); }

    // Stores request `i` and, like the API, announces it from the commit callback (when `q` is
    // given); returns once the callback ran. Returns the seq.
    static int64_t add(store::Store& s, WorkQueue* q, int i) {
        auto p = std::make_shared<std::promise<int64_t>>();
        auto f = p->get_future();
        auto r = make_request(i);
        s.accept(r, [p, q, r](store::AcceptResult res) {
            if (q && res.status == store::AcceptStatus::kStored) {
                q->on_committed(queued(r, res.seq));
            }
            p->set_value(res.status == store::AcceptStatus::kStored ? res.seq : -1);
        });
        if (f.wait_for(kCallbackTimeout) != std::future_status::ready) {
            throw std::runtime_error("accept callback did not run in time");
        }
        const auto seq = f.get();
        EXPECT_GT(seq, 0) << "request " << i << " was not stored";
        return seq;
    }

    // Submits requests first..last without waiting; each is announced from its commit callback.
    // Returns once every callback ran.
    static void add_all_async(store::Store& s, WorkQueue& q, int first, int last) {
        auto left = std::make_shared<std::atomic<int>>(last - first + 1);
        auto all = std::make_shared<std::promise<void>>();
        auto f = all->get_future();
        for (int i = first; i <= last; ++i) {
            auto r = make_request(i);
            s.accept(r, [&q, r, left, all](store::AcceptResult res) {
                if (res.status == store::AcceptStatus::kStored) q.on_committed(queued(r, res.seq));
                if (--*left == 0) all->set_value();
            });
        }
        if (f.wait_for(kCallbackTimeout) != std::future_status::ready) {
            throw std::runtime_error("accept callbacks did not run in time");
        }
    }

    // Pops until a pop comes back empty; returns the seqs in the order handed out.
    static std::vector<int64_t> drain(WorkQueue& q, size_t batch = 3) {
        std::vector<int64_t> seqs;
        const auto deadline = Clock::now() + 30s;
        while (Clock::now() < deadline) {
            auto items = q.pop(batch, 200ms);
            if (items.empty()) return seqs;
            EXPECT_LE(items.size(), batch);
            for (auto& it : items) seqs.push_back(it.seq);
        }
        ADD_FAILURE() << "the queue never ran dry";
        return seqs;
    }

    static std::vector<int64_t> range(int64_t first, int64_t last) {
        std::vector<int64_t> v;
        for (int64_t i = first; i <= last; ++i) v.push_back(i);
        return v;
    }

    cg::test::TempDir dir_;
};

TEST_F(QueueTest, HandsOutInArrivalOrderWithTheRequestFields) {
    auto s = open();
    StoreBackedQueue q(*s, 64);
    for (int i = 1; i <= 20; ++i) add(*s, &q, i);
    const auto items = q.pop(100, 0ms);
    ASSERT_EQ(items.size(), 20u);
    for (size_t i = 0; i < items.size(); ++i) {
        EXPECT_EQ(items[i].seq, static_cast<int64_t>(i + 1));
        EXPECT_EQ(items[i].id, "id-" + std::to_string(i + 1));
    }
    EXPECT_EQ(items[0].station_id, "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(items[0].driver_token, "ABCD-efgh1234567890_~valid.token");
    EXPECT_EQ(items[0].callback_url, "https://client.app/cb");
    EXPECT_EQ(items[0].created_at_ms, 1);
    EXPECT_TRUE(q.pop(100, 0ms).empty());
}

TEST_F(QueueTest, MoreRequestsThanTheWindowAreHandedOutOnceInOrder) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    for (int i = 1; i <= 100; ++i) add(*s, &q, i);
    EXPECT_EQ(drain(q), range(1, 100));
    EXPECT_EQ(q.dispatched_up_to(), 100);
}

TEST_F(QueueTest, SpillAndRefillWhileRequestsKeepArriving) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    std::vector<int64_t> seqs;
    std::thread producer([&] { add_all_async(*s, q, 1, 300); });
    const auto deadline = Clock::now() + 30s;
    while (seqs.size() < 300 && Clock::now() < deadline) {
        for (auto& it : q.pop(5, 50ms)) seqs.push_back(it.seq);
    }
    producer.join();
    for (auto& it : q.pop(5, 50ms)) seqs.push_back(it.seq);
    EXPECT_EQ(seqs, range(1, 300));
}

TEST_F(QueueTest, AWindowOfOneStillWorks) {
    auto s = open();
    StoreBackedQueue q(*s, 1);
    for (int i = 1; i <= 10; ++i) add(*s, &q, i);
    EXPECT_EQ(drain(q), range(1, 10));
}

TEST_F(QueueTest, AFreshQueueHandsOutTheBacklogOnDisk) {
    std::vector<int64_t> decided;
    {
        // An earlier process stored 50 requests and decided some of them before it stopped.
        auto s = open();
        for (int i = 1; i <= 50; ++i) add(*s, nullptr, i);
        std::vector<store::DecisionRecord> d;
        for (int64_t seq : {3, 10, 11, 49}) {
            d.push_back({seq, Decision{DecisionStatus::kAllowed, "acl_allowed", 1}});
            decided.push_back(seq);
        }
        std::promise<bool> ok;
        s->record_decisions(std::move(d), [&](bool v, std::vector<int64_t>) { ok.set_value(v); });
        ASSERT_TRUE(ok.get_future().get());
        s->close();
    }
    auto s = open();
    StoreBackedQueue q(*s, 16);
    for (int i = 51; i <= 60; ++i) add(*s, &q, i);
    std::vector<int64_t> want;
    for (int64_t seq = 1; seq <= 60; ++seq) {
        if (std::find(decided.begin(), decided.end(), seq) == decided.end()) want.push_back(seq);
    }
    EXPECT_EQ(drain(q), want);
    EXPECT_EQ(q.dispatched_up_to(), 60);
}

TEST_F(QueueTest, ABacklogWithoutNewArrivals) {
    {
        auto s = open();
        for (int i = 1; i <= 40; ++i) add(*s, nullptr, i);
    }
    auto s = open();
    StoreBackedQueue q(*s, 8);
    EXPECT_EQ(drain(q, 5), range(1, 40));
}

TEST_F(QueueTest, ConcurrentConsumersGetEachRequestExactlyOnce) {
    auto s = open();
    StoreBackedQueue q(*s, 32);
    constexpr int kTotal = 1000;
    std::mutex mu;
    std::multiset<int64_t> seen;
    std::atomic<bool> producing{true};
    std::vector<std::thread> consumers;
    for (int t = 0; t < 4; ++t) {
        consumers.emplace_back([&] {
            const auto deadline = Clock::now() + 30s;
            while (Clock::now() < deadline) {
                const bool was_producing = producing.load();
                auto items = q.pop(5, 20ms);
                if (items.empty() && !was_producing) return;
                // Within one batch the order is the arrival order.
                for (size_t i = 1; i < items.size(); ++i) EXPECT_LT(items[i - 1].seq, items[i].seq);
                std::lock_guard lock(mu);
                for (auto& it : items) seen.insert(it.seq);
            }
        });
    }
    add_all_async(*s, q, 1, kTotal / 2);
    for (int i = kTotal / 2 + 1; i <= kTotal; ++i) add(*s, &q, i);
    producing = false;
    for (auto& c : consumers) c.join();
    EXPECT_EQ(seen.size(), static_cast<size_t>(kTotal));
    const std::set<int64_t> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), static_cast<size_t>(kTotal));
    EXPECT_EQ(*unique.begin(), 1);
    EXPECT_EQ(*unique.rbegin(), kTotal);
    EXPECT_EQ(q.dispatched_up_to(), kTotal);
}

TEST_F(QueueTest, DispatchedUpToIsTheLastSeqHandedOut) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    EXPECT_EQ(q.dispatched_up_to(), 0);
    for (int i = 1; i <= 5; ++i) add(*s, &q, i);
    EXPECT_EQ(q.pop(2, 0ms).size(), 2u);
    EXPECT_EQ(q.dispatched_up_to(), 2);
    EXPECT_EQ(q.pop(10, 0ms).size(), 3u);
    EXPECT_EQ(q.dispatched_up_to(), 5);
    EXPECT_TRUE(q.pop(10, 0ms).empty());
    EXPECT_EQ(q.dispatched_up_to(), 5);  // an empty pop changes nothing
}

TEST_F(QueueTest, PopOnAnEmptyQueueReturnsAfterItsWait) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    const auto started = Clock::now();
    EXPECT_TRUE(q.pop(10, 100ms).empty());
    const auto took = Clock::now() - started;
    EXPECT_GE(took, 90ms);
    EXPECT_LT(took, 5s);
}

TEST_F(QueueTest, AnArrivalWakesAWaitingPop) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    EXPECT_TRUE(q.pop(10, 0ms).empty());  // the initial (empty) backlog read is done
    auto f = std::async(std::launch::async, [&] { return q.pop(10, 10s); });
    std::this_thread::sleep_for(50ms);
    const auto started = Clock::now();
    add(*s, &q, 1);
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_LT(Clock::now() - started, 5s);
    const auto items = f.get();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].seq, 1);
}

TEST_F(QueueTest, CloseWakesAWaitingPopAndEndsTheQueue) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    auto f = std::async(std::launch::async, [&] { return q.pop(10, 10s); });
    std::this_thread::sleep_for(50ms);
    q.close();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(f.get().empty());
    add(*s, &q, 1);
    EXPECT_TRUE(q.pop(10, 0ms).empty());
}

TEST_F(QueueTest, AStoreReadFailureDoesNotOutlastThePopWait) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    // The queue opens its reader lazily; with the directory gone that open fails.
    const auto moved = dir_.path() / "moved";
    std::filesystem::rename(data_dir(), moved);
    auto f = std::async(std::launch::async, [&] { return q.pop(10, 100ms); });
    const bool returned = f.wait_for(5s) == std::future_status::ready;
    if (!returned) q.close();  // lets the stuck pop end so the test can finish
    std::filesystem::rename(moved, data_dir());
    ASSERT_TRUE(returned) << "pop() kept retrying the failed store read past its wait";
    EXPECT_TRUE(f.get().empty());
    // Once the store is readable again the queue works.
    add(*s, &q, 1);
    const auto items = q.pop(10, 1s);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].seq, 1);
}

}  // namespace
}  // namespace cg::queue
