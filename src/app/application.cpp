#include "app/application.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <memory>

#include "api/tls_context.hpp"
#include "app/api_components.hpp"
#include "app/authorizer_component.hpp"
#include "app/backends.hpp"
#include "app/fd_limit.hpp"
#include "app/queue_component.hpp"
#include "app/service.hpp"
#include "app/store_component.hpp"
#include "app/work_components.hpp"
#include "authz/decision_cache.hpp"
#include "common/clock.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace cg::app {

namespace {

using Ms = std::chrono::milliseconds;

// Blocks SIGTERM/SIGINT in this thread and every thread started after it, so that only the
// main thread's sigtimedwait sees them (no async-signal handler runs at all).
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a peer closing a socket is an error code, not a death
    // Past a file-size limit, write() fails with EFBIG like on a full disk: the store answers
    // 503 and recovers, instead of the process being killed.
    ::signal(SIGXFSZ, SIG_IGN);
    return set;
}

const char* role_name(config::Role role) {
    switch (role) {
        case config::Role::kAll:
            return "all";
        case config::Role::kApi:
            return "api";
        case config::Role::kWorker:
            return "worker";
    }
    return "all";
}

}  // namespace

int serve(const config::Config& cfg) {
    const sigset_t stop_signals = block_stop_signals();
    obs::init_logging(cfg.log_level);
    prepare_fd_limit(cfg);
    // Loaded before anything is opened: a bad certificate or key stops the start at once.
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (!cfg.tls_cert_file.empty()) {
        tls = api::make_server_tls_context(cfg.tls_cert_file, cfg.tls_key_file);
    }
    // JWT keys likewise (null when no JWT key is configured).
    std::unique_ptr<auth::JwtVerifier> jwt = auth::make_jwt_verifier(cfg);
    SystemClock clock;
    obs::Metrics metrics;
    // Declared before the store: the store's last completions may still invalidate it.
    authz::DecisionCache decision_cache(
        {cfg.authorizer_cache_ttl_ms, static_cast<size_t>(cfg.authorizer_cache_max_entries)},
        clock);

    // Each component is built with references to the ones before it; the list at the end says
    // in which order they start (and, reversed, drain). ROLE decides what runs: the queue
    // publishes (api) and/or consumes (worker), the workers and the delivery engine start only
    // with workers, the rate limiter exists only with the API.
    Service service;
    auto store = std::make_unique<StoreComponent>(cfg, clock, metrics);
    auto credentials = std::make_unique<CredentialsComponent>(cfg, std::move(jwt));
    auto queue = make_queue_component(cfg, *store);
    auto authorizer = std::make_unique<AuthorizerComponent>(cfg, *store, decision_cache, clock);
    auto callbacks = std::make_unique<CallbackClientComponent>(cfg);
    auto rate_limiter = RateLimiterComponent::make(cfg, clock, metrics);
    auto delivery = std::make_unique<DeliveryComponent>(cfg, *store, *queue, callbacks->client(),
                                                        credentials->directory(), clock, metrics);
    auto workers = std::make_unique<WorkerPoolComponent>(cfg, *store, *queue, *authorizer,
                                                         *delivery, clock, metrics);
    auto* engine = &delivery->engine();
    auto http = std::make_unique<HttpServerComponent>(
        cfg, tls,
        api::ApiServices{
            cfg,
            clock,
            store->store(),
            queue->queue(),
            metrics,
            [engine] { engine->wake(); },
            [auth = authorizer.get()] { auth->invalidate_cached(); },
            [&service] { return service.health(); },
            [&service] { return service.gauges(); },
            [&service] { return service.live(); },
            &credentials->authenticator(),
            rate_limiter ? &rate_limiter->limiter() : nullptr,
        });

    // Kept for the start-up line below; owned by `service`.
    const StoreComponent& store_ref = *store;
    const CredentialsComponent& credentials_ref = *credentials;
    const AuthorizerComponent& authorizer_ref = *authorizer;
    const HttpServerComponent& http_ref = *http;

    // The list, in start order. Drain on SIGTERM runs it backwards: stop accepting HTTP and answer
    // the requests in progress → the workers record the decisions being made → the delivery engine
    // lets the attempts in flight finish → the rate limiter answers its waiting calls; then the
    // HTTP event loops, the callback client, the authorizer's client, the queue and, last, the
    // store close.
    service.set_components(std::move(store), std::move(credentials), std::move(queue),
                           std::move(authorizer), std::move(callbacks), std::move(rate_limiter),
                           std::move(delivery), std::move(workers), std::move(http));
    service.start();

    // One line that tells an operator what is running and which protections are on.
    obs::log_info("chargegate ready")
        .kv("version", CG_VERSION)
        .kv("mode", cfg.cluster() ? "cluster" : "embedded")
        .kv("port", static_cast<int64_t>(http_ref.port()))
        .kv("scheme", tls ? "https" : "http")
        .kv("bind_address", cfg.bind_address)
        .kv("store", store_ref.type())
        .kv("role", role_name(cfg.role))
        .kv("instance", instance_name(cfg))
        .kv("data_dir", cfg.cluster() ? std::string() : cfg.data_dir)
        .kv("authorizer", authorizer_ref.kind())
        .kv("workers", cfg.workers)
        .kv("signing", cfg.callback_signing_secrets.empty() ? "off" : "on")
        .kv("client_auth", !cfg.api_auth       ? "off"
                           : cfg.jwt_enabled() ? "api_keys+jwt"
                                               : "api_keys")
        .kv("tls", tls ? "on" : "off")
        .kv("rate_limit", cfg.rate_limited() ? "on" : "off")
        .kv("rate_limit_per_second", cfg.rate_limit_per_second)
        .kv("queued", store_ref.counters().queued);
    if (cfg.admin_token.empty()) {
        obs::log_warn(
            "ADMIN_TOKEN is not set: the admin API answers loopback clients with a loopback Host "
            "(or one in ADMIN_ALLOWED_HOSTS) only");
    }
    if (cfg.runs_api() && !cfg.api_auth) {
        obs::log_warn(
            "API AUTHENTICATION IS OFF: anyone who can reach this port can start charging "
            "sessions and read their status. Set API_AUTH=on and create API keys "
            "(chargegate api-key create) or configure JWTs before exposing it "
            "(docs/security.md)");
    } else if (cfg.runs_api()) {
        obs::log_info("API authentication is on")
            .kv("api_keys", credentials_ref.directory().active_keys());
    }
    if (cfg.cluster() && cfg.cluster_takeover_ms <= cfg.callback_timeout_ms) {
        obs::log_warn(
            "CLUSTER_TAKEOVER_MS is not above CALLBACK_TIMEOUT_MS: a slow callback attempt may be "
            "taken over and sent again by another worker while it is still running")
            .kv("cluster_takeover_ms", cfg.cluster_takeover_ms)
            .kv("callback_timeout_ms", cfg.callback_timeout_ms);
    }
    if (cfg.callback_allow_private_networks) {
        obs::log_warn("CALLBACK_ALLOW_PRIVATE_NETWORKS is on: the SSRF guard is off");
    }

    // Wait for SIGTERM/SIGINT; meanwhile the components' housekeeping runs once a second.
    int signal_number = 0;
    while (signal_number <= 0) {
        service.tick();
        const timespec tick{1, 0};
        signal_number = sigtimedwait(&stop_signals, nullptr, &tick);
    }

    // Drain: stop taking requests, answer those in progress, record decisions in progress,
    // let callbacks in flight finish. Whatever is not finished by the deadline is already
    // durable and is resumed at the next start.
    obs::log_info("draining").kv("signal", signal_number).kv("timeout_ms", cfg.drain_timeout_ms);
    service.stop(Deadline(std::chrono::steady_clock::now() + Ms(cfg.drain_timeout_ms)));
    obs::log_info("stopped");
    return 0;
}

}  // namespace cg::app
