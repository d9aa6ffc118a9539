#include "auth/jwt_verifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/base64.hpp"
#include "config/config.hpp"
#include "support/jwt_maker.hpp"
#include "support/test_env.hpp"

namespace cg::auth {
namespace {

namespace jwt = cg::test::jwt;
namespace json = boost::json;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-hs256";

// One RSA and one EC key for the whole suite: RSA key generation is slow.
struct Keys {
    jwt::Key rsa = jwt::make_rsa_key();
    jwt::Key ec = jwt::make_ec_key();
    jwt::Key other_rsa = jwt::make_rsa_key();
    jwt::Key other_ec = jwt::make_ec_key();
};
const Keys& keys() {
    static const Keys k;
    return k;
}

class JwtVerifierTest : public ::testing::Test {
  protected:
    // A verifier from config keys, the way the service builds it.
    std::unique_ptr<JwtVerifier> from(std::map<std::string, std::string> env) {
        return make_jwt_verifier(config::load({}, env));
    }
    std::string file(const std::string& name) { return (dir_.path() / name).string(); }
    std::string pem_of(const EVP_PKEY& key, const std::string& name) {
        jwt::write_public_pem(key, file(name));
        return file(name);
    }
    std::string jwks_of(const std::vector<json::object>& jwks, const std::string& name) {
        jwt::write_jwks(jwks, file(name));
        return file(name);
    }

    cg::test::TempDir dir_;
};

JwtResult accept_ok(const JwtVerifier& v, const std::string& token, int64_t now = kNow) {
    auto r = v.verify(token, now);
    EXPECT_TRUE(r.ok()) << to_string(r.error);
    return r;
}

TEST_F(JwtVerifierTest, OffWithoutAnyKeySetting) {
    EXPECT_EQ(from({}), nullptr);
    EXPECT_EQ(from({{"JWT_ISSUER", "https://idp"}}), nullptr);
}

TEST_F(JwtVerifierTest, AcceptsValidHs256) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}});
    ASSERT_TRUE(v);
    EXPECT_EQ(accept_ok(*v, jwt::sign_hs256(kSecret, jwt::claims_at(kNow, "fleet-7"))).client_id,
              "fleet-7");
    // A kid on an HS256 token picks nothing special: the secret has none.
    EXPECT_TRUE(v->verify(jwt::sign_hs256(kSecret, jwt::claims_at(kNow), "k1"), kNow).ok());
}

TEST_F(JwtVerifierTest, AcceptsValidRs256AndEs256FromPem) {
    const auto rsa = from({{"JWT_PUBLIC_KEY_FILE", pem_of(*keys().rsa, "rsa.pem")}});
    ASSERT_TRUE(rsa);
    EXPECT_EQ(
        accept_ok(*rsa, jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow, "c-rsa"))).client_id,
        "c-rsa");
    const auto ec = from({{"JWT_PUBLIC_KEY_FILE", pem_of(*keys().ec, "ec.pem")}});
    ASSERT_TRUE(ec);
    EXPECT_EQ(accept_ok(*ec, jwt::sign_es256(*keys().ec, jwt::claims_at(kNow, "c-ec"))).client_id,
              "c-ec");
    // A kid the PEM key does not have still reaches it (it has no kid to compare).
    EXPECT_TRUE(
        ec->verify(jwt::sign_es256(*keys().ec, jwt::claims_at(kNow), "unknown"), kNow).ok());
}

TEST_F(JwtVerifierTest, AcceptsJwksKeysWithAndWithoutKid) {
    const auto path =
        jwks_of({jwt::public_jwk(*keys().rsa, "rsa-1", "RS256"),
                 jwt::public_jwk(*keys().other_rsa, "rsa-2"), jwt::public_jwk(*keys().ec, "ec-1")},
                "jwks.json");
    const auto v = from({{"JWT_JWKS_FILE", path}});
    ASSERT_TRUE(v);
    EXPECT_EQ(v->key_count(), 3u);
    accept_ok(*v, jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow), "rsa-1"));
    accept_ok(*v, jwt::sign_rs256(*keys().other_rsa, jwt::claims_at(kNow), "rsa-2"));
    accept_ok(*v, jwt::sign_es256(*keys().ec, jwt::claims_at(kNow), "ec-1"));
    // Without kid every key of the token's type is tried.
    accept_ok(*v, jwt::sign_rs256(*keys().other_rsa, jwt::claims_at(kNow)));
    accept_ok(*v, jwt::sign_es256(*keys().ec, jwt::claims_at(kNow)));
    // The kid picks the key: the other RSA key's kid does not verify this one's signature.
    EXPECT_EQ(v->verify(jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow), "rsa-2"), kNow).error,
              JwtError::kBadSignature);
    // An unknown kid, and no kid-less key to fall back on.
    EXPECT_EQ(v->verify(jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow), "nope"), kNow).error,
              JwtError::kNoKey);
}

