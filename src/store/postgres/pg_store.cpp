#include "store/postgres/pg_store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "obs/log.hpp"
#include "store/group_commit.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/postgres/pg_migrations.hpp"
#include "store/postgres/pg_reader.hpp"
#include "store/state_sql.hpp"
#include "store/stations_json.hpp"

namespace cg::store::postgres {

namespace {

std::string num(int64_t v) { return std::to_string(v); }

// The queued and delivering counts, each from the partial index that holds exactly those rows
// (requests_queued_seq, requests_due). The former `count(*) FILTER ... WHERE state IN (0, 2)`
// was planned as a sequential scan of the whole table, delivered rows included, once a second
// in every process: 17 ms a call at 20k rows in the cluster benchmark (33 µs per session), and
// growing with the table.
constexpr auto kCountsSql = state_sql(
    "SELECT (SELECT count(*) FROM requests WHERE state = {queued}),"
    " (SELECT count(*) FROM requests WHERE state = {delivering})");

Param opt_num(std::optional<int64_t> v) {
    if (!v) return std::nullopt;
    return std::to_string(*v);
}

// The batch statements below match rows as `r.state + 0 = N`, not `r.state = N`, on purpose.
// Statements are prepared (PgConnection::exec), so after a few runs PostgreSQL uses a generic
// plan, costed without the arrays' sizes; with a plain `state = N` it chose to read the whole
// partial index of that state (requests_queued_seq, requests_due) and hash-join it with the
// batch, and those indexes hold every version of every row that was ever in the state until
// vacuum: the decision and attempt updates went from 58 and 45 to 107 and 82 µs per session.
// `+ 0` keeps the partial indexes out of the plan, leaving one primary-key lookup per row.

// One queued write. The writer groups a batch's operations by kind and writes each kind with
// one statement; `complete` runs after the transaction's end (GroupCommitWriter), `committed`
// telling its fate. d_queued / d_delivering (WriteOp) hold its change to the counts.
struct Op final : WriteOp {
    enum class Kind {
        kAccept,
        kDecide,
        kAttempts,
        kDefer,
        kRedeliver,
        kAcl,
        kDeleteAcl,
        kStation,
        kExpire
    };
    explicit Op(Kind k) : kind(k) {}
    Kind kind;

    // kAccept
    NewRequest request;
    std::function<void(AcceptResult)> on_accept;
    AcceptResult accept_result;
    bool insert_request = false;  // set while writing: the key claim let it through

    // kDecide
    std::vector<DecisionRecord> decisions;
    std::function<void(bool, std::vector<int64_t>)> on_decide;
    std::vector<int64_t> superseded;

    // kAttempts / kDefer
    std::vector<AttemptRecord> attempts;
    std::vector<DeferRecord> deferrals;
    std::function<void(bool)> on_done;

    // kRedeliver / kDeleteAcl
    std::string key;  // request id or driver token
    int64_t at_ms = 0;
    std::function<void(RedeliverStatus)> on_redeliver;
    RedeliverStatus redeliver_status = RedeliverStatus::kUnavailable;

    // kAcl / kStation / kDeleteAcl
    std::vector<AclEntry> acl;
    StationEntry station;
    std::function<void(WriteStatus)> on_write;
    WriteStatus write_status = WriteStatus::kOk;

    void complete(bool committed) override {
        switch (kind) {
            case Kind::kAccept:
                if (!committed) {
                    accept_result =
                        AcceptResult{AcceptStatus::kUnavailable, {}, 0, "storage unavailable"};
                }
                on_accept(std::move(accept_result));
                break;
            case Kind::kDecide:
                on_decide(committed, committed ? std::move(superseded) : std::vector<int64_t>{});
                break;
            case Kind::kAttempts:
            case Kind::kDefer:
                on_done(committed);
                break;
            case Kind::kExpire:
                if (on_done) on_done(committed);
                break;
            case Kind::kRedeliver:
                on_redeliver(committed ? redeliver_status : RedeliverStatus::kUnavailable);
                break;
            case Kind::kAcl:
            case Kind::kDeleteAcl:
            case Kind::kStation:
                on_write(committed ? write_status : WriteStatus::kUnavailable);
                break;
        }
    }
};

// Whether a batch can go in one round trip (PgConnection::exec_transaction): its statements
// are then all known before the first is sent. Keyed accepts read the key's holder before they
// insert, and the rare operations (redeliver, ACL, stations, expiry) read or branch; a batch
// with any of them runs its statements one by one in an open transaction.
bool pipelinable(WriteBatch batch) {
    return std::all_of(batch.begin(), batch.end(), [](const auto& w) {
        const auto& op = static_cast<const Op&>(*w);
        switch (op.kind) {
            case Op::Kind::kAccept:
                return !op.request.idempotency;
            case Op::Kind::kDecide:
            case Op::Kind::kAttempts:
            case Op::Kind::kDefer:
                return true;
            default:
                return false;
        }
    });
}

// Writes one batch. Each kind's statement goes through run(): executed at once inside the
// transaction the caller opened, or, when `collect`, kept in statements() with its result's
// handler, for the caller to send together and then hand each result to handle(). Throws
// PgError.
class BatchWriter {
  public:
    using OnResult = std::function<void(const PgResult&)>;
    BatchWriter(PgConnection& c, const PgOptions& o, bool collect)
        : c_(c), o_(o), collect_(collect) {}

