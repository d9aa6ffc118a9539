#include "queue/store_backed_queue.hpp"

#include "obs/log.hpp"

namespace cg::queue {

StoreBackedQueue::StoreBackedQueue(store::Store& store, size_t window)
    : store_(store), window_(window == 0 ? 1 : window) {
    committed_max_ = store_.counters().max_seq;
}

StoreBackedQueue::~StoreBackedQueue() { close(); }

void StoreBackedQueue::on_committed(store::QueuedRequest request) {
    std::lock_guard lock(mu_);
    if (request.seq > committed_max_) committed_max_ = request.seq;
    if (!spilled_ && items_.size() < window_ && request.seq > last_seq_) {
        last_seq_ = request.seq;
        items_.push_back(std::move(request));
        cv_.notify_one();
        return;
    }
    if (!spilled_) {
        spilled_ = true;  // the rest is read back from the store, in order
    }
    cv_.notify_one();
}

bool StoreBackedQueue::refill() {
    // Caller set refilling_ under the lock; the store read happens outside it.
    int64_t after = 0;
    int64_t target = 0;
    size_t room = 0;
    {
        std::lock_guard lock(mu_);
        after = last_seq_;
        // Every request announced up to here is committed, so the read below sees it.
        target = committed_max_;
        room = window_ - std::min(window_, items_.size());
    }
    std::vector<store::QueuedRequest> rows;
    bool read_ok = false;
    if (room > 0) {
        try {
            if (!reader_) reader_ = store_.open_reader();
            rows = reader_->load_queued(after, room);
            read_ok = true;
        } catch (const std::exception& e) {
            obs::log_error("queue refill from the store failed").kv("error", e.what());
        }
    }
    std::lock_guard lock(mu_);
    refilling_ = false;
    for (auto& r : rows) {
        if (r.seq <= last_seq_) continue;
        last_seq_ = r.seq;
        items_.push_back(std::move(r));
    }
    if (read_ok && rows.size() < room) {
        // The store had nothing more queued up to `target` (rows in between were decided by an
        // earlier run). Announcements that arrived during the read stay spilled and are read
        // next time.
        last_seq_ = std::max(last_seq_, target);
        spilled_ = committed_max_ > last_seq_;
    }
    cv_.notify_all();
    return room == 0 || read_ok;
}

std::vector<store::QueuedRequest> StoreBackedQueue::pop(size_t max,
                                                        std::chrono::milliseconds wait) {
    std::vector<store::QueuedRequest> out;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    // A failed store read is tried once per pop(), so a failing store cannot keep a caller past
    // its wait.
    bool read_failed = false;
    std::unique_lock lock(mu_);
    for (;;) {
        if (closed_) return out;
        // Refill below half a window; `* 2 <` rather than `< window_ / 2` so that a window of one
        // refills too.
        if (spilled_ && !refilling_ && !read_failed && items_.size() * 2 < window_) {
            refilling_ = true;
            lock.unlock();
            read_failed = !refill();
            lock.lock();
            continue;
        }
        if (!items_.empty()) break;
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
            if (items_.empty()) return out;
            break;
        }
    }
    const size_t n = std::min(max, items_.size());
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        out.push_back(std::move(items_.front()));
        items_.pop_front();
    }
    if (!out.empty()) dispatched_.store(out.back().seq);
    return out;
}

void StoreBackedQueue::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
}

}  // namespace cg::queue