TEST_F(JwtVerifierTest, AllKeySourcesTogether) {
    const auto v =
        from({{"JWT_HS256_SECRET", kSecret},
              {"JWT_PUBLIC_KEY_FILE", pem_of(*keys().ec, "ec.pem")},
              {"JWT_JWKS_FILE", jwks_of({jwt::public_jwk(*keys().rsa, "r")}, "j.json")}});
    ASSERT_TRUE(v);
    EXPECT_EQ(v->key_count(), 3u);
    accept_ok(*v, jwt::sign_hs256(kSecret, jwt::claims_at(kNow)));
    accept_ok(*v, jwt::sign_es256(*keys().ec, jwt::claims_at(kNow)));
    accept_ok(*v, jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow), "r"));
}

TEST_F(JwtVerifierTest, TimeClaims) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}, {"JWT_CLOCK_SKEW_SECONDS", "30"}});
    ASSERT_TRUE(v);
    auto token = [&](json::object c) { return jwt::sign_hs256(kSecret, c); };
    // exp: valid while now < exp + skew.
    EXPECT_EQ(v->verify(token({{"sub", "c"}, {"exp", kNow - 31}}), kNow).error, JwtError::kExpired);
    EXPECT_EQ(v->verify(token({{"sub", "c"}, {"exp", kNow - 30}}), kNow).error, JwtError::kExpired);
    accept_ok(*v, token({{"sub", "c"}, {"exp", kNow - 29}}));       // within the skew
    accept_ok(*v, token({{"sub", "c"}, {"exp", kNow + 0.5 + 1}}));  // fractional NumericDate
    EXPECT_EQ(v->verify(token({{"sub", "c"}}), kNow).error, JwtError::kExpired);  // required
    EXPECT_EQ(v->verify(token({{"sub", "c"}, {"exp", "tomorrow"}}), kNow).error,
              JwtError::kBadClaims);
    // nbf
    EXPECT_EQ(v->verify(token({{"sub", "c"}, {"exp", kNow + 300}, {"nbf", kNow + 31}}), kNow).error,
              JwtError::kNotYetValid);
    accept_ok(*v, token({{"sub", "c"}, {"exp", kNow + 300}, {"nbf", kNow + 30}}));
    accept_ok(*v, token({{"sub", "c"}, {"exp", kNow + 300}, {"nbf", kNow - 100}}));
    // iat in the future
    EXPECT_EQ(v->verify(token({{"sub", "c"}, {"exp", kNow + 300}, {"iat", kNow + 31}}), kNow).error,
              JwtError::kIssuedInFuture);
    accept_ok(*v, token({{"sub", "c"}, {"exp", kNow + 300}, {"iat", kNow + 30}}));
    // The default skew is 60 s.
    const auto d = from({{"JWT_HS256_SECRET", kSecret}});
    accept_ok(*d, token({{"sub", "c"}, {"exp", kNow - 59}}));
    EXPECT_EQ(d->verify(token({{"sub", "c"}, {"exp", kNow - 60}}), kNow).error, JwtError::kExpired);
}

TEST_F(JwtVerifierTest, IssuerAndAudience) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret},
                         {"JWT_ISSUER", "https://idp.example"},
                         {"JWT_AUDIENCE", "chargegate"}});
    ASSERT_TRUE(v);
    auto token = [&](json::object c) {
        c["sub"] = "c";
        c["exp"] = kNow + 60;
        return jwt::sign_hs256(kSecret, c);
    };
    accept_ok(*v, token({{"iss", "https://idp.example"}, {"aud", "chargegate"}}));
    accept_ok(*v, token({{"iss", "https://idp.example"}, {"aud", json::array{"x", "chargegate"}}}));
    EXPECT_EQ(
        v->verify(token({{"iss", "https://evil.example"}, {"aud", "chargegate"}}), kNow).error,
        JwtError::kWrongIssuer);
    EXPECT_EQ(v->verify(token({{"aud", "chargegate"}}), kNow).error, JwtError::kWrongIssuer);
    EXPECT_EQ(v->verify(token({{"iss", "https://idp.example"}, {"aud", "other"}}), kNow).error,
              JwtError::kWrongAudience);
    EXPECT_EQ(
        v->verify(token({{"iss", "https://idp.example"}, {"aud", json::array{"a", "b"}}}), kNow)
            .error,
        JwtError::kWrongAudience);
    EXPECT_EQ(v->verify(token({{"iss", "https://idp.example"}}), kNow).error,
              JwtError::kWrongAudience);
    // Unconfigured, neither is checked.
    const auto open = from({{"JWT_HS256_SECRET", kSecret}});
    accept_ok(*open, token({{"iss", "anyone"}, {"aud", 42}}));
}

