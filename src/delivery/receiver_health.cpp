#include "delivery/receiver_health.hpp"

#include <algorithm>

namespace cg::delivery {

ReceiverHealth::ReceiverHealth(size_t max_tracked, size_t max_listed,
                               std::chrono::milliseconds publish_every)
    : max_tracked_(max_tracked), max_listed_(max_listed), publish_every_(publish_every) {}

void ReceiverHealth::record(std::string_view receiver, bool ok, int status_code,
                            std::string_view error, int64_t now_ms) {
    // Entries are keyed by std::string; C++20 has no heterogeneous lookup for unordered_map
    // without a transparent hash, so successes of unknown receivers (the common case) look up
    // through one temporary only when the map is non-empty.
    if (ok) {
        if (entries_.empty()) return;
        const auto it = entries_.find(std::string(receiver));
        if (it == entries_.end() || it->second.consecutive == 0) return;
        it->second.consecutive = 0;
        dirty_ = true;
        return;
    }
    auto it = entries_.find(std::string(receiver));
    if (it == entries_.end()) {
        if (entries_.size() >= max_tracked_) {
            // Make room by forgetting receivers that recovered; if none did, this one is not
            // tracked (the list stays at the ones already known to fail).
            std::erase_if(entries_, [](const auto& kv) { return kv.second.consecutive == 0; });
            if (entries_.size() >= max_tracked_) return;
        }
        it = entries_.emplace(std::string(receiver), Entry{}).first;
    }
    Entry& e = it->second;
    ++e.failures;
    ++e.consecutive;
    e.last_status_code = status_code;
    e.last_error.assign(error);
    e.last_failure_at_ms = now_ms;
    dirty_ = true;
}

void ReceiverHealth::publish_if_due(std::chrono::steady_clock::time_point now,
                                    const std::function<std::vector<ReceiverFlow>()>& flows) {
    if (now - last_publish_ < publish_every_) return;
    if (!dirty_ && !flows) return;
    std::vector<ReceiverFlow> flow;
    if (flows) flow = flows();
    std::unordered_map<std::string_view, size_t> limits;
    for (const auto& f : flow) limits.emplace(f.receiver, f.concurrency_limit);
    std::vector<ReceiverFailure> list;
    for (const auto& [name, e] : entries_) {
        if (e.consecutive == 0) continue;
        const auto l = limits.find(name);
        list.push_back({name, e.failures, e.consecutive, e.last_status_code, e.last_error,
                        e.last_failure_at_ms, l == limits.end() ? 0 : l->second});
    }
    const size_t failing = list.size();
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
        if (a.consecutive_failures != b.consecutive_failures)
            return a.consecutive_failures > b.consecutive_failures;
        return a.receiver < b.receiver;
    });
    if (list.size() > max_listed_) list.resize(max_listed_);
    const auto busy = [](const ReceiverFlow& f) { return f.in_flight + f.waiting; };
    std::sort(flow.begin(), flow.end(), [&](const auto& a, const auto& b) {
        if (busy(a) != busy(b)) return busy(a) > busy(b);
        return a.receiver < b.receiver;
    });
    if (flow.size() > max_listed_) flow.resize(max_listed_);
    {
        std::lock_guard lock(mu_);
        published_.swap(list);
        if (flows) published_flow_.swap(flow);
    }
    failing_.store(failing, std::memory_order_relaxed);
    dirty_ = false;
    last_publish_ = now;
}

std::vector<ReceiverFailure> ReceiverHealth::snapshot() const {
    std::lock_guard lock(mu_);
    return published_;
}

std::vector<ReceiverFlow> ReceiverHealth::flow() const {
    std::lock_guard lock(mu_);
    return published_flow_;
}

}  // namespace cg::delivery
