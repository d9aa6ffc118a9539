#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <future>
#include <thread>

#include "support/test_env.hpp"

namespace cg::store::sqlite {
namespace {

template <typename T>
struct Waiter {
    std::promise<T> p;
    std::function<void(T)> cb() {
        return [this](T v) { p.set_value(std::move(v)); };
    }
    T get() { return p.get_future().get(); }
};

NewRequest request(const std::string& id, int64_t now = 1000) {
    NewRequest r;
    r.id = id;
    r.station_id = "123e4567-e89b-12d3-a456-426614174000";
    r.driver_token = "ABCD-efgh1234567890_~valid.token";
    r.callback_url = "https://client.app/cb";
    r.created_at_ms = now;
    return r;
}

class StoreTest : public ::testing::Test {
  protected:
    std::unique_ptr<SqliteStore> open() {
        SqliteOptions o;
        o.data_dir = (dir_.path() / "data").string();
        o.idempotency_ttl_ms = 10000;
        return open_sqlite_store(o, &metrics_);
    }
    AcceptResult accept(Store& s, NewRequest r) {
        Waiter<AcceptResult> w;
        s.accept(std::move(r), w.cb());
        return w.get();
    }
    bool decide(Store& s, int64_t seq, DecisionStatus st = DecisionStatus::kAllowed) {
        Waiter<bool> w;
        s.record_decisions({{seq, Decision{st, "acl_allowed", 2000}}}, w.cb());
        return w.get();
    }
    bool attempt(Store& s, AttemptRecord a) {
        Waiter<bool> w;
        s.record_attempts({std::move(a)}, w.cb());
        return w.get();
    }
    test::TempDir dir_;
    obs::Metrics metrics_;
};

TEST_F(StoreTest, AcceptedRequestsAreReadableAndSurviveReopen) {
    {
        auto s = open();
        const auto r = accept(*s, request("id-1"));
        ASSERT_EQ(r.status, AcceptStatus::kStored);
        EXPECT_EQ(r.request_id, "id-1");
        EXPECT_GT(r.seq, 0);
        const auto v = s->open_reader()->find_request("id-1");
        ASSERT_TRUE(v);
        EXPECT_EQ(v->state, RequestState::kQueued);
        EXPECT_EQ(v->driver_token, "ABCD-efgh1234567890_~valid.token");
        EXPECT_FALSE(v->decision);
        EXPECT_EQ(s->counters().queued, 1);
        s->close();
    }
    auto s = open();
    EXPECT_TRUE(s->open_reader()->find_request("id-1"));
    EXPECT_EQ(s->counters().queued, 1);
    EXPECT_FALSE(s->open_reader()->find_request("nope"));
}

TEST_F(StoreTest, ConcurrentAcceptsShareCommits) {
    auto s = open();
    constexpr int kThreads = 4, kEach = 500;
    std::vector<std::thread> threads;
    std::atomic<int> stored{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::vector<std::future<AcceptResult>> pending;
            std::vector<std::shared_ptr<std::promise<AcceptResult>>> ps;
            for (int i = 0; i < kEach; ++i) {
                auto p = std::make_shared<std::promise<AcceptResult>>();
                pending.push_back(p->get_future());
                s->accept(request("t" + std::to_string(t) + "-" + std::to_string(i)),
                          [p](AcceptResult r) { p->set_value(std::move(r)); });
                ps.push_back(p);
            }
            for (auto& f : pending) stored += f.get().status == AcceptStatus::kStored ? 1 : 0;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(stored.load(), kThreads * kEach);
    EXPECT_LT(metrics_.commit_batch_size.count(), static_cast<uint64_t>(kThreads * kEach));
    EXPECT_EQ(s->counters().queued, kThreads * kEach);
}

TEST_F(StoreTest, IdempotencyReplayConflictAndExpiry) {
    auto s = open();
    auto a = request("id-a", 1000);
    a.idempotency = IdempotencyClaim{"key", BodyHash{1}};
    ASSERT_EQ(accept(*s, a).status, AcceptStatus::kStored);
    auto same = request("id-b", 2000);
    same.idempotency = IdempotencyClaim{"key", BodyHash{1}};
    auto r = accept(*s, same);
    EXPECT_EQ(r.status, AcceptStatus::kReplayed);
    EXPECT_EQ(r.request_id, "id-a");
    EXPECT_FALSE(s->open_reader()->find_request("id-b"));
    auto other = request("id-c", 3000);
    other.idempotency = IdempotencyClaim{"key", BodyHash{2}};
    EXPECT_EQ(accept(*s, other).status, AcceptStatus::kKeyConflict);
    auto later = request("id-d", 1000 + 10001);  // past the 10 s TTL of this test
    later.idempotency = IdempotencyClaim{"key", BodyHash{2}};
    EXPECT_EQ(accept(*s, later).status, AcceptStatus::kStored);
}

TEST_F(StoreTest, TheDeliveryStateMachine) {
    auto s = open();
    const auto seq = accept(*s, request("id-1")).seq;
    ASSERT_TRUE(decide(*s, seq));
    auto reader = s->open_reader();
    auto v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kDelivering);
    ASSERT_TRUE(v->decision);
    EXPECT_EQ(v->decision->reason, "acl_allowed");
    EXPECT_EQ(s->counters().queued, 0);
    EXPECT_EQ(s->counters().delivering, 1);
    EXPECT_TRUE(reader->load_due(1'000'000, 10).empty());  // resident, not parked

    ASSERT_TRUE(attempt(
        *s, {seq, 1, 3000, 12, 500, "receiver answered 500", AttemptOutcome::kRetry, 5000}));
    v = reader->find_request("id-1");
    EXPECT_EQ(v->attempts, 1);
    EXPECT_EQ(v->last_status_code, 500);
    EXPECT_EQ(v->next_attempt_at_ms, 5000);
    EXPECT_TRUE(reader->load_due(4999, 10).empty());
    auto due = reader->load_due(5000, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].id, "id-1");
    EXPECT_EQ(due[0].round_attempts, 1);
    EXPECT_EQ(due[0].decision.status, DecisionStatus::kAllowed);
    EXPECT_EQ(reader->next_due_at(), 5000);

