#pragma once
// What one part of the running service says about itself on /health and /health/ready
// (docs/api.md §5). Each component of app/ reports its own; the API only renders them.
#include <boost/json/object.hpp>
#include <string>

namespace cg::obs {

enum class HealthStatus {
    kOk,  // "UP"
    // "DOWN" on /health, but the service goes on without it, so /health/ready stays 200: the
    // authorizer (decisions become `unknown`) and the Redis broker (the database holds every
    // accepted request and the relay re-publishes). Taking instances out of rotation would not
    // help.
    kDegraded,
    kDown,  // "DOWN", and /health/ready answers 503
};

struct HealthReport {
    std::string name;  // the key under "components": "queue", "store", "authorizer", ...
    HealthStatus status = HealthStatus::kOk;
    boost::json::object details;  // shown beside "status", e.g. {"depth": 0}

    [[nodiscard]] bool up() const { return status == HealthStatus::kOk; }
    [[nodiscard]] bool fails_readiness() const { return status == HealthStatus::kDown; }
};

}  // namespace cg::obs
