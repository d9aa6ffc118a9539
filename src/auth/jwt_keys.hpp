#pragma once
// Verification keys for JWT bearer tokens: an HS256 shared secret, a PEM public key, or the
// keys of a JWKS file (RFC 7517), each bound to the one algorithm its type allows, so that a
// token's `alg` can never make a key be used another way (RFC 8725 §2.1, §3.1).
#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg::auth {

enum class JwtAlg { kHs256, kRs256, kEs256 };

// "HS256", "RS256", "ES256" (case-sensitive, RFC 7518 §3.1); nullopt for anything else,
// including "none".
std::optional<JwtAlg> parse_alg(std::string_view name);
std::string_view to_string(JwtAlg alg);

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// One key. Immutable after loading; OpenSSL allows one EVP_PKEY to verify on many threads.
struct JwtKey {
    JwtAlg alg = JwtAlg::kHs256;  // the only algorithm this key verifies
    std::string kid;              // JWKS `kid`; empty for the PEM key, the secret, or none
    std::string secret;           // HS256 only
    PkeyPtr pkey;                 // RS256 (RSA, 2048 bits or more) and ES256 (EC P-256) only
};

// The loaders throw config::ConfigError with a one-line message naming the setting.
JwtKey hs256_key(std::string secret);
// A PEM "PUBLIC KEY" (SubjectPublicKeyInfo): RSA of at least 2048 bits or EC P-256.
JwtKey load_pem_public_key(const std::string& path);
// The keys of a JWKS file. Keys not meant for signing (`use` other than "sig"), of another
// type or curve (e.g. OKP, P-384) or declaring another `alg` (e.g. RS512) are skipped; a
// malformed RSA or P-256 key is an error, and so is a file without any usable key.
std::vector<JwtKey> load_jwks_file(const std::string& path);
// The same from JWKS text; `setting` prefixes error messages.
std::vector<JwtKey> parse_jwks(std::string_view json, std::string_view setting);

}  // namespace cg::auth
