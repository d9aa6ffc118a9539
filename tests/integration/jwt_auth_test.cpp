// JWT bearer tokens on the public API (docs/security.md T5): RS256 from a JWKS file and HS256,
// with issuer, audience, expiry and signature checked by the running service.
#include <chrono>
#include <fstream>

#include "service_fixture.hpp"
#include "support/jwt_maker.hpp"

namespace cg::test {
namespace {

constexpr const char* kIssuer = "https://idp.example.test";
constexpr const char* kAudience = "chargegate";
const std::string kHsSecret = "an-hs256-shared-secret-of-at-least-32-bytes!";

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class JwtAuthTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        key_ = jwt::make_rsa_key();
        other_ = jwt::make_rsa_key();
        jwt::write_jwks({jwt::public_jwk(*key_, "k1", "RS256")}, dir_.path() / "jwks.json");
        env["API_AUTH"] = "on";
        env["JWT_JWKS_FILE"] = (dir_.path() / "jwks.json").string();
        env["JWT_HS256_SECRET"] = kHsSecret;
        env["JWT_ISSUER"] = kIssuer;
        env["JWT_AUDIENCE"] = kAudience;
    }

    boost::json::object claims(const std::string& client, int64_t lifetime_s = 300) {
        auto c = jwt::claims_at(now_s(), client, lifetime_s);
        c["iss"] = kIssuer;
        c["aud"] = kAudience;
        return c;
    }

    HttpResult post_as(const std::string& token) {
        return post_session(receiver_.url(), {{"Authorization", "Bearer " + token}});
    }

    jwt::Key key_;
    jwt::Key other_;
};

TEST_F(JwtAuthTest, ValidRs256AndHs256TokensAreAccepted) {
    start();
    const auto rs = post_as(jwt::sign_rs256(*key_, claims("alpha"), "k1"));
    EXPECT_EQ(rs.status, 200) << rs.body;
    const auto hs = post_as(jwt::sign_hs256(kHsSecret, claims("alpha")));
    EXPECT_EQ(hs.status, 200) << hs.body;
    ASSERT_TRUE(receiver_.wait_for_count(2, std::chrono::seconds(10)));
}

TEST_F(JwtAuthTest, ExpiredWrongAudienceWrongIssuerAndWrongSignatureAre401) {
    start();
    auto expect_401 = [](const HttpResult& r, const char* what) {
        EXPECT_EQ(r.status, 401) << what << ": " << r.body;
        EXPECT_EQ(r.header("www-authenticate"), R"(Bearer realm="chargegate")") << what;
        EXPECT_EQ(str(parse_object(r.body), "message"), "Invalid credentials.") << what;
    };
    auto expired = claims("alpha");
    expired["iat"] = now_s() - 3600;
    expired["exp"] = now_s() - 600;  // beyond the 60 s skew
    expect_401(post_as(jwt::sign_rs256(*key_, expired, "k1")), "expired");
    auto audience = claims("alpha");
    audience["aud"] = "someone-else";
    expect_401(post_as(jwt::sign_rs256(*key_, audience, "k1")), "wrong audience");
    auto issuer = claims("alpha");
    issuer["iss"] = "https://evil.example.test";
    expect_401(post_as(jwt::sign_rs256(*key_, issuer, "k1")), "wrong issuer");
    expect_401(post_as(jwt::sign_rs256(*other_, claims("alpha"), "k1")), "another key");
    expect_401(
        post_as(jwt::sign_hs256("a-different-secret-that-is-32-bytes-long", claims("alpha"))),
        "another HS256 secret");
    auto tampered = jwt::sign_rs256(*key_, claims("alpha"), "k1");
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    expect_401(post_as(tampered), "tampered signature");
    // Nothing about which check failed reaches the log above DEBUG, and no token at all.
    EXPECT_EQ(service_->log().find(tampered), std::string::npos);
}

TEST_F(JwtAuthTest, AClientReadsOnlyItsOwnRequests) {
    start();
    const auto alpha = jwt::sign_rs256(*key_, claims("alpha"), "k1");
    const auto beta = jwt::sign_hs256(kHsSecret, claims("beta"));
    const auto r = post_as(alpha);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto id = str(parse_object(r.body), "request_id");
    const auto path = url("/api/v1/charging-session/" + id);
    EXPECT_EQ(http_get(path, {{"Authorization", "Bearer " + alpha}}).status, 200);
    EXPECT_EQ(http_get(path, {{"Authorization", "Bearer " + beta}}).status, 404);
}

TEST_F(JwtAuthTest, AnUnusableKeyFileStopsStartUpWithOneLine) {
    std::ofstream(dir_.path() / "bad.json") << R"({"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]})";
    env["JWT_JWKS_FILE"] = (dir_.path() / "bad.json").string();
    ServiceProcess service(binary(), env, (dir_.path() / "bad.log").string());
    service.start();
    EXPECT_NE(service.wait_exit(std::chrono::seconds(20)), 0);
    const auto log = service.log();
    EXPECT_NE(log.find("JWT_JWKS_FILE"), std::string::npos) << log;
}

}  // namespace
}  // namespace cg::test
