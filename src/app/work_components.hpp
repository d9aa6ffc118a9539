#pragma once
// The components that do the work after a request is stored: the callback HTTP client, the
// delivery engine and the worker pool. With ROLE=api (cluster mode) the engine and the pool are
// built, for their figures on /health and /metrics, but never started.
#include <memory>

#include "app/authorizer_component.hpp"
#include "app/component.hpp"
#include "app/queue_component.hpp"
#include "app/store_component.hpp"
#include "auth/credential_directory.hpp"
#include "delivery/delivery_engine.hpp"
#include "net/http_client.hpp"
#include "pipeline/delivery_sink.hpp"
#include "pipeline/worker_pool.hpp"

namespace cg::app {

// The outbound HTTP client of the callbacks: Beast by default (about a fifth of libcurl's
// instructions per callback, docs/performance.md), libcurl with CALLBACK_HTTP_CLIENT=curl.
class CallbackClientComponent final : public Component {
  public:
    explicit CallbackClientComponent(const config::Config& cfg);
    [[nodiscard]] net::HttpClient& client() { return *client_; }

    [[nodiscard]] std::string_view name() const override { return "callback-client"; }
    void close() override { client_->stop(); }

  private:
    std::unique_ptr<net::HttpClient> client_;
};

class DeliveryComponent final : public Component {
  public:
    // Signs with the clients' own secrets from `credentials`, else CALLBACK_SIGNING_SECRET;
    // tells `queue` about dead letters. Throws ConfigError for a malformed signing secret.
    DeliveryComponent(const config::Config& cfg, StoreComponent& store, QueueComponent& queue,
                      net::HttpClient& client, const auth::CredentialDirectory& credentials,
                      const Clock& clock, obs::Metrics& metrics);
    [[nodiscard]] delivery::DeliveryEngine& engine() { return engine_; }

    [[nodiscard]] std::string_view name() const override { return "delivery"; }
    void start() override;
    // Starts no new attempt and waits for those in flight to be recorded; the rest is durable
    // and resumed at the next start.
    void drain(const Deadline& deadline) override { engine_.stop(deadline.remaining_ms()); }

    void health(std::vector<obs::HealthReport>& out) const override;
    void gauges(std::vector<obs::GaugeSample>& out) const override;
    void live(api::LiveFigures& out) const override;

  private:
    const config::Config& cfg_;
    const StoreComponent& store_;
    delivery::DeliveryEngine engine_;
};

class WorkerPoolComponent final : public Component {
  public:
    WorkerPoolComponent(const config::Config& cfg, StoreComponent& store, QueueComponent& queue,
                        AuthorizerComponent& authorizer, DeliveryComponent& delivery,
                        const Clock& clock, obs::Metrics& metrics);
    [[nodiscard]] const pipeline::WorkerPool& pool() const { return pool_; }

    [[nodiscard]] std::string_view name() const override { return "workers"; }
    void start() override;
    // Takes no more work and waits for the decisions being made to be recorded; undecided
    // requests stay queued in the store.
    void drain(const Deadline& deadline) override { pool_.stop(deadline.remaining_ms()); }

    void gauges(std::vector<obs::GaugeSample>& out) const override;
    void live(api::LiveFigures& out) const override;

  private:
    // The worker pool sees delivery only through DeliverySink.
    class EngineSink final : public pipeline::DeliverySink {
      public:
        explicit EngineSink(delivery::DeliveryEngine& engine) : engine_(engine) {}
        void submit(std::vector<store::DeliveryJob> jobs) override {
            engine_.submit(std::move(jobs));
        }
        [[nodiscard]] bool has_capacity() const override { return engine_.has_capacity(); }

      private:
        delivery::DeliveryEngine& engine_;
    };

    const config::Config& cfg_;
    EngineSink sink_;
    pipeline::WorkerPool pool_;
};

}  // namespace cg::app
