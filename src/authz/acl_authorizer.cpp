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

AclAuthorizer::AclAuthorizer(store::Store& store, const Clock& clock)
    : store_(store), clock_(clock), instance_id_(g_next_instance.fetch_add(1)) {}

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
    // Two tries: a shared store's reader re-opens a connection the server dropped (e.g. after
    // a database restart) on its next read.
    for (int attempt = 1; attempt <= 2; ++attempt) {
        try {
            // The station is only consulted when the token rules did not decide already.
            const auto [entry, station] = reader().find_acl_and_station(
                request.driver_token, to_lower_ascii(request.station_id));
            decision = decide_by_acl(entry, station, request.station_id, clock_.now_ms());
            healthy_.store(true);
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
