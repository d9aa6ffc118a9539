// DeliveryEngine with a fake HttpClient (the test answers each attempt when it chooses), a
// fake clock and an in-memory store: per-receiver queueing, the adaptive limit's growth and
// cut, Retry-After pauses, fairness between receivers, back-pressure, parking and the drain
// on stop. The poll for parked deliveries is set to an hour, so every attempt these tests see
// was started by the engine itself, not by a store read.
#include "delivery/delivery_engine.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support/eventually.hpp"

namespace cg::delivery {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kStart = 1'700'000'000'000;

// Attempts wait here until the test answers them.
class FakeHttp final : public net::HttpClient {
  public:
    struct Pending {
        net::HttpRequest request;
        std::function<void(net::HttpResponse)> done;
    };
    void post(net::HttpRequest request, std::function<void(net::HttpResponse)> done) override {
        std::lock_guard lock(mu_);
        pending_.push_back({std::move(request), std::move(done)});
        ++posted_[receiver(pending_.back().request.url)];
        cv_.notify_all();
    }
    [[nodiscard]] size_t in_flight() const override {
        std::lock_guard lock(mu_);
        return pending_.size();
    }
    void stop() override {}

    // Waits until `n` attempts are pending (and no more arrive for a moment); returns how
    // many are pending.
    size_t settle(size_t n, std::chrono::milliseconds wait = 2s) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, wait, [&] { return pending_.size() >= n; });
        lock.unlock();
        std::this_thread::sleep_for(20ms);  // anything the engine would add beyond n
        lock.lock();
        return pending_.size();
    }
    size_t pending_to(const std::string& r) const {
        std::lock_guard lock(mu_);
        size_t n = 0;
        for (const auto& p : pending_) n += receiver(p.request.url) == r ? 1 : 0;
        return n;
    }
    size_t posted_to(const std::string& r) const {
        std::lock_guard lock(mu_);
        const auto it = posted_.find(r);
        return it == posted_.end() ? 0 : it->second;
    }
    // Answers the oldest pending attempt (to `only`, if given) with `status`.
    bool answer(int status, std::chrono::microseconds took = 10ms,
                std::optional<int64_t> retry_after_ms = std::nullopt, const std::string& only = {},
                net::HttpError error = net::HttpError::kNone) {
        Pending p;
        {
            std::lock_guard lock(mu_);
            auto it = pending_.begin();
            while (it != pending_.end() && !only.empty() && receiver(it->request.url) != only) ++it;
            if (it == pending_.end()) return false;
            p = std::move(*it);
            pending_.erase(it);
        }
        net::HttpResponse r;
        r.status = error == net::HttpError::kNone ? status : 0;
        r.error = error;
        r.retry_after_ms = retry_after_ms;
        r.duration = took;
        p.done(std::move(r));
        return true;
    }
    // Answers the attempts pending now (not those the engine starts meanwhile).
    size_t answer_all(int status, std::chrono::microseconds took = 10ms) {
        size_t n = in_flight();
        for (size_t i = 0; i < n; ++i) {
            if (!answer(status, took)) return i;
        }
        return n;
    }
    std::vector<std::string> pending_ids() const {
        std::lock_guard lock(mu_);
        std::vector<std::string> ids;
        for (const auto& p : pending_) {
            for (const auto& [k, v] : p.request.headers) {
                if (k == "webhook-id") ids.push_back(v);
            }
        }
        return ids;
    }
    static std::string receiver(const std::string& url) {
        const auto host = url.find("://") + 3;
        return url.substr(0, url.find('/', host));
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Pending> pending_;
    std::map<std::string, size_t> posted_;
};

