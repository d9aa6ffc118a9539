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
    // sharing the store. Only a shared store (PostgreSQL) keeps one; the embedded store answers 0
    // for ever, which is correct there: only this process writes, and it drops its cached
    // decisions on its own changes directly. Callers compare successive values only.
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
    // Highest seq this store has stored (the embedded store: the whole store's, since only this
    // process writes; a shared store: 0, it does not track it). Only the embedded queue
    // (queue/store_backed_queue) reads it, to start its dispatch cursor.
    int64_t max_seq = 0;
    bool writable = true;  // false after the last write failed
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
    // Moves decided requests from `queued` to `delivering`; each becomes resident in the caller's
    // delivery engine (no parked time) so that no poller picks it up twice. `superseded` lists
    // the requests that were not moved because they were no longer queued (under this process's
    // lease, in a shared store): another worker decided them first, or they were decided
    // already; the caller must not deliver those. Empty when !ok.
    virtual void record_decisions(
        std::vector<DecisionRecord> decisions,
        std::function<void(bool ok, std::vector<int64_t> superseded)> done) = 0;
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
    // the recovery with its first write that succeeds (probed every second). Meaningful for the
    // embedded store only; a shared store does nothing here, because a dead process's deliveries
    // are leased, and its leases simply run out (take_due then hands them to a live process).
    virtual void recover_in_flight(int64_t now_ms) = 0;

    // Takes deliveries whose time has come for this process to start, earliest first, at most
    // `limit` of them that this process does not hold yet. A shared store leases each one it
    // returns to this process (a write: its next attempt moves to the lease's end), so no other
    // process starts it and a process that dies mid-attempt hands it on; ask only for what will
    // be started at once. A store that does not lease (the embedded one: one process) may return
    // again the due deliveries this process already holds: `held` is their count, and such a
    // store reads that many more. Blocks on storage (call it from a thread that may block, never
    // an event loop); thread-safe. Throws on a storage failure.
    virtual std::vector<DeliveryJob> take_due(int64_t now_ms, size_t limit, size_t held) = 0;

    // Deletes idempotency keys older than `older_than_ms`. Asynchronous like the writes.
    virtual void expire_idempotency_keys(int64_t older_than_ms) = 0;

    // Cheap snapshot, safe from any thread (atomics).
    virtual StoreCounters counters() const = 0;

    // Finishes queued writes and stops the writer thread. Idempotent.
    virtual void close() = 0;
};

}  // namespace cg::store
