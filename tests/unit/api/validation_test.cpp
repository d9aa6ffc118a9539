#include "api/validation.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cg::api {
namespace {

const std::string kStation = "123e4567-e89b-12d3-a456-426614174000";
const std::string kToken = "ABCD-efgh1234567890_~valid.token";
const std::string kUrl = "https://client.app/api/callbacks/charge-result";

std::string body(const std::string& station, const std::string& token, const std::string& url) {
    return R"({"station_id":")" + station + R"(","driver_token":")" + token +
           R"(","callback_url":")" + url + R"("})";
}

std::set<std::string> invalid_fields(const std::string& json, bool allow_private = false) {
    auto r = validate_charging_request(json, allow_private);
    std::set<std::string> out;
    if (auto* errors = std::get_if<std::vector<FieldError>>(&r)) {
        for (const auto& e : *errors) out.insert(e.field);
    }
    return out;
}

bool ok(const std::string& json, bool allow_private = false) {
    return std::holds_alternative<ValidatedRequest>(validate_charging_request(json, allow_private));
}

TEST(Validation, TheContractExampleIsValid) {
    auto r = validate_charging_request(body(kStation, kToken, kUrl), false);
    ASSERT_TRUE(std::holds_alternative<ValidatedRequest>(r));
    const auto& v = std::get<ValidatedRequest>(r);
    EXPECT_EQ(v.station_id, kStation);
    EXPECT_EQ(v.driver_token, kToken);
    EXPECT_EQ(v.callback_url, kUrl);
}

TEST(Validation, StationIdMustBeCanonicalUuidOfAnyVersion) {
    for (std::string s :
         {"123E4567-E89B-12D3-A456-426614174000", "00000000-0000-0000-0000-000000000000",
          "018f3a4e-9c1b-7d2e-8a3f-123456789abc", /* v7 */
          "6ba7b810-9dad-11d1-80b4-00c04fd430c8" /* v1 */}) {
        EXPECT_TRUE(ok(body(s, kToken, kUrl))) << s;
    }
    for (std::string s :
         {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
          "123e4567-e89b-12d3-a456-4266141740000", "123e4567-e89b-12d3-a456_426614174000",
          "g23e4567-e89b-12d3-a456-426614174000", "{123e4567-e89b-12d3-a456-426614174000}",
          "123e4567-e89b-12d3a-456-426614174000", " 123e4567-e89b-12d3-a456-42661417400"}) {
        EXPECT_EQ(invalid_fields(body(s, kToken, kUrl)), std::set<std::string>{"station_id"}) << s;
    }
}

TEST(Validation, DriverTokenLengthAndAlphabet) {
    EXPECT_TRUE(ok(body(kStation, std::string(20, 'a'), kUrl)));
    EXPECT_TRUE(ok(body(kStation, std::string(80, 'Z'), kUrl)));
    EXPECT_TRUE(ok(body(kStation, "AZaz09-._~AZaz09-._~", kUrl)));
    for (const std::string& t :
         {std::string(19, 'a'), std::string(81, 'a'), std::string(), std::string(19, 'a') + " ",
          std::string(19, 'a') + "+", std::string(19, 'a') + "/", std::string(19, 'a') + "%",
          std::string(19, 'a') + "=", std::string(19, 'a') + "*"}) {
        EXPECT_EQ(invalid_fields(body(kStation, t, kUrl)), std::set<std::string>{"driver_token"})
            << t;
    }
    // Non-ASCII letters are not in the alphabet.
    EXPECT_EQ(invalid_fields(body(kStation, std::string(18, 'a') + "\xc3\xa9", kUrl)),
              std::set<std::string>{"driver_token"});
}

