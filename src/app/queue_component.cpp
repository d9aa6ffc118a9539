#include "app/queue_component.hpp"

#include "app/backends.hpp"
#include "queue/redis/redis_stream_queue.hpp"
#include "queue/store_backed_queue.hpp"

namespace cg::app {

void QueueComponent::health(std::vector<obs::HealthReport>& out) const {
    obs::HealthReport q{"queue", obs::HealthStatus::kOk, {}};
    q.details["depth"] = store_.counters().queued;
    q.details["capacity"] = cfg_.max_queue_depth;
    q.details["authorizing"] = static_cast<int64_t>(workers_ ? workers_->in_flight() : 0);
    out.push_back(std::move(q));
}

namespace {

class EmbeddedQueueComponent final : public QueueComponent {
  public:
    EmbeddedQueueComponent(const config::Config& cfg, StoreComponent& store)
        : QueueComponent(cfg, store), queue_(store.store()) {}
    queue::WorkQueue& queue() override { return queue_; }

  private:
    queue::StoreBackedQueue queue_;
};

class RedisQueueComponent final : public QueueComponent {
  public:
    RedisQueueComponent(const config::Config& cfg, StoreComponent& store)
        : QueueComponent(cfg, store), queue_(options(cfg), *store.ledger()) {}
    queue::WorkQueue& queue() override { return queue_; }

    // Connects to Redis and starts the publisher, consumer and relay threads of this role.
    void start() override { queue_.start(); }

    void health(std::vector<obs::HealthReport>& out) const override {
        QueueComponent::health(out);
        // Accepting stays safe while Redis is down (the database holds every request and the
        // relay re-publishes), so the broker does not gate readiness.
        obs::HealthReport b{
            "broker",
            queue_.broker_up() ? obs::HealthStatus::kOk : obs::HealthStatus::kDegraded,
            {}};
        b.details["type"] = "redis";
        b.details["unpublished"] = queue_.unpublished();
        out.push_back(std::move(b));
    }

    void gauges(std::vector<obs::GaugeSample>& out) const override {
        out.push_back({"broker_up", "1 while Redis answers (cluster mode)",
                       queue_.broker_up() ? 1.0 : 0.0, ""});
        out.push_back({"broker_unpublished_hints",
                       "Accepted requests whose hint waits for Redis (cluster mode)",
                       static_cast<double>(queue_.unpublished()), ""});
    }

  private:
    static queue::redis::RedisQueueOptions options(const config::Config& cfg) {
        queue::redis::RedisQueueOptions o;
        o.url = cfg.redis_url;
        o.prefix = cfg.redis_stream_prefix;
        o.consumer = instance_name(cfg);
        o.takeover_ms = cfg.cluster_takeover_ms;
        o.publish = cfg.runs_api();
        o.consume = cfg.runs_workers();
        return o;
    }

    queue::redis::RedisStreamQueue queue_;
};

}  // namespace

std::unique_ptr<QueueComponent> make_queue_component(const config::Config& cfg,
                                                     StoreComponent& store) {
    if (cfg.cluster()) return std::make_unique<RedisQueueComponent>(cfg, store);
    return std::make_unique<EmbeddedQueueComponent>(cfg, store);
}

}  // namespace cg::app
