#pragma once
// The group-commit writer shared by every store backend: a queue of pending write operations,
// one writer thread that takes what queued up while the previous commit ran, applies it as one
// transaction through the backend, and runs the completions after the durable commit.
//
// Written once so that a fix to batching, completion order or the DOWN state is made once. A
// backend supplies only how a batch is applied (BatchBackend); everything else lives here:
//   - batching: at most `max_batch` operations per transaction, optionally waiting
//     `commit_interval_us` after the first pending operation to let the batch grow;
//   - completions run on the writer thread, in submission (= commit) order, after the commit
//     returned; an operation of a batch that failed as a whole completes with `false`;
//   - the DOWN state: a failed batch marks the store not writable with the error text; the next
//     batch the backend stores marks it writable again (the store recovers by itself);
//   - probes: while the backend has a step of its own pending (BatchBackend::probe_pending), the
//     writer offers it an empty batch every second when nothing else is written.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "obs/metrics.hpp"
#include "store/store.hpp"

namespace cg::store {

// One queued write. Owned by the writer from submit() until complete() returned.
class WriteOp {
  public:
    virtual ~WriteOp() = default;
    // Runs exactly once on the writer thread: `stored` is true when the operation is durable.
    // Must not block.
    virtual void complete(bool stored) = 0;

    // Set by the backend while applying: this operation failed on its own and was not applied,
    // although the rest of its batch was stored.
    bool failed = false;
    // This operation's change to the queued / delivering counts, set by the backend while
    // applying and added to the counters once the batch is stored. An operation failed alone
    // counts what of it was applied (SQLite undoes only the failing statement; PostgreSQL, which
    // retries it alone in its own transaction, sets them to 0).
    int64_t d_queued = 0;
    int64_t d_delivering = 0;
};

using WriteBatch = std::span<const std::unique_ptr<WriteOp>>;

// How one backend applies a batch. Called on the writer thread only.
class BatchBackend {
  public:
    virtual ~BatchBackend() = default;
    // Applies `batch` (possibly empty: a probe) in one transaction and commits it durably.
    // Returns an empty string when the database took the batch: every operation not marked
    // `failed` is durable. Returns the error otherwise: nothing of the batch was applied.
    // Must not throw.
    virtual std::string apply_batch(WriteBatch batch) = 0;
    // True while the backend has a write of its own that must reach the database (SQLite: a
    // start-up recovery the disk refused): the writer then probes with an empty batch every
    // second while idle. Thread-safe.
    [[nodiscard]] virtual bool probe_pending() const { return false; }
};

struct GroupCommitOptions {
    size_t max_batch = 4096;         // operations per transaction at most (0 is taken as 1)
    int64_t commit_interval_us = 0;  // wait this long after the first pending op to grow a batch
    const char* thread_name = "cg-store-write";
};

class GroupCommitWriter {
  public:
    static constexpr std::chrono::seconds kProbeInterval{1};

    // Starts the writer thread. `backend` must outlive close(); `metrics` may be null.
    GroupCommitWriter(BatchBackend& backend, GroupCommitOptions options, obs::Metrics* metrics);
    ~GroupCommitWriter();
    GroupCommitWriter(const GroupCommitWriter&) = delete;
    GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

    // Queues `op` for the next batch; after close() it completes at once with `false`.
    // Thread-safe; one lock for a push, no allocation beyond the queue's growth.
    void submit(std::unique_ptr<WriteOp> op);
    // Wakes the writer (the backend's probe_pending() became true).
    void wake();
    // Writes what is queued, then stops the thread. Idempotent.
    void close();

    // queued / delivering / writable / last_error (max_seq is the backend's). Any thread.
    [[nodiscard]] StoreCounters counters() const;
    // Replaces the counts with the database's (start-up, or a backend that counts other
    // processes' changes too).
    void set_counts(int64_t queued, int64_t delivering);
    // Marks the store DOWN (a backend's own health check failed) or UP again.
    void set_error(const std::string& error);
    void set_writable();

  private:
    void run();
    void commit(std::vector<std::unique_ptr<WriteOp>>& batch);

    BatchBackend& backend_;
    GroupCommitOptions options_;
    obs::Metrics* metrics_;

    std::mutex mu_;  // guards pending_ and closing_ only; held for a push or a swap
    std::condition_variable cv_;
    std::vector<std::unique_ptr<WriteOp>> pending_;  // guarded by mu_
    bool closing_ = false;                           // guarded by mu_
    std::thread thread_;

    std::atomic<int64_t> queued_{0};
    std::atomic<int64_t> delivering_{0};
    std::atomic<bool> writable_{true};
    mutable std::mutex error_mu_;
    std::string last_error_;  // guarded by error_mu_

    // Rate-limited failure log (writer thread only): a line per interval with a count.
    int64_t failed_batches_ = 0;
    int64_t failed_probes_ = 0;
    std::chrono::steady_clock::time_point batch_log_next_{};
    std::chrono::steady_clock::time_point probe_log_next_{};
};

}  // namespace cg::store
