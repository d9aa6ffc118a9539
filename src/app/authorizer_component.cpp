#include "app/authorizer_component.hpp"

#include <atomic>

#include "authz/remote_authorizer.hpp"
#include "obs/log.hpp"

namespace cg::app {

AuthorizerComponent::AuthorizerComponent(const config::Config& cfg, StoreComponent& store,
                                         authz::DecisionCache& cache, const Clock& clock)
    : cfg_(cfg), store_(store), cache_(cache) {
    if (cfg.authorizer_url.empty()) {
        // Cluster mode caches ACL lookups between authorization-generation changes (a database
        // round trip per session saved; see acl_authorizer.hpp). In embedded mode the lookup
        // is an in-process SQLite read: nothing to save.
        acl_ = std::make_unique<authz::AclAuthorizer>(
            store.store(), clock,
            cfg.cluster() ? static_cast<size_t>(cfg.authorizer_cache_max_entries) : 0);
        authorizer_ = acl_.get();
        return;
    }
    // The bulkhead is AUTHORIZER_MAX_CONCURRENCY: the worker pool holds at most that many
    // decisions in flight and the HTTP client opens at most that many connections to it.
    net::CurlOptions o;
    o.max_connections_per_host = static_cast<size_t>(cfg.authorizer_max_concurrency);
    o.max_total_connections = static_cast<size_t>(cfg.authorizer_max_concurrency);
    http_ = std::make_unique<net::CurlHttpClient>(o);
    authz::RemoteAuthorizerOptions ro;
    ro.url = cfg.authorizer_url;
    ro.timeout = std::chrono::milliseconds(cfg.authorization_timeout_ms);
    remote_ = std::make_unique<authz::RemoteAuthorizer>(ro, *http_, clock);
    authz::CircuitBreakerOptions bo;
    bo.window_ms = cfg.authorizer_breaker_window_ms;
    bo.min_calls = cfg.authorizer_breaker_min_calls;
    bo.failure_ratio = cfg.authorizer_breaker_failure_percent / 100.0;
    bo.open_ms = cfg.authorizer_breaker_open_ms;
    bo.half_open_probes = cfg.authorizer_breaker_probes;
    breaker_ = std::make_unique<authz::BreakerAuthorizer>(*remote_, bo, clock);
    caching_ = std::make_unique<authz::CachingAuthorizer>(*breaker_, cache, clock);
    authorizer_ = caching_.get();
}

size_t AuthorizerComponent::max_in_flight() const {
    return http_ ? static_cast<size_t>(cfg_.authorizer_max_concurrency) : 0;
}

void AuthorizerComponent::invalidate_cached() {
    cache_.invalidate_all();
    if (acl_) acl_->invalidate_cache();
}

std::function<void()> AuthorizerComponent::before_batch() {
    if (!cfg_.cluster()) return {};
    return [this, seen = std::make_shared<std::atomic<int64_t>>(-1)] {
        try {
            const int64_t now = store_.authorization_generation();
            if (seen->exchange(now) != now) invalidate_cached();
        } catch (const std::exception& e) {
            invalidate_cached();  // cannot tell: assume it changed
            obs::log_warn("reading the authorization generation failed").kv("error", e.what());
        }
    };
}

void AuthorizerComponent::close() {
    if (http_) http_->stop();
}

void AuthorizerComponent::health(std::vector<obs::HealthReport>& out) const {
    obs::HealthReport a{
        "authorizer",
        authorizer_->healthy() ? obs::HealthStatus::kOk : obs::HealthStatus::kDegraded,
        {}};
    a.details["type"] = authorizer_->kind();
    authorizer_->health_details(a.details);
    out.push_back(std::move(a));
}

void AuthorizerComponent::gauges(std::vector<obs::GaugeSample>& out) const {
    if (!breaker_) return;
    out.push_back({"authorizer_circuit_state",
                   "Remote authorizer circuit breaker: 0 closed, 1 open, 2 half-open",
                   static_cast<double>(breaker_->state()), ""});
    out.push_back({"authorizer_cache_hits_total", "Decisions answered from the cache",
                   static_cast<double>(caching_->hits()), ""});
    out.push_back({"authorizer_cache_misses_total",
                   "Decisions that needed a call to the authorizer",
                   static_cast<double>(caching_->misses()), ""});
}

void AuthorizerComponent::live(api::LiveFigures& out) const {
    if (!breaker_) return;
    static constexpr const char* kStates[] = {"closed", "open", "half_open"};
    const auto st = static_cast<size_t>(breaker_->state());
    out.circuit_state = st < 3 ? kStates[st] : "unknown";
}

}  // namespace cg::app
