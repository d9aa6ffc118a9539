#pragma once
// The running service: an ordered list of components. They start in list order and stop in
// the reverse order, in two passes (every drain, then every close; see component.hpp). The
// list is declared once, in serve() (application.cpp).
#include <memory>
#include <vector>

#include "app/component.hpp"

namespace cg::app {

class Service {
  public:
    Service() = default;
    // Destroys the components in reverse list order: each may hold references into the ones
    // before it.
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Sets the list, in start order. Null entries (a component this mode or role does not
    // have) are left out. Called once, before start().
    template <typename... C>
    void set_components(std::unique_ptr<C>... components) {
        (add(std::move(components)), ...);
    }

    // Starts each component in order. When one throws, the exception propagates; the
    // components are stopped by their destructors.
    void start();
    void tick();
    // Drains every component in reverse start order, all sharing `deadline`, then closes them in
    // that same order.
    void stop(const Deadline& deadline);

    // For the API (any thread, cheap): every component's own reports, in start order.
    [[nodiscard]] std::vector<obs::HealthReport> health() const;
    // The components' gauges, then the process's own.
    [[nodiscard]] std::vector<obs::GaugeSample> gauges() const;
    [[nodiscard]] api::LiveFigures live() const;

  private:
    void add(std::unique_ptr<Component> component);

    std::vector<std::unique_ptr<Component>> components_;  // in start order
};

}  // namespace cg::app
