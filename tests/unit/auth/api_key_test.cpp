#include "auth/api_key.hpp"

#include <gtest/gtest.h>

#include <set>

#include "auth/authenticator.hpp"

namespace cg::auth {
namespace {

TEST(ApiKey, GeneratedKeysParseAndOnlyTheirSecretMatches) {
    const auto a = generate_api_key("alpha", "ci", 1000);
    const auto b = generate_api_key("alpha", "ci", 1000);
    EXPECT_NE(a.key, b.key);
    EXPECT_NE(a.record.key_id, b.record.key_id);
    EXPECT_EQ(a.record.client_id, "alpha");
    const auto parsed = parse_api_key(a.key);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->key_id, a.record.key_id);
    EXPECT_TRUE(secret_matches(a.record, parsed->secret));
    EXPECT_FALSE(secret_matches(b.record, parsed->secret));
    // The stored record holds no part of the secret.
    EXPECT_EQ(a.key.find(std::string(a.record.secret_hash.begin(), a.record.secret_hash.end())),
              std::string::npos);
}

TEST(ApiKey, MalformedKeysDoNotParse) {
    const auto good = generate_api_key("alpha", "", 0).key;
    EXPECT_FALSE(parse_api_key(""));
    EXPECT_FALSE(parse_api_key(good.substr(1)));
    EXPECT_FALSE(parse_api_key(good + "0"));
    std::string upper = good;
    upper.back() = 'F';  // upper-case hex is not a key this service made
    EXPECT_FALSE(parse_api_key(upper));
    std::string bad_sep = good;
    bad_sep[20] = '-';
    EXPECT_FALSE(parse_api_key(bad_sep));
}

TEST(ApiKey, ClientIdsAreVisibleAsciiWithoutSpaces) {
    EXPECT_TRUE(valid_client_id("alpha-1"));
    EXPECT_TRUE(valid_client_id(std::string(128, 'x')));
    EXPECT_FALSE(valid_client_id(""));
    EXPECT_FALSE(valid_client_id(std::string(129, 'x')));
    EXPECT_FALSE(valid_client_id("a b"));
    EXPECT_FALSE(valid_client_id("a\nb"));
}

TEST(Authenticator, OffLetsEveryoneThroughAnonymously) {
    const Authenticator off(false, nullptr, {});
    const auto r = off.authenticate("", "", 0);
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(r.client_id.empty());
}

TEST(Authenticator, OnRoutesBearerTokensToTheJwtCheckAndRefusesTheRest) {
    int calls = 0;
    const Authenticator on(true, nullptr,
                           [&calls](std::string_view token, int64_t,
                                    std::string& reason) -> std::optional<std::string> {
                               ++calls;
                               if (token == "a.b.c") return "from-jwt";
                               reason = "bad";
                               return std::nullopt;
                           });
    EXPECT_EQ(on.authenticate("Bearer a.b.c", "", 0).client_id, "from-jwt");
    EXPECT_EQ(on.authenticate("bearer   a.b.c ", "", 0).client_id, "from-jwt");
    EXPECT_FALSE(on.authenticate("Bearer x.y.z", "", 0).ok);
    EXPECT_FALSE(on.authenticate("", "", 0).ok);
    EXPECT_FALSE(on.authenticate("Basic a.b.c", "", 0).ok);
    EXPECT_FALSE(on.authenticate("Bearer " + std::string(9000, 'a'), "", 0).ok);
    // An API-key-shaped credential never reaches the JWT check.
    EXPECT_FALSE(on.authenticate("", generate_api_key("c", "", 0).key, 0).ok);
    EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace cg::auth
