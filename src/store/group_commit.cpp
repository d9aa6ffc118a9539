#include "store/group_commit.hpp"

#include <iterator>

#include "common/thread_name.hpp"
#include "obs/log.hpp"

namespace cg::store {

namespace {
constexpr std::chrono::seconds kBatchLogInterval{1};
constexpr std::chrono::seconds kProbeLogInterval{30};
}  // namespace

GroupCommitWriter::GroupCommitWriter(BatchBackend& backend, GroupCommitOptions options,
                                     obs::Metrics* metrics)
    : backend_(backend), options_(options), metrics_(metrics) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    thread_ = std::thread([this] {
        name_this_thread(options_.thread_name);
        run();
    });
}

GroupCommitWriter::~GroupCommitWriter() { close(); }

void GroupCommitWriter::submit(std::unique_ptr<WriteOp> op) {
    {
        std::lock_guard lock(mu_);
        if (!closing_) {
            const bool was_empty = pending_.empty();
            pending_.push_back(std::move(op));
            if (was_empty) cv_.notify_one();
            return;
        }
    }
    op->complete(false);  // closed: nothing is written
}

void GroupCommitWriter::wake() {
    { std::lock_guard lock(mu_); }
    cv_.notify_one();
}

void GroupCommitWriter::close() {
    {
        std::lock_guard lock(mu_);
        if (closing_ && !thread_.joinable()) return;
        closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void GroupCommitWriter::run() {
    std::vector<std::unique_ptr<WriteOp>> batch;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            const auto has_work = [&] { return closing_ || !pending_.empty(); };
            if (backend_.probe_pending()) {
                // A timeout leaves the batch empty: a probe.
                cv_.wait_for(lock, kProbeInterval, has_work);
            } else {
                cv_.wait(lock, [&] { return has_work() || backend_.probe_pending(); });
                if (!has_work()) continue;  // a probe became pending: wait with a timeout
            }
            if (pending_.empty() && closing_) return;
            if (options_.commit_interval_us > 0 && !closing_ && !pending_.empty()) {
                // Let more operations join this commit.
                cv_.wait_for(lock, std::chrono::microseconds(options_.commit_interval_us),
                             [&] { return closing_ || pending_.size() >= options_.max_batch; });
            }
            if (pending_.size() <= options_.max_batch) {
                batch.swap(pending_);
            } else {
                auto split = pending_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
                batch.assign(std::make_move_iterator(pending_.begin()),
                             std::make_move_iterator(split));
                pending_.erase(pending_.begin(), split);
            }
        }
        commit(batch);
        batch.clear();
    }
}

void GroupCommitWriter::commit(std::vector<std::unique_ptr<WriteOp>>& batch) {
    const auto started = std::chrono::steady_clock::now();
    if (batch.empty() && !backend_.probe_pending()) return;
    const std::string error = backend_.apply_batch(batch);
    const bool stored = error.empty();
    if (stored) {
        int64_t dq = 0;
        int64_t dd = 0;
        for (const auto& op : batch) {  // a failed op counts what of it was applied
            dq += op->d_queued;
            dd += op->d_delivering;
        }
        if (dq != 0) queued_.fetch_add(dq);
        if (dd != 0) delivering_.fetch_add(dd);
        if (!writable_.exchange(true)) obs::log_info("store writable again");
    } else {
        set_error(error);
        if (metrics_) metrics_->store_errors.inc();
        // While the database is down every batch fails: one line per interval, with a count.
        const bool probe = batch.empty();
        auto& count = probe ? failed_probes_ : failed_batches_;
        auto& next = probe ? probe_log_next_ : batch_log_next_;
        ++count;
        if (started >= next) {
            if (probe) {
                obs::log_warn(
                    "store still refuses writes; its pending write is retried every "
                    "second")
                    .kv("error", error)
                    .kv("failed_tries", count)
                    .kv("interval_s", static_cast<int64_t>(kProbeLogInterval.count()));
            } else {
                obs::log_error("store commit failed; the batch was not stored")
                    .kv("error", error)
                    .kv("operations", static_cast<int64_t>(batch.size()))
                    .kv("failed_batches", count);
            }
            count = 0;
            next = started + (probe ? kProbeLogInterval : kBatchLogInterval);
        }
    }
    if (batch.empty()) return;  // a probe: no batch for the commit histograms
    if (metrics_) {
        metrics_->commit_batch_size.observe(static_cast<double>(batch.size()));
        metrics_->commit_duration.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    for (const auto& op : batch) op->complete(stored && !op->failed);
}

StoreCounters GroupCommitWriter::counters() const {
    StoreCounters c;
    c.queued = queued_.load();
    c.delivering = delivering_.load();
    c.writable = writable_.load();
    if (!c.writable) {
        std::lock_guard lock(error_mu_);
        c.last_error = last_error_;
    }
    return c;
}

void GroupCommitWriter::set_counts(int64_t queued, int64_t delivering) {
    queued_.store(queued);
    delivering_.store(delivering);
}

void GroupCommitWriter::set_error(const std::string& error) {
    {
        std::lock_guard lock(error_mu_);
        last_error_ = error;
    }
    writable_.store(false);
}

void GroupCommitWriter::set_writable() { writable_.store(true); }

}  // namespace cg::store
