#include "store/sqlite/sqlite_store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "obs/log.hpp"
#include "store/group_commit.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_reader.hpp"
#include "store/state_sql.hpp"
#include "store/stations_json.hpp"

namespace cg::store::sqlite {

namespace {

// Prepared statements of the write connection, prepared once.
struct WriteStatements {
    explicit WriteStatements(sqlite3* h)
        : find_key(h,
                   "SELECT body_hash, request_id, created_at FROM idempotency_keys WHERE key = ?"),
          put_key(h,
                  "INSERT OR REPLACE INTO idempotency_keys (key, body_hash, request_id, "
                  "created_at) VALUES (?, ?, ?, ?)"),
          insert_request(
              h, state_sql("INSERT INTO requests (id, station_id, driver_token, callback_url, "
                           "traceparent, state, created_at, client_id) VALUES (?, ?, ?, ?, ?, "
                           "{queued}, ?, ?)")),
          decide(h, state_sql("UPDATE requests SET state = {delivering}, decision_status = ?, "
                              "decision_reason = ?, "
                              "decided_at = ?, round_attempts = 0, next_attempt_at = NULL "
                              "WHERE seq = ? AND state = {queued}")),
          insert_attempt(h,
                         "INSERT OR REPLACE INTO delivery_attempts (request_seq, attempt_no, "
                         "started_at, duration_ms, http_status, error) VALUES (?, ?, ?, ?, ?, ?)"),
          update_attempt(h, state_sql("UPDATE requests SET attempts = max(attempts, ?), "
                                      "round_attempts = round_attempts + 1, last_status_code = ?, "
                                      "last_error = ?, state = ?, next_attempt_at = ?, "
                                      "delivered_at = coalesce(?, delivered_at) WHERE seq = ? AND "
                                      "state = {delivering}")),
          defer(h, state_sql("UPDATE requests SET next_attempt_at = ? WHERE seq = ? AND state = "
                             "{delivering}")),
          find_state(h, "SELECT seq, state FROM requests WHERE id = ?"),
          redeliver(h, state_sql("UPDATE requests SET state = {delivering}, round_attempts = 0, "
                                 "next_attempt_at = ?, "
                                 "delivered_at = NULL WHERE seq = ?")),
          put_acl(h,
                  "INSERT OR REPLACE INTO acl (driver_token, status, stations, expires_at, "
                  "updated_at) VALUES (?, ?, ?, ?, ?)"),
          delete_acl(h, "DELETE FROM acl WHERE driver_token = ?"),
          put_station(h,
                      "INSERT OR REPLACE INTO stations (station_id, active, updated_at) "
                      "VALUES (?, ?, ?)"),
          recover(
              h, state_sql("UPDATE requests SET next_attempt_at = ? WHERE state = {delivering} AND "
                           "next_attempt_at IS NULL")),
          expire(h,
                 "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys "
                 "WHERE created_at < ? LIMIT 5000)") {}

    Statement find_key, put_key, insert_request, decide, insert_attempt, update_attempt, defer,
        find_state, redeliver, put_acl, delete_acl, put_station, recover, expire;
};

struct WriteContext {
    Database& db;
    WriteStatements& st;
    int64_t max_seq;  // highest seq stored by the batch; published once it committed
    int64_t idempotency_ttl_ms;
};

// One queued write. apply() runs inside the batch transaction and may throw SqliteError: an
// environment failure aborts the whole batch, any other error fails this operation alone (its
// statement was rolled back by SQLite, the others stand). complete() runs after the commit
// (GroupCommitWriter), with `false` for a failed batch or an operation failed alone.
class Op : public WriteOp {
  public:
    virtual void apply(WriteContext& ctx) = 0;
};

class AcceptOp final : public Op {
  public:
    AcceptOp(NewRequest r, std::function<void(AcceptResult)> done)
        : req_(std::move(r)), done_(std::move(done)) {}