TEST(Validation, CallbackUrlRules) {
    for (std::string u :
         {"http://client.app/cb", "https://client.app:8443/cb?x=1&y=2", "HTTPS://Client.App/cb",
          "https://client.app", "http://[2606:4700::1111]:8080/cb", "https://93.184.216.34/cb"}) {
        EXPECT_TRUE(ok(body(kStation, kToken, u))) << u;
    }
    const std::string long_ok = "https://client.app/" + std::string(2048 - 19, 'a');
    ASSERT_EQ(long_ok.size(), 2048u);
    EXPECT_TRUE(ok(body(kStation, kToken, long_ok)));
    for (const std::string& u : std::vector<std::string>{
             long_ok + "a", "ftp://client.app/cb", "client.app/cb", "/relative", "https://",
             "https:///path", "https://user:pass@client.app/cb", "https://user@client.app/cb",
             "https://client.app/cb#frag", "https://client.app/c b", "mailto:a@b.c", "",
             "javascript:alert(1)", "https://client.app:0/cb"}) {
        EXPECT_EQ(invalid_fields(body(kStation, kToken, u)), std::set<std::string>{"callback_url"})
            << u;
    }
}

// Found by the callback_url fuzz target: Boost.URL 1.81 parses "http://1.2.3.4x/" as host
// 1.2.3.4 with path "x/", so the accept-time check judged an address that curl never connects
// to (curl's host is the name "1.2.3.4x").
TEST(Validation, AnIpv4HostIsNotAPrefixOfAName) {
    for (std::string u :
         {"http://127.0.0.1ttp://127.0.0/", "http://1.2.3.4.evil.example/cb", "http://8.8.8.8x/",
          "http://8.8.8.8.5?q", "https://93.184.216.34a:443/"}) {
        EXPECT_EQ(invalid_fields(body(kStation, kToken, u), true),
                  std::set<std::string>{"callback_url"})
            << u;
    }
    for (std::string u : {"http://8.8.8.8", "http://8.8.8.8?q=1", "http://8.8.8.8:80/x"}) {
        EXPECT_TRUE(ok(body(kStation, kToken, u))) << u;
    }
}

TEST(Validation, PrivateAddressesDependOnTheSetting) {
    for (std::string u :
         {"http://127.0.0.1/cb", "http://localhost:8080/cb", "http://10.0.0.1/cb",
          "http://192.168.1.1/cb", "http://172.16.0.1/cb", "http://169.254.169.254/",
          "http://[::1]/cb", "http://[fe80::1]/cb", "http://0.0.0.0/cb", "http://2130706433/",
          "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/",
          "http://api.localhost/"}) {
        EXPECT_EQ(invalid_fields(body(kStation, kToken, u)), std::set<std::string>{"callback_url"})
            << u;
        EXPECT_TRUE(ok(body(kStation, kToken, u), true)) << u;
    }
}

// Found by the callback_url fuzz target: the host was judged percent-encoded, but curl decodes
// it before resolving, so "http://%31/" (0.0.0.1) or "%31%32%37.0.0.1" passed the accept-time
// check (the connect-time check still refused them).
TEST(Validation, PrivateAddressesArePercentDecodedFirst) {
    for (std::string u : {"http://%31/", "http://%31%32%37.0.0.1/cb", "http://0177.%31.1:8080/",
                          "http://%6cocalhost/", "http://%30x7f.1/", "http://api.LOCALHOS%54/"}) {
        EXPECT_EQ(invalid_fields(body(kStation, kToken, u)), std::set<std::string>{"callback_url"})
            << u;
        EXPECT_TRUE(ok(body(kStation, kToken, u), true)) << u;
    }
    EXPECT_TRUE(ok(body(kStation, kToken, "https://ex%61mple.com/cb")));
    std::string host;
    ASSERT_TRUE(valid_callback_url("https://ex%61mple.com:8443/cb", nullptr, &host));
    EXPECT_EQ(host, "example.com");
    ASSERT_TRUE(valid_callback_url("https://[::1]/cb", nullptr, &host));
    EXPECT_EQ(host, "[::1]");
}

TEST(Validation, TypesMissingFieldsAndShapes) {
    EXPECT_EQ(invalid_fields("{}"),
              (std::set<std::string>{"station_id", "driver_token", "callback_url"}));
    EXPECT_EQ(invalid_fields(R"({"station_id":1,"driver_token":null,"callback_url":["x"]})"),
              (std::set<std::string>{"station_id", "driver_token", "callback_url"}));
    EXPECT_EQ(invalid_fields("not json"), std::set<std::string>{"body"});
    EXPECT_EQ(invalid_fields("[1,2]"), std::set<std::string>{"body"});
    EXPECT_EQ(invalid_fields("\"text\""), std::set<std::string>{"body"});
    EXPECT_EQ(invalid_fields(""), std::set<std::string>{"body"});
    EXPECT_EQ(invalid_fields(R"({"station_id":")" + kStation + R"("})"),
              (std::set<std::string>{"driver_token", "callback_url"}));
}

