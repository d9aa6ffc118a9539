#pragma once
// Which callback receivers are failing, for operators (GET /api/v1/admin/stats, the dashboard,
// `chargegate stats`, the callback_receivers_failing gauge).
//
// Threading: record() and publish_if_due() are called by the delivery engine's thread only and
// take no lock per attempt; publish_if_due() copies the failing receivers into a snapshot under
// a mutex at most once per `publish_every`, and snapshot() reads that copy from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cg::delivery {

struct ReceiverFailure {
    std::string receiver;  // scheme://host:port
    int64_t failures = 0;  // failed attempts since this process started
    int64_t consecutive_failures = 0;
    int last_status_code = 0;  // 0: no HTTP answer
    std::string last_error;
    int64_t last_failure_at_ms = 0;
    size_t concurrency_limit = 0;  // its current in-flight limit; 0: no delivery to it is active
};

// How deliveries to one receiver flow right now (the adaptive limit and its use).
struct ReceiverFlow {
    std::string receiver;  // scheme://host:port
    size_t concurrency_limit = 0;
    size_t in_flight = 0;
    size_t waiting = 0;           // resident deliveries waiting for one of its slots
    int64_t paused_until_ms = 0;  // a Retry-After pause; 0: not paused
    int64_t delivered = 0;        // deliveries to it since this process started
};

class ReceiverHealth {
  public:
    // At most `max_tracked` receivers are remembered (a flood of distinct failing hosts must not
    // grow memory without bound); the snapshot holds the `max_listed` worst.
    explicit ReceiverHealth(size_t max_tracked = 1000, size_t max_listed = 20,
                            std::chrono::milliseconds publish_every = std::chrono::seconds(1));

    // Engine thread: the outcome of one attempt to `receiver`.
    void record(std::string_view receiver, bool ok, int status_code, std::string_view error,
                int64_t now_ms);
    // Engine thread: refreshes the snapshots when they are older than `publish_every`;
    // `flows` (called only then) lists every receiver with deliveries in memory.
    void publish_if_due(std::chrono::steady_clock::time_point now,
                        const std::function<std::vector<ReceiverFlow>()>& flows = {});

    // Any thread: the receivers whose last attempt failed, most consecutive failures first.
    [[nodiscard]] std::vector<ReceiverFailure> snapshot() const;
    // Any thread: how many receivers are failing (as of the last publish).
    [[nodiscard]] size_t failing() const { return failing_.load(std::memory_order_relaxed); }
    // Any thread: the `max_listed` receivers with the most deliveries in memory (in flight plus
    // waiting), as of the last publish.
    [[nodiscard]] std::vector<ReceiverFlow> flow() const;

  private:
    struct Entry {
        int64_t failures = 0;
        int64_t consecutive = 0;
        int last_status_code = 0;
        std::string last_error;
        int64_t last_failure_at_ms = 0;
    };
    size_t max_tracked_;
    size_t max_listed_;
    std::chrono::milliseconds publish_every_;
    std::unordered_map<std::string, Entry> entries_;  // engine thread only
    bool dirty_ = false;                              // engine thread only
    std::chrono::steady_clock::time_point last_publish_{};

    mutable std::mutex mu_;  // guards published_
    std::vector<ReceiverFailure> published_;
    std::vector<ReceiverFlow> published_flow_;
    std::atomic<size_t> failing_{0};
};

}  // namespace cg::delivery