TEST_F(JwtVerifierTest, ClientClaim) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}});
    auto token = [&](json::object c) {
        c["exp"] = kNow + 60;
        return jwt::sign_hs256(kSecret, c);
    };
    EXPECT_EQ(v->verify(token({}), kNow).error, JwtError::kBadClientId);
    EXPECT_EQ(v->verify(token({{"sub", ""}}), kNow).error, JwtError::kBadClientId);
    EXPECT_EQ(v->verify(token({{"sub", 17}}), kNow).error, JwtError::kBadClientId);
    EXPECT_EQ(v->verify(token({{"sub", "has space"}}), kNow).error, JwtError::kBadClientId);
    EXPECT_EQ(v->verify(token({{"sub", "caf\xc3\xa9"}}), kNow).error, JwtError::kBadClientId);
    EXPECT_EQ(v->verify(token({{"sub", std::string(129, 'a')}}), kNow).error,
              JwtError::kBadClientId);
    EXPECT_EQ(accept_ok(*v, token({{"sub", std::string(128, 'a')}})).client_id,
              std::string(128, 'a'));
    // Another claim may name the client.
    const auto azp = from({{"JWT_HS256_SECRET", kSecret}, {"JWT_CLIENT_CLAIM", "client_id"}});
    EXPECT_EQ(accept_ok(*azp, token({{"sub", "user"}, {"client_id", "app-9"}})).client_id, "app-9");
    EXPECT_EQ(azp->verify(token({{"sub", "user"}}), kNow).error, JwtError::kBadClientId);
}

TEST_F(JwtVerifierTest, RejectsWrongSignatures) {
    const auto v =
        from({{"JWT_HS256_SECRET", kSecret},
              {"JWT_JWKS_FILE",
               jwks_of({jwt::public_jwk(*keys().rsa), jwt::public_jwk(*keys().ec)}, "jwks.json")}});
    ASSERT_TRUE(v);
    for (std::string good : {jwt::sign_hs256(kSecret, jwt::claims_at(kNow)),
                             jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow)),
                             jwt::sign_es256(*keys().ec, jwt::claims_at(kNow))}) {
        accept_ok(*v, good);
        // One flipped bit in the middle of the signature.
        std::string sig = *cg::base64url_decode(good.substr(good.rfind('.') + 1));
        sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
        const std::string flipped = good.substr(0, good.rfind('.') + 1) + jwt::b64url(sig);
        EXPECT_EQ(v->verify(flipped, kNow).error, JwtError::kBadSignature);
        // Changed claims under the old signature.
        const auto dot = good.find('.');
        const std::string forged = good.substr(0, dot + 1) +
                                   jwt::b64url(json::serialize(jwt::claims_at(kNow, "admin"))) +
                                   good.substr(good.rfind('.'));
        EXPECT_EQ(v->verify(forged, kNow).error, JwtError::kBadSignature);
        // No signature.
        EXPECT_EQ(v->verify(good.substr(0, good.rfind('.') + 1), kNow).error, JwtError::kMalformed);
    }
    // Signed by keys the service does not know.
    EXPECT_EQ(v->verify(jwt::sign_hs256(kSecret + "x", jwt::claims_at(kNow)), kNow).error,
              JwtError::kBadSignature);
    EXPECT_EQ(v->verify(jwt::sign_rs256(*keys().other_rsa, jwt::claims_at(kNow)), kNow).error,
              JwtError::kBadSignature);
    EXPECT_EQ(v->verify(jwt::sign_es256(*keys().other_ec, jwt::claims_at(kNow)), kNow).error,
              JwtError::kBadSignature);
}