// The store calls the engine uses, answered at once; the rest are not used by the engine.
class FakeStore final : public store::Store {
  public:
    void accept(store::NewRequest, std::function<void(store::AcceptResult)>) override { unused(); }
    void record_decisions(std::vector<store::DecisionRecord>,
                          std::function<void(bool, std::vector<int64_t>)>) override {
        unused();
    }
    void record_attempts(std::vector<store::AttemptRecord> batch,
                         std::function<void(bool)> done) override {
        {
            std::lock_guard lock(mu);
            for (auto& a : batch) attempts.push_back(std::move(a));
        }
        done(true);
    }
    void defer_deliveries(std::vector<store::DeferRecord> d,
                          std::function<void(bool)> done) override {
        {
            std::lock_guard lock(mu);
            for (auto& r : d) deferred.push_back(r);
        }
        done(true);
    }
    void redeliver(std::string, int64_t, std::function<void(store::RedeliverStatus)>) override {
        unused();
    }
    void put_acl(store::AclEntry, std::function<void(store::WriteStatus)>) override { unused(); }
    void put_acl_bulk(std::vector<store::AclEntry>,
                      std::function<void(store::WriteStatus)>) override {
        unused();
    }
    void delete_acl(std::string, std::function<void(store::WriteStatus)>) override { unused(); }
    void put_station(store::StationEntry, std::function<void(store::WriteStatus)>) override {
        unused();
    }
    std::unique_ptr<store::StoreReader> open_reader() override {
        return std::make_unique<Reader>();
    }
    void recover_in_flight(int64_t) override {}
    std::vector<store::DeliveryJob> take_due(int64_t, size_t, size_t) override { return {}; }
    void expire_idempotency_keys(int64_t) override {}
    store::StoreCounters counters() const override { return {}; }
    void close() override {}

    size_t attempts_recorded() const {
        std::lock_guard lock(mu);
        return attempts.size();
    }
    size_t deferred_count() const {
        std::lock_guard lock(mu);
        return deferred.size();
    }

    mutable std::mutex mu;
    std::vector<store::AttemptRecord> attempts;
    std::vector<store::DeferRecord> deferred;

  private:
    struct Reader final : store::StoreReader {
        std::optional<store::RequestView> find_request(std::string_view) override { return {}; }
        std::vector<store::QueuedRequest> load_queued(int64_t, size_t) override { return {}; }
        std::optional<store::AclEntry> find_acl(std::string_view) override { return {}; }
        std::optional<store::StationEntry> find_station(std::string_view) override { return {}; }
        std::optional<int64_t> next_due_at() override { return {}; }
        std::optional<int64_t> oldest_queued_at() override { return {}; }
        store::DeadLetterPage dead_letters(std::optional<int64_t>, size_t) override { return {}; }
    };
    [[noreturn]] static void unused() { throw std::logic_error("not used by the engine"); }
};

class DeliveryEngineTest : public ::testing::Test {
  protected:
    DeliveryEngineTest() {
        options.poll_interval = std::chrono::hours(1);
        options.max_attempts = 5;
        options.backoff = {1000, 60000};
    }
    ~DeliveryEngineTest() override {
        if (engine) {
            std::thread stopper([this] { engine->stop(2000); });
            // Answer whatever is still in flight so the stop can finish.
            for (int i = 0; i < 400 && engine->held() > 0; ++i) {
                http.answer_all(200);
                std::this_thread::sleep_for(5ms);
            }
            stopper.join();
        }
    }
    void start() {
        engine = std::make_unique<DeliveryEngine>(options, store, http, clock, metrics);
        engine->start();
    }
    // `n` jobs to `receiver`, seqs from `first_seq`.
    void submit(const std::string& receiver, int n, int64_t first_seq) {
        std::vector<store::DeliveryJob> jobs;
        for (int i = 0; i < n; ++i) {
            store::DeliveryJob j;
            j.seq = first_seq + i;
            j.id = "req-" + std::to_string(j.seq);
            j.station_id = "st";
            j.driver_token = "tok";
            j.callback_url = receiver + "/cb";
            j.decision.status = DecisionStatus::kAllowed;
            j.decision.decided_at_ms = kStart;
            j.created_at_ms = kStart;
            jobs.push_back(std::move(j));
        }
        engine->submit(std::move(jobs));
    }
    // Answers attempts one at a time with 200 until `n` have been answered; returns the most
    // attempts seen pending at once.
    size_t deliver(size_t n, std::chrono::microseconds took = 10ms) {
        size_t peak = 0;
        for (size_t done = 0; done < n;) {
            peak = std::max(peak, http.settle(1, 1s));
            if (!http.answer(200, took)) break;
            ++done;
        }
        return peak;
    }
    static bool eventually(const std::function<bool()>& f, std::chrono::milliseconds wait = 3s) {
        return test::eventually(f, wait, 2ms);
    }