    ASSERT_TRUE(attempt(*s, {seq, 2, 5000, 7, 200, "", AttemptOutcome::kDelivered, 0}));
    v = reader->find_request("id-1");
    EXPECT_EQ(v->state, RequestState::kDelivered);
    EXPECT_EQ(v->delivered_at_ms, 5007);
    EXPECT_FALSE(v->next_attempt_at_ms);
    ASSERT_EQ(v->attempt_log.size(), 2u);
    EXPECT_EQ(v->attempt_log[0].http_status, 500);
    EXPECT_EQ(v->attempt_log[1].http_status, 200);
    EXPECT_EQ(s->counters().delivering, 0);

    Waiter<RedeliverStatus> w;
    s->redeliver("id-1", 9000, w.cb());
    EXPECT_EQ(w.get(), RedeliverStatus::kScheduled);
    EXPECT_EQ(reader->load_due(9000, 10).size(), 1u);
    EXPECT_EQ(reader->load_due(9000, 10)[0].round_attempts, 0);
    Waiter<RedeliverStatus> again;
    s->redeliver("id-1", 9000, again.cb());
    EXPECT_EQ(again.get(), RedeliverStatus::kNotFinished);
    Waiter<RedeliverStatus> unknown;
    s->redeliver("nope", 9000, unknown.cb());
    EXPECT_EQ(unknown.get(), RedeliverStatus::kNotFound);
}

TEST_F(StoreTest, RecoveryParksDeliveriesThatWereInFlight) {
    auto s = open();
    const auto seq = accept(*s, request("id-1")).seq;
    ASSERT_TRUE(decide(*s, seq));
    s->recover_in_flight(7000);
    const auto due = s->open_reader()->load_due(7000, 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].seq, seq);
}

