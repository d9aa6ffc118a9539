#pragma once
// The embedded store: one SQLite file in WAL mode (DATA_DIR/chargegate.db).
//
// Writes: the group-commit writer (store/group_commit.hpp) owns the write connection: it takes
// every operation queued while the previous commit was syncing, applies them in one transaction,
// commits with synchronous=FULL (the WAL is fsync'd), and only then runs their completion
// callbacks, in order. A failed commit fails every operation of its batch and nothing of it is
// applied; the next successful commit clears the failure (the store recovers by itself once the
// disk has room again). Start-up recovery refused by the disk is retried the same way: with the
// next commit, or alone every second while nothing else is written.
// Reads: each reader has its own connection; WAL readers never block the writer.
#include <memory>
#include <string>

#include "obs/metrics.hpp"
#include "store/store.hpp"
#include "store/store_error.hpp"

namespace cg::store::sqlite {

struct SqliteOptions {
    std::string data_dir = "./data";
    int64_t commit_interval_us = 0;  // wait this long after the first pending op to grow a batch
    size_t max_batch = 4096;         // operations per transaction at most
    int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
};

class SqliteStore;

// Opens (creating and migrating as needed) the store in `options.data_dir`. Throws StoreError
// with a one-line message for an unusable directory, a corrupt or foreign file, or a schema
// newer than this binary. `metrics` may be null.
std::unique_ptr<SqliteStore> open_sqlite_store(const SqliteOptions& options, obs::Metrics* metrics);

// Creates or upgrades the schema in `data_dir` and returns. Safe to run while a service uses
// the same directory (migrations take the write lock). Throws StoreError.
void migrate_sqlite(const std::string& data_dir);

class SqliteStore final : public Store {
  public:
    struct Impl;
    explicit SqliteStore(std::unique_ptr<Impl> impl);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

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
    void recover_in_flight(int64_t now_ms) override;
    std::vector<DeliveryJob> take_due(int64_t now_ms, size_t limit, size_t held) override;
    void expire_idempotency_keys(int64_t older_than_ms) override;
    [[nodiscard]] StoreCounters counters() const override;
    void close() override;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace cg::store::sqlite
