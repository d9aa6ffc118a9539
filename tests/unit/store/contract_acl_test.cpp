// Store conformance: the local authorization list, the stations, the authorization generation
// and the API clients' credentials (CredentialStore). Run against every backend.
#include <algorithm>

#include "store_fixture.hpp"

namespace cg::store::test {
namespace {

template <typename S>
class AclContract : public StoreContract<S> {};
TYPED_TEST_SUITE(AclContract, Backends);

constexpr const char* kOtherStation = "00000000-0000-4000-8000-000000000001";

AclEntry entry(const std::string& token) {
    AclEntry e;
    e.driver_token = token;
    e.updated_at_ms = 5;
    return e;
}

TYPED_TEST(AclContract, AclPutAndGet) {
    auto s = this->open();
    auto e = entry(kToken);
    e.stations = std::vector<std::string>{kStation, kOtherStation};
    e.expires_at_ms = 99;
    ASSERT_EQ(put_acl(*s, e), WriteStatus::kOk);
    const auto got = s->open_reader()->find_acl(kToken);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->driver_token, kToken);
    EXPECT_EQ(got->status, AclStatus::kAllowed);
    EXPECT_EQ(got->stations, e.stations);
    EXPECT_EQ(got->expires_at_ms, 99);
    EXPECT_EQ(got->updated_at_ms, 5);
    EXPECT_FALSE(s->open_reader()->find_acl("OTHER-token-000000000000"));
}

TYPED_TEST(AclContract, AclStationsNullMeansEveryStationAndEmptyListMeansNone) {
    auto s = this->open();
    auto all = entry("TOKEN-all-000000000000000");
    auto none = entry("TOKEN-none-00000000000000");
    none.stations = std::vector<std::string>{};
    ASSERT_EQ(put_acl(*s, all), WriteStatus::kOk);
    ASSERT_EQ(put_acl(*s, none), WriteStatus::kOk);
    auto reader = s->open_reader();
    const auto a = reader->find_acl(all.driver_token);
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->stations);
    EXPECT_FALSE(a->expires_at_ms);
    const auto n = reader->find_acl(none.driver_token);
    ASSERT_TRUE(n);
    ASSERT_TRUE(n->stations);
    EXPECT_TRUE(n->stations->empty());
}

TYPED_TEST(AclContract, AclPutReplaces) {
    auto s = this->open();
    auto e = entry(kToken);
    e.stations = std::vector<std::string>{kStation};
    e.expires_at_ms = 99;
    ASSERT_EQ(put_acl(*s, e), WriteStatus::kOk);
    e.stations.reset();
    e.expires_at_ms.reset();
    e.status = AclStatus::kBlocked;
    e.updated_at_ms = 6;
    ASSERT_EQ(put_acl(*s, e), WriteStatus::kOk);
    const auto got = s->open_reader()->find_acl(kToken);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, AclStatus::kBlocked);
    EXPECT_FALSE(got->stations);
    EXPECT_FALSE(got->expires_at_ms);
    EXPECT_EQ(got->updated_at_ms, 6);
}

TYPED_TEST(AclContract, AclDelete) {
    auto s = this->open();
    ASSERT_EQ(put_acl(*s, entry(kToken)), WriteStatus::kOk);
    EXPECT_EQ(delete_acl(*s, kToken), WriteStatus::kOk);
    EXPECT_FALSE(s->open_reader()->find_acl(kToken));
    EXPECT_EQ(delete_acl(*s, kToken), WriteStatus::kNotFound);
    EXPECT_EQ(delete_acl(*s, "NEVER-seen-00000000000000"), WriteStatus::kNotFound);
}

TYPED_TEST(AclContract, AclBulkPutOfHundredThousandEntries) {
    auto s = this->open();
    ASSERT_EQ(put_acl(*s, entry("BULK-token-1000000000")), WriteStatus::kOk);  // replaced below
    constexpr size_t kCount = 100'000;
    std::vector<AclEntry> bulk(kCount);
    for (size_t i = 0; i < kCount; ++i) {
        bulk[i].driver_token = "BULK-token-" + std::to_string(1'000'000'000 + i);
        bulk[i].status = i % 2 == 0 ? AclStatus::kAllowed : AclStatus::kBlocked;
        if (i % 3 == 0) bulk[i].stations = std::vector<std::string>{kStation};
        bulk[i].updated_at_ms = 7;
    }
    ASSERT_EQ(put_acl_bulk(*s, std::move(bulk)), WriteStatus::kOk);
    auto reader = s->open_reader();
    const auto first = reader->find_acl("BULK-token-1000000000");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->updated_at_ms, 7);
    ASSERT_TRUE(first->stations);
    const auto last = reader->find_acl("BULK-token-1000099999");
    ASSERT_TRUE(last);
    EXPECT_EQ(last->status, AclStatus::kBlocked);
    EXPECT_EQ(last->stations, std::vector<std::string>{kStation});
    const auto other = reader->find_acl("BULK-token-1000099998");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, AclStatus::kAllowed);
    EXPECT_FALSE(other->stations);
    EXPECT_FALSE(reader->find_acl("BULK-token-1000100000"));
}

