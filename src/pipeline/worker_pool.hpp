#pragma once
// Moves work from the queue through authorization to delivery:
//   queue.pop → authorizer.authorize → store.record_decisions (durable) → delivery.submit.
// `workers` threads take batches in arrival order. Authorization may complete inline (ACL) or
// later on another thread (remote); at most `max_in_flight` requests are between pop and a
// recorded decision, and no batch is taken while delivery has no capacity, so memory stays
// bounded and a backlog stays on disk.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "authz/authorizer.hpp"
#include "common/clock.hpp"
#include "obs/metrics.hpp"
#include "pipeline/delivery_sink.hpp"
#include "queue/work_queue.hpp"
#include "store/store.hpp"

namespace cg::pipeline {

struct WorkerPoolOptions {
    int workers = 2;
    size_t batch = 256;           // requests taken off the queue at once per worker
    size_t max_in_flight = 4096;  // popped but not yet recorded as decided
    // Runs on the worker thread before each batch is authorized (e.g. to drop cached decisions
    // that another process's ACL change made stale). May block briefly; must not throw.
    std::function<void()> before_batch;
};

class WorkerPool {
  public:
    WorkerPool(WorkerPoolOptions options, queue::WorkQueue& queue, authz::Authorizer& authorizer,
               store::Store& store, DeliverySink& delivery, const Clock& clock,
               obs::Metrics& metrics);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void start();
    // Stops taking work, then waits up to `deadline_ms` for decisions already being made to be
    // recorded. Requests not decided by then stay queued in the store and are taken again at
    // the next start.
    void stop(int64_t deadline_ms);
    [[nodiscard]] size_t in_flight() const { return in_flight_.load(); }

  private:
    struct Batch;
    void run();
    void decide(std::vector<store::QueuedRequest> items);
    void on_batch_decided(const std::shared_ptr<Batch>& batch);
    void record(const std::shared_ptr<Batch>& batch);
    void release(size_t n);

    WorkerPoolOptions options_;
    queue::WorkQueue& queue_;
    authz::Authorizer& authorizer_;
    store::Store& store_;
    DeliverySink& delivery_;
    const Clock& clock_;
    obs::Metrics& metrics_;

    std::atomic<bool> stopping_{false};
    std::atomic<size_t> in_flight_{0};
    std::mutex mu_;  // guards the capacity wait and retry_; not taken per request
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Batch>> retry_;  // decisions whose write failed, retried later
    std::vector<std::thread> threads_;
};

}  // namespace cg::pipeline
