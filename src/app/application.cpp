#include "app/application.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "api/http_server.hpp"
#include "api/tls_context.hpp"
#include "app/backends.hpp"
#include "app/fd_limit.hpp"
#include "auth/authenticator.hpp"
#include "auth/credential_directory.hpp"
#include "auth/jwt_verifier.hpp"
#include "authz/acl_authorizer.hpp"
#include "authz/breaker_authorizer.hpp"
#include "authz/caching_authorizer.hpp"
#include "authz/decision_cache.hpp"
#include "authz/remote_authorizer.hpp"
#include "common/clock.hpp"
#include "common/text.hpp"
#include "delivery/delivery_engine.hpp"
#include "net/curl_http_client.hpp"
#include "net/http_client_factory.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "obs/process_stats.hpp"
#include "pipeline/worker_pool.hpp"
#include "queue/redis/redis_stream_queue.hpp"
#include "ratelimit/memory_rate_limiter.hpp"
#include "ratelimit/redis_rate_limiter.hpp"

namespace cg::app {

namespace {

// The worker pool sees delivery only through DeliverySink.
class EngineSink final : public pipeline::DeliverySink {
  public:
    explicit EngineSink(delivery::DeliveryEngine& engine) : engine_(engine) {}
    void submit(std::vector<store::DeliveryJob> jobs) override { engine_.submit(std::move(jobs)); }
    [[nodiscard]] bool has_capacity() const override { return engine_.has_capacity(); }

  private:
    delivery::DeliveryEngine& engine_;
};

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

void wait_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(Ms(5));
    }
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
    const std::unique_ptr<auth::JwtVerifier> jwt = auth::make_jwt_verifier(cfg);
    SystemClock clock;
    obs::Metrics metrics;

    // Declared before the store: the store's last completions may still invalidate it.
    authz::DecisionCache decision_cache(
        {cfg.authorizer_cache_ttl_ms, static_cast<size_t>(cfg.authorizer_cache_max_entries)},
        clock);

    auto backends = open_store(cfg, &metrics);
    auto& store = backends.store;
    store->recover_in_flight(clock.now_ms());

    // API keys and clients' webhook secrets, re-read every API_KEYS_REFRESH_MS.
    auth::CredentialDirectory credentials([&cfg] { return open_credentials(cfg, false); },
                                          Ms(cfg.api_keys_refresh_ms));
    credentials.start();
    auth::JwtCheck jwt_check;
    if (jwt) {
        jwt_check = [&jwt](std::string_view token, int64_t now_s,
                           std::string& reason) -> std::optional<std::string> {
            auto r = jwt->verify(token, now_s);
            if (r.ok()) return std::move(r.client_id);
            reason = auth::to_string(r.error);
            return std::nullopt;
        };
    }
    auth::Authenticator authenticator(cfg.api_auth, &credentials, std::move(jwt_check));

    auto queue_ptr = open_queue(cfg, backends);
    auto* stream_queue = dynamic_cast<queue::redis::RedisStreamQueue*>(queue_ptr.get());
    auto& queue = *queue_ptr;

    // Callbacks go through the Beast client by default (about a fifth of libcurl's
    // instructions per callback, docs/performance.md); CALLBACK_HTTP_CLIENT=curl keeps libcurl.
    net::HttpClientOptions callback_http_options;
    callback_http_options.kind = cfg.callback_http_client == "curl" ? net::HttpClientKind::kCurl
                                                                    : net::HttpClientKind::kBeast;
    callback_http_options.max_connections_per_host = static_cast<size_t>(cfg.callback_max_per_host);
    callback_http_options.max_total_connections =
        static_cast<size_t>(cfg.callback_max_concurrency) * 2;
    callback_http_options.ca_bundle = cfg.callback_ca_file;
    const auto callback_http_ptr = net::make_http_client(callback_http_options);
    auto& callback_http = *callback_http_ptr;