    [[nodiscard]] const std::vector<PgStatement>& statements() const { return statements_; }
    void handle(const std::vector<PgResult>& results) {
        for (size_t i = 0; i < results.size() && i < handlers_.size(); ++i) {
            if (handlers_[i]) handlers_[i](results[i]);
        }
    }

    void write(WriteBatch batch) {
        std::vector<Op*> accepts;
        std::vector<Op*> decides;
        std::vector<Op*> attempts;
        std::vector<Op*> defers;
        for (const auto& w : batch) {
            auto* op = static_cast<Op*>(w.get());
            // An operation may be written again alone after its batch failed: start clean.
            op->d_queued = 0;
            op->d_delivering = 0;
            op->superseded.clear();
            op->accept_result = AcceptResult{};
            switch (op->kind) {
                case Op::Kind::kAccept:
                    accepts.push_back(op);
                    break;
                case Op::Kind::kDecide:
                    decides.push_back(op);
                    break;
                case Op::Kind::kAttempts:
                    attempts.push_back(op);
                    break;
                case Op::Kind::kDefer:
                    defers.push_back(op);
                    break;
                default:
                    single(*op);
            }
        }
        if (!accepts.empty()) accept(accepts);
        if (!decides.empty()) decide(decides);
        if (!attempts.empty()) record_attempts(attempts);
        if (!defers.empty()) defer(defers);
    }

  private:
    void run(std::string_view sql, std::vector<Param> params, OnResult on_result = {}) {
        if (!collect_) {
            const auto r = c_.exec(sql, params);
            if (on_result) on_result(r);
            return;
        }
        statements_.push_back(PgStatement{std::string(sql), std::move(params)});
        handlers_.push_back(std::move(on_result));
    }

    void accept(const std::vector<Op*>& ops) {
        for (Op* op : ops) {
            op->insert_request = true;
            if (op->request.idempotency) claim_key(*op);
        }
        std::vector<Param> ids, stations, tokens, callbacks, traces, clients;
        std::vector<int64_t> created;
        std::unordered_map<std::string, Op*> by_id;
        for (Op* op : ops) {
            if (!op->insert_request) continue;
            const auto& r = op->request;
            ids.emplace_back(r.id);
            stations.emplace_back(r.station_id);
            tokens.emplace_back(r.driver_token);
            callbacks.emplace_back(r.callback_url);
            traces.emplace_back(r.traceparent);
            clients.emplace_back(r.client_id);
            created.push_back(r.created_at_ms);
            by_id[r.id] = op;
        }
        if (ids.empty()) return;
        run(state_sql(
                "INSERT INTO requests (id, station_id, driver_token, callback_url, traceparent, "
                "state,"
                " created_at, published_at, client_id)"
                " SELECT u.id, u.st, u.tok, u.cb, u.tp, {queued}, u.ca, u.ca, NULLIF(u.cl, '')"
                " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
                " $6::bigint[], $7::text[]) AS u(id, st, tok, cb, tp, ca, cl) RETURNING seq, id"),
            {text_array(ids), text_array(stations), text_array(tokens), text_array(callbacks),
             text_array(traces), int_array(created), text_array(clients)},
            [by_id = std::move(by_id)](const PgResult& res) {
                for (int i = 0; i < res.rows(); ++i) {
                    auto it = by_id.find(res.text(i, 1));
                    if (it == by_id.end()) continue;
                    auto& out = it->second->accept_result;
                    it->second->d_queued = 1;
                    out.status = AcceptStatus::kStored;
                    out.request_id = it->first;
                    out.seq = res.int64(i, 0);
                }
            });
    }