// A token repeated within one bulk write: the last entry wins (an import file's later row).
TYPED_TEST(AclContract, AclBulkPutOfARepeatedTokenKeepsTheLastEntry) {
    auto s = this->open();
    auto first = entry(kToken);
    auto last = entry(kToken);
    last.status = AclStatus::kBlocked;
    last.updated_at_ms = 9;
    ASSERT_EQ(put_acl_bulk(*s, {first, entry("TOKEN-other-0000000000000"), last}),
              WriteStatus::kOk);
    const auto got = s->open_reader()->find_acl(kToken);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, AclStatus::kBlocked);
    EXPECT_EQ(got->updated_at_ms, 9);
    EXPECT_TRUE(s->open_reader()->find_acl("TOKEN-other-0000000000000"));
}

TYPED_TEST(AclContract, AclAndStationsSurviveReopen) {
    {
        auto s = this->open();
        ASSERT_EQ(put_acl(*s, entry(kToken)), WriteStatus::kOk);
        ASSERT_EQ(put_station(*s, {kStation, false, 8}), WriteStatus::kOk);
    }
    auto s = this->open();
    EXPECT_TRUE(s->open_reader()->find_acl(kToken));
    const auto st = s->open_reader()->find_station(kStation);
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->active);
}

TYPED_TEST(AclContract, StationPutAndGet) {
    auto s = this->open();
    ASSERT_EQ(put_station(*s, {kStation, false, 8}), WriteStatus::kOk);
    auto reader = s->open_reader();
    auto st = reader->find_station(kStation);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->station_id, kStation);
    EXPECT_FALSE(st->active);
    EXPECT_EQ(st->updated_at_ms, 8);
    ASSERT_EQ(put_station(*s, {kStation, true, 9}), WriteStatus::kOk);
    st = reader->find_station(kStation);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->active);
    EXPECT_EQ(st->updated_at_ms, 9);
    EXPECT_FALSE(reader->find_station(kOtherStation));
}

TYPED_TEST(AclContract, FindAclAndStationAnswersWhatADecisionNeeds) {
    auto s = this->open();
    auto allowed = entry("TOKEN-allowed-00000000000");
    allowed.stations = std::vector<std::string>{kStation};
    auto blocked = entry("TOKEN-blocked-00000000000");
    blocked.status = AclStatus::kBlocked;
    ASSERT_EQ(put_acl_bulk(*s, {allowed, blocked}), WriteStatus::kOk);
    ASSERT_EQ(put_station(*s, {kStation, true, 8}), WriteStatus::kOk);
    auto reader = s->open_reader();

    auto [e1, st1] = reader->find_acl_and_station(allowed.driver_token, kStation);
    ASSERT_TRUE(e1);
    EXPECT_EQ(e1->status, AclStatus::kAllowed);
    EXPECT_EQ(e1->stations, allowed.stations);
    EXPECT_EQ(e1->updated_at_ms, 5);
    ASSERT_TRUE(st1);
    EXPECT_EQ(st1->station_id, kStation);
    EXPECT_TRUE(st1->active);
    EXPECT_EQ(st1->updated_at_ms, 8);

    // An allowed token at an unregistered station: the entry, no station.
    auto [e2, st2] = reader->find_acl_and_station(allowed.driver_token, kOtherStation);
    EXPECT_TRUE(e2);
    EXPECT_FALSE(st2);
    // A blocked token: the entry; its station does not matter.
    auto [e3, st3] = reader->find_acl_and_station(blocked.driver_token, kStation);
    ASSERT_TRUE(e3);
    EXPECT_EQ(e3->status, AclStatus::kBlocked);
    EXPECT_FALSE(st3);
    // An unknown token: nothing.
    auto [e4, st4] = reader->find_acl_and_station("TOKEN-unknown-00000000000", kStation);
    EXPECT_FALSE(e4);
    EXPECT_FALSE(st4);
}

