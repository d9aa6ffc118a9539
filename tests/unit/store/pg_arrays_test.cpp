// The batch statements of the PostgreSQL store pass whole columns as array literals; a value
// with quotes, backslashes, commas or braces must arrive unchanged (the round trip through a
// real server is covered by the cluster integration suite).
#include <gtest/gtest.h>

#include "store/postgres/pg_conn.hpp"

namespace cg::store::postgres {
namespace {

TEST(PgArrays, TextElementsAreQuotedAndEscaped) {
    EXPECT_EQ(text_array({}), "{}");
    EXPECT_EQ(text_array({std::string("a"), std::nullopt, std::string("")}), R"({"a",NULL,""})");
    EXPECT_EQ(text_array({std::string(R"(x"y\z,{})")}), R"({"x\"y\\z,{}"})");
    EXPECT_EQ(text_array({std::string("NULL")}), R"({"NULL"})");  // the word, not SQL NULL
}

TEST(PgArrays, IntegersAndBytea) {
    EXPECT_EQ(int_array({1, -2, 9007199254740993}), "{1,-2,9007199254740993}");
    const uint8_t bytes[] = {0x00, 0xab, 0xff};
    EXPECT_EQ(bytea_hex(bytes, 3), R"(\x00abff)");
}

TEST(PgConnection, AnUnreachableServerIsAnEnvironmentalError) {
    try {
        PgConnection c("postgresql://nobody@127.0.0.1:1/none");
        FAIL() << "connected to a closed port";
    } catch (const PgError& e) {
        EXPECT_TRUE(e.environmental()) << e.what();
    }
}

}  // namespace
}  // namespace cg::store::postgres