    // Takes the idempotency key for this request, or answers from the request that holds it.
    void claim_key(Op& op) {
        const auto& r = op.request;
        const auto& k = *r.idempotency;
        const auto hash = bytea_hex(k.body_hash.data(), k.body_hash.size());
        // Inserts the key, or takes over an expired one; a live key of another request wins.
        const auto taken = c_.exec(
            "INSERT INTO idempotency_keys (key, body_hash, request_id, created_at)"
            " VALUES ($1, $2::bytea, $3, $4) ON CONFLICT (key) DO UPDATE SET"
            " body_hash = EXCLUDED.body_hash, request_id = EXCLUDED.request_id,"
            " created_at = EXCLUDED.created_at WHERE idempotency_keys.created_at < $5"
            " RETURNING request_id",
            {k.key, hash, r.id, num(r.created_at_ms),
             num(r.created_at_ms - o_.idempotency_ttl_ms)});
        if (taken.rows() == 1) return;
        const auto held =
            c_.exec("SELECT body_hash, request_id FROM idempotency_keys WHERE key = $1", {k.key});
        op.insert_request = false;
        if (held.rows() != 1) {  // deleted meanwhile by expiry: answer unavailable, client retries
            throw PgError("idempotency key vanished during the claim", "40001");
        }
        const std::string stored = held.bytes(0, 0);
        const bool same = stored.size() == k.body_hash.size() &&
                          std::memcmp(stored.data(), k.body_hash.data(), stored.size()) == 0;
        op.accept_result.status = same ? AcceptStatus::kReplayed : AcceptStatus::kKeyConflict;
        op.accept_result.request_id = held.text(0, 1);
    }

    void decide(const std::vector<Op*>& ops) {
        std::vector<int64_t> seqs, statuses, at;
        std::vector<Param> reasons;
        for (Op* op : ops) {
            for (const auto& d : op->decisions) {
                seqs.push_back(d.seq);
                statuses.push_back(static_cast<int64_t>(d.decision.status));
                reasons.emplace_back(d.decision.reason);
                at.push_back(d.decision.decided_at_ms);
            }
        }
        // The delivery is leased to this process from here on: next_attempt_at is the lease's
        // end, so if this process dies before the first attempt is recorded, another worker
        // sends it once the lease ran out.
        run(state_sql("UPDATE requests r SET state = {delivering}, decision_status = d.st,"
                      " decision_reason = d.reason, decided_at = d.at, round_attempts = 0,"
                      " next_attempt_at = cg_now_ms() + $5, lease_owner = $6, lease_until = NULL"
                      " FROM unnest($1::bigint[], $2::smallint[], $3::text[], $4::bigint[])"
                      " AS d(seq, st, reason, at)"
                      " WHERE r.seq = d.seq AND r.state + 0 = {queued} AND r.lease_owner = $6"
                      " RETURNING r.seq"),
            {int_array(seqs), int_array(statuses), text_array(reasons), int_array(at),
             num(o_.lease_ms), o_.owner},
            [ops](const PgResult& res) {
                std::unordered_set<int64_t> applied;
                for (int i = 0; i < res.rows(); ++i) applied.insert(res.int64(i, 0));
                for (Op* op : ops) {
                    for (const auto& d : op->decisions) {
                        if (!applied.contains(d.seq)) op->superseded.push_back(d.seq);
                    }
                    const auto moved =
                        static_cast<int64_t>(op->decisions.size() - op->superseded.size());
                    op->d_queued = -moved;
                    op->d_delivering = moved;
                }
            });
    }

