#pragma once
// The authorizer the workers ask, as a component: the ACL in the store (AUTHORIZER_URL empty),
// or the remote service wrapped as cache → circuit breaker → HTTP call.
#include <functional>
#include <memory>

#include "app/component.hpp"
#include "app/store_component.hpp"
#include "authz/acl_authorizer.hpp"
#include "authz/breaker_authorizer.hpp"
#include "authz/caching_authorizer.hpp"
#include "authz/decision_cache.hpp"
#include "net/curl_http_client.hpp"

namespace cg::app {

class AuthorizerComponent final : public Component {
  public:
    // `cache` holds the remote decisions and outlives this component (the store's last
    // completions may still invalidate it).
    AuthorizerComponent(const config::Config& cfg, StoreComponent& store,
                        authz::DecisionCache& cache, const Clock& clock);

    [[nodiscard]] authz::Authorizer& authorizer() { return *authorizer_; }
    [[nodiscard]] const char* kind() const { return authorizer_->kind(); }
    // The most decisions the workers may have in flight: AUTHORIZER_MAX_CONCURRENCY (the
    // bulkhead) for the remote authorizer, 0 for no bound of its own.
    [[nodiscard]] size_t max_in_flight() const;
    // Drops what is cached: the remote decisions and the ACL lookups (an ACL or station change).
    void invalidate_cached();
    // What the workers run before each batch: in cluster mode, drop the cached remote decisions
    // or ACL lookups when another instance's ACL or station change bumped the store's
    // generation. Empty otherwise.
    [[nodiscard]] std::function<void()> before_batch();

    [[nodiscard]] std::string_view name() const override { return "authorizer"; }
    // Stops the remote authorizer's HTTP client (its calls end as `unknown`).
    void close() override;

    // Not gating readiness: accepting stays safe while it is down (decisions are `unknown`).
    void health(std::vector<obs::HealthReport>& out) const override;
    void gauges(std::vector<obs::GaugeSample>& out) const override;
    void live(api::LiveFigures& out) const override;

  private:
    const config::Config& cfg_;
    StoreComponent& store_;
    authz::DecisionCache& cache_;
    std::unique_ptr<net::CurlHttpClient> http_;  // remote only
    std::unique_ptr<authz::Authorizer> remote_;
    std::unique_ptr<authz::BreakerAuthorizer> breaker_;
    std::unique_ptr<authz::CachingAuthorizer> caching_;
    std::unique_ptr<authz::AclAuthorizer> acl_;
    authz::Authorizer* authorizer_ = nullptr;  // the outermost: acl_ or caching_
};

}  // namespace cg::app
