#pragma once
// A test-side JWT signer, independent of src/auth: makes RSA 2048 and EC P-256 keys in
// process, writes them as PEM and JWKS files, and signs HS256/RS256/ES256 tokens with any
// header and claims (including broken ones) for the verifier's unit tests and for integration
// tests of API authentication.
#include <openssl/types.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cg::test::jwt {

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const;
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;  // a private key (holds the public part)

Key make_rsa_key(unsigned bits = 2048);
Key make_ec_key();  // P-256

// "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) of `key`.
std::string public_pem(const EVP_PKEY& key);
void write_public_pem(const EVP_PKEY& key, const std::filesystem::path& file);

// The public JWK of `key`: {kty:"RSA",n,e} or {kty:"EC",crv:"P-256",x,y}, plus `kid` and
// `alg` when non-empty. Add members (e.g. "use") to the object before writing it.
boost::json::object public_jwk(const EVP_PKEY& key, std::string_view kid = {},
                               std::string_view alg = {});
// {"keys":[...]} to `file`.
void write_jwks(const std::vector<boost::json::object>& keys, const std::filesystem::path& file);

std::string b64url(std::string_view bytes);  // unpadded base64url

// "<b64url(header)>.<b64url(claims)>", the JWS signing input, from JSON text as given.
std::string signing_input(std::string_view header_json, std::string_view claims_json);

// Raw JWS signature bytes over `input`: HMAC-SHA256, RSASSA-PKCS1-v1_5 SHA-256, or ECDSA
// P-256 SHA-256 as r||s (64 bytes).
std::string hs256_signature(std::string_view secret, std::string_view input);
std::string rs256_signature(const EVP_PKEY& key, std::string_view input);
std::string es256_signature(const EVP_PKEY& key, std::string_view input);

// Complete tokens: header {"alg":...,"typ":"JWT"[,"kid":...]} and `claims`.
std::string sign_hs256(std::string_view secret, const boost::json::object& claims,
                       std::string_view kid = {});
std::string sign_rs256(const EVP_PKEY& key, const boost::json::object& claims,
                       std::string_view kid = {});
std::string sign_es256(const EVP_PKEY& key, const boost::json::object& claims,
                       std::string_view kid = {});

// Claims valid at `now`: {"sub": subject, "iat": now, "exp": now + lifetime_s}.
boost::json::object claims_at(int64_t now, std::string_view subject = "client-1",
                              int64_t lifetime_s = 300);

}  // namespace cg::test::jwt