    void record_attempts(const std::vector<Op*>& ops) {
        std::vector<int64_t> seqs, nos, started, durations, states;
        std::vector<Param> codes, errors, next, delivered;
        for (Op* op : ops) {
            for (const auto& a : op->attempts) {
                seqs.push_back(a.seq);
                nos.push_back(a.attempt_no);
                started.push_back(a.started_at_ms);
                durations.push_back(a.duration_ms);
                codes.push_back(a.http_status > 0 ? Param(num(a.http_status)) : std::nullopt);
                errors.push_back(a.error.empty() ? std::nullopt : Param(a.error));
                int64_t state = stored(RequestState::kDelivering);
                if (a.outcome == AttemptOutcome::kDelivered)
                    state = stored(RequestState::kDelivered);
                if (a.outcome == AttemptOutcome::kFailed) state = stored(RequestState::kFailed);
                if (state != stored(RequestState::kDelivering)) op->d_delivering -= 1;
                states.push_back(state);
                next.push_back(a.outcome == AttemptOutcome::kRetry
                                   ? Param(num(a.next_attempt_at_ms))
                                   : std::nullopt);
                delivered.push_back(a.outcome == AttemptOutcome::kDelivered
                                        ? Param(num(a.started_at_ms + a.duration_ms))
                                        : std::nullopt);
            }
        }
        // One statement, one round trip: the audit rows and the requests' new state are written
        // from the same arrays (a data-modifying CTE always runs). Two statements cost a round
        // trip more per batch, and a round trip was ~60-75 µs of PostgreSQL CPU on the 2-core
        // benchmark machine (a prepared one-row SELECT cost 75 µs per call).
        // Two workers may both have sent an attempt numbered alike (a lease ran out while the
        // first was still sending): the audit trail keeps the first record of that number.
        run(state_sql(
                "WITH a AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], "
                "$4::bigint[],"
                " $5::int[], $6::text[], $7::smallint[], $8::bigint[], $9::bigint[])"
                " AS a(seq, no, started, duration, code, err, state, next, delivered)),"
                " audit AS (INSERT INTO delivery_attempts (request_seq, attempt_no, started_at,"
                " duration_ms, http_status, error, worker)"
                " SELECT seq, no, started, duration, code, err, $10 FROM a ON CONFLICT DO NOTHING)"
                // One UPDATE changes a row once, so several attempts of one request in a batch (a
                // retry that came due while the previous commit ran) are folded first: the last one
                // sets the state, and each counts in round_attempts.
                " UPDATE requests r SET attempts = greatest(r.attempts, l.no),"
                " round_attempts = r.round_attempts + l.n, last_status_code = l.code,"
                " last_error = l.err, state = l.state, next_attempt_at = l.next,"
                " delivered_at = coalesce(l.delivered, r.delivered_at), lease_owner = NULL"
                " FROM (SELECT DISTINCT ON (seq) seq, no, code, err, state, next, delivered,"
                " count(*) OVER (PARTITION BY seq) AS n FROM a ORDER BY seq, no DESC) l"
                " WHERE r.seq = l.seq AND r.state + 0 = {delivering}"),
            {int_array(seqs), int_array(nos), int_array(started), int_array(durations),
             text_array(codes), text_array(errors), int_array(states), text_array(next),
             text_array(delivered), o_.owner});
    }

    void defer(const std::vector<Op*>& ops) {
        std::vector<int64_t> seqs, at;
        for (Op* op : ops) {
            for (const auto& d : op->deferrals) {
                seqs.push_back(d.seq);
                at.push_back(d.next_attempt_at_ms);
            }
        }
        run(state_sql("UPDATE requests r SET next_attempt_at = d.at, lease_owner = NULL"
                      " FROM unnest($1::bigint[], $2::bigint[]) AS d(seq, at)"
                      " WHERE r.seq = d.seq AND r.state + 0 = {delivering}"),
            {int_array(seqs), int_array(at)});
    }

