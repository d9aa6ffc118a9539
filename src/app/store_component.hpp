#pragma once
// The system of record (SQLite embedded, PostgreSQL in cluster mode) as a component. Every call
// the service makes on the Store interface itself, beyond handing the store to the parts that
// read and write it, is here: recovery at start, idempotency-key expiry, the authorization
// generation, the counters behind health and gauges, and the close that ends a drain.
#include <chrono>
#include <memory>
#include <string>

#include "app/backends.hpp"
#include "app/component.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"

namespace cg::app {

class StoreComponent final : public Component {
  public:
    // Opens (and migrates, see open_store) the configured store. Throws StoreError.
    StoreComponent(const config::Config& cfg, const Clock& clock, obs::Metrics& metrics);

    [[nodiscard]] store::Store& store() { return *backends_.store; }
    // Cluster mode only (null embedded): leases and the outbox of the Redis queue.
    [[nodiscard]] store::DispatchLedger* ledger() { return backends_.ledger; }
    [[nodiscard]] const std::string& type() const { return backends_.store_type; }
    [[nodiscard]] store::StoreCounters counters() const { return backends_.store->counters(); }
    // The generation that every ACL or station change bumps, read with the calling thread's own
    // reader. Throws StoreError (the reader is then re-opened at the next call).
    [[nodiscard]] int64_t authorization_generation();

    [[nodiscard]] std::string_view name() const override { return "store"; }
    // Parks the deliveries a previous process held in memory as due now (crash recovery).
    void start() override;
    // Expires idempotency keys older than IDEMPOTENCY_TTL_MS, every 10 minutes.
    void tick() override;
    // Finishes the queued writes and stops the writer: the last thing a drain does.
    void close() override;

    void health(std::vector<obs::HealthReport>& out) const override;
    void gauges(std::vector<obs::GaugeSample>& out) const override;
    void live(api::LiveFigures& out) const override;

  private:
    const config::Config& cfg_;
    const Clock& clock_;
    Backends backends_;
    std::chrono::steady_clock::time_point next_expiry_ = std::chrono::steady_clock::now();
};

}  // namespace cg::app
