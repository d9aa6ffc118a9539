#include "common/text.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cg {
namespace {

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_ms(1795343445123), "2026-11-22T10:30:45.123Z");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
    EXPECT_EQ(parse_rfc3339_ms("2026-11-22T10:30:45.123Z"), 1795343445123);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-22T11:30:45.123+01:00"), 1795343445123);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-22T10:30:45Z"), 1795343445000);
    EXPECT_FALSE(parse_rfc3339_ms("2026-11-22 10:30:45Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2026-13-22T10:30:45Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2026-11-22T10:30:45"));
    EXPECT_FALSE(parse_rfc3339_ms("garbage"));
}

// Found by request_validation_fuzz: an ACL expiry of "9999-12-31T23:59:60.999Z" was accepted
// as an instant in year 10000, which GET /api/v1/acl then showed as "10000-01-01T..." (not
// RFC 3339, and not read back by the same parser).
TEST(Rfc3339, ParsedTimesFormatBackToThemselves) {
    for (const char* text : {"9999-12-31T23:59:60.999Z", "9999-12-31T23:00:00-01:00",
                             "0000-01-01T00:00:00+00:01", "0000-01-01T00:30:00+01:00"}) {
        EXPECT_FALSE(parse_rfc3339_ms(text)) << text;
    }
    for (const char* text :
         {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999+01:00",
          "0000-01-01T00:00:00-23:59", "2026-06-30T23:59:60Z", "2026-02-31T12:00:00+05:30"}) {
        const auto t = parse_rfc3339_ms(text);
        ASSERT_TRUE(t) << text;
        EXPECT_EQ(parse_rfc3339_ms(format_rfc3339_ms(*t)), t) << text;
    }
    EXPECT_EQ(format_rfc3339_ms(*parse_rfc3339_ms("0000-01-01T00:00:00Z")),
              "0000-01-01T00:00:00.000Z");
}

TEST(Mask, ShowsFirstFourCharacters) {
    EXPECT_EQ(mask_token("ABCD-efgh1234567890_~valid.token"), "ABCD***");
    EXPECT_EQ(mask_token("AB"), "AB***");
}

TEST(RequestId, IsCanonicalVersion7AndUnique) {
    const auto a = new_request_id(1795343445123);
    const auto b = new_request_id(1795343445123);
    EXPECT_TRUE(is_canonical_uuid(a));
    EXPECT_EQ(a[14], '7');
    EXPECT_NE(a, b);
    EXPECT_LT(new_request_id(1000), new_request_id(2000));  // time-ordered
}

TEST(Uuid, AcceptsEitherCaseRejectsOtherShapes) {
    EXPECT_TRUE(is_canonical_uuid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_TRUE(is_canonical_uuid("123E4567-E89B-12D3-A456-426614174000"));
    EXPECT_FALSE(is_canonical_uuid("123e4567e89b12d3a456426614174000"));
    EXPECT_FALSE(is_canonical_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    EXPECT_FALSE(is_canonical_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
}

TEST(ConstantTime, ComparesContent) {
    EXPECT_TRUE(constant_time_equals("secret", "secret"));
    EXPECT_FALSE(constant_time_equals("secret", "secreT"));
    EXPECT_FALSE(constant_time_equals("secret", "secret2"));
}

}  // namespace
}  // namespace cg

namespace cg {
namespace {

TEST(RandomBytes, NeverRepeatsAcrossPoolRefills) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {  // 2000 × 16 bytes spans several 4 KiB refills
        std::string b(16, '\0');
        random_bytes(reinterpret_cast<unsigned char*>(b.data()), b.size());
        EXPECT_TRUE(seen.insert(b).second);
    }
    std::string big(10000, '\0');  // larger than the pool
    random_bytes(reinterpret_cast<unsigned char*>(big.data()), big.size());
    EXPECT_NE(big.find_first_not_of('\0'), std::string::npos);
    EXPECT_NE(big.substr(0, 4096), big.substr(4096, 4096));
}

}  // namespace
}  // namespace cg