    void single(Op& op) {
        if (op.kind == Op::Kind::kAcl || op.kind == Op::Kind::kDeleteAcl ||
            op.kind == Op::Kind::kStation) {
            c_.exec("UPDATE authz_state SET generation = generation + 1 WHERE id = 1");
        }
        switch (op.kind) {
            case Op::Kind::kRedeliver: {
                const auto r = c_.exec(
                    state_sql("UPDATE requests SET state = {delivering}, round_attempts = 0, "
                              "next_attempt_at = $2,"
                              " delivered_at = NULL, lease_owner = NULL"
                              " WHERE id = $1 AND state IN ({delivered}, {failed}) RETURNING seq"),
                    {op.key, num(op.at_ms)});
                if (r.rows() == 1) {
                    op.d_delivering = 1;
                    op.redeliver_status = RedeliverStatus::kScheduled;
                    return;
                }
                const auto found = c_.exec("SELECT state FROM requests WHERE id = $1", {op.key});
                op.redeliver_status =
                    found.rows() == 0 ? RedeliverStatus::kNotFound : RedeliverStatus::kNotFinished;
                return;
            }
            case Op::Kind::kAcl: {
                std::vector<Param> tokens, lists, expires;
                std::vector<int64_t> statuses, updated;
                for (const auto& e : op.acl) {
                    tokens.emplace_back(e.driver_token);
                    statuses.push_back(static_cast<int64_t>(e.status));
                    lists.push_back(stations_to_json(e.stations));
                    expires.push_back(opt_num(e.expires_at_ms));
                    updated.push_back(e.updated_at_ms);
                }
                c_.exec(
                    "INSERT INTO acl (driver_token, status, stations, expires_at, updated_at)"
                    " SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bigint[],"
                    " $5::bigint[]) ON CONFLICT (driver_token) DO UPDATE SET"
                    " status = EXCLUDED.status, stations = EXCLUDED.stations,"
                    " expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at",
                    {text_array(tokens), int_array(statuses), text_array(lists),
                     text_array(expires), int_array(updated)});
                return;
            }
            case Op::Kind::kDeleteAcl: {
                const auto r = c_.exec("DELETE FROM acl WHERE driver_token = $1", {op.key});
                op.write_status = r.affected() > 0 ? WriteStatus::kOk : WriteStatus::kNotFound;
                return;
            }
            case Op::Kind::kStation:
                c_.exec(
                    "INSERT INTO stations (station_id, active, updated_at) VALUES ($1, $2, $3)"
                    " ON CONFLICT (station_id) DO UPDATE SET active = EXCLUDED.active,"
                    " updated_at = EXCLUDED.updated_at",
                    {op.station.station_id, std::string(op.station.active ? "true" : "false"),
                     num(op.station.updated_at_ms)});
                return;
            case Op::Kind::kExpire:
                c_.exec(
                    "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys"
                    " WHERE created_at < $1 LIMIT 5000)",
                    {num(op.at_ms)});
                return;
            default:
                return;
        }
    }

    PgConnection& c_;
    const PgOptions& o_;
    const bool collect_;
    std::vector<PgStatement> statements_;
    std::vector<OnResult> handlers_;
};

}  // namespace

// The PostgreSQL step of the group-commit writer: one transaction per batch, each operation
// retried alone after a batch failure that was not the connection's.
struct PgStore::Impl final : BatchBackend {
    PgOptions options;
    obs::Metrics* metrics = nullptr;
    std::unique_ptr<PgConnection> writer_conn;  // writer thread only
    std::unique_ptr<GroupCommitWriter> writer;  // created last, closed first; never null after open

    std::mutex mu;                    // guards closing only
    std::condition_variable stop_cv;  // the monitor
    bool closing = false;
    std::thread monitor;

    std::mutex ledger_mu;  // the dispatch ledger's connection (queue threads)
    std::unique_ptr<PgConnection> ledger_conn;
    // The highest authorization generation a claim returned (-1: none yet).
    std::atomic<int64_t> claimed_generation{-1};
    std::mutex due_mu;  // take_due's connection (the delivery thread)
    std::unique_ptr<PgConnection> due_conn;

    // The monitor's view: false while the database does not answer it. Its error is kept apart
    // from the writer's.
    std::atomic<bool> reachable{true};
    mutable std::mutex error_mu;
    std::string monitor_error;  // guarded by error_mu

    void set_monitor_error(const std::string& e) {
        std::lock_guard lock(error_mu);
        monitor_error = e;
    }

    void submit(std::unique_ptr<Op> op) { writer->submit(std::move(op)); }

    // The side connection in `slot` (ledger or due reads; commits need not wait for the WAL
    // flush, see PgConnection), opened on first use: opening throws while the database is
    // down, and exec() reopens a connection that broke. Callers hold the slot's mutex.
    PgConnection& side_conn(std::unique_ptr<PgConnection>& slot) {
        if (!slot) slot = std::make_unique<PgConnection>(options.database_url, false);
        return *slot;
    }

