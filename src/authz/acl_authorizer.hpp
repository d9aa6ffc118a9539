#pragma once
// Decides with the local authorization list kept in the store (docs/api.md §4). Every decision
// reads the store, so an ACL or station change applies to every decision made after the change
// was acknowledged (writes are acknowledged only once committed, and readers see every commit).
#include <atomic>

#include "authz/authorizer.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace cg::authz {

class AclAuthorizer final : public Authorizer {
  public:
    AclAuthorizer(store::Store& store, const Clock& clock);
    // Completes synchronously on the calling thread. Each calling thread gets its own store
    // reader (created on first use), so concurrent workers never share a connection.
    void authorize(const AuthorizationRequest& request, DecisionCallback done) override;
    [[nodiscard]] bool healthy() const override { return healthy_.load(); }
    [[nodiscard]] const char* kind() const override { return "acl"; }

  private:
    store::StoreReader& reader();

    store::Store& store_;
    const Clock& clock_;
    const uint64_t instance_id_;
    std::atomic<bool> healthy_{true};
};

}  // namespace cg::authz
