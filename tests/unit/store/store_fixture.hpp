#pragma once
// Shared set-up of the store unit tests: a real SQLite store in a fresh temporary directory,
// and helpers that wait (boundedly) for a write's completion callback.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include "store/sqlite/sqlite_store.hpp"
#include "support/test_env.hpp"

namespace cg::store::sqlite::test {

// Every wait for a completion callback is bounded; a lost callback fails the test instead of
// hanging it.
inline constexpr std::chrono::seconds kCallbackTimeout{20};

// Receives one completion callback. The promise is shared with the callback, so a callback
// arriving after a timed-out wait touches no freed memory.
template <typename T>
class Waiter {
  public:
    // Also takes (and ignores) a completion's further arguments (record_decisions' superseded).
    auto cb() {
        return [p = promise_](T v, auto&&...) { p->set_value(std::move(v)); };
    }
    T get() {
        if (future_.wait_for(kCallbackTimeout) != std::future_status::ready) {
            throw std::runtime_error("store completion callback did not run in time");
        }
        return future_.get();
    }

  private:
    std::shared_ptr<std::promise<T>> promise_ = std::make_shared<std::promise<T>>();
    std::future<T> future_ = promise_->get_future();
};

inline constexpr const char* kStation = "123e4567-e89b-12d3-a456-426614174000";
inline constexpr const char* kToken = "ABCD-efgh1234567890_~valid.token";

inline NewRequest make_request(const std::string& id, int64_t now = 1000) {
    NewRequest r;
    r.id = id;
    r.station_id = kStation;
    r.driver_token = kToken;
    r.callback_url = "https://client.app/cb";
    r.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    r.created_at_ms = now;
    return r;
}

inline NewRequest with_key(NewRequest r, const std::string& key, uint8_t hash_byte) {
    BodyHash h{};
    h.fill(hash_byte);
    r.idempotency = IdempotencyClaim{key, h};
    return r;
}

class StoreTest : public ::testing::Test {
  protected:
    static constexpr int64_t kTtlMs = 10'000;

    [[nodiscard]] std::string data_dir() const { return (dir_.path() / "data").string(); }
    [[nodiscard]] std::string db_path() const { return data_dir() + "/chargegate.db"; }

    std::unique_ptr<SqliteStore> open() {
        SqliteOptions o;
        o.data_dir = data_dir();
        o.idempotency_ttl_ms = kTtlMs;
        return open_sqlite_store(o, &metrics_);
    }

    static AcceptResult accept(Store& s, NewRequest r) {
        Waiter<AcceptResult> w;
        s.accept(std::move(r), w.cb());
        return w.get();
    }
    // Stores a request and returns its seq (failing the test if it was not stored).
    static int64_t stored(Store& s, const std::string& id, int64_t now = 1000) {
        const auto r = accept(s, make_request(id, now));
        EXPECT_EQ(r.status, AcceptStatus::kStored) << id;
        return r.seq;
    }
    static bool decide(Store& s, int64_t seq, DecisionStatus st = DecisionStatus::kAllowed,
                       const std::string& reason = "acl_allowed") {
        Waiter<bool> w;
        s.record_decisions({{seq, Decision{st, reason, 2000}}}, w.cb());
        return w.get();
    }
    static bool attempt(Store& s, AttemptRecord a) {
        Waiter<bool> w;
        s.record_attempts({std::move(a)}, w.cb());
        return w.get();
    }
    static RedeliverStatus redeliver(Store& s, const std::string& id, int64_t now) {
        Waiter<RedeliverStatus> w;
        s.redeliver(id, now, w.cb());
        return w.get();
    }
    static WriteStatus put_acl(Store& s, AclEntry e) {
        Waiter<WriteStatus> w;
        s.put_acl(std::move(e), w.cb());
        return w.get();
    }
    static WriteStatus delete_acl(Store& s, const std::string& token) {
        Waiter<WriteStatus> w;
        s.delete_acl(token, w.cb());
        return w.get();
    }
    static WriteStatus put_station(Store& s, StationEntry e) {
        Waiter<WriteStatus> w;
        s.put_station(std::move(e), w.cb());
        return w.get();
    }

    cg::test::TempDir dir_;
    obs::Metrics metrics_;
};

}  // namespace cg::store::sqlite::test
