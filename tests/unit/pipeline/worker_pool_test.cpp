#include "pipeline/worker_pool.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace cg::pipeline {
namespace {

using namespace std::chrono_literals;

// A queue over a vector: hands each request out once, in order.
class VectorQueue final : public queue::WorkQueue {
  public:
    void on_committed(store::QueuedRequest r) override {
        std::lock_guard lock(mu_);
        items_.push_back(std::move(r));
    }
    std::vector<store::QueuedRequest> pop(size_t max, std::chrono::milliseconds wait) override {
        std::vector<store::QueuedRequest> out;
        {
            std::lock_guard lock(mu_);
            while (!closed_ && !items_.empty() && out.size() < max) {
                out.push_back(items_.front());
                dispatched_ = items_.front().seq;
                items_.pop_front();
            }
        }
        if (out.empty()) std::this_thread::sleep_for(std::min(wait, 2ms));
        return out;
    }
    [[nodiscard]] int64_t dispatched_up_to() const override { return dispatched_; }
    void close() override {
        std::lock_guard lock(mu_);
        closed_ = true;
    }
    size_t left() {
        std::lock_guard lock(mu_);
        return items_.size();
    }

  private:
    std::mutex mu_;
    std::deque<store::QueuedRequest> items_;
    std::atomic<int64_t> dispatched_{0};
    bool closed_ = false;
};

// Allows tokens starting with "OK", optionally answering from another thread.
class PrefixAuthorizer final : public authz::Authorizer {
  public:
    explicit PrefixAuthorizer(bool async) : async_(async) {}
    void authorize(const AuthorizationRequest& r, authz::DecisionCallback done) override {
        Decision d;
        if (r.driver_token.rfind("OK", 0) == 0) {
            d = {DecisionStatus::kAllowed, "acl_allowed", 1};
        } else {
            d = {DecisionStatus::kNotAllowed, "token_unknown", 1};
        }
        if (async_) {
            std::thread([d, done = std::move(done)] { done(d); }).detach();
        } else {
            done(d);
        }
    }
    [[nodiscard]] bool healthy() const override { return true; }
    [[nodiscard]] const char* kind() const override { return "test"; }

  private:
    bool async_;
};

// Only record_decisions matters to the pool; it completes on another thread like the real
// writer, and can be told to fail the next N writes.
class DecisionStore final : public store::Store {
  public:
    void accept(store::NewRequest, std::function<void(store::AcceptResult)> done) override {
        done({});
    }
    void record_decisions(std::vector<store::DecisionRecord> d,
                          std::function<void(bool, std::vector<int64_t>)> done) override {
        bool ok = true;
        {
            std::lock_guard lock(mu_);
            if (fail_next_ > 0) {
                --fail_next_;
                ok = false;
            } else {
                for (auto& r : d) decided_[r.seq] = r.decision;
            }
        }
        std::thread([ok, done = std::move(done)] { done(ok, {}); }).detach();
    }
    void record_attempts(std::vector<store::AttemptRecord>, std::function<void(bool)> d) override {
        d(true);
    }
    void defer_deliveries(std::vector<store::DeferRecord>, std::function<void(bool)> d) override {
        d(true);
    }
    void redeliver(std::string, int64_t, std::function<void(store::RedeliverStatus)> d) override {
        d(store::RedeliverStatus::kNotFound);
    }
    void put_acl(store::AclEntry, std::function<void(store::WriteStatus)> d) override {
        d(store::WriteStatus::kOk);
    }
    void put_acl_bulk(std::vector<store::AclEntry>,
                      std::function<void(store::WriteStatus)> d) override {
        d(store::WriteStatus::kOk);
    }
    void delete_acl(std::string, std::function<void(store::WriteStatus)> d) override {
        d(store::WriteStatus::kOk);
    }
    void put_station(store::StationEntry, std::function<void(store::WriteStatus)> d) override {
        d(store::WriteStatus::kOk);
    }
    std::unique_ptr<store::StoreReader> open_reader() override { return nullptr; }
    void recover_in_flight(int64_t) override {}
    std::vector<store::DeliveryJob> take_due(int64_t, size_t, size_t) override { return {}; }
    void expire_idempotency_keys(int64_t) override {}
    [[nodiscard]] store::StoreCounters counters() const override { return {}; }
    void close() override {}

