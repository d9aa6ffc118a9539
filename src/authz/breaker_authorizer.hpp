#pragma once
// Puts a circuit breaker in front of another authorizer (the remote one): while the circuit is
// open, decisions are unknown/circuit_open at once instead of every worker waiting out the
// deadline. Timeouts and errors (unknown/authorizer_*) count as failures; allowed and
// not_allowed as successes. Transitions are logged. Thread-safe.
#include <atomic>

#include "authz/authorizer.hpp"
#include "authz/circuit_breaker.hpp"
#include "common/clock.hpp"

namespace cg::authz {

class BreakerAuthorizer final : public Authorizer {
  public:
    BreakerAuthorizer(Authorizer& inner, CircuitBreakerOptions options, const Clock& clock);
    void authorize(const AuthorizationRequest& request, DecisionCallback done) override;
    // DOWN while the circuit is open (calls are refused), or when the inner one says so.
    [[nodiscard]] bool healthy() const override;
    [[nodiscard]] const char* kind() const override { return inner_.kind(); }
    void health_details(boost::json::object& out) const override;
    [[nodiscard]] CircuitState state() const { return breaker_.state(); }

  private:
    Authorizer& inner_;
    const Clock& clock_;
    CircuitBreaker breaker_;
    std::atomic<int64_t> in_flight_{0};
    std::atomic<uint64_t> refused_{0};
};

}  // namespace cg::authz
