#pragma once
// The queue between accept and authorization. Embedded implementation: StoreBackedQueue
// (SQLite rows are the queue, a bounded in-memory window in front of them). Cluster mode:
// RedisStreamQueue (queue/redis/).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace cg::queue {

class WorkQueue {
  public:
    virtual ~WorkQueue() = default;

    // Announces a request that is now durably stored. Called in commit (seq) order from the
    // store's writer thread; must not block.
    virtual void on_committed(store::QueuedRequest request) = 0;

    // Waits up to `wait` for work and returns up to `max` requests in arrival order; an empty
    // result means nothing arrived in time or the queue is closed. Thread-safe; each request is
    // handed out once per process lifetime.
    virtual std::vector<store::QueuedRequest> pop(size_t max, std::chrono::milliseconds wait) = 0;

    // A seq at or below which every stored request still queued is being authorized (the API
    // shows it as `authorizing`). Both queues honour it: the embedded queue answers the highest
    // seq pop() handed out; a distributed queue answers 0 (it claims nothing this way), because
    // there the store itself reports `authorizing` from its leases (StoreReader::find_request).
    [[nodiscard]] virtual int64_t dispatched_up_to() const = 0;

    // Tells the queue that these popped requests are decided and durably recorded: a
    // distributed queue stops redelivering them. Thread-safe, never blocks.
    virtual void acknowledge(const std::vector<int64_t>& seqs) { (void)seqs; }

    // Publishes a request that delivery gave up on (a dead-letter stream for operators); the
    // store already holds it as `failed`. Thread-safe, never blocks.
    virtual void dead_lettered(const std::string& request_id, const std::string& error) {
        (void)request_id;
        (void)error;
    }

    // Wakes every waiter; pop() returns empty from now on.
    virtual void close() = 0;
};

}  // namespace cg::queue
