#include "authz/breaker_authorizer.hpp"

#include "obs/log.hpp"

namespace cg::authz {

namespace {
void log_transition(CircuitState from, CircuitState to, const CircuitBreaker::Snapshot& s) {
    auto line = to == CircuitState::kOpen ? obs::log_warn("authorizer circuit breaker transition")
                                          : obs::log_info("authorizer circuit breaker transition");
    line.kv("from", to_string(from))
        .kv("to", to_string(to))
        .kv("window_calls", s.window_calls)
        .kv("window_failures", s.window_failures)
        .kv("times_opened", s.times_opened);
}
}  // namespace

BreakerAuthorizer::BreakerAuthorizer(Authorizer& inner, CircuitBreakerOptions options,
                                     const Clock& clock)
    : inner_(inner), clock_(clock), breaker_(options, clock, log_transition) {}

void BreakerAuthorizer::authorize(const AuthorizationRequest& request, DecisionCallback done) {
    const auto permit = breaker_.try_acquire();
    if (!permit.allowed) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        done(Decision{DecisionStatus::kUnknown, "circuit_open", clock_.now_ms()});
        return;
    }
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    inner_.authorize(request, [this, permit, done = std::move(done)](Decision d) {
        in_flight_.fetch_sub(1, std::memory_order_relaxed);
        breaker_.record(permit, d.status != DecisionStatus::kUnknown);
        done(std::move(d));
    });
}

bool BreakerAuthorizer::healthy() const {
    return breaker_.state() != CircuitState::kOpen && inner_.healthy();
}

void BreakerAuthorizer::health_details(boost::json::object& out) const {
    inner_.health_details(out);
    const auto s = breaker_.snapshot();
    boost::json::object c;
    c["state"] = to_string(s.state);
    c["window_calls"] = s.window_calls;
    c["window_failures"] = s.window_failures;
    c["times_opened"] = s.times_opened;
    c["refused"] = refused_.load(std::memory_order_relaxed);
    if (s.state == CircuitState::kOpen) c["open_until"] = s.open_until_ms;
    out["circuit"] = std::move(c);
    out["in_flight"] = in_flight_.load(std::memory_order_relaxed);
}

}  // namespace cg::authz
