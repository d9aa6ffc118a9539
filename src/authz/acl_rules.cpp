#include "authz/acl_rules.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace cg::authz {

namespace {
Decision make(DecisionStatus status, const char* reason, int64_t now_ms) {
    return Decision{status, reason, now_ms};
}

}  // namespace

Decision decide_by_acl(const std::optional<store::AclEntry>& entry,
                       const std::optional<store::StationEntry>& station,
                       std::string_view station_id, int64_t now_ms) {
    if (!entry) return make(DecisionStatus::kNotAllowed, "token_unknown", now_ms);
    if (entry->status == store::AclStatus::kBlocked) {
        return make(DecisionStatus::kNotAllowed, "token_blocked", now_ms);
    }
    if (entry->expires_at_ms && *entry->expires_at_ms <= now_ms) {
        return make(DecisionStatus::kNotAllowed, "token_expired", now_ms);
    }
    if (entry->stations) {
        const auto& list = *entry->stations;
        const bool permitted = std::any_of(list.begin(), list.end(), [&](const std::string& s) {
            return iequals_ascii(s, station_id);
        });
        if (!permitted) return make(DecisionStatus::kNotAllowed, "station_not_permitted", now_ms);
    }
    if (station && !station->active) {
        return make(DecisionStatus::kNotAllowed, "station_inactive", now_ms);
    }
    return make(DecisionStatus::kAllowed, "acl_allowed", now_ms);
}

}  // namespace cg::authz
