#pragma once
// A receiver that behaves like a server with K workers: at most K requests are processed at
// once, the rest wait in arrival order (FIFO) for a worker. `Waiter` is whatever wakes a waiting
// request (the loadtest's receiver uses a timer it cancels); the queue only decides who runs.
// Not thread-safe: the owner uses it from one thread (the receiver's single event loop).
#include <cassert>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace cg::loadtest {

template <typename Waiter>
class CapacityQueue {
  public:
    // capacity 0: unlimited (every acquire succeeds at once).
    explicit CapacityQueue(size_t capacity) : capacity_(capacity) {}

    // Takes a free worker and returns true, or queues `waiter` behind the ones already waiting
    // and returns false; a later release() hands the worker over to it.
    bool acquire(Waiter waiter) {
        if (capacity_ == 0 || (busy_ < capacity_ && waiting_.empty())) {
            ++busy_;
            return true;
        }
        waiting_.push_back(std::move(waiter));
        return false;
    }

    // Frees the caller's worker. If a request was waiting, the worker passes straight to the
    // oldest one, which is returned so the caller can wake it (busy() stays the same).
    std::optional<Waiter> release() {
        assert(busy_ > 0 && "release() without a matching acquire()");
        if (waiting_.empty()) {
            --busy_;
            return std::nullopt;
        }
        Waiter next = std::move(waiting_.front());
        waiting_.pop_front();
        return next;
    }

    [[nodiscard]] size_t busy() const { return busy_; }
    [[nodiscard]] size_t waiting() const { return waiting_.size(); }
    [[nodiscard]] size_t capacity() const { return capacity_; }

  private:
    size_t capacity_;
    size_t busy_ = 0;
    std::deque<Waiter> waiting_;
};

}  // namespace cg::loadtest