    std::unique_ptr<net::CurlHttpClient> authorizer_http;
    // The remote authorizer is wrapped: cache → circuit breaker → HTTP call. The bulkhead is
    // AUTHORIZER_MAX_CONCURRENCY: the worker pool holds at most that many decisions in flight
    // and the HTTP client opens at most that many connections to it.
    std::unique_ptr<authz::Authorizer> remote_authorizer;
    std::unique_ptr<authz::BreakerAuthorizer> breaker_authorizer;
    std::unique_ptr<authz::CachingAuthorizer> caching_authorizer;
    std::unique_ptr<authz::AclAuthorizer> acl_authorizer;
    authz::Authorizer* authorizer = nullptr;  // the one the workers use
    if (cfg.authorizer_url.empty()) {
        // Cluster mode caches ACL lookups between authorization-generation changes (a database
        // round trip per session saved; see acl_authorizer.hpp). In embedded mode the lookup
        // is an in-process SQLite read: nothing to save.
        acl_authorizer = std::make_unique<authz::AclAuthorizer>(
            *store, clock,
            cfg.cluster() ? static_cast<size_t>(cfg.authorizer_cache_max_entries) : 0);
        authorizer = acl_authorizer.get();
    } else {
        net::CurlOptions o;
        o.max_connections_per_host = static_cast<size_t>(cfg.authorizer_max_concurrency);
        o.max_total_connections = static_cast<size_t>(cfg.authorizer_max_concurrency);
        authorizer_http = std::make_unique<net::CurlHttpClient>(o);
        authz::RemoteAuthorizerOptions ro;
        ro.url = cfg.authorizer_url;
        ro.timeout = Ms(cfg.authorization_timeout_ms);
        remote_authorizer = std::make_unique<authz::RemoteAuthorizer>(ro, *authorizer_http, clock);
        authz::CircuitBreakerOptions bo;
        bo.window_ms = cfg.authorizer_breaker_window_ms;
        bo.min_calls = cfg.authorizer_breaker_min_calls;
        bo.failure_ratio = cfg.authorizer_breaker_failure_percent / 100.0;
        bo.open_ms = cfg.authorizer_breaker_open_ms;
        bo.half_open_probes = cfg.authorizer_breaker_probes;
        breaker_authorizer =
            std::make_unique<authz::BreakerAuthorizer>(*remote_authorizer, bo, clock);
        caching_authorizer =
            std::make_unique<authz::CachingAuthorizer>(*breaker_authorizer, decision_cache, clock);
        authorizer = caching_authorizer.get();
    }