    void fail_next(int n) {
        std::lock_guard lock(mu_);
        fail_next_ = n;
    }
    std::map<int64_t, Decision> decided() {
        std::lock_guard lock(mu_);
        return decided_;
    }

  private:
    std::mutex mu_;
    int fail_next_ = 0;
    std::map<int64_t, Decision> decided_;
};

class RecordingSink final : public DeliverySink {
  public:
    void submit(std::vector<store::DeliveryJob> jobs) override {
        std::lock_guard lock(mu_);
        for (auto& j : jobs) jobs_.push_back(std::move(j));
    }
    [[nodiscard]] bool has_capacity() const override { return open_.load(); }
    std::vector<store::DeliveryJob> jobs() {
        std::lock_guard lock(mu_);
        return jobs_;
    }
    std::atomic<bool> open_{true};

  private:
    std::mutex mu_;
    std::vector<store::DeliveryJob> jobs_;
};

store::QueuedRequest request(int64_t seq, std::string token) {
    store::QueuedRequest r;
    r.seq = seq;
    r.id = "id-" + std::to_string(seq);
    r.station_id = "123e4567-e89b-12d3-a456-426614174000";
    r.driver_token = std::move(token);
    r.callback_url = "https://client.example/cb";
    return r;
}

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(2ms);
    }
    return f();
}

struct Fixture {
    explicit Fixture(bool async_authz, int workers = 2)
        : authorizer(async_authz),
          pool({workers, 16, 64, {}}, queue, authorizer, store, sink, clock, metrics) {}
    VectorQueue queue;
    PrefixAuthorizer authorizer;
    DecisionStore store;
    RecordingSink sink;
    ManualClock clock{1000};
    obs::Metrics metrics;
    WorkerPool pool;
};

TEST(WorkerPool, DecidesEveryRequestAndHandsItToDeliveryAfterTheWrite) {
    for (bool async : {false, true}) {
        Fixture f(async);
        for (int i = 1; i <= 500; ++i) f.queue.on_committed(request(i, i % 2 ? "OK-x" : "NO-x"));
        f.pool.start();
        ASSERT_TRUE(eventually([&] { return f.sink.jobs().size() == 500; }));
        f.pool.stop(1000);
        const auto decided = f.store.decided();
        ASSERT_EQ(decided.size(), 500u);
        for (const auto& job : f.sink.jobs()) {
            const auto& stored = decided.at(job.seq);
            EXPECT_EQ(job.decision.status, stored.status);  // delivered == durable decision
            EXPECT_EQ(job.decision.status,
                      job.seq % 2 ? DecisionStatus::kAllowed : DecisionStatus::kNotAllowed);
            EXPECT_EQ(job.id, "id-" + std::to_string(job.seq));
        }
        EXPECT_EQ(f.metrics.decisions.value("allowed"), 250u);
        EXPECT_EQ(f.pool.in_flight(), 0u);
    }
}

TEST(WorkerPool, FailedDecisionWritesAreRetriedNotDropped) {
    Fixture f(false, 1);
    f.store.fail_next(3);
    for (int i = 1; i <= 40; ++i) f.queue.on_committed(request(i, "OK-x"));
    f.pool.start();
    ASSERT_TRUE(eventually([&] { return f.sink.jobs().size() == 40; }));
    f.pool.stop(1000);
    EXPECT_EQ(f.store.decided().size(), 40u);
}

TEST(WorkerPool, TakesNoWorkWhileDeliveryIsFull) {
    Fixture f(false);
    f.sink.open_ = false;
    for (int i = 1; i <= 10; ++i) f.queue.on_committed(request(i, "OK-x"));
    f.pool.start();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(f.queue.left(), 10u);
    EXPECT_TRUE(f.sink.jobs().empty());
    f.sink.open_ = true;
    ASSERT_TRUE(eventually([&] { return f.sink.jobs().size() == 10; }));
    f.pool.stop(1000);
}

}  // namespace
}  // namespace cg::pipeline