    void apply(WriteContext& ctx) override {
        if (req_.idempotency) {
            auto& f = ctx.st.find_key;
            Reset guard(f);
            f.bind(1, req_.idempotency->key);
            if (f.step() && f.int64(2) >= req_.created_at_ms - ctx.idempotency_ttl_ms) {
                const auto stored = f.blob(0);
                const auto& hash = req_.idempotency->body_hash;
                const bool same = stored.size() == hash.size() &&
                                  std::memcmp(stored.data(), hash.data(), hash.size()) == 0;
                result_.status = same ? AcceptStatus::kReplayed : AcceptStatus::kKeyConflict;
                result_.request_id = f.text(1);
                return;
            }
        }
        auto& ins = ctx.st.insert_request;
        {
            Reset guard(ins);
            ins.bind(1, req_.id)
                .bind(2, req_.station_id)
                .bind(3, req_.driver_token)
                .bind(4, req_.callback_url)
                .bind(5, req_.traceparent)
                .bind(6, req_.created_at_ms);
            if (req_.client_id.empty()) {
                ins.bind_null(7);
            } else {
                ins.bind(7, req_.client_id);
            }
            ins.run();
        }
        result_.status = AcceptStatus::kStored;
        result_.request_id = req_.id;
        result_.seq = ctx.db.last_rowid();
        if (req_.idempotency) {
            auto& put = ctx.st.put_key;
            Reset guard(put);
            put.bind(1, req_.idempotency->key)
                .bind_blob(2, req_.idempotency->body_hash.data(),
                           req_.idempotency->body_hash.size())
                .bind(3, req_.id)
                .bind(4, req_.created_at_ms);
            put.run();
        }
        d_queued += 1;
        ctx.max_seq = std::max(ctx.max_seq, result_.seq);
    }

    void complete(bool committed) override {
        if (!committed) {
            result_ = AcceptResult{AcceptStatus::kUnavailable, {}, 0, "storage unavailable"};
        }
        done_(std::move(result_));
    }

  private:
    NewRequest req_;
    std::function<void(AcceptResult)> done_;
    AcceptResult result_;
};

class DecisionsOp final : public Op {
  public:
    using Done = std::function<void(bool, std::vector<int64_t>)>;
    DecisionsOp(std::vector<DecisionRecord> d, Done done)
        : decisions_(std::move(d)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.decide;
        for (const auto& d : decisions_) {
            Reset guard(s);
            s.bind(1, static_cast<int64_t>(d.decision.status))
                .bind(2, d.decision.reason)
                .bind(3, d.decision.decided_at_ms)
                .bind(4, d.seq);
            s.run();
            if (ctx.db.changes() == 1) {
                d_queued -= 1;
                d_delivering += 1;
            } else {
                superseded_.push_back(d.seq);  // no longer queued: decided already
            }
        }
    }
    void complete(bool committed) override {
        if (!committed) superseded_.clear();
        done_(committed, std::move(superseded_));
    }

  private:
    std::vector<DecisionRecord> decisions_;
    Done done_;
    std::vector<int64_t> superseded_;
};

class AttemptsOp final : public Op {
  public:
    AttemptsOp(std::vector<AttemptRecord> a, std::function<void(bool)> done)
        : attempts_(std::move(a)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        for (const auto& a : attempts_) {
            {
                auto& s = ctx.st.insert_attempt;
                Reset guard(s);
                s.bind(1, a.seq)
                    .bind(2, static_cast<int64_t>(a.attempt_no))
                    .bind(3, a.started_at_ms)
                    .bind(4, a.duration_ms);
                if (a.http_status > 0) {
                    s.bind(5, static_cast<int64_t>(a.http_status));
                } else {
                    s.bind_null(5);
                }
                if (a.error.empty()) {
                    s.bind_null(6);
                } else {
                    s.bind(6, a.error);
                }
                s.run();
            }
            auto& u = ctx.st.update_attempt;
            Reset guard(u);
            int64_t state = stored(RequestState::kDelivering);
            if (a.outcome == AttemptOutcome::kDelivered) state = stored(RequestState::kDelivered);
            if (a.outcome == AttemptOutcome::kFailed) state = stored(RequestState::kFailed);
            u.bind(1, static_cast<int64_t>(a.attempt_no));
            if (a.http_status > 0) {
                u.bind(2, static_cast<int64_t>(a.http_status));
            } else {
                u.bind_null(2);
            }
            if (a.error.empty()) {
                u.bind_null(3);
            } else {
                u.bind(3, a.error);
            }
            u.bind(4, state);
            if (a.outcome == AttemptOutcome::kRetry) {
                u.bind(5, a.next_attempt_at_ms);
            } else {
                u.bind_null(5);
            }
            if (a.outcome == AttemptOutcome::kDelivered) {
                u.bind(6, a.started_at_ms + a.duration_ms);
            } else {
                u.bind_null(6);
            }
            u.bind(7, a.seq);
            u.run();
            if (ctx.db.changes() == 1 && state != stored(RequestState::kDelivering))
                d_delivering -= 1;
        }
    }
    void complete(bool committed) override { done_(committed); }

