#pragma once
// Shared set-up of the store unit tests, and the ONLY place where they call the Store interface
// (writes, due reads, the dispatch ledger): when that interface changes, this file changes.
//
// - StoreContract<S>: the typed fixture of the conformance suite (contract_*_test.cpp). Every
//   guarantee of store/store.hpp is tested once and run against each backend: SqliteStore in a
//   temp dir and, when the build registers cluster tests (CG_STORE_PG_TESTS), PgStore on an
//   emptied database of a real PostgreSQL (pg_test_server.hpp).
// - sqlite::test::StoreTest: the fixture of the tests of what only the embedded store has (its
//   file, migrations, a full disk).
//
// Every wait for a completion callback or a condition is bounded; nothing sleeps for correctness.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "obs/metrics.hpp"
#include "store/credential_store.hpp"
#include "store/dispatch_ledger.hpp"
#include "store/sqlite/sqlite_credentials.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "support/test_env.hpp"
#ifdef CG_STORE_PG_TESTS
#include "pg_test_server.hpp"
#include "store/postgres/pg_credentials.hpp"
#include "store/postgres/pg_store.hpp"
#endif

namespace cg::store::test {

// Every wait for a completion callback is bounded; a lost callback fails the test instead of
// hanging it.
inline constexpr std::chrono::seconds kCallbackTimeout{20};
// Bound of the polls for a condition that takes time by design (a lease running out).
inline constexpr std::chrono::seconds kConditionTimeout{10};

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

// Polls `done` until it holds or `timeout` passed; returns its last answer.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = kConditionTimeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end) return done();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Wall-clock milliseconds. Due times are compared with a clock: SQLite's with the `now_ms` the
// caller passes, PostgreSQL's with the database's own. Tests of due times therefore use real
// times (an hour ahead: not due; seconds ago: due), which mean the same to both.
inline int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
inline constexpr int64_t kHourMs = 3'600'000;

inline constexpr const char* kStation = "123e4567-e89b-12d3-a456-426614174000";
inline constexpr const char* kToken = "ABCD-efgh1234567890_~valid.token";
inline constexpr const char* kTraceparent =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
inline constexpr int64_t kTtlMs = 10'000;  // the idempotency TTL every test store is opened with

inline NewRequest make_request(const std::string& id, int64_t now = 1000) {
    NewRequest r;
    r.id = id;
    r.station_id = kStation;
    r.driver_token = kToken;
    r.callback_url = "https://client.app/cb";
    r.traceparent = kTraceparent;
    r.created_at_ms = now;
    return r;
}

inline NewRequest with_key(NewRequest r, const std::string& key, uint8_t hash_byte) {
    BodyHash h{};
    h.fill(hash_byte);
    r.idempotency = IdempotencyClaim{key, h};
    return r;
}

inline AttemptRecord retry(int64_t seq, int no, int64_t started, int64_t next, int status = 500) {
    // Appended: GCC 12 -O3 reports a false -Wrestrict on "literal" + std::string.
    std::string error = "receiver answered ";
    error += std::to_string(status);
    return {seq, no, started, 12, status, std::move(error), AttemptOutcome::kRetry, next};
}

inline AttemptRecord delivered(int64_t seq, int no, int64_t started, int64_t duration = 7) {
    return {seq, no, started, duration, 200, "", AttemptOutcome::kDelivered, 0};
}

inline AttemptRecord failed(int64_t seq, int no, int64_t started) {
    return {seq, no, started, 30, 0, "connection refused", AttemptOutcome::kFailed, 0};
}

// ---- Every call of the Store interface the tests make --------------------------------------

// Submits without waiting (tests of a failing disk, where several writes share a commit).
inline void submit_accept(Store& s, NewRequest r, std::function<void(AcceptResult)> done) {
    s.accept(std::move(r), std::move(done));
}
inline void submit_put_acl(Store& s, AclEntry e, std::function<void(WriteStatus)> done) {
    s.put_acl(std::move(e), std::move(done));
}

inline AcceptResult accept(Store& s, NewRequest r) {
    Waiter<AcceptResult> w;
    s.accept(std::move(r), w.cb());
    return w.get();
}

// Stores a request and returns its seq (failing the test if it was not stored).
inline int64_t stored(Store& s, const std::string& id, int64_t now = 1000) {
    const auto r = accept(s, make_request(id, now));
    EXPECT_EQ(r.status, AcceptStatus::kStored) << id;
    return r.seq;
}

inline constexpr int64_t kDecisionLeaseMs = 30'000;

// What a worker does before it authorizes queued requests: a shared store (a DispatchLedger)
// leases them to it; the embedded store has one worker and nothing to take. Returns the seqs
// now held for a decision.
inline std::vector<int64_t> take_for_decision(Store& s, const std::vector<int64_t>& seqs,
                                              int64_t lease_ms = kDecisionLeaseMs) {
    auto* ledger = dynamic_cast<DispatchLedger*>(&s);
    if (!ledger) return seqs;
    std::vector<int64_t> held;
    for (const auto& q : ledger->claim(seqs, lease_ms).claimed) held.push_back(q.seq);
    return held;
}

struct DecideResult {
    bool ok = false;
    std::vector<int64_t> superseded;
};

// Records decisions as the worker that took them (take_for_decision first, unless `take` is
// false: a worker whose lease may have been taken over). Reports what was superseded.
inline DecideResult decide_checked(Store& s, std::vector<DecisionRecord> decisions,
                                   bool take = true) {
    if (take) {
        std::vector<int64_t> seqs;
        for (const auto& d : decisions) seqs.push_back(d.seq);
        take_for_decision(s, seqs);
    }
    Waiter<DecideResult> w;
    s.record_decisions(std::move(decisions),
                       [cb = w.cb()](bool ok, std::vector<int64_t> superseded) {
                           cb(DecideResult{ok, std::move(superseded)});
                       });
    return w.get();
}

inline bool decide_many(Store& s, std::vector<DecisionRecord> decisions) {
    return decide_checked(s, std::move(decisions)).ok;
}

inline bool decide(Store& s, int64_t seq, DecisionStatus st = DecisionStatus::kAllowed,
                   const std::string& reason = "acl_allowed") {
    return decide_many(s, {{seq, Decision{st, reason, 2000}}});
}

// A decision submitted without waiting (tests of a failing disk). No lease is taken: only for
// the embedded store.
inline void submit_decision(Store& s, int64_t seq, std::function<void(bool)> done) {
    s.record_decisions(
        {{seq, Decision{DecisionStatus::kAllowed, "acl_allowed", 2000}}},
        [done = std::move(done)](bool ok, const std::vector<int64_t>&) { done(ok); });
}

inline bool attempts(Store& s, std::vector<AttemptRecord> records) {
    Waiter<bool> w;
    s.record_attempts(std::move(records), w.cb());
    return w.get();
}

inline bool attempt(Store& s, AttemptRecord a) { return attempts(s, {std::move(a)}); }

inline bool defer(Store& s, std::vector<DeferRecord> deferrals) {
    Waiter<bool> w;
    s.defer_deliveries(std::move(deferrals), w.cb());
    return w.get();
}

inline RedeliverStatus redeliver(Store& s, const std::string& id, int64_t now) {
    Waiter<RedeliverStatus> w;
    s.redeliver(id, now, w.cb());
    return w.get();
}

inline WriteStatus put_acl(Store& s, AclEntry e) {
    Waiter<WriteStatus> w;
    s.put_acl(std::move(e), w.cb());
    return w.get();
}

inline WriteStatus put_acl_bulk(Store& s, std::vector<AclEntry> entries) {
    Waiter<WriteStatus> w;
    s.put_acl_bulk(std::move(entries), w.cb());
    return w.get();
}

inline WriteStatus delete_acl(Store& s, const std::string& token) {
    Waiter<WriteStatus> w;
    s.delete_acl(token, w.cb());
    return w.get();
}

inline WriteStatus put_station(Store& s, StationEntry e) {
    Waiter<WriteStatus> w;
    s.put_station(std::move(e), w.cb());
    return w.get();
}

// Deletes keys older than `older_than_ms`. Asynchronous: writes apply in submission order, so a
// later write's completion shows it applied.
inline void expire_keys(Store& s, int64_t older_than_ms) {
    s.expire_idempotency_keys(older_than_ms);
}

// What a process does at start: deliveries resident in a previous process are due again.
inline void recover(Store& s, int64_t now) { s.recover_in_flight(now); }

// The deliveries due now, earliest first, at most `limit`, taken for delivery by the caller
// (Store::take_due): a shared store leases them to the caller's process, so a later call does not
// return them again while the lease lasts.
inline std::vector<DeliveryJob> take_due(Store& s, size_t limit = 100) {
    return s.take_due(now_ms(), limit, 0);
}
// SQLite only: taken at a given time (PostgreSQL compares with its own clock).
inline std::vector<DeliveryJob> take_due_at(Store& s, int64_t now, size_t limit = 100) {
    return s.take_due(now, limit, 0);
}

// Polls take_due until it returns something (a lease running out) or the bound passes.
inline std::vector<DeliveryJob> wait_due(Store& s, size_t limit = 100) {
    std::vector<DeliveryJob> due;
    wait_until([&] {
        due = take_due(s, limit);
        return !due.empty();
    });
    return due;
}

inline std::vector<int64_t> seqs_of(const std::vector<DeliveryJob>& jobs) {
    std::vector<int64_t> out;
    for (const auto& j : jobs) out.push_back(j.seq);
    return out;
}

// The dispatch ledger of a shared store (cluster mode).
inline ClaimResult claim(DispatchLedger& l, const std::vector<int64_t>& seqs, int64_t lease_ms) {
    return l.claim(seqs, lease_ms);
}
inline void release(DispatchLedger& l, const std::vector<int64_t>& seqs) { l.release(seqs); }
inline std::vector<int64_t> take_unpublished(DispatchLedger& l, int64_t older_than_ms,
                                             size_t limit) {
    return l.take_unpublished(older_than_ms, limit);
}
inline std::vector<int64_t> claimed_seqs(const ClaimResult& r) {
    std::vector<int64_t> out;
    for (const auto& q : r.claimed) out.push_back(q.seq);
    return out;
}

// ---- The backends of the typed suite -------------------------------------------------------

// How a test opens a store. Several stores opened by one test share its data (one directory,
// one database): a reopen after a "crash", or a second process of a cluster.
struct OpenOptions {
    std::string owner = "worker-a";  // the process's name in leases (shared store)
    int64_t lease_ms = 30'000;       // how long its due reads and decisions lease (shared store)
};

template <typename S>
struct Backend;

template <>
struct Backend<sqlite::SqliteStore> {
    static constexpr bool kShared = false;
    static constexpr const char* kName = "SQLite";