TEST(Validation, UnknownFieldsAreIgnoredAndTheLastDuplicateWins) {
    EXPECT_TRUE(ok(R"({"station_id":")" + kStation + R"(","driver_token":")" + kToken +
                   R"(","callback_url":")" + kUrl + R"(","extra":{"a":[1,2]},"n":null})"));
    EXPECT_TRUE(ok(R"({"station_id":"bad","station_id":")" + kStation + R"(","driver_token":")" +
                   kToken + R"(","callback_url":")" + kUrl + R"("})"));
}

TEST(Validation, AclEntryBody) {
    auto r = validate_acl_entry(kToken, R"({"status":"blocked","stations":[")" + kStation +
                                            R"(","123E4567-E89B-12D3-A456-426614174001"],)"
                                            R"("expires_at":"2026-12-31T23:00:00-01:00"})");
    ASSERT_TRUE(std::holds_alternative<store::AclEntry>(r));
    const auto& e = std::get<store::AclEntry>(r);
    EXPECT_EQ(e.driver_token, kToken);
    EXPECT_EQ(e.status, store::AclStatus::kBlocked);
    ASSERT_TRUE(e.stations);
    EXPECT_EQ(e.stations->at(1), "123e4567-e89b-12d3-a456-426614174001");
    EXPECT_EQ(e.expires_at_ms, 1798761600000);  // 2027-01-01T00:00:00Z

    auto open = validate_acl_entry(kToken, R"({"status":"allowed","stations":null})");
    ASSERT_TRUE(std::holds_alternative<store::AclEntry>(open));
    EXPECT_FALSE(std::get<store::AclEntry>(open).stations);

    auto bad = validate_acl_entry("short", R"({"status":"maybe","stations":["x"],"expires_at":1})");
    ASSERT_TRUE(std::holds_alternative<std::vector<FieldError>>(bad));
    std::set<std::string> fields;
    for (const auto& f : std::get<std::vector<FieldError>>(bad)) fields.insert(f.field);
    EXPECT_EQ(fields, (std::set<std::string>{"driver_token", "status", "stations", "expires_at"}));
}

TEST(Validation, StationEntryBody) {
    auto r = validate_station_entry("123E4567-E89B-12D3-A456-426614174000", R"({"active":false})");
    ASSERT_TRUE(std::holds_alternative<store::StationEntry>(r));
    EXPECT_EQ(std::get<store::StationEntry>(r).station_id, kStation);
    EXPECT_FALSE(std::get<store::StationEntry>(r).active);
    for (const char* body : {R"({"active":"yes"})", "{}", "[true]", "not json"}) {
        EXPECT_TRUE(
            std::holds_alternative<std::vector<FieldError>>(validate_station_entry(kStation, body)))
            << body;
    }
    EXPECT_TRUE(std::holds_alternative<std::vector<FieldError>>(
        validate_station_entry("not-a-uuid", R"({"active":true})")));
}

TEST(Validation, IdempotencyKey) {
    EXPECT_TRUE(valid_idempotency_key("a"));
    EXPECT_TRUE(valid_idempotency_key(std::string(255, '~')));
    EXPECT_TRUE(valid_idempotency_key("!\"#$%&'()*+,-./:;<=>?@[]^_`{|}"));
    EXPECT_FALSE(valid_idempotency_key(""));
    EXPECT_FALSE(valid_idempotency_key(std::string(256, 'a')));
    EXPECT_FALSE(valid_idempotency_key("has space"));
    EXPECT_FALSE(valid_idempotency_key("tab\t"));
    EXPECT_FALSE(valid_idempotency_key("caf\xc3\xa9"));
}

}  // namespace
}  // namespace cg::api
