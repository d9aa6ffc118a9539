#include "auth/jwt_verifier.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/base64.hpp"
#include "common/text.hpp"
#include "config/config.hpp"

namespace cg::auth {

namespace {

namespace json = boost::json;

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigDeleter {
    void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

std::optional<json::object> parse_object(std::string_view text) {
    json::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    auto v = json::parse(text, ec, {}, opts);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

bool verify_hs256(const JwtKey& key, std::string_view input, std::string_view sig) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len)) {
        return false;
    }
    return sig.size() == mac_len && CRYPTO_memcmp(mac, sig.data(), mac_len) == 0;
}

// JWS ES256 signatures are r||s, 32 bytes each (RFC 7518 §3.4); EVP wants DER.
std::optional<std::string> es256_to_der(std::string_view sig) {
    if (sig.size() != 64) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> ecdsa(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(p, 32, nullptr);
    BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
    if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (len <= 0) return std::nullopt;
    std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    return out;
}

bool verify_pkey(const JwtKey& key, std::string_view input, std::string_view sig) {
    std::string der;
    if (key.alg == JwtAlg::kEs256) {
        auto converted = es256_to_der(sig);
        if (!converted) return false;
        der = std::move(*converted);
        sig = der;
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    // RSA keys default to PKCS #1 v1.5 padding, which RS256 is (RFC 7518 §3.3).
    return ctx &&
           EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size()) == 1;
}

// A NumericDate (RFC 7519 §2): seconds, possibly fractional. A fraction is rounded down, so
// any instant moves by less than a second. nullopt when not a number.
std::optional<int64_t> numeric_date(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) return std::numeric_limits<int64_t>::max();  // beyond int64: far future
    if (v.is_double()) {
        const double d = v.get_double();
        if (!std::isfinite(d)) return std::nullopt;
        if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
        if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
        return static_cast<int64_t>(std::floor(d));
    }
    return std::nullopt;
}

bool valid_token_client_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxClientIdBytes) return false;
    for (const char c : id) {
        if (c < 0x21 || c > 0x7E) return false;
    }
    return true;
}

JwtResult refuse(JwtError e) {
    ERR_clear_error();  // failed OpenSSL calls queue errors on this thread
    return JwtResult{e, {}};
}

}  // namespace

std::string_view to_string(JwtError error) {
    switch (error) {
        case JwtError::kNone:
            return "ok";
        case JwtError::kTooLong:
            return "token too long";
        case JwtError::kMalformed:
            return "malformed token";
        case JwtError::kBadHeader:
            return "bad header";
        case JwtError::kUnsupportedAlg:
            return "unsupported alg";
        case JwtError::kNoKey:
            return "no key for alg/kid";
        case JwtError::kBadSignature:
            return "bad signature";
        case JwtError::kBadClaims:
            return "bad claims";
        case JwtError::kExpired:
            return "expired or no exp";
        case JwtError::kNotYetValid:
            return "not yet valid (nbf)";
        case JwtError::kIssuedInFuture:
            return "issued in the future (iat)";
        case JwtError::kWrongIssuer:
            return "wrong issuer";
        case JwtError::kWrongAudience:
            return "wrong audience";
        case JwtError::kBadClientId:
            return "missing or invalid client claim";
    }
    return "?";
}

