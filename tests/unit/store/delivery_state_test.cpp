// What only the embedded store does with delivery times (the shared guarantees are in
// contract_delivery_test.cpp): it compares due times with the `now_ms` its caller passes, where
// PostgreSQL uses its own clock, and start-up recovery parks resident deliveries at exactly the
// given time, once.
#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

TEST_F(StoreTest, DueReadsCompareWithTheCallersTime) {
    auto s = open();
    const auto seq = stored(*s, "id-1");
    ASSERT_TRUE(decide(*s, seq));
    ASSERT_TRUE(attempt(*s, retry(seq, 1, 3000, 5000)));
    auto reader = s->open_reader();
    EXPECT_TRUE(take_due_at(*s, 4999).empty());
    EXPECT_EQ(reader->next_due_at(), 5000);
    EXPECT_EQ(seqs_of(take_due_at(*s, 5000)), std::vector<int64_t>{seq});
    // A due read leases nothing here: the one delivery engine keeps what it started.
    EXPECT_EQ(seqs_of(take_due_at(*s, 5000)), std::vector<int64_t>{seq});
}

TEST_F(StoreTest, RecoveryParksResidentDeliveriesAtTheGivenTimeOnce) {
    int64_t resident = 0;
    {
        auto s = open();
        resident = stored(*s, "id-resident");
        const auto parked = stored(*s, "id-parked");
        ASSERT_TRUE(decide(*s, resident));
        ASSERT_TRUE(decide(*s, parked));
        ASSERT_TRUE(attempt(*s, retry(parked, 1, 3000, 50'000)));
        s->close();  // the process "dies" with id-resident in flight
    }
    auto s = open();
    recover(*s, 7000);
    auto reader = s->open_reader();
    EXPECT_TRUE(take_due_at(*s, 6999).empty());
    EXPECT_EQ(seqs_of(take_due_at(*s, 7000)), std::vector<int64_t>{resident});
    EXPECT_EQ(reader->find_request("id-resident")->next_attempt_at_ms, 7000);
    EXPECT_EQ(reader->find_request("id-parked")->next_attempt_at_ms, 50'000);
    // Nothing is resident any more: a second recovery changes nothing.
    recover(*s, 8000);
    EXPECT_EQ(reader->find_request("id-resident")->next_attempt_at_ms, 7000);
}

}  // namespace
}  // namespace cg::store::sqlite::test
