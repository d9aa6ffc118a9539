#include "pipeline/worker_pool.hpp"

#include <algorithm>
#include <chrono>

#include "common/text.hpp"
#include "common/thread_name.hpp"
#include "obs/log.hpp"
#include "obs/trace.hpp"

namespace cg::pipeline {

using namespace std::chrono_literals;

// One popped batch on its way to a recorded decision. Authorization callbacks may arrive on
// several threads; the last one to finish records the batch.
struct WorkerPool::Batch {
    std::vector<store::QueuedRequest> items;
    std::vector<Decision> decisions;
    std::atomic<size_t> remaining{0};
    std::chrono::steady_clock::time_point taken_at;
    std::chrono::steady_clock::time_point retry_at;
};

WorkerPool::WorkerPool(WorkerPoolOptions options, queue::WorkQueue& queue,
                       authz::Authorizer& authorizer, store::Store& store, DeliverySink& delivery,
                       const Clock& clock, obs::Metrics& metrics)
    : options_(options),
      queue_(queue),
      authorizer_(authorizer),
      store_(store),
      delivery_(delivery),
      clock_(clock),
      metrics_(metrics) {}

WorkerPool::~WorkerPool() { stop(0); }

void WorkerPool::start() {
    for (int i = 0; i < options_.workers; ++i)
        threads_.emplace_back([this] {
            name_this_thread("cg-worker");
            run();
        });
}

void WorkerPool::stop(int64_t deadline_ms) {
    if (threads_.empty()) return;
    stopping_.store(true);
    queue_.close();
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    if (in_flight_.load() > 0) {
        obs::log_warn("stopping with undecided requests; they stay queued for the next start")
            .kv("count", static_cast<int64_t>(in_flight_.load()));
    }
}

void WorkerPool::run() {
    while (!stopping_.load()) {
        // Re-record batches whose decision write failed (storage unavailable) once due.
        std::shared_ptr<Batch> again;
        {
            std::unique_lock lock(mu_);
            if (!retry_.empty() && retry_.front()->retry_at <= std::chrono::steady_clock::now()) {
                again = retry_.front();
                retry_.pop_front();
            }
        }
        if (again) {
            record(again);
            continue;
        }
        // Back-pressure: take no new work while delivery is full or too much is in flight.
        if (!delivery_.has_capacity() || in_flight_.load() >= options_.max_in_flight) {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, 5ms);
            continue;
        }
        const size_t room = options_.max_in_flight - in_flight_.load();
        auto items = queue_.pop(std::min(options_.batch, room), 100ms);
        if (items.empty()) continue;
        decide(std::move(items));
    }
}

void WorkerPool::decide(std::vector<store::QueuedRequest> items) {
    if (options_.before_batch) options_.before_batch();
    auto batch = std::make_shared<Batch>();
    batch->taken_at = std::chrono::steady_clock::now();
    batch->decisions.resize(items.size());
    batch->remaining.store(items.size());
    batch->items = std::move(items);
    in_flight_.fetch_add(batch->items.size());
    for (size_t i = 0; i < batch->items.size(); ++i) {
        const auto& item = batch->items[i];
        AuthorizationRequest req{item.id, item.station_id, item.driver_token, item.traceparent};
        authorizer_.authorize(req, [this, batch, i](Decision d) {
            if (d.decided_at_ms == 0) d.decided_at_ms = clock_.now_ms();
            batch->decisions[i] = std::move(d);
            // acq_rel: the thread that sees zero also sees every other thread's decision.
            if (batch->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                on_batch_decided(batch);
            }
        });
    }
}

void WorkerPool::on_batch_decided(const std::shared_ptr<Batch>& batch) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - batch->taken_at).count();
    for (size_t i = 0; i < batch->items.size(); ++i) {
        metrics_.authorization_time.observe(seconds);
        metrics_.decisions.inc(to_string(batch->decisions[i].status));
        if (obs::log_enabled(obs::Level::kDebug)) {
            obs::log_debug("request decided")
                .kv("request_id", batch->items[i].id)
                .kv("trace_id", obs::trace_id_of(batch->items[i].traceparent))
                .kv("driver_token", mask_token(batch->items[i].driver_token))
                .kv("status", to_string(batch->decisions[i].status))
                .kv("reason", batch->decisions[i].reason);
        }
    }
    record(batch);
}

void WorkerPool::record(const std::shared_ptr<Batch>& batch) {
    std::vector<store::DecisionRecord> records;
    records.reserve(batch->items.size());
    for (size_t i = 0; i < batch->items.size(); ++i) {
        records.push_back({batch->items[i].seq, batch->decisions[i]});
    }
    store_.record_decisions(
        std::move(records), [this, batch](bool ok, std::vector<int64_t> superseded) {
            if (!ok && stopping_.load()) {
                // Shutting down: the requests are still queued in the store and are decided again
                // at the next start.
                release(batch->items.size());
                return;
            }
            if (!ok) {
                // Nothing was written: the requests are still queued in the store. Keep the
                // decisions and write them again shortly; never drop them.
                obs::log_warn("recording decisions failed; will retry")
                    .kv("count", static_cast<int64_t>(batch->items.size()));
                batch->retry_at = std::chrono::steady_clock::now() + 500ms;
                std::lock_guard lock(mu_);
                retry_.push_back(batch);
                return;
            }
            std::vector<int64_t> seqs;
            seqs.reserve(batch->items.size());
            for (const auto& item : batch->items) seqs.push_back(item.seq);
            queue_.acknowledge(seqs);
            if (!superseded.empty()) {
                // Decided already: another worker took these over (this one held them past its
                // lease) and decided them first; whoever decided them delivers them.
                obs::log_warn("decisions superseded (decided already); not delivered from here")
                    .kv("count", static_cast<int64_t>(superseded.size()));
            }
            std::vector<store::DeliveryJob> jobs;
            jobs.reserve(batch->items.size());
            for (size_t i = 0; i < batch->items.size(); ++i) {
                auto& item = batch->items[i];
                if (!superseded.empty() &&
                    std::find(superseded.begin(), superseded.end(), item.seq) != superseded.end()) {
                    continue;
                }
                store::DeliveryJob job;
                job.seq = item.seq;
                static_cast<store::RequestCore&>(job) = std::move(item);
                job.decision = std::move(batch->decisions[i]);
                jobs.push_back(std::move(job));
            }
            delivery_.submit(std::move(jobs));
            release(batch->items.size());
        });
}

void WorkerPool::release(size_t n) {
    cv_.notify_one();
    // Last access to *this: stop() may return (and the pool be destroyed) once this hits zero.
    in_flight_.fetch_sub(n);
}

}  // namespace cg::pipeline