TEST_F(StoreTest, QueuedRowsInArrivalOrder) {
    auto s = open();
    std::vector<int64_t> seqs;
    for (int i = 0; i < 10; ++i) seqs.push_back(accept(*s, request("id-" + std::to_string(i))).seq);
    ASSERT_TRUE(decide(*s, seqs[2]));
    auto rows = s->open_reader()->load_queued(seqs[0], 5);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0].seq, seqs[1]);
    EXPECT_EQ(rows[1].seq, seqs[3]);  // decided rows are no longer queued
}

TEST_F(StoreTest, AclAndStations) {
    auto s = open();
    AclEntry e;
    e.driver_token = "ABCD-efgh1234567890_~valid.token";
    e.stations = std::vector<std::string>{"123e4567-e89b-12d3-a456-426614174000"};
    e.expires_at_ms = 99;
    e.updated_at_ms = 5;
    Waiter<WriteStatus> w1;
    s->put_acl(e, w1.cb());
    ASSERT_EQ(w1.get(), WriteStatus::kOk);
    auto reader = s->open_reader();
    auto got = reader->find_acl(e.driver_token);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->stations, e.stations);
    EXPECT_EQ(got->expires_at_ms, 99);
    e.stations.reset();
    e.status = AclStatus::kBlocked;
    Waiter<WriteStatus> w2;
    s->put_acl(e, w2.cb());
    ASSERT_EQ(w2.get(), WriteStatus::kOk);
    got = reader->find_acl(e.driver_token);
    EXPECT_FALSE(got->stations);
    EXPECT_EQ(got->status, AclStatus::kBlocked);
    Waiter<WriteStatus> del;
    s->delete_acl(e.driver_token, del.cb());
    EXPECT_EQ(del.get(), WriteStatus::kOk);
    Waiter<WriteStatus> del2;
    s->delete_acl(e.driver_token, del2.cb());
    EXPECT_EQ(del2.get(), WriteStatus::kNotFound);
    EXPECT_FALSE(reader->find_acl(e.driver_token));

    std::vector<AclEntry> bulk(100000);
    for (size_t i = 0; i < bulk.size(); ++i) {
        bulk[i].driver_token = "BULK-token-" + std::to_string(1000000000 + i);
    }
    Waiter<WriteStatus> wb;
    s->put_acl_bulk(std::move(bulk), wb.cb());
    ASSERT_EQ(wb.get(), WriteStatus::kOk);
    EXPECT_TRUE(reader->find_acl("BULK-token-1000099999"));

    Waiter<WriteStatus> ws;
    s->put_station({"123e4567-e89b-12d3-a456-426614174000", false, 8}, ws.cb());
    ASSERT_EQ(ws.get(), WriteStatus::kOk);
    const auto st = reader->find_station("123e4567-e89b-12d3-a456-426614174000");
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->active);
    EXPECT_FALSE(reader->find_station("00000000-0000-4000-8000-000000000001"));
}

TEST_F(StoreTest, ForeignFilesAreClearErrors) {
    const auto data = dir_.path() / "data";
    std::filesystem::create_directories(data);
    std::ofstream(data / "chargegate.db") << std::string(4096, 'g');
    try {
        (void)open();
        FAIL() << "opened a garbage file";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("not a chargegate database"), std::string::npos)
            << e.what();
    }
}

TEST_F(StoreTest, FailedCommitsAreReportedAndRecovered) {
    auto s = open();
    ASSERT_EQ(accept(*s, request("id-1")).status, AcceptStatus::kStored);
    // A second connection holding the write lock makes the writer's BEGIN IMMEDIATE fail
    // after the busy timeout: an environment failure for the whole batch.
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() / "data" / "chargegate.db").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    const auto failed = accept(*s, request("id-2"));
    EXPECT_EQ(failed.status, AcceptStatus::kUnavailable);
    EXPECT_FALSE(s->counters().writable);
    EXPECT_FALSE(s->counters().last_error.empty());
    EXPECT_EQ(metrics_.store_errors.value(), 1u);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    EXPECT_EQ(accept(*s, request("id-3")).status, AcceptStatus::kStored);
    EXPECT_TRUE(s->counters().writable);
    EXPECT_FALSE(s->open_reader()->find_request("id-2"));
}

}  // namespace
}  // namespace cg::store::sqlite