  private:
    std::vector<AttemptRecord> attempts_;
    std::function<void(bool)> done_;
};

class DeferOp final : public Op {
  public:
    DeferOp(std::vector<DeferRecord> d, std::function<void(bool)> done)
        : deferrals_(std::move(d)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.defer;
        for (const auto& d : deferrals_) {
            Reset guard(s);
            s.bind(1, d.next_attempt_at_ms).bind(2, d.seq);
            s.run();
        }
    }
    void complete(bool committed) override { done_(committed); }

  private:
    std::vector<DeferRecord> deferrals_;
    std::function<void(bool)> done_;
};

class RedeliverOp final : public Op {
  public:
    RedeliverOp(std::string id, int64_t now, std::function<void(RedeliverStatus)> done)
        : id_(std::move(id)), now_(now), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& f = ctx.st.find_state;
        int64_t seq = 0;
        int64_t state = 0;
        {
            Reset guard(f);
            f.bind(1, id_);
            if (!f.step()) {
                status_ = RedeliverStatus::kNotFound;
                return;
            }
            seq = f.int64(0);
            state = f.int64(1);
        }
        if (state != stored(RequestState::kDelivered) && state != stored(RequestState::kFailed)) {
            status_ = RedeliverStatus::kNotFinished;
            return;
        }
        auto& r = ctx.st.redeliver;
        Reset guard(r);
        r.bind(1, now_).bind(2, seq);
        r.run();
        d_delivering += 1;
        status_ = RedeliverStatus::kScheduled;
    }
    void complete(bool committed) override {
        done_(committed ? status_ : RedeliverStatus::kUnavailable);
    }

  private:
    std::string id_;
    int64_t now_;
    std::function<void(RedeliverStatus)> done_;
    RedeliverStatus status_ = RedeliverStatus::kUnavailable;
};

class AclOp final : public Op {
  public:
    AclOp(std::vector<AclEntry> e, std::function<void(WriteStatus)> done)
        : entries_(std::move(e)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.put_acl;
        for (const auto& e : entries_) {
            // Bound without copies (a bulk import writes a million of these): both texts
            // outlive the statement's reset at the end of this iteration.
            const auto stations = stations_to_json(e.stations);
            Reset guard(s);
            s.bind_unowned(1, e.driver_token).bind(2, static_cast<int64_t>(e.status));
            if (stations) {
                s.bind_unowned(3, *stations);
            } else {
                s.bind_null(3);
            }
            s.bind(4, e.expires_at_ms).bind(5, e.updated_at_ms);
            s.run();
        }
    }
    void complete(bool committed) override {
        done_(committed ? WriteStatus::kOk : WriteStatus::kUnavailable);
    }

