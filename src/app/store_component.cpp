#include "app/store_component.hpp"

namespace cg::app {

StoreComponent::StoreComponent(const config::Config& cfg, const Clock& clock, obs::Metrics& metrics)
    : cfg_(cfg), clock_(clock), backends_(open_store(cfg, &metrics)) {}

int64_t StoreComponent::authorization_generation() {
    // A worker's requests were all claimed before they reach it, and each claim reads the
    // generation: the latest claim's answer is at least as new as this batch's claim.
    if (backends_.ledger) {
        if (const auto g = backends_.ledger->claimed_authorization_generation()) return *g;
    }
    // StoreReader is single-threaded by contract: one per calling thread (the workers).
    thread_local std::unique_ptr<store::StoreReader> reader;
    try {
        if (!reader) reader = backends_.store->open_reader();
        return reader->authorization_generation();
    } catch (...) {
        reader.reset();
        throw;
    }
}

void StoreComponent::start() { backends_.store->recover_in_flight(clock_.now_ms()); }

void StoreComponent::tick() {
    if (std::chrono::steady_clock::now() < next_expiry_) return;
    backends_.store->expire_idempotency_keys(clock_.now_ms() - cfg_.idempotency_ttl_ms);
    next_expiry_ = std::chrono::steady_clock::now() + std::chrono::minutes(10);
}

void StoreComponent::close() { backends_.store->close(); }

void StoreComponent::health(std::vector<obs::HealthReport>& out) const {
    const auto c = counters();
    obs::HealthReport s{
        "store", c.writable ? obs::HealthStatus::kOk : obs::HealthStatus::kDown, {}};
    s.details["type"] = backends_.store_type;
    if (!c.writable) s.details["error"] = c.last_error;
    out.push_back(std::move(s));
}

void StoreComponent::gauges(std::vector<obs::GaugeSample>& out) const {
    const auto c = counters();
    out.push_back({"authorization_queue_size", "Requests accepted and not yet decided",
                   static_cast<double>(c.queued), ""});
    out.push_back({"callback_pending", "Decided requests not yet delivered or failed",
                   static_cast<double>(c.delivering), ""});
    out.push_back(
        {"store_writable", "1 while the store accepts writes", c.writable ? 1.0 : 0.0, ""});
}

void StoreComponent::live(api::LiveFigures& out) const {
    const auto c = counters();
    out.queued = c.queued;
    out.callback_pending = c.delivering;
    out.store_writable = c.writable;
}

}  // namespace cg::app
