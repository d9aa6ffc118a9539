// PgConnection::exec_transaction, the group-commit writer's one-round-trip batch (libpq pipeline
// mode), against a real PostgreSQL: results come back in statement order, everything commits
// together, and a failing statement leaves nothing of the batch behind and the connection usable.
#ifdef CG_STORE_PG_TESTS
#include <gtest/gtest.h>

#include "pg_test_server.hpp"
#include "store/postgres/pg_conn.hpp"

namespace cg::store::test {
namespace {

using postgres::PgConnection;
using postgres::PgError;
using postgres::PgStatement;

constexpr const char* kInsertStation =
    "INSERT INTO stations (station_id, active, updated_at) VALUES ($1, true, $2)"
    " RETURNING station_id";

int64_t stations(PgConnection& c) { return c.exec("SELECT count(*) FROM stations").int64(0, 0); }

TEST(PgTransactionTest, StatementsCommitTogetherWithResultsInOrder) {
    const auto url = PgTestServer::get().clean_database();
    for (const bool durable : {true, false}) {
        PgConnection c(url);
        const std::string a = durable ? "a-durable" : "a-async";
        const std::string b = durable ? "b-durable" : "b-async";
        const auto results = c.exec_transaction(
            {PgStatement{kInsertStation, {a, std::string("1")}},
             PgStatement{"SELECT count(*) FROM stations WHERE station_id = ANY($1::text[])",
                         {postgres::text_array({a, b})}},
             PgStatement{kInsertStation, {b, std::string("2")}}},
            durable);
        ASSERT_EQ(results.size(), 3u);
        EXPECT_EQ(results[0].text(0, 0), a);
        EXPECT_EQ(results[1].int64(0, 0), 1);  // sees the first insert, not yet the third
        EXPECT_EQ(results[2].text(0, 0), b);
        // Committed: another session sees both rows.
        PgConnection other(url);
        EXPECT_EQ(other
                      .exec("SELECT count(*) FROM stations WHERE station_id = ANY($1::text[])",
                            {postgres::text_array({a, b})})
                      .int64(0, 0),
                  2);
    }
}

TEST(PgTransactionTest, AFailingStatementRollsBackTheWholeBatchAndTheConnectionGoesOn) {
    const auto url = PgTestServer::get().clean_database();
    PgConnection c(url);
    try {
        (void)c.exec_transaction({PgStatement{kInsertStation, {std::string("s1"), "1"}},
                                  PgStatement{"SELECT 1 / $1::int", {std::string("0")}},
                                  PgStatement{kInsertStation, {std::string("s2"), "2"}}},
                                 true);
        FAIL() << "a division by zero went through";
    } catch (const PgError& e) {
        EXPECT_EQ(e.sqlstate(), "22012") << e.what();  // division_by_zero
        EXPECT_FALSE(e.environmental());
    }
    c.exec("ROLLBACK");  // what the writer does after a failed batch
    EXPECT_EQ(stations(c), 0);
    // The same connection takes the next batch (prepared statements still known).
    const auto again =
        c.exec_transaction({PgStatement{kInsertStation, {std::string("s1"), "3"}}}, true);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].text(0, 0), "s1");
    EXPECT_EQ(stations(c), 1);
}

TEST(PgTransactionTest, AnEmptyBatchCommitsNothingAndSucceeds) {
    const auto url = PgTestServer::get().clean_database();
    PgConnection c(url);
    EXPECT_TRUE(c.exec_transaction({}, false).empty());
    EXPECT_EQ(stations(c), 0);
}

}  // namespace
}  // namespace cg::store::test
#endif