  private:
    std::vector<AclEntry> entries_;
    std::function<void(WriteStatus)> done_;
};

class DeleteAclOp final : public Op {
  public:
    DeleteAclOp(std::string token, std::function<void(WriteStatus)> done)
        : token_(std::move(token)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.delete_acl;
        Reset guard(s);
        s.bind(1, token_);
        s.run();
        found_ = ctx.db.changes() > 0;
    }
    void complete(bool committed) override {
        if (!committed) {
            done_(WriteStatus::kUnavailable);
        } else {
            done_(found_ ? WriteStatus::kOk : WriteStatus::kNotFound);
        }
    }

  private:
    std::string token_;
    std::function<void(WriteStatus)> done_;
    bool found_ = false;
};

class StationOp final : public Op {
  public:
    StationOp(StationEntry e, std::function<void(WriteStatus)> done)
        : entry_(std::move(e)), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.put_station;
        Reset guard(s);
        s.bind(1, entry_.station_id)
            .bind(2, static_cast<int64_t>(entry_.active ? 1 : 0))
            .bind(3, entry_.updated_at_ms);
        s.run();
    }
    void complete(bool committed) override {
        done_(committed ? WriteStatus::kOk : WriteStatus::kUnavailable);
    }

  private:
    StationEntry entry_;
    std::function<void(WriteStatus)> done_;
};

// A statement over the whole table (recovery, expiry) with a completion.
class SweepOp final : public Op {
  public:
    SweepOp(Statement WriteStatements::*stmt, int64_t arg, std::function<void(bool, int64_t)> done)
        : stmt_(stmt), arg_(arg), done_(std::move(done)) {}
    void apply(WriteContext& ctx) override {
        auto& s = ctx.st.*stmt_;
        Reset guard(s);
        s.bind(1, arg_);
        s.run();
        changed_ = ctx.db.changes();
    }
    void complete(bool committed) override {
        if (done_) done_(committed, changed_);
    }

  private:
    Statement WriteStatements::*stmt_;
    int64_t arg_;
    std::function<void(bool, int64_t)> done_;
    int64_t changed_ = 0;
};

}  // namespace

// The SQLite step of the group-commit writer: one transaction per batch on the write connection,
// committed with synchronous=FULL.
struct SqliteStore::Impl final : BatchBackend {
    SqliteOptions options;
    std::string path;
    obs::Metrics* metrics = nullptr;
    std::unique_ptr<Database> db;
    std::unique_ptr<WriteStatements> statements;
    std::unique_ptr<GroupCommitWriter> writer;  // created last, closed first; never null after open
    std::atomic<int64_t> max_seq{0};

    std::mutex due_mu;                         // take_due's reader
    std::unique_ptr<SqliteReader> due_reader;  // guarded by due_mu

    // Start-up recovery the disk refused (recover_in_flight). While pending, every commit applies
    // it first, in the same transaction: no commit without it has happened since the start, so it
    // reaches exactly the deliveries resident in the previous process. With nothing else to write
    // the writer probes with it alone every second, so the store comes back by itself.
    // Set by recover_in_flight (before any other write is submitted); cleared by the writer once a
    // commit with it succeeded.
    std::atomic<bool> recovery_pending{false};
    int64_t recovery_now_ms = 0;    // written before recovery_pending is set
    int64_t recovery_failures = 0;  // writer thread only

    [[nodiscard]] bool probe_pending() const override { return recovery_pending.load(); }

    std::string apply_batch(WriteBatch batch) override {
        const bool recovering = recovery_pending.load();
        WriteContext ctx{*db, *statements, 0, options.idempotency_ttl_ms};
        int64_t recovered = 0;
        try {
            db->exec("BEGIN IMMEDIATE");
            try {
                if (recovering) {  // any failure of it fails the whole batch
                    auto& s = statements->recover;
                    Reset guard(s);
                    s.bind(1, recovery_now_ms);
                    s.run();
                    recovered = db->changes();
                }
                for (const auto& w : batch) {
                    auto& op = static_cast<Op&>(*w);
                    try {
                        op.apply(ctx);
                    } catch (const SqliteError& e) {
                        if (is_environment_failure(e.code())) throw;
                        op.failed = true;  // this operation alone; SQLite undid its statement
                        obs::log_error("store operation failed").kv("error", e.what());
                    }
                }
                db->exec("COMMIT");
            } catch (...) {
                try {
                    db->exec("ROLLBACK");
                } catch (...) {  // already rolled back by SQLite (e.g. on SQLITE_FULL)
                }
                throw;
            }
        } catch (const std::exception& e) {
            if (recovering) ++recovery_failures;
            return e.what();
        }
        if (ctx.max_seq > max_seq.load()) max_seq.store(ctx.max_seq);
        if (recovering) {
            recovery_pending.store(false);
            obs::log_info(
                "start-up recovery written now that the store takes writes: resuming "
                "deliveries that were in flight at the last stop")
                .kv("count", recovered)
                .kv("failed_tries", recovery_failures);
        }
        return {};
    }

