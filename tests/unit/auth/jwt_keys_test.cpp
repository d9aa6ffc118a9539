#include "auth/jwt_keys.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>

#include "auth/jwt_verifier.hpp"
#include "config/config.hpp"
#include "support/jwt_maker.hpp"
#include "support/test_env.hpp"

namespace cg::auth {
namespace {

namespace jwt = cg::test::jwt;
namespace json = boost::json;

class JwtKeysTest : public ::testing::Test {
  protected:
    std::string write(const std::string& name, const std::string& text) {
        const auto p = (dir_.path() / name).string();
        std::ofstream(p) << text;
        return p;
    }
    // The ConfigError message of loading `env`, or "no error".
    static std::string error_of(std::map<std::string, std::string> env) {
        try {
            (void)make_jwt_verifier(config::load({}, env));
        } catch (const config::ConfigError& e) {
            return e.what();
        }
        return "no error";
    }
    std::string jwks_error(const json::value& jwks) {
        return error_of({{"JWT_JWKS_FILE", write("jwks.json", json::serialize(jwks))}});
    }

    cg::test::TempDir dir_;
};

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

TEST_F(JwtKeysTest, BadPemFilesAreOneLineConfigErrors) {
    const auto missing = error_of({{"JWT_PUBLIC_KEY_FILE", "/nonexistent/key.pem"}});
    EXPECT_TRUE(contains(missing, "JWT_PUBLIC_KEY_FILE")) << missing;
    EXPECT_TRUE(contains(missing, "cannot be read")) << missing;
    const auto garbage = error_of({{"JWT_PUBLIC_KEY_FILE", write("k.pem", "not a key\n")}});
    EXPECT_TRUE(contains(garbage, "JWT_PUBLIC_KEY_FILE")) << garbage;
    EXPECT_FALSE(contains(garbage, "\n")) << garbage;
    // RSA keys below 2048 bits and curves other than P-256 are refused.
    const auto small = jwt::make_rsa_key(1024);
    const auto weak = error_of({{"JWT_PUBLIC_KEY_FILE", write("s.pem", jwt::public_pem(*small))}});
    EXPECT_TRUE(contains(weak, "2048")) << weak;
    jwt::Key p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    ASSERT_TRUE(p384);
    const auto curve = error_of({{"JWT_PUBLIC_KEY_FILE", write("p.pem", jwt::public_pem(*p384))}});
    EXPECT_TRUE(contains(curve, "P-256")) << curve;
}

TEST_F(JwtKeysTest, HsSecretShorterThan32BytesIsRefused) {
    EXPECT_TRUE(
        contains(error_of({{"JWT_HS256_SECRET", std::string(31, 's')}}), "JWT_HS256_SECRET"));
    EXPECT_EQ(error_of({{"JWT_HS256_SECRET", std::string(32, 's')}}), "no error");
}

TEST_F(JwtKeysTest, BadJwksFilesAreOneLineConfigErrors) {
    EXPECT_TRUE(contains(error_of({{"JWT_JWKS_FILE", write("j.json", "{")}}), "JWT_JWKS_FILE"));
    EXPECT_TRUE(contains(jwks_error(json::object{{"nokeys", 1}}), "keys"));
    EXPECT_TRUE(contains(jwks_error(json::object{{"keys", json::array{}}}), "no RSA or EC"));
    const auto ec = jwt::make_ec_key();
    // Coordinates that are not base64url, of the wrong size, or not a point on the curve.
    auto jwk = jwt::public_jwk(*ec, "e1");
    jwk["x"] = "***";
    EXPECT_TRUE(contains(jwks_error(json::object{{"keys", json::array{jwk}}}), "kid e1"));
    jwk = jwt::public_jwk(*ec);
    jwk["y"] = jwt::b64url("short");
    EXPECT_TRUE(contains(jwks_error(json::object{{"keys", json::array{jwk}}}), "32 bytes"));
    jwk = jwt::public_jwk(*ec);
    jwk["y"] = jwt::b64url(std::string(32, '\x01'));
    EXPECT_TRUE(
        contains(jwks_error(json::object{{"keys", json::array{jwk}}}), "not a valid public key"));
    // An RSA key without its exponent; an alg that does not fit the key type.
    json::object no_e{{"kty", "RSA"}, {"n", jwt::b64url(std::string(256, '\x7f'))}};
    EXPECT_TRUE(contains(jwks_error(json::object{{"keys", json::array{no_e}}}), "\"e\""));
    EXPECT_TRUE(contains(
        jwks_error(json::object{{"keys", json::array{jwt::public_jwk(*ec, "x", "RS256")}}}),
        "does not fit"));
}

TEST_F(JwtKeysTest, JwksSkipsKeysItCannotUse) {
    const auto ec = jwt::make_ec_key();
    auto enc = jwt::public_jwk(*ec, "enc");
    enc["use"] = "enc";
    auto sig = jwt::public_jwk(*ec, "sig");
    sig["use"] = "sig";
    const json::object okp{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
    const json::object p384{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AAAA"}, {"y", "AAAA"}};
    const json::object oct{{"kty", "oct"}, {"k", "c2VjcmV0"}};
    const auto other_alg = jwt::public_jwk(*ec, "ps", "ES512");
    const auto keys = parse_jwks(
        json::serialize(json::object{{"keys", json::array{enc, sig, okp, p384, oct, other_alg}}}),
        "JWT_JWKS_FILE");
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].kid, "sig");
    EXPECT_EQ(keys[0].alg, JwtAlg::kEs256);
}

TEST(JwtAlg, OnlyTheThreeAlgorithms) {
    EXPECT_EQ(parse_alg("HS256"), JwtAlg::kHs256);
    EXPECT_EQ(parse_alg("RS256"), JwtAlg::kRs256);
    EXPECT_EQ(parse_alg("ES256"), JwtAlg::kEs256);
    EXPECT_FALSE(parse_alg("none"));
    EXPECT_FALSE(parse_alg("rs256"));
    EXPECT_FALSE(parse_alg(""));
}

}  // namespace
}  // namespace cg::auth
