#include "queue/store_backed_queue.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "support/test_env.hpp"

namespace cg::queue {
namespace {

using namespace std::chrono_literals;

class QueueTest : public ::testing::Test {
  protected:
    std::unique_ptr<store::sqlite::SqliteStore> open() {
        store::sqlite::SqliteOptions o;
        o.data_dir = dir_.path().string();
        return store::sqlite::open_sqlite_store(o, nullptr);
    }
    // Stores a request and announces it like the API does: from the commit callback.
    void add(store::Store& s, WorkQueue* q, int i) {
        store::NewRequest r;
        r.id = "id-" + std::to_string(i);
        r.station_id = "s";
        r.driver_token = "t";
        r.callback_url = "u";
        r.created_at_ms = i;
        std::promise<void> done;
        s.accept(r, [&](store::AcceptResult res) {
            if (q) q->on_committed({res.seq, r.id, "s", "t", "u", "", i});
            done.set_value();
        });
        done.get_future().get();
    }
    std::vector<int64_t> drain(WorkQueue& q, size_t batch = 7) {
        std::vector<int64_t> seqs;
        for (;;) {
            auto items = q.pop(batch, 200ms);
            if (items.empty()) return seqs;
            for (auto& it : items) seqs.push_back(it.seq);
        }
    }
    test::TempDir dir_;
};

TEST_F(QueueTest, HandsOutInArrivalOrderBeyondTheWindow) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    for (int i = 1; i <= 100; ++i) add(*s, &q, i);
    const auto seqs = drain(q);
    ASSERT_EQ(seqs.size(), 100u);
    for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<int64_t>(i + 1));
    EXPECT_EQ(q.dispatched_up_to(), 100);
}

TEST_F(QueueTest, ANewQueueDrainsTheBacklogOnDisk) {
    auto s = open();
    for (int i = 1; i <= 50; ++i) add(*s, nullptr, i);  // stored by an earlier process
    StoreBackedQueue q(*s, 16);
    for (int i = 51; i <= 60; ++i) add(*s, &q, i);
    const auto seqs = drain(q);
    ASSERT_EQ(seqs.size(), 60u);
    for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], static_cast<int64_t>(i + 1));
}

TEST_F(QueueTest, ConcurrentConsumersGetEachRequestOnce) {
    auto s = open();
    StoreBackedQueue q(*s, 32);
    std::mutex mu;
    std::multiset<int64_t> seen;
    std::atomic<bool> producing{true};
    std::vector<std::thread> consumers;
    for (int t = 0; t < 4; ++t) {
        consumers.emplace_back([&] {
            for (;;) {
                auto items = q.pop(5, 50ms);
                if (items.empty() && !producing.load()) {
                    items = q.pop(5, 200ms);
                    if (items.empty()) return;
                }
                std::lock_guard lock(mu);
                for (auto& it : items) seen.insert(it.seq);
            }
        });
    }
    for (int i = 1; i <= 500; ++i) add(*s, &q, i);
    producing = false;
    for (auto& c : consumers) c.join();
    EXPECT_EQ(seen.size(), 500u);
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 500u);
}

TEST_F(QueueTest, CloseWakesAWaitingConsumer) {
    auto s = open();
    StoreBackedQueue q(*s, 8);
    auto f = std::async(std::launch::async, [&] { return q.pop(10, 10s); });
    std::this_thread::sleep_for(50ms);
    q.close();
    ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
    EXPECT_TRUE(f.get().empty());
}

}  // namespace
}  // namespace cg::queue
