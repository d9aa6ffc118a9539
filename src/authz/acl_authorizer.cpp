#include "authz/acl_authorizer.hpp"

#include <exception>
#include <unordered_map>

#include "authz/acl_rules.hpp"
#include "common/text.hpp"
#include "obs/log.hpp"
#include "obs/trace.hpp"

namespace cg::authz {

namespace {
std::atomic<uint64_t> g_next_instance{1};
}

AclAuthorizer::AclAuthorizer(store::Store& store, const Clock& clock, size_t cache_entries)
    : store_(store),
      clock_(clock),
      instance_id_(g_next_instance.fetch_add(1)),
      cache_entries_(cache_entries) {}

void AclAuthorizer::invalidate_cache() {
    std::lock_guard lock(cache_mu_);
    tokens_.clear();
    stations_.clear();
    ++cache_epoch_;
}

store::StoreReader& AclAuthorizer::reader() {
    // One reader per (thread, authorizer instance): StoreReader is single-threaded by contract.
    thread_local std::unordered_map<uint64_t, std::unique_ptr<store::StoreReader>> readers;
    auto& slot = readers[instance_id_];
    if (!slot) slot = store_.open_reader();
    return *slot;
}

void AclAuthorizer::authorize(const AuthorizationRequest& request, DecisionCallback done) {
    Decision decision;  // fails closed: unknown / authorizer_error
    decision.decided_at_ms = clock_.now_ms();
    const std::string station_id = to_lower_ascii(request.station_id);
    uint64_t epoch = 0;
    if (cache_entries_ > 0) {
        std::optional<std::optional<store::AclEntry>> entry;
        std::optional<std::optional<store::StationEntry>> station;
        {
            std::lock_guard lock(cache_mu_);
            epoch = cache_epoch_;
            if (auto it = tokens_.find(request.driver_token); it != tokens_.end()) {
                entry = it->second;
            }
            if (auto it = stations_.find(station_id); it != stations_.end()) station = it->second;
        }
        // The station only matters for an allowed token (as in find_acl_and_station).
        const bool allowed = entry && *entry && (*entry)->status == store::AclStatus::kAllowed;
        if (entry && (!allowed || station)) {
            done(decide_by_acl(*entry, allowed ? *station : std::nullopt, request.station_id,
                               clock_.now_ms()));
            return;
        }
    }
    // Two tries: a shared store's reader re-opens a connection the server dropped (e.g. after
    // a database restart) on its next read.
    for (int attempt = 1; attempt <= 2; ++attempt) {
        try {
            // The station is only consulted when the token rules did not decide already.
            const auto [entry, station] =
                reader().find_acl_and_station(request.driver_token, station_id);
            decision = decide_by_acl(entry, station, request.station_id, clock_.now_ms());
            healthy_.store(true);
            if (cache_entries_ > 0) {
                std::lock_guard lock(cache_mu_);
                // Read before an invalidation: possibly older than the change, not kept.
                if (epoch == cache_epoch_) {
                    if (tokens_.size() >= cache_entries_) tokens_.clear();
                    tokens_.insert_or_assign(request.driver_token, entry);
                    // The station is read only for an allowed token: only then is it known.
                    if (entry && entry->status == store::AclStatus::kAllowed) {
                        if (stations_.size() >= cache_entries_) stations_.clear();
                        stations_.insert_or_assign(station_id, station);
                    }
                }
            }
            break;
        } catch (const std::exception& e) {
            if (attempt == 1) continue;
            healthy_.store(false);
            obs::log_error("acl lookup failed")
                .kv("request_id", request.request_id)
                .kv("trace_id", obs::trace_id_of(request.traceparent))
                .kv("error", e.what());
        }
    }
    done(std::move(decision));
}

}  // namespace cg::authz
