#pragma once
// The embedded queue: the stored `queued` rows are the queue; this class keeps a bounded window
// of them in memory so the common case (workers keeping up) never reads the store back.
//
// While the window has room, requests announced by on_committed() go straight into it. Once it
// is full the queue is "spilled": further announcements only raise the committed high-water mark
// and pop() refills the window from the store in seq order until it has caught up. It starts
// spilled with cursor 0, so a backlog left by a previous process (including requests that were
// being authorized when it died) is drained first, without ever loading more than the window.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "queue/work_queue.hpp"
#include "store/store.hpp"

namespace cg::queue {

class StoreBackedQueue final : public WorkQueue {
  public:
    explicit StoreBackedQueue(store::Store& store, size_t window = 4096);
    ~StoreBackedQueue() override;

    void on_committed(store::QueuedRequest request) override;
    std::vector<store::QueuedRequest> pop(size_t max, std::chrono::milliseconds wait) override;
    [[nodiscard]] int64_t dispatched_up_to() const override { return dispatched_.load(); }
    void close() override;

  private:
    // Reads the next rows after the window's last seq from the store; only one thread at a time.
    // Returns false when the store read failed (logged; the queue stays spilled).
    bool refill();

    store::Store& store_;
    const size_t window_;
    std::unique_ptr<store::StoreReader> reader_;  // used by the refilling thread only

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<store::QueuedRequest> items_;
    bool spilled_ = true;
    bool refilling_ = false;
    bool closed_ = false;
    int64_t last_seq_ = 0;       // highest seq ever placed in the window
    int64_t committed_max_ = 0;  // highest seq announced by on_committed
    std::atomic<int64_t> dispatched_{0};
};

}  // namespace cg::queue