TEST_F(JwtVerifierTest, RejectsAlgNone) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}});
    const auto claims = json::serialize(jwt::claims_at(kNow));
    for (const char* alg : {"none", "None", "NONE", "HS512", "RS384", "PS256", "EdDSA", "hs256"}) {
        const auto input = jwt::signing_input(json::serialize(json::object{{"alg", alg}}), claims);
        EXPECT_EQ(v->verify(input + ".", kNow).error, JwtError::kUnsupportedAlg) << alg;
        EXPECT_EQ(
            v->verify(input + "." + jwt::b64url(jwt::hs256_signature(kSecret, input)), kNow).error,
            JwtError::kUnsupportedAlg)
            << alg;
    }
}

// The classic confusion attack: the RSA public key (which an attacker can read) used as an
// HMAC secret on an HS256 token. Keys are bound to their algorithm, so it fails whichever form
// of the public key the attacker tries.
TEST_F(JwtVerifierTest, RejectsAlgorithmConfusion) {
    const auto pem = jwt::public_pem(*keys().rsa);
    const auto pem_path = pem_of(*keys().rsa, "rsa.pem");
    const auto v = from({{"JWT_PUBLIC_KEY_FILE", pem_path}});
    ASSERT_TRUE(v);
    const auto jwk_text = json::serialize(jwt::public_jwk(*keys().rsa));
    for (const std::string& fake_secret : {pem, jwk_text}) {
        EXPECT_EQ(v->verify(jwt::sign_hs256(fake_secret, jwt::claims_at(kNow)), kNow).error,
                  JwtError::kNoKey);
    }
    // With an HS256 secret configured too, the RSA key still never acts as one.
    const auto both = from({{"JWT_PUBLIC_KEY_FILE", pem_path}, {"JWT_HS256_SECRET", kSecret}});
    EXPECT_EQ(both->verify(jwt::sign_hs256(pem, jwt::claims_at(kNow)), kNow).error,
              JwtError::kBadSignature);
    // ES256 header with an RSA signature and the other way round.
    const auto ec_and_rsa =
        from({{"JWT_JWKS_FILE",
               jwks_of({jwt::public_jwk(*keys().rsa, "k"), jwt::public_jwk(*keys().ec, "e")},
                       "jwks.json")}});
    const auto claims = json::serialize(jwt::claims_at(kNow));
    const auto es_input =
        jwt::signing_input(R"({"alg":"ES256","kid":"k"})", claims);  // kid of the RSA key
    EXPECT_EQ(
        ec_and_rsa
            ->verify(es_input + "." + jwt::b64url(jwt::rs256_signature(*keys().rsa, es_input)),
                     kNow)
            .error,
        JwtError::kNoKey);
    const auto rs_input = jwt::signing_input(R"({"alg":"RS256"})", claims);
    EXPECT_EQ(
        ec_and_rsa
            ->verify(rs_input + "." + jwt::b64url(jwt::es256_signature(*keys().ec, rs_input)), kNow)
            .error,
        JwtError::kBadSignature);
}

