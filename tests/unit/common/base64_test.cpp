#include "common/base64.hpp"

#include <gtest/gtest.h>

namespace cg {
namespace {

TEST(Base64, RoundTrips) {
    for (std::string s : {"f", "fo", "foo", "foob", "fooba", "foobar"}) {
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
        EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_decode("Zm8="), "fo");
    EXPECT_FALSE(base64_decode("Zm8"));
    EXPECT_FALSE(base64_decode("Zm 8"));
}

TEST(Base64Url, UsesTheUrlAlphabetWithoutPadding) {
    const std::string bytes = "\xfb\xff\xbf";  // "+/+/" in the standard alphabet
    EXPECT_EQ(base64_encode(bytes), "+/+/");
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    EXPECT_EQ(base64url_decode("-_-_"), bytes);
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
    EXPECT_EQ(base64url_decode(""), "");
}

TEST(Base64Url, RejectsEverythingElse) {
    EXPECT_FALSE(base64url_decode("+/+/"));  // standard alphabet
    EXPECT_FALSE(base64url_decode("Zm8="));  // padding
    EXPECT_FALSE(base64url_decode("Z"));     // length 1 mod 4
    EXPECT_FALSE(base64url_decode("Zm 8"));
    EXPECT_FALSE(base64url_decode("Zm8."));
    EXPECT_FALSE(base64url_decode("Zm9"));  // non-zero trailing bits: "Zm8" is the encoding
    EXPECT_FALSE(base64url_decode("Zh"));   // likewise for "f" ("Zg")
    EXPECT_EQ(base64url_decode("Zg"), "f");
}

}  // namespace
}  // namespace cg
