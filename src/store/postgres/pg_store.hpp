#pragma once
// The cluster store: PostgreSQL is the system of record shared by every chargegate process.
//
// Writes: like the embedded store, the group-commit writer (store/group_commit.hpp), one per
// process, commits everything queued while the previous commit ran, as one transaction, and
// runs the completions after COMMIT returned (synchronous_commit=on: the WAL is flushed).
// Operations of a kind are written with one statement for the whole batch (unnest arrays), so a
// batch costs a handful of round trips whatever its size. If a batch fails for a reason other
// than the connection (a deadlock between instances, a constraint), each operation is tried again
// alone, so one bad operation fails alone. A lost connection fails the batch (callers answer
// 503 / retry) and is re-opened.
//
// Sharing work: a queued request is leased to one worker (lease_owner, lease_until) while it is
// authorized; a decided request's delivery is leased the same way (next_attempt_at is pushed to
// the lease's end while an attempt is in flight). A worker that dies loses its leases when they
// run out (CLUSTER_TAKEOVER_MS) and any other worker takes the work. Lease times come from the
// database's clock.
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "obs/metrics.hpp"
#include "store/dispatch_ledger.hpp"
#include "store/store.hpp"
#include "store/store_error.hpp"

namespace cg::store::postgres {

struct PgOptions {
    std::string database_url;
    std::string owner;               // this process's name in leases (INSTANCE_ID)
    int64_t lease_ms = 30000;        // CLUSTER_TAKEOVER_MS
    size_t max_batch = 2048;         // operations per transaction at most
    int64_t commit_interval_us = 0;  // COMMIT_INTERVAL_US (GroupCommitOptions)
    // How often the monitor recounts queued and delivering requests (the database is checked
    // every second regardless). Each count reads two partial indexes with their dead entries.
    int64_t counts_every_ms = 1000;
    int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
    bool migrate = false;  // apply migrations first (MIGRATE_ON_START)
};

class PgStore;

// Connects, checks (or applies, with options.migrate) the schema and starts the writer. Throws
// StoreError with a one-line message. `metrics` may be null.
std::unique_ptr<PgStore> open_pg_store(const PgOptions& options, obs::Metrics* metrics);

class PgStore final : public Store, public DispatchLedger {
  public:
    struct Impl;
    explicit PgStore(std::unique_ptr<Impl> impl);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    void accept(NewRequest request, std::function<void(AcceptResult)> done) override;
    void record_decisions(
        std::vector<DecisionRecord> decisions,
        std::function<void(bool ok, std::vector<int64_t> superseded)> done) override;
    void defer_deliveries(std::vector<DeferRecord> deferrals,
                          std::function<void(bool ok)> done) override;
    void record_attempts(std::vector<AttemptRecord> attempts,
                         std::function<void(bool ok)> done) override;
    void redeliver(std::string request_id, int64_t now_ms,
                   std::function<void(RedeliverStatus)> done) override;
    void put_acl(AclEntry entry, std::function<void(WriteStatus)> done) override;
    void put_acl_bulk(std::vector<AclEntry> entries,
                      std::function<void(WriteStatus)> done) override;
    void delete_acl(std::string driver_token, std::function<void(WriteStatus)> done) override;
    void put_station(StationEntry entry, std::function<void(WriteStatus)> done) override;
    std::unique_ptr<StoreReader> open_reader() override;
    // Nothing to do: a dead process's leases simply run out.
    void recover_in_flight(int64_t now_ms) override;
    // Leases what it returns (see Store::take_due); `now_ms` and `held` are not needed: the
    // database's clock decides, and this process's leased deliveries are not due.
    std::vector<DeliveryJob> take_due(int64_t now_ms, size_t limit, size_t held) override;
    void expire_idempotency_keys(int64_t older_than_ms) override;
    [[nodiscard]] StoreCounters counters() const override;
    void close() override;

    ClaimResult claim(const std::vector<int64_t>& seqs, int64_t lease_ms) override;
    [[nodiscard]] std::optional<int64_t> claimed_authorization_generation() const override;
    std::vector<int64_t> take_unpublished(int64_t older_than_ms, size_t limit) override;
    void release(const std::vector<int64_t>& seqs) override;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace cg::store::postgres