    void set_up() {}
    std::unique_ptr<sqlite::SqliteStore> open(const OpenOptions& /*options*/,
                                              obs::Metrics* metrics) const {
        sqlite::SqliteOptions o;
        o.data_dir = data_dir();
        o.idempotency_ttl_ms = kTtlMs;
        return sqlite::open_sqlite_store(o, metrics);
    }
    [[nodiscard]] std::unique_ptr<CredentialStore> credentials() const {
        return std::make_unique<sqlite::SqliteCredentials>(data_dir(), true);
    }
    [[nodiscard]] std::string data_dir() const { return (dir_.path() / "data").string(); }

    cg::test::TempDir dir_;
};

#ifdef CG_STORE_PG_TESTS
template <>
struct Backend<postgres::PgStore> {
    static constexpr bool kShared = true;
    static constexpr const char* kName = "PostgreSQL";

    // An empty database at the latest schema; throws with a clear message when PostgreSQL
    // cannot run here.
    void set_up() { url_ = PgTestServer::get().clean_database(); }
    std::unique_ptr<postgres::PgStore> open(const OpenOptions& options,
                                            obs::Metrics* metrics) const {
        postgres::PgOptions o;
        o.database_url = url_;
        o.owner = options.owner;
        o.lease_ms = options.lease_ms;
        o.idempotency_ttl_ms = kTtlMs;
        return postgres::open_pg_store(o, metrics);
    }
    [[nodiscard]] std::unique_ptr<CredentialStore> credentials() const {
        return std::make_unique<postgres::PgCredentials>(url_);
    }