    void submit(std::unique_ptr<Op> op) { writer->submit(std::move(op)); }

    // Runs one sweep synchronously (used before the service starts taking work): whether it
    // was written, and the rows it changed.
    std::pair<bool, int64_t> sweep(Statement WriteStatements::*stmt, int64_t arg) {
        std::promise<std::pair<bool, int64_t>> p;
        auto f = p.get_future();
        submit(std::make_unique<SweepOp>(stmt, arg, [&p](bool ok, int64_t n) {
            p.set_value({ok, n});
        }));
        return f.get();
    }
};
namespace {
int64_t count(Database& db, std::string_view sql) {
    Statement s(db.handle(), sql);
    s.step();
    return s.int64(0);
}
}  // namespace

std::unique_ptr<SqliteStore> open_sqlite_store(const SqliteOptions& options,
                                               obs::Metrics* metrics) {
    prepare_data_dir(options.data_dir);
    auto impl = std::make_unique<SqliteStore::Impl>();
    impl->options = options;
    impl->path = database_path(options.data_dir);
    impl->metrics = metrics;
    try {
        impl->db = std::make_unique<Database>(impl->path);
    } catch (const SqliteError& e) {
        throw StoreError(e.what());
    }
    configure_connection(*impl->db, impl->path, true);
    apply_migrations(*impl->db, impl->path);
    int64_t queued = 0;
    int64_t delivering = 0;
    try {
        impl->statements = std::make_unique<WriteStatements>(impl->db->handle());
        queued =
            count(*impl->db, state_sql("SELECT count(*) FROM requests WHERE state = {queued}"));
        delivering =
            count(*impl->db, state_sql("SELECT count(*) FROM requests WHERE state = {delivering}"));
        impl->max_seq = count(*impl->db, "SELECT coalesce(max(seq), 0) FROM requests");
    } catch (const SqliteError& e) {
        throw StoreError(impl->path + ": " + e.what());
    }
    impl->writer = std::make_unique<GroupCommitWriter>(
        *impl, GroupCommitOptions{options.max_batch, options.commit_interval_us, "cg-sqlite-write"},
        metrics);
    impl->writer->set_counts(queued, delivering);
    return std::make_unique<SqliteStore>(std::move(impl));
}