    const std::string a = "http://a.example:80";
    const std::string b = "http://b.example:80";
    DeliveryOptions options;
    FakeStore store;
    FakeHttp http;
    ManualClock clock{kStart};
    obs::Metrics metrics;
    std::unique_ptr<DeliveryEngine> engine;
};

TEST_F(DeliveryEngineTest, AFinishedAttemptStartsTheNextOneOfItsReceiverAtOnce) {
    options.limit = {.min = 2, .max = 2};
    start();
    submit(a, 10, 1);
    EXPECT_EQ(http.settle(2), 2U);  // the limit, not 10
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(http.settle(1), i < 9 ? 2U : 1U) << i;
        ASSERT_TRUE(http.answer(200));
    }
    EXPECT_TRUE(eventually([&] { return store.attempts_recorded() == 10; }));
    EXPECT_EQ(store.deferred_count(), 0U);  // nothing went through the store to wait
    EXPECT_TRUE(eventually([&] { return engine->held() == 0; }));
    for (const auto& r : store.attempts) EXPECT_EQ(r.outcome, store::AttemptOutcome::kDelivered);
}

TEST_F(DeliveryEngineTest, DeliveriesToOneReceiverGoOutInArrivalOrder) {
    options.limit = {.min = 1, .max = 1};
    start();
    submit(a, 5, 1);
    for (int i = 1; i <= 5; ++i) {
        ASSERT_EQ(http.settle(1), 1U);
        EXPECT_EQ(http.pending_ids().front(), "req-" + std::to_string(i));
        http.answer(200);
    }
}

TEST_F(DeliveryEngineTest, TheLimitGrowsWhileLatencyStaysFlat) {
    options.limit = {.min = 2, .max = 64};
    start();
    submit(a, 2000, 1);
    // Answer in rounds: everything pending at once, all at the same latency.
    size_t peak = 0;
    for (int round = 0; round < 40; ++round) {
        peak = std::max(peak, http.settle(64, 200ms));
        http.answer_all(200, 10ms);
    }
    EXPECT_EQ(peak, 64U);
    EXPECT_EQ(store.deferred_count(), 0U);
}

TEST_F(DeliveryEngineTest, OverloadHalvesTheLimit) {
    options.limit = {.min = 2, .max = 64};
    start();
    submit(a, 2000, 1);
    for (int round = 0; round < 40 && http.settle(64, 200ms) < 64; ++round) {
        http.answer_all(200, 10ms);
    }
    ASSERT_EQ(http.settle(64), 64U);
    // The receiver starts answering 503 (no Retry-After) to all 64.
    http.answer_all(503, 10ms);
    // Everything in flight at the old limit failing is one signal: one cut, to 32.
    EXPECT_EQ(http.settle(32), 32U);
}

TEST_F(DeliveryEngineTest, LatencyGrowthCutsTheLimit) {
    options.limit = {.min = 2, .max = 64};
    start();
    submit(a, 3000, 1);
    for (int round = 0; round < 40 && http.settle(64, 200ms) < 64; ++round) {
        http.answer_all(200, 10ms);
    }
    ASSERT_EQ(http.settle(64), 64U);
    // Answers now take 40 ms: after that window the limit is cut by 10 % (to 57). What was
    // started before the cut drains, and the attempts in flight settle below 64.
    http.answer_all(200, 40ms);
    http.answer_all(200, 40ms);
    http.answer_all(200, 10ms);
    const size_t now_pending = http.settle(64, 200ms);
    EXPECT_LT(now_pending, 64U);
    EXPECT_GE(now_pending, 40U);
}

