#pragma once
// Who decides whether a driver may charge at a station. Implementations: AclAuthorizer
// (built-in local authorization list, docs/api.md §4) and RemoteAuthorizer (AUTHORIZER_URL).
#include <boost/json/object.hpp>
#include <functional>

#include "common/model.hpp"

namespace cg::authz {

using DecisionCallback = std::function<void(Decision)>;

class Authorizer {
  public:
    virtual ~Authorizer() = default;
    // Decides for `request` and calls `done` exactly once, possibly before returning (on the
    // calling thread) or later from another thread. Fails closed: timeouts and errors yield
    // `unknown` with a reason. Thread-safe.
    virtual void authorize(const AuthorizationRequest& request, DecisionCallback done) = 0;
    // For /health: "UP" or "DOWN" plus details; cheap, thread-safe.
    [[nodiscard]] virtual bool healthy() const = 0;
    [[nodiscard]] virtual const char* kind() const = 0;  // "acl" or "remote"
    // Adds what /health shows about it (circuit state, cache size, ...); cheap, thread-safe.
    virtual void health_details(boost::json::object& /*out*/) const {}
};

}  // namespace cg::authz
