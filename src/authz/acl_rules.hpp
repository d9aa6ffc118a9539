#pragma once
// The built-in decision rules of docs/api.md §4, as a pure function.
#include <optional>
#include <string_view>

#include "common/model.hpp"
#include "store/records.hpp"

namespace cg::authz {

// First match wins:
//   no entry                          → not_allowed / token_unknown
//   entry blocked                     → not_allowed / token_blocked
//   expires_at in the past (<= now)   → not_allowed / token_expired
//   stations set, station not in it   → not_allowed / station_not_permitted
//   station registered inactive       → not_allowed / station_inactive
//   otherwise                         → allowed     / acl_allowed
// Station ids compare case-insensitively. `decided_at_ms` is set to `now_ms`.
Decision decide_by_acl(const std::optional<store::AclEntry>& entry,
                       const std::optional<store::StationEntry>& station,
                       std::string_view station_id, int64_t now_ms);

}  // namespace cg::authz