    delivery::DeliveryOptions delivery_options;
    delivery_options.attempt_timeout = Ms(cfg.callback_timeout_ms);
    delivery_options.max_attempts = cfg.callback_max_attempts;
    delivery_options.backoff = {cfg.callback_retry_base_ms, cfg.callback_retry_max_ms};
    delivery_options.allow_private_networks = cfg.callback_allow_private_networks;
    {
        std::string error;
        auto keys = delivery::SigningKeys::from_secrets(cfg.callback_signing_secrets, &error);
        if (!keys) throw config::ConfigError("CALLBACK_SIGNING_SECRET: " + error);
        delivery_options.signing_keys = std::move(*keys);
    }
    // Clients' own secrets, decoded once per change (the engine calls this on its one thread).
    delivery_options.client_signing_keys =
        [&credentials,
         cache = std::make_shared<std::unordered_map<
             std::string, std::pair<std::string, std::shared_ptr<const delivery::SigningKeys>>>>()](
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
    delivery_options.max_in_flight = static_cast<size_t>(cfg.callback_max_concurrency);
    delivery_options.limit.min = static_cast<size_t>(cfg.callback_min_per_host);
    delivery_options.limit.max = static_cast<size_t>(cfg.callback_max_per_host);
    if (cfg.cluster()) {
        // A delivery waiting in memory is leased to this process until CLUSTER_TAKEOVER_MS
        // after its decision: it must be sent well before another worker may take it over.
        delivery_options.max_resident_wait = Ms(cfg.cluster_takeover_ms / 3);
        delivery_options.bound_every_line = true;
    }
    delivery_options.on_dead_letter = [&queue](const std::string& id, const std::string& error) {
        queue.dead_lettered(id, error);
    };
    delivery::DeliveryEngine delivery(delivery_options, *store, callback_http, clock, metrics);

    pipeline::WorkerPoolOptions pool_options;
    pool_options.workers = cfg.workers;
    if (!cfg.authorizer_url.empty()) {
        pool_options.max_in_flight = static_cast<size_t>(cfg.authorizer_max_concurrency);
    }
    if (cfg.cluster() && (caching_authorizer || acl_authorizer)) {
        // Another instance's ACL or station change bumps the store's generation: the cached
        // remote decisions or ACL lookups of this process are dropped before its next batch is
        // decided.
        auto invalidate = [&decision_cache, acl = acl_authorizer.get()] {
            decision_cache.invalidate_all();
            if (acl) acl->invalidate_cache();
        };
        pool_options.before_batch = [&store, invalidate,
                                     seen = std::make_shared<std::atomic<int64_t>>(-1)] {
            thread_local std::unique_ptr<store::StoreReader> reader;
            try {
                if (!reader) reader = store->open_reader();
                const int64_t now = reader->authorization_generation();
                if (seen->exchange(now) != now) invalidate();
            } catch (const std::exception& e) {
                reader.reset();
                invalidate();  // cannot tell: assume it changed
                obs::log_warn("reading the authorization generation failed").kv("error", e.what());
            }
        };
    }
    // Per-client rate limit of the public API (off unless RATE_LIMIT_PER_SECOND > 0): one
    // budget shared by every instance through Redis in cluster mode, this process's memory else.
    std::unique_ptr<ratelimit::RateLimiter> rate_limiter;
    ratelimit::RedisRateLimiter* redis_rate_limiter = nullptr;
    if (cfg.rate_limited() && cfg.runs_api()) {
        const ratelimit::Settings limits{cfg.rate_limit_per_second, cfg.rate_limit_burst};
        if (cfg.cluster()) {
            auto redis = std::make_unique<ratelimit::RedisRateLimiter>(
                ratelimit::RedisOptions{cfg.redis_url, cfg.redis_stream_prefix + ":rl:", limits,
                                        Ms(cfg.rate_limit_redis_timeout_ms), Ms(1000), 256},
                clock, metrics);
            redis_rate_limiter = redis.get();
            rate_limiter = std::move(redis);
        } else {
            rate_limiter = std::make_unique<ratelimit::MemoryRateLimiter>(
                ratelimit::MemoryOptions{limits, 100'000, 64, 10'000,
                                         &metrics.rate_limit_overflows},
                clock);
        }
    }

    EngineSink sink(delivery);
    pipeline::WorkerPool workers(pool_options, queue, *authorizer, *store, sink, clock, metrics);

    api::ApiServices services{
        cfg,
        clock,
        *store,
        queue,
        metrics,
        [&delivery] { delivery.wake(); },
        [&decision_cache, acl = acl_authorizer.get()] {
            decision_cache.invalidate_all();
            if (acl) acl->invalidate_cache();
        },
        [&]() {
            std::vector<api::HealthComponent> out;
            const auto c = store->counters();
            api::HealthComponent q{"queue", true, {}};
            q.details["depth"] = c.queued;
            q.details["capacity"] = cfg.max_queue_depth;
            q.details["authorizing"] = static_cast<int64_t>(workers.in_flight());
            out.push_back(std::move(q));
            if (stream_queue) {
                // Accepting stays safe while Redis is down (the database holds every request
                // and the relay re-publishes), so the broker does not gate readiness.
                api::HealthComponent b{"broker", stream_queue->broker_up(), {}};
                b.gates_readiness = false;
                b.details["type"] = "redis";
                b.details["unpublished"] = stream_queue->unpublished();
                out.push_back(std::move(b));
            }
            api::HealthComponent s{"store", c.writable, {}};
            s.details["type"] = backends.store_type;
            if (!c.writable) s.details["error"] = c.last_error;
            out.push_back(std::move(s));
            api::HealthComponent a{"authorizer", authorizer->healthy(), {}};
            a.gates_readiness = false;
            a.details["type"] = authorizer->kind();
            authorizer->health_details(a.details);
            out.push_back(std::move(a));
            api::HealthComponent d{"delivery", true, {}};
            d.details["in_flight"] = static_cast<int64_t>(delivery.held());
            d.details["pending"] = c.delivering;
            out.push_back(std::move(d));
            return out;
        },
        [&]() {
            const auto c = store->counters();
            const auto proc = obs::read_process_stats();
            auto gauges = std::vector<obs::GaugeSample>{
                {"authorization_queue_size", "Requests accepted and not yet decided",
                 static_cast<double>(c.queued), ""},
                {"authorizations_in_flight", "Requests being authorized",
                 static_cast<double>(workers.in_flight()), ""},
                {"callback_pending", "Decided requests not yet delivered or failed",
                 static_cast<double>(c.delivering), ""},
                {"callback_in_flight", "Callbacks held by the delivery engine",
                 static_cast<double>(delivery.held()), ""},
                {"callback_receivers_failing", "Callback receivers whose last attempt failed",
                 static_cast<double>(delivery.receiver_health().failing()), ""},
                {"store_writable", "1 while the store accepts writes", c.writable ? 1.0 : 0.0, ""},
                {"process_resident_memory_bytes", "Resident set size",
                 static_cast<double>(proc.resident_bytes), ""},
                {"process_cpu_seconds_total", "User and system CPU time", proc.cpu_seconds, ""},
                {"process_open_fds", "Open file descriptors", static_cast<double>(proc.open_fds),
                 ""},
                {"process_max_fds", "File descriptor limit", static_cast<double>(proc.max_fds), ""},
                {"process_start_time_seconds", "Start time since the Unix epoch",
                 proc.start_time_seconds, ""},
                {"chargegate_build_info", "Build information", 1.0, "version=\"" CG_VERSION "\""},
            };
            // One series per listed receiver (at most 20, so the label set stays bounded); all
            // limits first, then all waiting lines, so each name gets one HELP/TYPE.
            const auto flow = delivery.receiver_health().flow();
            for (const auto& f : flow) {
                gauges.push_back({"callback_concurrency_limit",
                                  "In-flight limit of a busy callback receiver (the 20 busiest)",
                                  static_cast<double>(f.concurrency_limit),
                                  obs::label_pair("receiver", f.receiver)});
            }
            for (const auto& f : flow) {
                gauges.push_back({"callback_receiver_waiting",
                                  "Deliveries waiting for a slot of a busy callback receiver (the "
                                  "20 busiest)",
                                  static_cast<double>(f.waiting),
                                  obs::label_pair("receiver", f.receiver)});
            }
            if (stream_queue) {
                gauges.push_back({"broker_up", "1 while Redis answers (cluster mode)",
                                  stream_queue->broker_up() ? 1.0 : 0.0, ""});
                gauges.push_back({"broker_unpublished_hints",
                                  "Accepted requests whose hint waits for Redis (cluster mode)",
                                  static_cast<double>(stream_queue->unpublished()), ""});
            }
            if (redis_rate_limiter) {
                gauges.push_back({"rate_limit_redis_up",
                                  "1 while the shared rate limit in Redis answers; 0 while each "
                                  "process limits on its own (fail open)",
                                  redis_rate_limiter->redis_up() ? 1.0 : 0.0, ""});
            }
            if (breaker_authorizer) {
                gauges.push_back(
                    {"authorizer_circuit_state",
                     "Remote authorizer circuit breaker: 0 closed, 1 open, 2 half-open",
                     static_cast<double>(breaker_authorizer->state()), ""});
                gauges.push_back({"authorizer_cache_hits_total",
                                  "Decisions answered from the cache",
                                  static_cast<double>(caching_authorizer->hits()), ""});
                gauges.push_back({"authorizer_cache_misses_total",
                                  "Decisions that needed a call to the authorizer",
                                  static_cast<double>(caching_authorizer->misses()), ""});
            }
            return gauges;
        },
        [&]() {
            const auto c = store->counters();
            api::LiveFigures f;
            f.queued = c.queued;
            f.callback_pending = c.delivering;
            f.authorizations_in_flight = static_cast<int64_t>(workers.in_flight());
            f.callback_in_flight = static_cast<int64_t>(delivery.held());
            f.store_writable = c.writable;
            if (breaker_authorizer) {
                static constexpr const char* kStates[] = {"closed", "open", "half_open"};
                const auto st = static_cast<size_t>(breaker_authorizer->state());
                f.circuit_state = st < 3 ? kStates[st] : "unknown";
            }
            f.failing_receivers = delivery.receiver_health().snapshot();
            f.receiver_flow = delivery.receiver_health().flow();
            return f;
        },
        &authenticator,
        rate_limiter.get(),
    };

    api::ServerOptions server_options;
    server_options.bind_address = cfg.bind_address;
    server_options.port = cfg.port;
    server_options.threads = cfg.http_threads;
    server_options.limits = {cfg.max_connections, cfg.max_connections_per_client};
    server_options.idle_timeout = Ms(cfg.http_idle_timeout_ms);
    server_options.request_timeout = Ms(cfg.http_request_timeout_ms);
    server_options.tls = tls;
    api::HttpServer server(server_options, services);

    if (cfg.runs_workers()) {
        delivery.start();
        workers.start();
    }
    server.start();
    // One line that tells an operator what is running and which protections are on.
    obs::log_info("chargegate ready")
        .kv("version", CG_VERSION)
        .kv("mode", cfg.cluster() ? "cluster" : "embedded")
        .kv("port", static_cast<int64_t>(server.port()))
        .kv("scheme", tls ? "https" : "http")
        .kv("bind_address", cfg.bind_address)
        .kv("store", backends.store_type)
        .kv("role", cfg.role == config::Role::kAll   ? "all"
                    : cfg.role == config::Role::kApi ? "api"
                                                     : "worker")
        .kv("instance", instance_name(cfg))
        .kv("data_dir", cfg.cluster() ? std::string() : cfg.data_dir)
        .kv("authorizer", authorizer->kind())
        .kv("workers", cfg.workers)
        .kv("signing", cfg.callback_signing_secrets.empty() ? "off" : "on")
        .kv("client_auth", !cfg.api_auth       ? "off"
                           : cfg.jwt_enabled() ? "api_keys+jwt"
                                               : "api_keys")
        .kv("tls", tls ? "on" : "off")
        .kv("rate_limit", cfg.rate_limited() ? "on" : "off")
        .kv("rate_limit_per_second", cfg.rate_limit_per_second)
        .kv("queued", store->counters().queued);
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
        obs::log_info("API authentication is on").kv("api_keys", credentials.active_keys());
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

    // Wait for SIGTERM/SIGINT; meanwhile expire idempotency keys every 10 minutes.
    auto next_expiry = std::chrono::steady_clock::now();
    int signal_number = 0;
    while (signal_number <= 0) {
        if (std::chrono::steady_clock::now() >= next_expiry) {
            store->expire_idempotency_keys(clock.now_ms() - cfg.idempotency_ttl_ms);
            next_expiry = std::chrono::steady_clock::now() + std::chrono::minutes(10);
        }
        const timespec tick{1, 0};
        signal_number = sigtimedwait(&stop_signals, nullptr, &tick);
    }

    // Drain: stop taking requests, answer those in progress, record decisions in progress,
    // let callbacks in flight finish. Whatever is not finished by the deadline is already
    // durable and is resumed at the next start.
    obs::log_info("draining").kv("signal", signal_number).kv("timeout_ms", cfg.drain_timeout_ms);
    const auto deadline = std::chrono::steady_clock::now() + Ms(cfg.drain_timeout_ms);
    auto remaining_ms = [&] {
        return std::max<int64_t>(
            0, std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now()).count());
    };
    server.stop_accepting();
    wait_until([&] { return server.idle(); }, deadline);
    workers.stop(remaining_ms());
    delivery.stop(remaining_ms());
    // Answers any call still waiting for Redis while the event loops still run.
    if (rate_limiter) rate_limiter->stop();
    server.stop();
    callback_http.stop();
    if (authorizer_http) authorizer_http->stop();
    queue.close();
    store->close();
    obs::log_info("stopped");
    return 0;
}

}  // namespace cg::app