    // One transaction for the batch. Returns "" when committed, else the error; sets
    // `environmental` when the connection or server failed (trying again alone would not help).
    std::string transact(WriteBatch ops, bool& environmental) {
        environmental = false;
        try {
            if (!writer_conn) writer_conn = std::make_unique<PgConnection>(options.database_url);
            // Decisions, attempts and deferrals lost in a database crash only mean that work is
            // done again (the request is still queued or due): such batches need not wait for
            // the WAL flush. Batches with anything a client was told is stored do.
            const bool redoable = std::all_of(ops.begin(), ops.end(), [](const auto& w) {
                const auto kind = static_cast<const Op&>(*w).kind;
                return kind == Op::Kind::kDecide || kind == Op::Kind::kAttempts ||
                       kind == Op::Kind::kDefer;
            });
            try {
                if (pipelinable(ops)) {  // the hot path: one round trip for the batch
                    BatchWriter w(*writer_conn, options, true);
                    w.write(ops);
                    w.handle(writer_conn->exec_transaction(w.statements(), !redoable));
                    return {};
                }
                writer_conn->exec_script(redoable ? "BEGIN; SET LOCAL synchronous_commit = off"
                                                  : "BEGIN");
                BatchWriter(*writer_conn, options, false).write(ops);
                writer_conn->exec("COMMIT");
                return {};
            } catch (...) {
                try {
                    writer_conn->exec("ROLLBACK");
                } catch (...) {  // the connection is gone; the server rolled back
                }
                throw;
            }
        } catch (const PgError& e) {
            environmental = e.environmental();
            return e.what();
        } catch (const std::exception& e) {
            return e.what();
        }
    }

    std::string apply_batch(WriteBatch batch) override {
        bool environmental = false;
        std::string error = transact(batch, environmental);
        if (error.empty() || environmental || batch.size() <= 1) return error;
        // One operation (or a deadlock with another instance) failed the batch: try each alone
        // so only a bad one fails.
        for (size_t i = 0; i < batch.size(); ++i) {
            bool env = false;
            const auto e = transact(batch.subspan(i, 1), env);
            if (e.empty()) continue;
            auto& op = *batch[i];
            op.failed = true;
            op.d_queued = 0;
            op.d_delivering = 0;
            obs::log_error("store operation failed").kv("error", e);
            if (metrics) metrics->store_errors.inc();
        }
        return {};  // the database took writes; single operations failed on their own
    }

    // Checks the database once a second and refreshes the queue and delivery counts every
    // counts_every_ms (they bound MAX_QUEUE_DEPTH and feed /health); a failure marks the
    // database unreachable until the next success.
    void watch() {
        std::unique_ptr<PgConnection> conn;
        auto next_count = std::chrono::steady_clock::now();
        for (;;) {
            {
                std::unique_lock lock(mu);
                if (stop_cv.wait_for(lock, std::chrono::seconds(1), [&] { return closing; })) {
                    return;
                }
            }
            try {
                if (!conn) conn = std::make_unique<PgConnection>(options.database_url);
                if (std::chrono::steady_clock::now() >= next_count) {
                    const auto r = conn->exec(kCountsSql);
                    writer->set_counts(r.int64(0, 0), r.int64(0, 1));
                    next_count = std::chrono::steady_clock::now() +
                                 std::chrono::milliseconds(options.counts_every_ms);
                } else {
                    conn->exec("SELECT 1");
                }
                if (!reachable.exchange(true)) obs::log_info("database reachable again");
                // An idle instance commits nothing that would clear a past write failure; a
                // database that answers again is taken as writable until a write says otherwise.
                writer->set_writable();
            } catch (const std::exception& e) {
                conn.reset();
                set_monitor_error(e.what());
                if (reachable.exchange(false)) {
                    obs::log_error("database unreachable").kv("error", e.what());
                }
            }
        }
    }
};

std::unique_ptr<PgStore> open_pg_store(const PgOptions& options, obs::Metrics* metrics) {
    if (options.migrate) migrate_pg(options.database_url);
    const int have = pg_schema_version(options.database_url);
    const int latest = pg_migrations().back().version;
    if (have < latest) {
        throw StoreError("the database schema is at version " + std::to_string(have) +
                         ", this binary needs " + std::to_string(latest) +
                         ": run `chargegate migrate` or set MIGRATE_ON_START=true");
    }
    if (have > latest) {
        throw StoreError("the database schema is at version " + std::to_string(have) +
                         ", newer than this binary's " + std::to_string(latest));
    }
    auto impl = std::make_unique<PgStore::Impl>();
    impl->options = options;
    impl->metrics = metrics;
    int64_t queued = 0;
    int64_t delivering = 0;
    try {
        impl->writer_conn = std::make_unique<PgConnection>(options.database_url);
        const auto r = impl->writer_conn->exec(kCountsSql);
        queued = r.int64(0, 0);
        delivering = r.int64(0, 1);
    } catch (const PgError& e) {
        throw StoreError(e.what());
    }
    impl->writer = std::make_unique<GroupCommitWriter>(
        *impl, GroupCommitOptions{options.max_batch, options.commit_interval_us, "cg-pg-writer"},
        metrics);
    impl->writer->set_counts(queued, delivering);
    auto* raw = impl.get();
    impl->monitor = std::thread([raw] { raw->watch(); });
    return std::make_unique<PgStore>(std::move(impl));
}

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgStore::~PgStore() { close(); }

void PgStore::accept(NewRequest request, std::function<void(AcceptResult)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kAccept);
    op->request = std::move(request);
    op->on_accept = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::record_decisions(std::vector<DecisionRecord> decisions,
                               std::function<void(bool ok, std::vector<int64_t> superseded)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kDecide);
    op->decisions = std::move(decisions);
    op->on_decide = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::record_attempts(std::vector<AttemptRecord> attempts,
                              std::function<void(bool ok)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kAttempts);
    op->attempts = std::move(attempts);
    op->on_done = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::defer_deliveries(std::vector<DeferRecord> deferrals,
                               std::function<void(bool ok)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kDefer);
    op->deferrals = std::move(deferrals);
    op->on_done = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::redeliver(std::string request_id, int64_t now_ms,
                        std::function<void(RedeliverStatus)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kRedeliver);
    op->key = std::move(request_id);
    op->at_ms = now_ms;
    op->on_redeliver = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::put_acl(AclEntry entry, std::function<void(WriteStatus)> done) {
    std::vector<AclEntry> one;
    one.push_back(std::move(entry));
    put_acl_bulk(std::move(one), std::move(done));
}

void PgStore::put_acl_bulk(std::vector<AclEntry> entries, std::function<void(WriteStatus)> done) {
    // A token given twice keeps its last entry, as if written one after the other (PostgreSQL
    // refuses to change one row twice in an upsert, which would fail the whole write).
    std::unordered_set<std::string_view> seen;  // views into `last`, which never reallocates
    std::vector<AclEntry> last;
    last.reserve(entries.size());
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (seen.contains(it->driver_token)) continue;
        last.push_back(std::move(*it));
        seen.insert(last.back().driver_token);
    }
    std::reverse(last.begin(), last.end());
    entries = std::move(last);
    auto op = std::make_unique<Op>(Op::Kind::kAcl);
    op->acl = std::move(entries);
    op->on_write = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::delete_acl(std::string driver_token, std::function<void(WriteStatus)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kDeleteAcl);
    op->key = std::move(driver_token);
    op->on_write = std::move(done);
    impl_->submit(std::move(op));
}

