// The local authorization list and the stations.
#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

AclEntry entry(const std::string& token) {
    AclEntry e;
    e.driver_token = token;
    e.updated_at_ms = 5;
    return e;
}

TEST_F(StoreTest, AclPutAndGet) {
    auto s = open();
    auto e = entry(kToken);
    e.stations = std::vector<std::string>{kStation, "00000000-0000-4000-8000-000000000001"};
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

TEST_F(StoreTest, AclStationsNullMeansEveryStationAndEmptyListMeansNone) {
    auto s = open();
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

TEST_F(StoreTest, AclPutReplaces) {
    auto s = open();
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

TEST_F(StoreTest, AclDelete) {
    auto s = open();
    ASSERT_EQ(put_acl(*s, entry(kToken)), WriteStatus::kOk);
    EXPECT_EQ(delete_acl(*s, kToken), WriteStatus::kOk);
    EXPECT_FALSE(s->open_reader()->find_acl(kToken));
    EXPECT_EQ(delete_acl(*s, kToken), WriteStatus::kNotFound);
    EXPECT_EQ(delete_acl(*s, "NEVER-seen-00000000000000"), WriteStatus::kNotFound);
}

TEST_F(StoreTest, AclBulkPutOfHundredThousandEntries) {
    auto s = open();
    ASSERT_EQ(put_acl(*s, entry("BULK-token-1000000000")), WriteStatus::kOk);  // replaced below
    constexpr size_t kCount = 100'000;
    std::vector<AclEntry> bulk(kCount);
    for (size_t i = 0; i < kCount; ++i) {
        bulk[i].driver_token = "BULK-token-" + std::to_string(1'000'000'000 + i);
        bulk[i].status = i % 2 == 0 ? AclStatus::kAllowed : AclStatus::kBlocked;
        if (i % 3 == 0) bulk[i].stations = std::vector<std::string>{kStation};
        bulk[i].updated_at_ms = 7;
    }
    Waiter<WriteStatus> w;
    s->put_acl_bulk(std::move(bulk), w.cb());
    ASSERT_EQ(w.get(), WriteStatus::kOk);
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

TEST_F(StoreTest, AclSurvivesReopen) {
    {
        auto s = open();
        ASSERT_EQ(put_acl(*s, entry(kToken)), WriteStatus::kOk);
    }
    auto s = open();
    EXPECT_TRUE(s->open_reader()->find_acl(kToken));
}

TEST_F(StoreTest, StationPutAndGet) {
    auto s = open();
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
    EXPECT_FALSE(reader->find_station("00000000-0000-4000-8000-000000000001"));
}

}  // namespace
}  // namespace cg::store::sqlite::test
