#include "app/service.hpp"

#include <algorithm>

#include "obs/process_stats.hpp"

namespace cg::app {

int64_t Deadline::remaining_ms() const {
    return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    at_ - std::chrono::steady_clock::now())
                                    .count());
}

Service::~Service() {
    while (!components_.empty()) components_.pop_back();
}

void Service::add(std::unique_ptr<Component> component) {
    if (component) components_.push_back(std::move(component));
}

void Service::start() {
    for (const auto& c : components_) c->start();
}

void Service::tick() {
    for (const auto& c : components_) c->tick();
}

void Service::stop(const Deadline& deadline) {
    // Iterators, not std::views::reverse: clang 14 (the fuzz build) cannot use libstdc++ 12's
    // ranges.
    for (auto it = components_.rbegin(); it != components_.rend(); ++it) (*it)->drain(deadline);
    for (auto it = components_.rbegin(); it != components_.rend(); ++it) (*it)->close();
}

std::vector<obs::HealthReport> Service::health() const {
    std::vector<obs::HealthReport> out;
    for (const auto& c : components_) c->health(out);
    return out;
}

std::vector<obs::GaugeSample> Service::gauges() const {
    std::vector<obs::GaugeSample> out;
    for (const auto& c : components_) c->gauges(out);
    const auto proc = obs::read_process_stats();
    out.push_back({"process_resident_memory_bytes", "Resident set size",
                   static_cast<double>(proc.resident_bytes), ""});
    out.push_back({"process_cpu_seconds_total", "User and system CPU time", proc.cpu_seconds, ""});
    out.push_back(
        {"process_open_fds", "Open file descriptors", static_cast<double>(proc.open_fds), ""});
    out.push_back(
        {"process_max_fds", "File descriptor limit", static_cast<double>(proc.max_fds), ""});
    out.push_back({"process_start_time_seconds", "Start time since the Unix epoch",
                   proc.start_time_seconds, ""});
    out.push_back(
        {"chargegate_build_info", "Build information", 1.0, "version=\"" CG_VERSION "\""});
    return out;
}

api::LiveFigures Service::live() const {
    api::LiveFigures f;
    for (const auto& c : components_) c->live(f);
    return f;
}

}  // namespace cg::app