TEST_F(DeliveryEngineTest, RetryAfterPausesTheReceiverUntilItsTime) {
    options.limit = {.min = 1, .max = 1};
    options.max_resident_wait = std::chrono::hours(1);  // keep everything in memory
    start();
    submit(a, 3, 1);
    ASSERT_EQ(http.settle(1), 1U);
    http.answer(429, 10ms, 30'000);
    EXPECT_EQ(http.settle(1, 300ms), 0U);  // paused: the next one waits
    clock.advance(29'000);
    engine->wake();
    EXPECT_EQ(http.settle(1, 300ms), 0U);
    clock.advance(1'001);
    engine->wake();
    EXPECT_EQ(http.settle(1), 1U);
    ASSERT_TRUE(eventually([&] { return store.attempts_recorded() >= 1; }));
    EXPECT_EQ(store.attempts[0].outcome, store::AttemptOutcome::kRetry);
    EXPECT_GE(store.attempts[0].next_attempt_at_ms, kStart + 30'000);
}

TEST_F(DeliveryEngineTest, APausedReceiverDoesNotHoldBackAnother) {
    options.limit = {.min = 1, .max = 1};
    options.max_resident_wait = std::chrono::hours(1);
    start();
    submit(a, 3, 1);
    ASSERT_EQ(http.settle(1), 1U);
    http.answer(503, 10ms, 60'000);
    submit(b, 3, 100);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(http.settle(1), 1U);
        EXPECT_EQ(http.pending_to(b), 1U);
        http.answer(200);
    }
    EXPECT_EQ(http.posted_to(a), 1U);
}

TEST_F(DeliveryEngineTest, FreeSlotsGoRoundRobinBetweenReceivers) {
    options.limit = {.min = 4, .max = 4};
    options.max_in_flight = 4;
    start();
    // a's 100 arrive first, then b's 10: b still gets every other slot.
    submit(a, 100, 1);
    submit(b, 10, 1000);
    ASSERT_EQ(http.settle(4), 4U);
    size_t answered = 0;
    while (http.posted_to(b) < 10 && answered < 100) {
        http.settle(4);
        http.answer(200);
        ++answered;
    }
    EXPECT_EQ(http.posted_to(b), 10U);
    // b's 10 went out among the first ~20 attempts rather than after a's 100.
    EXPECT_LE(http.posted_to(a), 14U);
}

TEST_F(DeliveryEngineTest, ASlowReceiverNeverHoldsBackAFastOne) {
    options.limit = {.min = 4, .max = 4};
    options.max_in_flight = 8;
    start();
    submit(a, 50, 1);  // a never answers in this test
    ASSERT_EQ(http.settle(4), 4U);
    submit(b, 40, 1000);
    for (int i = 0; i < 40; ++i) {
        ASSERT_TRUE(eventually([&] { return http.pending_to(b) > 0; })) << i;
        ASSERT_TRUE(http.answer(200, 1ms, std::nullopt, b));
    }
    EXPECT_EQ(http.posted_to(b), 40U);
    EXPECT_EQ(http.pending_to(a), 4U);  // a kept to its own limit meanwhile
}

TEST_F(DeliveryEngineTest, BackPressureOnceMaxResidentDeliveriesAreHeld) {
    options.limit = {.min = 2, .max = 2};
    options.max_in_flight = 2;
    options.max_resident = 16;
    start();
    EXPECT_TRUE(engine->has_capacity());
    submit(a, 16, 1);
    EXPECT_FALSE(engine->has_capacity());
    EXPECT_EQ(engine->held(), 16U);
    ASSERT_EQ(http.settle(2), 2U);
    http.answer(200);
    EXPECT_TRUE(eventually([&] { return engine->has_capacity(); }));
    EXPECT_EQ(engine->held(), 15U);
}

TEST_F(DeliveryEngineTest, ALongLineOfABusyReceiverWaitsInMemory) {
    options.limit = {.min = 1, .max = 1};
    options.max_resident_wait = 2s;
    start();
    submit(a, 21, 1);
    // One attempt a second: the line's head waits up to 20 s, but the line is far below a
    // quarter of max_resident (8192), so it stays in memory, where each finished attempt
    // starts the next at once.
    for (int i = 0; i < 21; ++i) {
        ASSERT_EQ(http.settle(1), 1U) << i;
        clock.advance(1000);
        http.answer(200, 1s);
    }
    EXPECT_EQ(store.deferred_count(), 0U);
}

TEST_F(DeliveryEngineTest, ALineWhoseHeadWaitedTooLongIsParkedInTheStore) {
    options.limit = {.min = 1, .max = 1};
    options.max_resident_wait = 2s;
    options.max_in_flight = 8;
    options.max_resident = 8;  // the line below holds more than a quarter of it
    start();
    submit(a, 1, 1);
    ASSERT_EQ(http.settle(1), 1U);
    submit(a, 20, 100);  // all wait behind the first
    EXPECT_EQ(http.settle(1, 100ms), 1U);
    EXPECT_EQ(store.deferred_count(), 0U);  // nothing has waited long yet
    clock.advance(2500);
    http.answer(200, 2500ms);
    // The head has waited 2.5 s: the line is cut back to a quarter of max_resident (2) and the
    // rest parked for max_resident_wait, with no attempt counted.
    EXPECT_TRUE(eventually([&] { return store.deferred_count() == 18; })) << store.deferred_count();
    std::lock_guard lock(store.mu);
    for (const auto& d : store.deferred) EXPECT_GE(d.next_attempt_at_ms, kStart + 2500 + 2000);
    EXPECT_EQ(store.attempts.size(), 1U);
}

TEST_F(DeliveryEngineTest, AReceiverThatHeldItsAnswersAndThenAnsweredIsNotParked) {
    options.limit = {.min = 4, .max = 4};
    options.max_resident_wait = 2s;
    start();
    submit(a, 100, 1);
    ASSERT_EQ(http.settle(4), 4U);
    clock.advance(1500);  // held for 1.5 s, then everything answered at once
    for (int i = 0; i < 100; ++i) {
        ASSERT_GE(http.settle(1), 1U) << i;
        http.answer(200, 1500us);
    }
    EXPECT_EQ(store.deferred_count(), 0U);
}

TEST_F(DeliveryEngineTest, InClusterModeEveryLineIsBoundByTheWait) {
    options.limit = {.min = 1, .max = 1};
    options.max_resident_wait = 2s;
    options.bound_every_line = true;  // a waiting delivery is leased: it must go out in time
    start();
    submit(a, 1, 1);
    ASSERT_EQ(http.settle(1), 1U);
    submit(a, 20, 100);
    ASSERT_TRUE(eventually([&] { return engine->held() == 21; }));
    EXPECT_EQ(http.settle(1, 100ms), 1U);  // they joined the line before the clock moves
    clock.advance(2500);
    http.answer(200, 2500ms);
    // Everything but the next one is parked: none may wait past its lease.
    EXPECT_TRUE(eventually([&] { return store.deferred_count() == 19; })) << store.deferred_count();
}

TEST_F(DeliveryEngineTest, StopDrainsWhatIsInFlightAndLetsTheWaitingGo) {
    options.limit = {.min = 2, .max = 2};
    start();
    submit(a, 10, 1);
    ASSERT_EQ(http.settle(2), 2U);
    std::thread stopper([this] { engine->stop(5000); });
    // Stopping has begun once the 8 waiting deliveries are let go.
    EXPECT_TRUE(eventually([&] { return engine->held() == 2; })) << engine->held();
    EXPECT_EQ(http.settle(2, 100ms), 2U);  // no new attempt once stopping
    http.answer_all(200);
    stopper.join();
    EXPECT_EQ(store.attempts_recorded(), 2U);
    EXPECT_EQ(http.posted_to(a), 2U);
    EXPECT_EQ(engine->held(), 0U);
    engine.reset();
}

TEST_F(DeliveryEngineTest, OutcomesAreRecordedAsTheRulesSay) {
    options.limit = {.min = 4, .max = 4};
    start();
    submit(a, 4, 1);
    ASSERT_EQ(http.settle(4), 4U);
    http.answer(200);
    http.answer(410);
    http.answer(500);
    http.answer(0, 10ms, std::nullopt, {}, net::HttpError::kBlockedAddress);
    ASSERT_TRUE(eventually([&] { return store.attempts_recorded() == 4; }));
    std::lock_guard lock(store.mu);
    std::map<int64_t, store::AttemptRecord> by_seq;
    for (const auto& r : store.attempts) by_seq[r.seq] = r;
    EXPECT_EQ(by_seq[1].outcome, store::AttemptOutcome::kDelivered);
    EXPECT_EQ(by_seq[2].outcome, store::AttemptOutcome::kFailed);
    EXPECT_EQ(by_seq[3].outcome, store::AttemptOutcome::kRetry);
    EXPECT_GE(by_seq[3].next_attempt_at_ms, kStart + 500);
    EXPECT_EQ(by_seq[4].outcome, store::AttemptOutcome::kFailed);
    EXPECT_EQ(metrics.dead_lettered.value(), 2U);
}

}  // namespace
}  // namespace cg::delivery
