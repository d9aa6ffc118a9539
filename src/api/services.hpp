#pragma once
// What the HTTP API needs from the rest of the service, wired explicitly in app/.
#include <functional>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "delivery/receiver_health.hpp"
#include "obs/health.hpp"
#include "obs/metrics.hpp"
#include "queue/work_queue.hpp"
#include "ratelimit/rate_limiter.hpp"
#include "store/store.hpp"

namespace cg::api {

// What this process is doing right now, for operators (/api/v1/admin/stats, /metrics).
struct LiveFigures {
    int64_t queued = 0;            // accepted, not yet decided (whole store)
    int64_t callback_pending = 0;  // decided, not yet delivered or failed (whole store)
    int64_t authorizations_in_flight = 0;
    int64_t callback_in_flight = 0;
    bool store_writable = true;
    std::string circuit_state;  // "closed", "open", "half_open"; empty: no remote authorizer
    std::vector<delivery::ReceiverFailure> failing_receivers;
    // The busiest receivers' flow (adaptive limit, in flight, waiting, pause), at most 20.
    std::vector<delivery::ReceiverFlow> receiver_flow;
};

struct ApiServices {
    const config::Config& config;
    const Clock& clock;
    store::Store& store;
    queue::WorkQueue& queue;  // told about every stored request, in commit order
    obs::Metrics& metrics;
    // Wakes callback delivery after a redeliver was stored.
    std::function<void()> on_redeliver;
    // Called after an ACL entry or station changed durably, before the answer (decision cache).
    std::function<void()> on_authorization_data_changed;
    // Each component's own health for /health and /health/ready, in start order (called on an
    // event loop: must be cheap).
    std::function<std::vector<obs::HealthReport>()> health;
    // Gauges added to /metrics at scrape time (queue depth, in-flight work, ...).
    std::function<std::vector<obs::GaugeSample>()> gauges;
    // Live figures for /api/v1/admin/stats; cheap, callable from any thread.
    std::function<LiveFigures()> live;
    // Who may call §1 and §3; null: anyone (API_AUTH off).
    const auth::Authenticator* authenticator = nullptr;
    // Per-client limit of the public charging-session routes; null when RATE_LIMIT_PER_SECOND
    // is 0 (off). Outlives the HTTP server.
    ratelimit::RateLimiter* rate_limiter = nullptr;
};

}  // namespace cg::api
