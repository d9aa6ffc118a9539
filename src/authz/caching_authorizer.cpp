#include "authz/caching_authorizer.hpp"

namespace cg::authz {

CachingAuthorizer::CachingAuthorizer(Authorizer& inner, DecisionCache& cache, const Clock& clock)
    : inner_(inner), cache_(cache), clock_(clock) {}

void CachingAuthorizer::authorize(const AuthorizationRequest& request, DecisionCallback done) {
    if (!cache_.enabled()) {
        inner_.authorize(request, std::move(done));
        return;
    }
    if (auto hit = cache_.get(request.station_id, request.driver_token)) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        hit->decided_at_ms = clock_.now_ms();
        done(std::move(*hit));
        return;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t generation = cache_.generation();
    inner_.authorize(request, [this, generation, station = request.station_id,
                               token = request.driver_token, done = std::move(done)](Decision d) {
        cache_.put(station, token, d, generation);
        done(std::move(d));
    });
}

void CachingAuthorizer::health_details(boost::json::object& out) const {
    inner_.health_details(out);
    boost::json::object c;
    c["entries"] = cache_.size();
    c["hits"] = hits();
    c["misses"] = misses();
    out["cache"] = std::move(c);
}

}  // namespace cg::authz