void PgStore::put_station(StationEntry entry, std::function<void(WriteStatus)> done) {
    auto op = std::make_unique<Op>(Op::Kind::kStation);
    op->station = std::move(entry);
    op->on_write = std::move(done);
    impl_->submit(std::move(op));
}

std::unique_ptr<StoreReader> PgStore::open_reader() {
    return std::make_unique<PgReader>(impl_->options.database_url);
}

std::vector<DeliveryJob> PgStore::take_due(int64_t, size_t limit, size_t) {
    std::vector<DeliveryJob> out;
    if (limit == 0) return out;
    std::lock_guard lock(impl_->due_mu);
    // Due by the database's clock; leased to this process for the attempt (next_attempt_at
    // moves to the lease's end, so a worker that dies mid-attempt hands it on).
    // `(SELECT cg_now_ms())` is evaluated once, so it bounds the scan of requests_due; the bare
    // (volatile) cg_now_ms() was a filter evaluated on every entry of the index, leases of
    // deliveries in flight included: 5.7k entries read per call in the cluster benchmark.
    const auto r =
        impl_->side_conn(impl_->due_conn)
            .exec(state_sql(
                      "UPDATE requests r SET next_attempt_at = cg_now_ms() + $1, lease_owner = $2"
                      " FROM (SELECT seq FROM requests WHERE state = {delivering}"
                      " AND next_attempt_at <= (SELECT cg_now_ms())"
                      " ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) d"
                      " WHERE r.seq = d.seq"
                      " RETURNING r.seq, r.id, r.station_id, r.driver_token, r.callback_url,"
                      " r.traceparent, r.decision_status, r.decision_reason, r.decided_at,"
                      " r.attempts, r.round_attempts, r.client_id, r.created_at"),
                  {num(impl_->options.lease_ms), impl_->options.owner,
                   num(static_cast<int64_t>(limit))});
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(delivery_job_at(r, i));
    return out;
}

void PgStore::recover_in_flight(int64_t) {}

