#pragma once
// The cluster queue: Redis Streams carry hints (request seqs) from API instances to workers;
// PostgreSQL (a DispatchLedger) decides who owns what. Keys, under REDIS_STREAM_PREFIX:
//   <prefix>:requests   one entry {seq} per accepted request (XADD, trimmed to ~max_len)
//   <prefix>:dead       one entry {request_id, error} per dead-lettered request
// and the consumer group <prefix>-workers on <prefix>:requests.
//
// Publishing (API role): on_committed() hands the seq to a publisher thread that XADDs in
// pipelined batches. While Redis is down the hints wait in a bounded buffer; whatever is lost
// (buffer overflow, a crash, a Redis that lost its data) the outbox relay re-publishes from the
// ledger once it is older than the takeover time.
//
// Consuming (worker role): one consumer thread per process reads new entries (XREADGROUP),
// claims them in the ledger (a lease of takeover_ms), and keeps the claimed requests in a bounded
// window that pop() serves. acknowledge() XACKs them once their decision is durable. Entries a
// dead consumer read but never acknowledged are taken over with XAUTOCLAIM after takeover_ms;
// the same thread runs the outbox relay.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "obs/metrics.hpp"
#include "queue/work_queue.hpp"
#include "store/dispatch_ledger.hpp"

namespace cg::queue::redis {

struct RedisQueueOptions {
    std::string url;                    // REDIS_URL
    std::string prefix = "chargegate";  // REDIS_STREAM_PREFIX
    std::string consumer;               // this process's name (INSTANCE_ID)
    int64_t takeover_ms = 30000;        // CLUSTER_TAKEOVER_MS
    bool publish = true;                // API role: on_committed() publishes
    bool consume = true;                // worker role: pop() serves claimed requests
    size_t window = 512;                // claimed requests held for pop() at most
    size_t max_buffer = 200000;         // hints waiting for a Redis that is down, at most
    int64_t max_len = 1000000;          // approximate stream length cap (XADD MAXLEN ~)
};

class RedisStreamQueue final : public WorkQueue {
  public:
    RedisStreamQueue(RedisQueueOptions options, store::DispatchLedger& ledger);
    ~RedisStreamQueue() override;
    RedisStreamQueue(const RedisStreamQueue&) = delete;
    RedisStreamQueue& operator=(const RedisStreamQueue&) = delete;

    void start();
    void on_committed(store::QueuedRequest request) override;
    std::vector<store::QueuedRequest> pop(size_t max, std::chrono::milliseconds wait) override;
    // 0: status comes from the ledger's leases in cluster mode (see WorkQueue::dispatched_up_to).
    [[nodiscard]] int64_t dispatched_up_to() const override { return 0; }
    void acknowledge(const std::vector<int64_t>& seqs) override;
    void dead_lettered(const std::string& request_id, const std::string& error) override;
    void close() override;

    // False while the last Redis command failed.
    [[nodiscard]] bool broker_up() const { return broker_up_.load(); }
    [[nodiscard]] int64_t unpublished() const { return buffered_.load(); }

  private:
    void publish_loop();
    void consume_loop();

    RedisQueueOptions options_;
    store::DispatchLedger& ledger_;
    std::string stream_;
    std::string dead_stream_;
    std::string group_;

    std::mutex mu_;
    std::condition_variable cv_;      // pop() waiters
    std::condition_variable pub_cv_;  // the publisher
    std::deque<store::QueuedRequest> items_;
    std::unordered_map<int64_t, std::string> entry_of_;  // claimed seq → stream entry id
    std::vector<std::string> to_ack_;
    std::deque<int64_t> to_publish_;
    std::vector<std::pair<std::string, std::string>> dead_;
    bool closed_ = false;
    bool stop_publisher_ = false;  // set by close() once the last hints are queued

    std::atomic<bool> broker_up_{true};
    std::atomic<int64_t> buffered_{0};
    std::thread publisher_;
    std::thread consumer_;
};

}  // namespace cg::queue::redis