JwtVerifier::JwtVerifier(std::vector<JwtKey> keys, JwtOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {
    if (keys_.empty()) throw std::invalid_argument("JwtVerifier needs at least one key");
}

std::vector<const JwtKey*> JwtVerifier::candidates(JwtAlg alg, std::string_view kid) const {
    std::vector<const JwtKey*> out;
    if (!kid.empty()) {
        for (const auto& k : keys_) {
            if (k.alg == alg && k.kid == kid) out.push_back(&k);
        }
        if (!out.empty()) return out;
        // An unknown kid may still be meant for a key that has none (the PEM key, the secret).
        for (const auto& k : keys_) {
            if (k.alg == alg && k.kid.empty()) out.push_back(&k);
        }
        return out;
    }
    for (const auto& k : keys_) {
        if (k.alg == alg) out.push_back(&k);
    }
    return out;
}

JwtResult JwtVerifier::verify(std::string_view token, int64_t now_unix_s) const {
    if (token.size() > options_.max_token_bytes) return refuse(JwtError::kTooLong);
    const auto dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return refuse(JwtError::kMalformed);
    const auto dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return refuse(JwtError::kMalformed);
    }
    const auto header_b64 = token.substr(0, dot1);
    const auto payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const auto sig_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return refuse(JwtError::kMalformed);

    const auto header_text = base64url_decode(header_b64);
    if (!header_text) return refuse(JwtError::kMalformed);
    const auto header = parse_object(*header_text);
    if (!header) return refuse(JwtError::kBadHeader);
    const auto* alg_v = header->if_contains("alg");
    if (!alg_v || !alg_v->is_string()) return refuse(JwtError::kBadHeader);
    // Extensions we do not implement must make the token invalid (RFC 7515 §4.1.11).
    if (header->contains("crit")) return refuse(JwtError::kBadHeader);
    const auto alg = parse_alg(alg_v->as_string());
    if (!alg) return refuse(JwtError::kUnsupportedAlg);
    std::string_view kid;
    if (const auto* k = header->if_contains("kid")) {
        if (!k->is_string()) return refuse(JwtError::kBadHeader);
        kid = k->as_string();
    }

    const auto keys = candidates(*alg, kid);
    if (keys.empty()) return refuse(JwtError::kNoKey);
    const auto sig = base64url_decode(sig_b64);
    if (!sig || sig->empty()) return refuse(JwtError::kMalformed);
    const auto signing_input = token.substr(0, dot2);
    bool verified = false;
    for (const JwtKey* key : keys) {
        verified = key->alg == JwtAlg::kHs256 ? verify_hs256(*key, signing_input, *sig)
                                              : verify_pkey(*key, signing_input, *sig);
        if (verified) break;
    }
    if (!verified) return refuse(JwtError::kBadSignature);
    ERR_clear_error();  // candidates tried before the matching one may have queued errors

    const auto payload_text = base64url_decode(payload_b64);
    if (!payload_text) return refuse(JwtError::kMalformed);
    const auto claims = parse_object(*payload_text);
    if (!claims) return refuse(JwtError::kBadClaims);

    const int64_t skew = options_.clock_skew_s;
    const auto* exp_v = claims->if_contains("exp");
    if (!exp_v) return refuse(JwtError::kExpired);
    const auto exp = numeric_date(*exp_v);
    if (!exp) return refuse(JwtError::kBadClaims);
    // Valid while now < exp (RFC 7519 §4.1.4), widened by the skew.
    if (now_unix_s - skew >= *exp) return refuse(JwtError::kExpired);
    if (const auto* v = claims->if_contains("nbf")) {
        const auto nbf = numeric_date(*v);
        if (!nbf) return refuse(JwtError::kBadClaims);
        if (now_unix_s + skew < *nbf) return refuse(JwtError::kNotYetValid);
    }
    if (const auto* v = claims->if_contains("iat")) {
        const auto iat = numeric_date(*v);
        if (!iat) return refuse(JwtError::kBadClaims);
        if (*iat > now_unix_s + skew) return refuse(JwtError::kIssuedInFuture);
    }
    if (!options_.issuer.empty()) {
        const auto* iss = claims->if_contains("iss");
        if (!iss || !iss->is_string() || iss->as_string() != options_.issuer) {
            return refuse(JwtError::kWrongIssuer);
        }
    }
    if (!options_.audience.empty()) {
        const auto* aud = claims->if_contains("aud");
        bool found = false;
        if (aud && aud->is_string()) {
            found = aud->as_string() == options_.audience;
        } else if (aud && aud->is_array()) {
            for (const auto& a : aud->as_array()) {
                if (a.is_string() && a.as_string() == options_.audience) found = true;
            }
        }
        if (!found) return refuse(JwtError::kWrongAudience);
    }
    const auto* id = claims->if_contains(options_.client_claim);
    if (!id || !id->is_string() || !valid_token_client_id(id->as_string())) {
        return refuse(JwtError::kBadClientId);
    }
    return JwtResult{JwtError::kNone, std::string(id->as_string())};
}

std::unique_ptr<JwtVerifier> make_jwt_verifier(const config::Config& cfg) {
    if (!cfg.jwt_enabled()) return nullptr;
    std::vector<JwtKey> keys;
    if (!cfg.jwt_hs256_secret.empty()) keys.push_back(hs256_key(cfg.jwt_hs256_secret));
    if (!cfg.jwt_public_key_file.empty()) {
        keys.push_back(load_pem_public_key(cfg.jwt_public_key_file));
    }
    if (!cfg.jwt_jwks_file.empty()) {
        for (auto& k : load_jwks_file(cfg.jwt_jwks_file)) keys.push_back(std::move(k));
    }
    JwtOptions options{cfg.jwt_issuer, cfg.jwt_audience, cfg.jwt_clock_skew_s, cfg.jwt_client_claim,
                       8192};
    return std::make_unique<JwtVerifier>(std::move(keys), std::move(options));
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
    constexpr std::string_view kScheme = "bearer ";
    if (authorization.size() <= kScheme.size() ||
        to_lower_ascii(authorization.substr(0, kScheme.size())) != kScheme) {
        return std::nullopt;
    }
    auto token = authorization.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty()) return std::nullopt;
    return token;
}

}  // namespace cg::auth
