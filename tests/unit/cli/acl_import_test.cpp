#include "cli/acl_import.hpp"

#include <gtest/gtest.h>

namespace cg::cli {
namespace {

const std::string kToken = "ABCD-efgh1234567890_~valid.token";
const std::string kStationUpper = "123E4567-E89B-12D3-A456-426614174000";

TEST(AclCsv, ParsesEveryColumn) {
    const std::string csv = "driver_token,status,stations,expires_at\n" + kToken + ",allowed,,\n" +
                            "BLOCKED-token-0123456789,blocked,\"" + kStationUpper +
                            ";00000000-0000-4000-8000-000000000001\",2030-01-01T00:00:00Z\r\n\n";
    const auto entries = parse_acl_csv(csv, 42);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].driver_token, kToken);
    EXPECT_EQ(entries[0].status, store::AclStatus::kAllowed);
    EXPECT_FALSE(entries[0].stations.has_value());
    EXPECT_FALSE(entries[0].expires_at_ms.has_value());
    EXPECT_EQ(entries[0].updated_at_ms, 42);
    EXPECT_EQ(entries[1].status, store::AclStatus::kBlocked);
    ASSERT_TRUE(entries[1].stations.has_value());
    EXPECT_EQ(entries[1].stations->at(0), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(entries[1].stations->size(), 2u);
    EXPECT_EQ(entries[1].expires_at_ms, 1893456000000);
}

TEST(AclCsv, BadRowsNameTheLine) {
    auto error_of = [](const std::string& csv) -> std::string {
        try {
            (void)parse_acl_csv(csv, 0);
        } catch (const AclImportError& e) {
            return e.what();
        }
        return "no error";
    };
    const std::string header = "driver_token,status,stations,expires_at\n";
    EXPECT_EQ(error_of(""), "line 1: the file is empty");
    EXPECT_NE(error_of("token,status\n").find("line 1"), std::string::npos);
    EXPECT_NE(error_of(header + kToken + ",maybe,,\n").find("line 2"), std::string::npos);
    EXPECT_NE(error_of(header + "short,allowed,,\n").find("driver_token"), std::string::npos);
    EXPECT_NE(error_of(header + kToken + ",allowed,not-a-uuid,\n").find("UUID"), std::string::npos);
    EXPECT_NE(error_of(header + kToken + ",allowed,,tomorrow\n").find("expires_at"),
              std::string::npos);
    EXPECT_NE(error_of(header + kToken + ",allowed\n").find("4 fields"), std::string::npos);
}

TEST(AclCsv, QuotedFieldsMayHoldCommasAndQuotes) {
    const std::string csv = "driver_token,status,stations,expires_at\n\"" + kToken +
                            "\", \"allowed\" ,\"" + kStationUpper + " ; " + kStationUpper +
                            "\",\"2030-01-01T00:00:00Z\"\n";
    const auto entries = parse_acl_csv(csv, 0);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].driver_token, kToken);
    EXPECT_EQ(entries[0].status, store::AclStatus::kAllowed);
    ASSERT_TRUE(entries[0].stations.has_value());
    EXPECT_EQ(entries[0].stations->size(), 2u);
    EXPECT_THROW(
        parse_acl_csv("driver_token,status,stations,expires_at\n\"" + kToken + ",allowed,,\n", 0),
        AclImportError);
    // A quoted comma is part of the field: "a,b" is one (bad) status, not two fields.
    try {
        (void)parse_acl_csv(
            "driver_token,status,stations,expires_at\n" + kToken + ",\"allowed,\"\"x\"\"\",,\n", 0);
        ADD_FAILURE() << "no error";
    } catch (const AclImportError& e) {
        EXPECT_NE(std::string(e.what()).find("line 2: status"), std::string::npos) << e.what();
    }
}

TEST(AclCsv, EveryRowOfABigFileIsRead) {
    std::string csv = "driver_token,status,stations,expires_at\n";
    for (int i = 0; i < 10000; ++i)
        csv += "TOKEN-" + std::to_string(1000000000000000 + i) + ",allowed,,\n";
    const auto entries = parse_acl_csv(csv, 0);
    ASSERT_EQ(entries.size(), 10000u);
    EXPECT_EQ(entries.back().driver_token, "TOKEN-1000000000009999");
}

TEST(AclJson, ParsesTheAdminApiShape) {
    const std::string json = R"([{"driver_token":")" + kToken +
                             R"(","status":"allowed","stations":null,"expires_at":null},
        {"driver_token":"BLOCKED-token-0123456789","status":"blocked",
         "stations":[")" + kStationUpper +
                             R"("],"expires_at":"2030-01-01T00:00:00.000Z"}])";
    const auto entries = parse_acl_json(json, 7);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_FALSE(entries[0].stations.has_value());
    EXPECT_EQ(entries[1].stations->at(0), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(entries[1].expires_at_ms, 1893456000000);
}

TEST(AclJson, RejectsWrongShapes) {
    EXPECT_THROW(parse_acl_json("{}", 0), AclImportError);
    EXPECT_THROW(parse_acl_json("[1]", 0), AclImportError);
    EXPECT_THROW(parse_acl_json("not json", 0), AclImportError);
    EXPECT_THROW(parse_acl_json(R"([{"driver_token":")" + kToken + R"("}])", 0), AclImportError);
    EXPECT_THROW(
        parse_acl_json(
            R"([{"driver_token":")" + kToken + R"(","status":"allowed","stations":"all"}])", 0),
        AclImportError);
}

TEST(AclFormat, FromNameOrFlag) {
    EXPECT_EQ(acl_format_for("x.CSV", ""), AclFormat::kCsv);
    EXPECT_EQ(acl_format_for("x.json", ""), AclFormat::kJson);
    EXPECT_EQ(acl_format_for("x.txt", "json"), AclFormat::kJson);
    EXPECT_THROW(acl_format_for("x.txt", ""), AclImportError);
}

}  // namespace
}  // namespace cg::cli
