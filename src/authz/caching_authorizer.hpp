#pragma once
// Answers from a DecisionCache when it can and asks the inner authorizer otherwise, storing its
// definite answers. A cached answer keeps its reason and gets the current time as decided_at.
// Thread-safe.
#include <atomic>

#include "authz/authorizer.hpp"
#include "authz/decision_cache.hpp"

namespace cg::authz {

class CachingAuthorizer final : public Authorizer {
  public:
    CachingAuthorizer(Authorizer& inner, DecisionCache& cache, const Clock& clock);
    void authorize(const AuthorizationRequest& request, DecisionCallback done) override;
    [[nodiscard]] bool healthy() const override { return inner_.healthy(); }
    [[nodiscard]] const char* kind() const override { return inner_.kind(); }
    void health_details(boost::json::object& out) const override;
    [[nodiscard]] uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
    [[nodiscard]] uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

  private:
    Authorizer& inner_;
    DecisionCache& cache_;
    const Clock& clock_;
    std::atomic<uint64_t> hits_{0};
    std::atomic<uint64_t> misses_{0};
};

}  // namespace cg::authz