    std::string url_;
};
// Order matters: CMakeLists.txt runs the typed suites' instances /1 (PgStore) together, as one
// ctest test with one server, instead of one PostgreSQL per test process.
using Backends = ::testing::Types<sqlite::SqliteStore, postgres::PgStore>;
#else
// Built with CG_CLUSTER_TESTS=OFF: no PostgreSQL, the embedded store only.
using Backends = ::testing::Types<sqlite::SqliteStore>;
#endif

template <typename S>
class StoreContract : public ::testing::Test {
  protected:
    // A store shared by several processes (PostgreSQL): leases, takeover, a clock of its own.
    static constexpr bool kShared = Backend<S>::kShared;

    void SetUp() override {
        try {
            backend_.set_up();
        } catch (const std::exception& e) {
            FAIL() << Backend<S>::kName << " backend unavailable: " << e.what()
                   << " (install PostgreSQL (scripts/install-deps.sh) or set CG_PG_BINDIR, or "
                      "configure with -DCG_CLUSTER_TESTS=OFF to test the embedded store only)";
        }
    }

    std::unique_ptr<S> open(const OpenOptions& options = {}) {
        return backend_.open(options, &metrics_);
    }
    // A process restarting after a crash: a new store on the same data, then start-up recovery.
    std::unique_ptr<S> restart(std::unique_ptr<S> old, const OpenOptions& options = {}) {
        old.reset();
        auto s = open(options);
        recover(*s, now_ms());
        return s;
    }
    std::unique_ptr<CredentialStore> credentials() { return backend_.credentials(); }

    Backend<S> backend_;
    obs::Metrics metrics_;
};

}  // namespace cg::store::test

namespace cg::store::sqlite::test {

using namespace cg::store::test;  // NOLINT(google-build-using-namespace): the shared helpers

// The embedded store in a fresh temporary directory, for what only it has.
class StoreTest : public ::testing::Test {
  protected:
    [[nodiscard]] std::string data_dir() const { return (dir_.path() / "data").string(); }
    [[nodiscard]] std::string db_path() const { return data_dir() + "/chargegate.db"; }

    std::unique_ptr<SqliteStore> open() {
        SqliteOptions o;
        o.data_dir = data_dir();
        o.idempotency_ttl_ms = kTtlMs;
        return open_sqlite_store(o, &metrics_);
    }

    cg::test::TempDir dir_;
    obs::Metrics metrics_;
};

}  // namespace cg::store::sqlite::test