void PgStore::expire_idempotency_keys(int64_t older_than_ms) {
    auto op = std::make_unique<Op>(Op::Kind::kExpire);
    op->at_ms = older_than_ms;
    impl_->submit(std::move(op));
}

StoreCounters PgStore::counters() const {
    StoreCounters c = impl_->writer->counters();
    if (c.writable && !impl_->reachable.load()) {
        c.writable = false;
        std::lock_guard lock(impl_->error_mu);
        c.last_error = impl_->monitor_error;
    }
    return c;
}

void PgStore::close() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->closing = true;
    }
    impl_->stop_cv.notify_all();
    impl_->writer->close();  // later writes complete at once with `false`
    if (impl_->monitor.joinable()) impl_->monitor.join();
    impl_->writer_conn.reset();
    std::lock_guard lock(impl_->ledger_mu);
    impl_->ledger_conn.reset();
    std::lock_guard due_lock(impl_->due_mu);
    impl_->due_conn.reset();
}

ClaimResult PgStore::claim(const std::vector<int64_t>& seqs, int64_t lease_ms) {
    ClaimResult out;
    if (seqs.empty()) return out;
    std::lock_guard lock(impl_->ledger_mu);
    const auto r =
        impl_->side_conn(impl_->ledger_conn)
            .exec(state_sql(
                      "UPDATE requests SET lease_owner = $2, lease_until = cg_now_ms() + $3"
                      " WHERE seq = ANY($1::bigint[]) AND state = {queued}"
                      " AND (lease_until IS NULL OR lease_until < cg_now_ms())"
                      " RETURNING seq, id, station_id, driver_token, callback_url, traceparent, "
                      "created_at,"
                      " client_id, (SELECT generation FROM authz_state WHERE id = 1)"),
                  {int_array(seqs), impl_->options.owner, num(lease_ms)});
    std::unordered_set<int64_t> taken;
    for (int i = 0; i < r.rows(); ++i) {
        auto q = queued_request_at(r, i);
        taken.insert(q.seq);
        out.claimed.push_back(std::move(q));
    }
    // Read in the claim's own statement: the worker's check for ACL changes before it
    // authorizes (claimed_authorization_generation) needs no round trip of its own, which
    // was one statement per batch of decisions (~90 µs of PostgreSQL CPU each).
    if (r.rows() > 0) {
        const int64_t g = r.int64(0, 8);
        out.authorization_generation = g;
        int64_t seen = impl_->claimed_generation.load();
        while (seen < g && !impl_->claimed_generation.compare_exchange_weak(seen, g)) {
        }
    }
    std::sort(out.claimed.begin(), out.claimed.end(),
              [](const auto& a, const auto& b) { return a.seq < b.seq; });
    for (const int64_t s : seqs) {
        if (!taken.contains(s)) out.settled.push_back(s);
    }
    return out;
}

std::optional<int64_t> PgStore::claimed_authorization_generation() const {
    const int64_t g = impl_->claimed_generation.load();
    if (g < 0) return std::nullopt;
    return g;
}

std::vector<int64_t> PgStore::take_unpublished(int64_t older_than_ms, size_t limit) {
    std::lock_guard lock(impl_->ledger_mu);
    const auto r =
        impl_->side_conn(impl_->ledger_conn)
            .exec(
                // Walks the queued requests in seq order (requests_queued_seq: migration 005
                // dropped the index on published_at, which every accept paid for and only this scan
                // used). The oldest hints are the likeliest lost, so seq order takes them first.
                state_sql("UPDATE requests r SET published_at = cg_now_ms() FROM (SELECT seq FROM "
                          "requests"
                          " WHERE state = {queued} AND published_at < cg_now_ms() - $1"
                          " AND (lease_until IS NULL OR lease_until < cg_now_ms())"
                          " ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) s"
                          " WHERE r.seq = s.seq RETURNING r.seq"),
                {num(older_than_ms), num(static_cast<int64_t>(limit))});
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.int64(i, 0));
    std::sort(out.begin(), out.end());
    return out;
}

void PgStore::release(const std::vector<int64_t>& seqs) {
    if (seqs.empty()) return;
    std::lock_guard lock(impl_->ledger_mu);
    impl_->side_conn(impl_->ledger_conn)
        .exec(state_sql("UPDATE requests SET lease_owner = NULL, lease_until = NULL"
                        " WHERE seq = ANY($1::bigint[]) AND state = {queued} AND lease_owner = $2"),
              {int_array(seqs), impl_->options.owner});
}

}  // namespace cg::store::postgres
