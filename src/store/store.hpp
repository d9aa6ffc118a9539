#pragma once
// The system of record: requests, their state machine, decisions, delivery attempts,
// idempotency keys, the ACL and the stations. Embedded implementation: store/sqlite.
// A cluster implementation (PostgreSQL) follows behind the same interface.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/records.hpp"

namespace cg::store {

// Single-thread read access. Each thread that reads owns one reader; a reader must not be
// shared between threads. Reads block on storage, so never use a reader on an event-loop
// thread. Reads see every write whose completion callback has already run.
class StoreReader {
  public:
    virtual ~StoreReader() = default;

    virtual std::optional<RequestView> find_request(std::string_view request_id) = 0;
    // Requests still waiting for a decision with seq > after_seq, in arrival order.
    virtual std::vector<QueuedRequest> load_queued(int64_t after_seq, size_t limit) = 0;
    // Deliveries parked for a later attempt whose time has come (next attempt <= now_ms),
    // earliest first.
    virtual std::vector<DeliveryJob> load_due(int64_t now_ms, size_t limit) = 0;
    virtual std::optional<AclEntry> find_acl(std::string_view driver_token) = 0;
    virtual std::optional<StationEntry> find_station(std::string_view station_id) = 0;
    // What an ACL decision needs: the token's entry and, when the entry allows the token, the
    // station's registration. A shared store answers both in one round trip.
    virtual std::pair<std::optional<AclEntry>, std::optional<StationEntry>> find_acl_and_station(
        std::string_view driver_token, std::string_view station_id) {
        auto entry = find_acl(driver_token);
        std::optional<StationEntry> station;
        if (entry && entry->status == AclStatus::kAllowed) station = find_station(station_id);
        return {std::move(entry), std::move(station)};
    }
    // A number that changes with every acknowledged ACL or station change made by any process
    // sharing the store (0 where only this process writes: it learns of its own changes
    // directly). Lets a process drop cached decisions that another process's change made stale.
    virtual int64_t authorization_generation() { return 0; }
    // The earliest parked delivery time, if any (lets delivery sleep until then).
    virtual std::optional<int64_t> next_due_at() = 0;
    // When the oldest request still waiting for a decision was accepted; none when none waits.
    virtual std::optional<int64_t> oldest_queued_at() = 0;
    // Failed requests with seq < before_seq (all when none), newest first, at most `limit`.
    virtual DeadLetterPage dead_letters(std::optional<int64_t> before_seq, size_t limit) = 0;
};

struct StoreCounters {
    int64_t queued = 0;      // accepted, not yet decided
    int64_t delivering = 0;  // decided, not yet delivered or failed
    int64_t max_seq = 0;     // highest stored seq
    bool writable = true;    // false after the last write failed
    std::string last_error;
};

// Writes are asynchronous and durable: each call returns at once, the change joins the next
// group-committed batch, and `done` runs after that batch is synced to disk (or has failed,
// in which case nothing of it was applied). `done` callbacks run on the store's writer thread,
// in commit order, and must not block. All methods are thread-safe.
class Store {
  public:
    virtual ~Store() = default;

    // Stores a new request in state `queued`, applying the idempotency claim atomically.
    virtual void accept(NewRequest request, std::function<void(AcceptResult)> done) = 0;
    // Moves decided requests to `delivering`; each becomes resident in the caller's delivery
    // engine (no parked time) so that no poller picks it up twice.
    virtual void record_decisions(std::vector<DecisionRecord> decisions,
                                  std::function<void(bool ok)> done) = 0;
    // Like record_decisions, and tells which requests were not moved because they were no
    // longer queued under this process's lease (another worker took them over and decided them
    // first); the caller must not deliver those. Only a shared store can report any.
    virtual void record_decisions_checked(
        std::vector<DecisionRecord> decisions,
        std::function<void(bool ok, std::vector<int64_t> superseded)> done) {
        record_decisions(std::move(decisions), [done = std::move(done)](bool ok) { done(ok, {}); });
    }
    // Appends attempts to the audit log and moves each request to delivered, parked-for-retry or
    // failed.
    virtual void record_attempts(std::vector<AttemptRecord> attempts,
                                 std::function<void(bool ok)> done) = 0;
    // Parks resident deliveries until the given times without counting an attempt.
    virtual void defer_deliveries(std::vector<DeferRecord> deferrals,
                                  std::function<void(bool ok)> done) = 0;
    // Starts a new delivery round for a `failed` or `delivered` request: it is parked as due now.
    virtual void redeliver(std::string request_id, int64_t now_ms,
                           std::function<void(RedeliverStatus)> done) = 0;

    virtual void put_acl(AclEntry entry, std::function<void(WriteStatus)> done) = 0;
    // Replaces or adds many entries in one transaction (CLI import).
    virtual void put_acl_bulk(std::vector<AclEntry> entries,
                              std::function<void(WriteStatus)> done) = 0;
    virtual void delete_acl(std::string driver_token, std::function<void(WriteStatus)> done) = 0;
    virtual void put_station(StationEntry entry, std::function<void(WriteStatus)> done) = 0;

    // Creates a reader for the calling thread.
    virtual std::unique_ptr<StoreReader> open_reader() = 0;

    // Crash recovery, run once at start before workers: deliveries that were resident in a
    // previous process (in flight when it died) are parked as due at `now_ms`. When the write
    // fails (a full disk) it does not throw: the store reports itself not writable and applies
    // the recovery with its first write that succeeds (SQLite: probed every second).
    virtual void recover_in_flight(int64_t now_ms) = 0;

    // Deletes idempotency keys older than `older_than_ms`. Asynchronous like the writes.
    virtual void expire_idempotency_keys(int64_t older_than_ms) = 0;

    // True when StoreReader::load_due leases what it returns to this process (a shared store):
    // the caller must then ask for no more than it will start at once.
    [[nodiscard]] virtual bool due_reads_claim() const { return false; }

    // Cheap snapshot, safe from any thread (atomics).
    virtual StoreCounters counters() const = 0;

    // Finishes queued writes and stops the writer thread. Idempotent.
    virtual void close() = 0;
};

}  // namespace cg::store
