#pragma once
// Verifies JWT bearer tokens (RFC 7519, JWS compact form, RFC 7515) signed with HS256, RS256
// or ES256, and returns the client id they carry.
//
// Policy (RFC 8725): the header's `alg` must be one of the three and must match the type of
// the key it is checked with (a key is bound to one algorithm when loaded, so no `none` and no
// HS256 keyed with an RSA public key); the signature is checked before the claims are parsed;
// `exp` is required; `nbf` and `iat` are checked when present, all with the configured clock
// skew; `iss` and `aud` when configured. Reasons are for DEBUG logs only: the HTTP answer must
// not reveal them, and neither the token nor a claim value appears in them.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt_keys.hpp"

namespace cg::config {
struct Config;
}

namespace cg::auth {

enum class JwtError {
    kNone,
    kTooLong,         // over JwtOptions::max_token_bytes, rejected before parsing
    kMalformed,       // not three base64url parts, or a part not valid base64url
    kBadHeader,       // header not a JSON object, no string `alg`, or `crit` present
    kUnsupportedAlg,  // `alg` other than HS256/RS256/ES256 (including "none")
    kNoKey,           // no configured key for this `alg` (and `kid`)
    kBadSignature,    // no candidate key verifies the signature
    kBadClaims,       // payload not a JSON object, or a time claim not a number
    kExpired,         // `exp` missing or in the past (beyond the skew)
    kNotYetValid,     // `nbf` in the future (beyond the skew)
    kIssuedInFuture,  // `iat` in the future (beyond the skew)
    kWrongIssuer,     // `iss` differs from JWT_ISSUER
    kWrongAudience,   // `aud` does not contain JWT_AUDIENCE
    kBadClientId,     // client claim missing, not a string, empty, too long or not visible ASCII
};
std::string_view to_string(JwtError error);

// Either a client id (error == kNone) or the reason the token was refused.
struct JwtResult {
    JwtError error = JwtError::kMalformed;  // fail closed: a default result is a refusal
    std::string client_id;
    [[nodiscard]] bool ok() const { return error == JwtError::kNone; }
};

struct JwtOptions {
    std::string issuer;    // empty: `iss` not checked
    std::string audience;  // empty: `aud` not checked
    int64_t clock_skew_s = 60;
    std::string client_claim = "sub";
    size_t max_token_bytes = 8192;
};

// Client ids: 1 to 128 visible ASCII characters (0x21-0x7E).
constexpr size_t kMaxClientIdBytes = 128;

class JwtVerifier {
  public:
    // Needs at least one key (std::invalid_argument otherwise).
    JwtVerifier(std::vector<JwtKey> keys, JwtOptions options);

    // Thread-safe: const, shares nothing mutable between calls.
    [[nodiscard]] JwtResult verify(std::string_view token, int64_t now_unix_s) const;

    [[nodiscard]] size_t key_count() const { return keys_.size(); }

  private:
    // Keys that may verify a token with `alg` and `kid` (empty: none given).
    [[nodiscard]] std::vector<const JwtKey*> candidates(JwtAlg alg, std::string_view kid) const;

    std::vector<JwtKey> keys_;
    JwtOptions options_;
};

// The verifier of the JWT_* settings: the HS256 secret, the PEM key and the JWKS keys
// together. nullptr when none of them is set (JWT off). Throws config::ConfigError with a
// one-line message for an unreadable or invalid key file.
std::unique_ptr<JwtVerifier> make_jwt_verifier(const config::Config& cfg);

// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive,
// RFC 6750 §2.1); nullopt for another scheme or an empty token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace cg::auth
