#include "authz/acl_rules.hpp"

#include <gtest/gtest.h>

namespace cg::authz {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;
const std::string kRuleStation = "123e4567-e89b-12d3-a456-426614174000";
const std::string kOther = "00000000-0000-4000-8000-000000000001";

store::AclEntry allowed_entry() {
    store::AclEntry e;
    e.driver_token = "ABCD-efgh1234567890_~valid.token";
    e.status = store::AclStatus::kAllowed;
    return e;
}

void expect(const Decision& d, DecisionStatus status, const std::string& reason) {
    EXPECT_EQ(d.status, status);
    EXPECT_EQ(d.reason, reason);
    EXPECT_EQ(d.decided_at_ms, kNow);
}

TEST(AclRules, NoEntryIsTokenUnknown) {
    expect(decide_by_acl(std::nullopt, std::nullopt, kRuleStation, kNow),
           DecisionStatus::kNotAllowed, "token_unknown");
}

TEST(AclRules, BlockedWinsOverEverythingElse) {
    auto e = allowed_entry();
    e.status = store::AclStatus::kBlocked;
    e.expires_at_ms = kNow - 1;
    e.stations = std::vector<std::string>{kOther};
    expect(decide_by_acl(e, store::StationEntry{kRuleStation, false, 0}, kRuleStation, kNow),
           DecisionStatus::kNotAllowed, "token_blocked");
}

TEST(AclRules, ExpiredAtOrBeforeNow) {
    auto e = allowed_entry();
    e.expires_at_ms = kNow;
    expect(decide_by_acl(e, std::nullopt, kRuleStation, kNow), DecisionStatus::kNotAllowed,
           "token_expired");
    e.expires_at_ms = kNow + 1;
    expect(decide_by_acl(e, std::nullopt, kRuleStation, kNow), DecisionStatus::kAllowed,
           "acl_allowed");
}

TEST(AclRules, StationListRestrictsCaseInsensitively) {
    auto e = allowed_entry();
    e.stations = std::vector<std::string>{kOther};
    expect(decide_by_acl(e, std::nullopt, kRuleStation, kNow), DecisionStatus::kNotAllowed,
           "station_not_permitted");
    e.stations = std::vector<std::string>{kOther, kRuleStation};
    expect(decide_by_acl(e, std::nullopt, "123E4567-E89B-12D3-A456-426614174000", kNow),
           DecisionStatus::kAllowed, "acl_allowed");
    e.stations = std::vector<std::string>{};
    expect(decide_by_acl(e, std::nullopt, kRuleStation, kNow), DecisionStatus::kNotAllowed,
           "station_not_permitted");
}

TEST(AclRules, ExpiryBeforeStationChecks) {
    auto e = allowed_entry();
    e.expires_at_ms = kNow - 1000;
    e.stations = std::vector<std::string>{kOther};
    expect(decide_by_acl(e, store::StationEntry{kRuleStation, false, 0}, kRuleStation, kNow),
           DecisionStatus::kNotAllowed, "token_expired");
}

TEST(AclRules, InactiveStationAfterPermission) {
    auto e = allowed_entry();
    e.stations = std::vector<std::string>{kOther};
    expect(decide_by_acl(e, store::StationEntry{kRuleStation, false, 0}, kRuleStation, kNow),
           DecisionStatus::kNotAllowed, "station_not_permitted");
    e.stations.reset();
    expect(decide_by_acl(e, store::StationEntry{kRuleStation, false, 0}, kRuleStation, kNow),
           DecisionStatus::kNotAllowed, "station_inactive");
    expect(decide_by_acl(e, store::StationEntry{kRuleStation, true, 0}, kRuleStation, kNow),
           DecisionStatus::kAllowed, "acl_allowed");
}

TEST(AclRules, UnregisteredStationCountsAsActive) {
    expect(decide_by_acl(allowed_entry(), std::nullopt, kRuleStation, kNow),
           DecisionStatus::kAllowed, "acl_allowed");
}

}  // namespace
}  // namespace cg::authz