void migrate_sqlite(const std::string& data_dir) {
    prepare_data_dir(data_dir);
    const auto path = database_path(data_dir);
    try {
        Database db(path);
        configure_connection(db, path, true);
        apply_migrations(db, path);
    } catch (const SqliteError& e) {
        throw StoreError(e.what());
    }
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::accept(NewRequest request, std::function<void(AcceptResult)> done) {
    impl_->submit(std::make_unique<AcceptOp>(std::move(request), std::move(done)));
}

void SqliteStore::record_decisions(
    std::vector<DecisionRecord> decisions,
    std::function<void(bool ok, std::vector<int64_t> superseded)> done) {
    impl_->submit(std::make_unique<DecisionsOp>(std::move(decisions), std::move(done)));
}

void SqliteStore::record_attempts(std::vector<AttemptRecord> attempts,
                                  std::function<void(bool ok)> done) {
    impl_->submit(std::make_unique<AttemptsOp>(std::move(attempts), std::move(done)));
}

void SqliteStore::defer_deliveries(std::vector<DeferRecord> deferrals,
                                   std::function<void(bool ok)> done) {
    impl_->submit(std::make_unique<DeferOp>(std::move(deferrals), std::move(done)));
}

void SqliteStore::redeliver(std::string request_id, int64_t now_ms,
                            std::function<void(RedeliverStatus)> done) {
    impl_->submit(std::make_unique<RedeliverOp>(std::move(request_id), now_ms, std::move(done)));
}

void SqliteStore::put_acl(AclEntry entry, std::function<void(WriteStatus)> done) {
    std::vector<AclEntry> one;
    one.push_back(std::move(entry));
    impl_->submit(std::make_unique<AclOp>(std::move(one), std::move(done)));
}

void SqliteStore::put_acl_bulk(std::vector<AclEntry> entries,
                               std::function<void(WriteStatus)> done) {
    impl_->submit(std::make_unique<AclOp>(std::move(entries), std::move(done)));
}

void SqliteStore::delete_acl(std::string driver_token, std::function<void(WriteStatus)> done) {
    impl_->submit(std::make_unique<DeleteAclOp>(std::move(driver_token), std::move(done)));
}

void SqliteStore::put_station(StationEntry entry, std::function<void(WriteStatus)> done) {
    impl_->submit(std::make_unique<StationOp>(std::move(entry), std::move(done)));
}

// One process writes: nothing to lease. Due deliveries stay parked until their attempt is
// recorded, so those this process holds come back: read `held` more.
std::vector<DeliveryJob> SqliteStore::take_due(int64_t now_ms, size_t limit, size_t held) {
    std::lock_guard lock(impl_->due_mu);
    try {
        if (!impl_->due_reader) impl_->due_reader = std::make_unique<SqliteReader>(impl_->path);
        return impl_->due_reader->load_due(now_ms, limit + held);
    } catch (...) {
        impl_->due_reader.reset();
        throw;
    }
}

std::unique_ptr<StoreReader> SqliteStore::open_reader() {
    return std::make_unique<SqliteReader>(impl_->path);
}

void SqliteStore::recover_in_flight(int64_t now_ms) {
    const auto [ok, n] = impl_->sweep(&WriteStatements::recover, now_ms);
    if (!ok) {
        // The disk refuses writes (full, say, after a crash): start anyway with the store DOWN
        // (accepting answers 503, reads are served) and let the writer retry the recovery.
        impl_->recovery_now_ms = now_ms;
        impl_->recovery_pending.store(true);
        impl_->writer->wake();
        obs::log_warn(
            "start-up recovery could not be written; starting with the store DOWN, the writer "
            "retries it every second")
            .kv("error", counters().last_error);
        return;
    }
    if (n > 0) {
        obs::log_info("resuming deliveries that were in flight at the last stop").kv("count", n);
    }
}

namespace {
// Deletes expired keys in slices of 5000 so no single transaction holds the writer for long;
// each slice that was full queues the next one.
void schedule_expiry(SqliteStore::Impl* impl, int64_t older_than_ms) {
    impl->submit(std::make_unique<SweepOp>(&WriteStatements::expire, older_than_ms,
                                           [impl, older_than_ms](bool ok, int64_t n) {
                                               if (ok && n == 5000) {
                                                   schedule_expiry(impl, older_than_ms);
                                               }
                                           }));
}
}  // namespace

void SqliteStore::expire_idempotency_keys(int64_t older_than_ms) {
    schedule_expiry(impl_.get(), older_than_ms);
}

StoreCounters SqliteStore::counters() const {
    StoreCounters c = impl_->writer->counters();
    c.max_seq = impl_->max_seq.load();
    return c;
}

void SqliteStore::close() {
    impl_->writer->close();  // later writes complete at once with `false`
    impl_->statements.reset();
    impl_->db.reset();
    std::lock_guard lock(impl_->due_mu);
    impl_->due_reader.reset();
}

}  // namespace cg::store::sqlite
