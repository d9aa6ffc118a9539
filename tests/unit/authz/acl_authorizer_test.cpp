// The ACL authorizer's lookup cache (cluster mode): reused until invalidated, never serving an
// entry past its expiry, and off by default. A real SQLite store stands in for PostgreSQL: the
// cache is the authorizer's, whatever store it reads.
#include "authz/acl_authorizer.hpp"

#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "unit/store/store_fixture.hpp"

namespace cg::authz {
namespace {

using store::test::kStation;
using store::test::kToken;
using store::test::put_acl;
using store::test::put_station;

class AclAuthorizerTest : public store::sqlite::test::StoreTest {
  protected:
    static Decision decide(AclAuthorizer& a, const std::string& token = kToken,
                           const std::string& station = kStation) {
        Decision out;
        a.authorize(AuthorizationRequest{"req-1", station, token, ""},
                    [&out](Decision d) { out = std::move(d); });
        return out;
    }
    static store::AclEntry entry(store::AclStatus status,
                                 std::optional<int64_t> expires_at = std::nullopt) {
        return store::AclEntry{kToken, status, std::nullopt, expires_at, 1000};
    }

    ManualClock clock_{10'000};
};

TEST_F(AclAuthorizerTest, WithoutACacheEveryDecisionSeesTheLatestEntry) {
    auto s = open();
    AclAuthorizer a(*s, clock_);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kAllowed)), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).status, DecisionStatus::kAllowed);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kBlocked)), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).reason, "token_blocked");
}

TEST_F(AclAuthorizerTest, ACachedLookupIsReusedUntilInvalidated) {
    auto s = open();
    AclAuthorizer a(*s, clock_, 100);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kAllowed)), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).status, DecisionStatus::kAllowed);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kBlocked)), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).status, DecisionStatus::kAllowed);  // served from the cache
    a.invalidate_cache();  // what the worker pool does when the generation moved
    EXPECT_EQ(decide(a).reason, "token_blocked");
}

TEST_F(AclAuthorizerTest, AnInactiveStationIsCachedApartFromTheToken) {
    auto s = open();
    AclAuthorizer a(*s, clock_, 100);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kAllowed)), store::WriteStatus::kOk);
    ASSERT_EQ(put_station(*s, store::StationEntry{kStation, false, 1000}), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).reason, "station_inactive");
    // Another station for the same token: the token comes from the cache, the station is read.
    const std::string other = "223e4567-e89b-12d3-a456-426614174000";
    EXPECT_EQ(decide(a, kToken, other).status, DecisionStatus::kAllowed);
    EXPECT_EQ(decide(a).reason, "station_inactive");
}

TEST_F(AclAuthorizerTest, ACachedEntryStillExpiresOnTime) {
    auto s = open();
    AclAuthorizer a(*s, clock_, 100);
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kAllowed, 20'000)), store::WriteStatus::kOk);
    EXPECT_EQ(decide(a).status, DecisionStatus::kAllowed);
    clock_.set(20'000);
    EXPECT_EQ(decide(a).reason, "token_expired");
}

TEST_F(AclAuthorizerTest, AnUnknownTokenIsCachedAsUnknownUntilInvalidated) {
    auto s = open();
    AclAuthorizer a(*s, clock_, 100);
    EXPECT_EQ(decide(a).reason, "token_unknown");
    ASSERT_EQ(put_acl(*s, entry(store::AclStatus::kAllowed)), store::WriteStatus::kOk);
    a.invalidate_cache();
    EXPECT_EQ(decide(a).status, DecisionStatus::kAllowed);
}

}  // namespace
}  // namespace cg::authz
