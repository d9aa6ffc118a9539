#pragma once
// The work queue as a component: embedded, a window over the store's queued rows; in cluster
// mode, Redis Streams hints plus the relay that re-publishes from the database. Each knows what
// it is, so nothing else needs to ask.
#include <memory>

#include "app/component.hpp"
#include "app/store_component.hpp"
#include "pipeline/worker_pool.hpp"
#include "queue/work_queue.hpp"

namespace cg::app {

class QueueComponent : public Component {
  public:
    [[nodiscard]] virtual queue::WorkQueue& queue() = 0;
    // The workers whose in-flight count /health shows as "authorizing" (built after the queue).
    void count_authorizing(const pipeline::WorkerPool& workers) { workers_ = &workers; }

    [[nodiscard]] std::string_view name() const override { return "queue"; }
    // Hands the consumers a closed queue: nothing more is popped.
    void close() override { queue().close(); }
    void health(std::vector<obs::HealthReport>& out) const override;

  protected:
    QueueComponent(const config::Config& cfg, const StoreComponent& store)
        : cfg_(cfg), store_(store) {}
    const config::Config& cfg_;

  private:
    const StoreComponent& store_;
    const pipeline::WorkerPool* workers_ = nullptr;
};

// StoreBackedQueue (embedded) or RedisStreamQueue (cluster: publishing when ROLE runs the API,
// consuming when it runs workers).
std::unique_ptr<QueueComponent> make_queue_component(const config::Config& cfg,
                                                     StoreComponent& store);

}  // namespace cg::app
