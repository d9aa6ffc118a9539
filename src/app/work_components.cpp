#include "app/work_components.hpp"

#include <string>
#include <unordered_map>
#include <utility>

#include "common/text.hpp"
#include "net/http_client_factory.hpp"
#include "obs/log.hpp"

namespace cg::app {

namespace {

using Ms = std::chrono::milliseconds;

net::HttpClientOptions callback_client_options(const config::Config& cfg) {
    net::HttpClientOptions o;
    o.kind = cfg.callback_http_client == "curl" ? net::HttpClientKind::kCurl
                                                : net::HttpClientKind::kBeast;
    o.max_connections_per_host = static_cast<size_t>(cfg.callback_max_per_host);
    o.max_total_connections = static_cast<size_t>(cfg.callback_max_concurrency) * 2;
    o.ca_bundle = cfg.callback_ca_file;
    return o;
}

// Clients' own secrets, decoded once per change (the engine calls this on its one thread).
std::function<std::shared_ptr<const delivery::SigningKeys>(const std::string&)> client_signing_keys(
    const auth::CredentialDirectory& credentials) {
    using Slot = std::pair<std::string, std::shared_ptr<const delivery::SigningKeys>>;
    return [&credentials, cache = std::make_shared<std::unordered_map<std::string, Slot>>()](
               const std::string& client_id) -> std::shared_ptr<const delivery::SigningKeys> {
        const std::string secrets = credentials.secrets_of(client_id);
        auto& slot = (*cache)[client_id];
        if (slot.second && slot.first == secrets) return slot.second;
        std::string error;
        auto keys = delivery::SigningKeys::from_secrets(split_any(secrets, " "), &error);
        if (!keys) {
            obs::log_warn("a client's webhook secrets are malformed; signing with the default")
                .kv("client_id", client_id)
                .kv("error", error);
        }
        slot = {secrets, std::make_shared<const delivery::SigningKeys>(
                             keys ? std::move(*keys) : delivery::SigningKeys())};
        return slot.second;
    };
}

delivery::DeliveryOptions delivery_options(const config::Config& cfg, QueueComponent& queue,
                                           const auth::CredentialDirectory& credentials) {
    delivery::DeliveryOptions o;
    o.attempt_timeout = Ms(cfg.callback_timeout_ms);
    o.max_attempts = cfg.callback_max_attempts;
    o.backoff = {cfg.callback_retry_base_ms, cfg.callback_retry_max_ms};
    o.allow_private_networks = cfg.callback_allow_private_networks;
    std::string error;
    auto keys = delivery::SigningKeys::from_secrets(cfg.callback_signing_secrets, &error);
    if (!keys) throw config::ConfigError("CALLBACK_SIGNING_SECRET: " + error);
    o.signing_keys = std::move(*keys);
    o.client_signing_keys = client_signing_keys(credentials);
    o.max_in_flight = static_cast<size_t>(cfg.callback_max_concurrency);
    o.limit.min = static_cast<size_t>(cfg.callback_min_per_host);
    o.limit.max = static_cast<size_t>(cfg.callback_max_per_host);
    if (cfg.cluster()) {
        // A delivery waiting in memory is leased to this process until CLUSTER_TAKEOVER_MS
        // after its decision: it must be sent well before another worker may take it over.
        o.max_resident_wait = Ms(cfg.cluster_takeover_ms / 3);
        o.bound_every_line = true;
    }
    o.on_dead_letter = [&queue](const std::string& id, const std::string& why) {
        queue.queue().dead_lettered(id, why);
    };
    return o;
}

}  // namespace

CallbackClientComponent::CallbackClientComponent(const config::Config& cfg)
    : client_(net::make_http_client(callback_client_options(cfg))) {}

DeliveryComponent::DeliveryComponent(const config::Config& cfg, StoreComponent& store,
                                     QueueComponent& queue, net::HttpClient& client,
                                     const auth::CredentialDirectory& credentials,
                                     const Clock& clock, obs::Metrics& metrics)
    : cfg_(cfg),
      store_(store),
      engine_(delivery_options(cfg, queue, credentials), store.store(), client, clock, metrics) {}

void DeliveryComponent::start() {
    if (cfg_.runs_workers()) engine_.start();
}

void DeliveryComponent::health(std::vector<obs::HealthReport>& out) const {
    obs::HealthReport d{"delivery", obs::HealthStatus::kOk, {}};
    d.details["in_flight"] = static_cast<int64_t>(engine_.held());
    d.details["pending"] = store_.counters().delivering;
    out.push_back(std::move(d));
}

void DeliveryComponent::gauges(std::vector<obs::GaugeSample>& out) const {
    out.push_back({"callback_in_flight", "Callbacks held by the delivery engine",
                   static_cast<double>(engine_.held()), ""});
    out.push_back({"callback_receivers_failing", "Callback receivers whose last attempt failed",
                   static_cast<double>(engine_.receiver_health().failing()), ""});
    // One series per listed receiver (at most 20, so the label set stays bounded); all limits
    // first, then all waiting lines, so each name gets one HELP/TYPE.
    const auto flow = engine_.receiver_health().flow();
    for (const auto& f : flow) {
        out.push_back({"callback_concurrency_limit",
                       "In-flight limit of a busy callback receiver (the 20 busiest)",
                       static_cast<double>(f.concurrency_limit),
                       obs::label_pair("receiver", f.receiver)});
    }
    for (const auto& f : flow) {
        out.push_back({"callback_receiver_waiting",
                       "Deliveries waiting for a slot of a busy callback receiver (the 20 busiest)",
                       static_cast<double>(f.waiting), obs::label_pair("receiver", f.receiver)});
    }
}

void DeliveryComponent::live(api::LiveFigures& out) const {
    out.callback_in_flight = static_cast<int64_t>(engine_.held());
    out.failing_receivers = engine_.receiver_health().snapshot();
    out.receiver_flow = engine_.receiver_health().flow();
}

namespace {

pipeline::WorkerPoolOptions pool_options(const config::Config& cfg,
                                         AuthorizerComponent& authorizer) {
    pipeline::WorkerPoolOptions o;
    o.workers = cfg.workers;
    if (authorizer.max_in_flight() > 0) o.max_in_flight = authorizer.max_in_flight();
    o.before_batch = authorizer.before_batch();
    return o;
}

}  // namespace

WorkerPoolComponent::WorkerPoolComponent(const config::Config& cfg, StoreComponent& store,
                                         QueueComponent& queue, AuthorizerComponent& authorizer,
                                         DeliveryComponent& delivery, const Clock& clock,
                                         obs::Metrics& metrics)
    : cfg_(cfg),
      sink_(delivery.engine()),
      pool_(pool_options(cfg, authorizer), queue.queue(), authorizer.authorizer(), store.store(),
            sink_, clock, metrics) {
    queue.count_authorizing(pool_);
}

void WorkerPoolComponent::start() {
    if (cfg_.runs_workers()) pool_.start();
}

void WorkerPoolComponent::gauges(std::vector<obs::GaugeSample>& out) const {
    out.push_back({"authorizations_in_flight", "Requests being authorized",
                   static_cast<double>(pool_.in_flight()), ""});
}

void WorkerPoolComponent::live(api::LiveFigures& out) const {
    out.authorizations_in_flight = static_cast<int64_t>(pool_.in_flight());
}

}  // namespace cg::app