TEST_F(JwtVerifierTest, RejectsMalformedTokens) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}});
    const auto good = jwt::sign_hs256(kSecret, jwt::claims_at(kNow));
    const auto claims = json::serialize(jwt::claims_at(kNow));
    auto signed_raw = [&](std::string_view header_b64, std::string_view payload_b64) {
        const std::string input = std::string(header_b64) + "." + std::string(payload_b64);
        return input + "." + jwt::b64url(jwt::hs256_signature(kSecret, input));
    };
    EXPECT_EQ(v->verify("", kNow).error, JwtError::kMalformed);
    EXPECT_EQ(v->verify("abc", kNow).error, JwtError::kMalformed);
    EXPECT_EQ(v->verify("a.b", kNow).error, JwtError::kMalformed);
    EXPECT_EQ(v->verify(good + ".x", kNow).error, JwtError::kMalformed);
    std::string no_header = ".";  // appended: GCC 12 -O3 -Wrestrict false positive on "." + str
    no_header += good.substr(good.find('.') + 1);
    EXPECT_EQ(v->verify(no_header, kNow).error, JwtError::kMalformed);
    // Bad base64url: the standard alphabet, padding, stray characters.
    const auto header_b64 = jwt::b64url(R"({"alg":"HS256"})");
    EXPECT_EQ(v->verify(signed_raw(header_b64 + "=", jwt::b64url(claims)), kNow).error,
              JwtError::kMalformed);
    EXPECT_EQ(v->verify(signed_raw("eyJ+", jwt::b64url(claims)), kNow).error, JwtError::kMalformed);
    EXPECT_EQ(v->verify(signed_raw(header_b64, jwt::b64url(claims) + "!"), kNow).error,
              JwtError::kMalformed);
    EXPECT_EQ(v->verify(good + "=", kNow).error, JwtError::kMalformed);
    // Bad JSON in the header and in the (correctly signed) payload.
    EXPECT_EQ(v->verify(signed_raw(jwt::b64url("{\"alg\":"), jwt::b64url(claims)), kNow).error,
              JwtError::kBadHeader);
    EXPECT_EQ(v->verify(signed_raw(jwt::b64url("[\"HS256\"]"), jwt::b64url(claims)), kNow).error,
              JwtError::kBadHeader);
    EXPECT_EQ(v->verify(signed_raw(jwt::b64url("{\"alg\":5}"), jwt::b64url(claims)), kNow).error,
              JwtError::kBadHeader);
    EXPECT_EQ(
        v->verify(signed_raw(jwt::b64url(R"({"alg":"HS256","crit":["exp"]})"), jwt::b64url(claims)),
                  kNow)
            .error,
        JwtError::kBadHeader);
    EXPECT_EQ(v->verify(signed_raw(header_b64, jwt::b64url("{\"sub\":")), kNow).error,
              JwtError::kBadClaims);
    EXPECT_EQ(v->verify(signed_raw(header_b64, jwt::b64url("\"sub\"")), kNow).error,
              JwtError::kBadClaims);
    accept_ok(*v, signed_raw(header_b64, jwt::b64url(claims)));
}

TEST_F(JwtVerifierTest, RejectsOversizeTokensBeforeParsing) {
    const auto v = from({{"JWT_HS256_SECRET", kSecret}});
    auto claims = jwt::claims_at(kNow);
    claims["pad"] = std::string(6300, 'x');
    const auto big = jwt::sign_hs256(kSecret, claims);
    ASSERT_GT(big.size(), 8192u);
    EXPECT_EQ(v->verify(big, kNow).error, JwtError::kTooLong);
    EXPECT_EQ(v->verify(std::string(8193, 'a'), kNow).error, JwtError::kTooLong);
    claims["pad"] = std::string(5000, 'x');
    const auto fits = jwt::sign_hs256(kSecret, claims);
    ASSERT_LE(fits.size(), 8192u);
    accept_ok(*v, fits);
}

// verify() is const and shares the keys: many threads at once (run under TSan too).
TEST_F(JwtVerifierTest, VerifiesConcurrently) {
    const auto v =
        from({{"JWT_HS256_SECRET", kSecret},
              {"JWT_JWKS_FILE",
               jwks_of({jwt::public_jwk(*keys().rsa, "r"), jwt::public_jwk(*keys().ec, "e")},
                       "jwks.json")}});
    ASSERT_TRUE(v);
    const std::vector<std::string> good{jwt::sign_hs256(kSecret, jwt::claims_at(kNow, "h")),
                                        jwt::sign_rs256(*keys().rsa, jwt::claims_at(kNow, "r")),
                                        jwt::sign_es256(*keys().ec, jwt::claims_at(kNow, "e"))};
    const auto bad = jwt::sign_es256(*keys().other_ec, jwt::claims_at(kNow));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                for (const auto& token : good) {
                    if (!v->verify(token, kNow).ok()) ++failures;
                }
                if (v->verify(bad, kNow).ok()) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST_F(JwtVerifierTest, EveryReasonHasATextAndResultsFailClosed) {
    for (int e = 0; e <= static_cast<int>(JwtError::kBadClientId); ++e) {
        EXPECT_FALSE(to_string(static_cast<JwtError>(e)).empty());
    }
    EXPECT_FALSE(JwtResult{}.ok());  // fails closed
}

TEST(BearerToken, ParsesTheAuthorizationHeader) {
    EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
    EXPECT_EQ(bearer_token("bearer  abc "), "abc");
    EXPECT_EQ(bearer_token("BEARER x"), "x");
    EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz"));
    EXPECT_FALSE(bearer_token("Bearer "));
    EXPECT_FALSE(bearer_token("Bearer"));
    EXPECT_FALSE(bearer_token(""));
}

}  // namespace
}  // namespace cg::auth
