#pragma once
// One part of the running service with one lifecycle (docs/architecture.md, "Components"):
// started in the order of the list in app/service.hpp and stopped in the reverse order, in two
// passes over that list: first every component drains (stops taking work and finishes what it
// holds, bounded by the drain deadline), then every component closes (joins its threads and
// releases its connections). Each one reports its own health, gauges and live figures.
//
// A component is built with references to the objects of the components before it in the list
// (its dependencies), so it is destroyed before them.
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "api/services.hpp"
#include "obs/health.hpp"
#include "obs/metrics.hpp"

namespace cg::app {

// The drain deadline shared by every component of one stop.
class Deadline {
  public:
    explicit Deadline(std::chrono::steady_clock::time_point at) : at_(at) {}
    [[nodiscard]] std::chrono::steady_clock::time_point at() const { return at_; }
    // Milliseconds left, 0 once passed.
    [[nodiscard]] int64_t remaining_ms() const;

  private:
    std::chrono::steady_clock::time_point at_;
};

class Component {
  public:
    virtual ~Component() = default;
    Component() = default;
    Component(const Component&) = delete;
    Component& operator=(const Component&) = delete;

    // For logs ("starting", "drained"); not shown on /health.
    [[nodiscard]] virtual std::string_view name() const = 0;

    // Starts its threads. Throws std::runtime_error (one line) when it cannot; serve() then
    // fails with that message and the components are destroyed in reverse list order (their
    // destructors stop what they started), as before the list existed.
    virtual void start() {}
    // Housekeeping on the main thread, called about once a second until the stop signal.
    virtual void tick() {}
    // Stops taking work and finishes what it holds until `deadline`; what is not finished stays
    // durable in the store and is resumed at the next start. Called once, in drain order; the
    // components after it in that order still run.
    virtual void drain(const Deadline& /*deadline*/) {}
    // Joins its threads and releases its connections; called after every component drained, in
    // the same order. Idempotent.
    virtual void close() {}

    // What /health shows about it: none, one, or (the Redis queue: "queue" and "broker") more
    // entries. Cheap and thread-safe: called on an HTTP event loop.
    virtual void health(std::vector<obs::HealthReport>& /*out*/) const {}
    // Its gauges for /metrics at scrape time; cheap, thread-safe.
    virtual void gauges(std::vector<obs::GaugeSample>& /*out*/) const {}
    // Its part of /api/v1/admin/stats and the dashboard; cheap, thread-safe.
    virtual void live(api::LiveFigures& /*out*/) const {}
};

}  // namespace cg::app