TYPED_TEST(AclContract, AuthorizationGenerationChangesWithEveryAclOrStationChange) {
    auto s = this->open();
    auto reader = s->open_reader();
    int64_t last = reader->authorization_generation();
    // A shared store counts every acknowledged change (other processes drop stale cached
    // decisions); where only this process writes it stays 0 (the process learns directly).
    const auto changed = [&] {
        const int64_t now = reader->authorization_generation();
        const bool moved = TestFixture::kShared ? now > last : now == 0;
        last = now;
        return moved;
    };
    ASSERT_EQ(put_acl(*s, entry(kToken)), WriteStatus::kOk);
    EXPECT_TRUE(changed()) << "put_acl";
    ASSERT_EQ(put_acl_bulk(*s, {entry("TOKEN-a-0000000000000000"), entry("TOKEN-b-000000000000")}),
              WriteStatus::kOk);
    EXPECT_TRUE(changed()) << "put_acl_bulk";
    ASSERT_EQ(delete_acl(*s, kToken), WriteStatus::kOk);
    EXPECT_TRUE(changed()) << "delete_acl";
    ASSERT_EQ(put_station(*s, {kStation, true, 8}), WriteStatus::kOk);
    EXPECT_TRUE(changed()) << "put_station";
    // Requests are no authorization change.
    stored(*s, "id-1");
    EXPECT_EQ(reader->authorization_generation(), last);
}

// ---- Credentials --------------------------------------------------------------------------

ApiKeyRecord key(const std::string& id, const std::string& client, int64_t at) {
    ApiKeyRecord k;
    k.key_id = id;
    k.client_id = client;
    k.secret_hash.fill(static_cast<uint8_t>(at % 251));
    k.label = "label of " + id;
    k.created_at_ms = at;
    return k;
}

TYPED_TEST(AclContract, ApiKeysAreAddedOnceListedOldestFirstAndRevokedOnce) {
    auto s = this->open();  // the schema exists
    auto c = this->credentials();
    ASSERT_TRUE(c->add_api_key(key("kid-b", "client-1", 200)));
    ASSERT_TRUE(c->add_api_key(key("kid-a", "client-2", 100)));
    EXPECT_FALSE(c->add_api_key(key("kid-a", "client-3", 300)));  // key_id is unique

    auto keys = c->api_keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].key_id, "kid-a");
    EXPECT_EQ(keys[0].client_id, "client-2");
    EXPECT_EQ(keys[0].secret_hash, key("kid-a", "client-2", 100).secret_hash);
    EXPECT_EQ(keys[0].label, "label of kid-a");
    EXPECT_EQ(keys[0].created_at_ms, 100);
    EXPECT_FALSE(keys[0].revoked_at_ms);
    EXPECT_EQ(keys[1].key_id, "kid-b");

    EXPECT_TRUE(c->revoke_api_key("kid-b", 500));
    EXPECT_TRUE(c->revoke_api_key("kid-b", 600));  // revoking twice keeps the first time
    EXPECT_FALSE(c->revoke_api_key("kid-none", 500));
    keys = c->api_keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[1].revoked_at_ms, 500);
    EXPECT_FALSE(keys[0].revoked_at_ms);

    // Another instance (another process) sees the same keys.
    EXPECT_EQ(this->credentials()->api_keys().size(), 2u);
}

TYPED_TEST(AclContract, ClientSecretsAreReplacedAndRemoved) {
    auto s = this->open();
    auto c = this->credentials();
    EXPECT_TRUE(c->client_secrets().empty());
    ASSERT_TRUE(c->set_client_secrets("client-1", "whsec_one", 10));
    ASSERT_TRUE(c->set_client_secrets("client-2", "whsec_two whsec_three", 11));
    ASSERT_TRUE(c->set_client_secrets("client-1", "whsec_new", 12));  // replaces
    auto all = c->client_secrets();
    ASSERT_EQ(all.size(), 2u);
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
    EXPECT_EQ(all[0].client_id, "client-1");
    EXPECT_EQ(all[0].secrets, "whsec_new");
    EXPECT_EQ(all[0].updated_at_ms, 12);
    EXPECT_EQ(all[1].secrets, "whsec_two whsec_three");

    EXPECT_TRUE(c->set_client_secrets("client-1", "", 13));   // removes
    EXPECT_FALSE(c->set_client_secrets("client-1", "", 14));  // nothing left to remove
    all = c->client_secrets();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].client_id, "client-2");
}

}  // namespace
}  // namespace cg::store::test
