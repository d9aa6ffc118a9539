#include "auth/jwt_keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "common/base64.hpp"
#include "config/config.hpp"

namespace cg::auth {

namespace {

using config::ConfigError;
namespace json = boost::json;

constexpr size_t kMaxKeyFileBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;

struct BnDeleter {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BldDeleter {
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};

// Raises ConfigError after dropping OpenSSL's queued errors (they would otherwise surface in
// an unrelated later call on this thread).
[[noreturn]] void fail(std::string_view setting, const std::string& what) {
    ERR_clear_error();
    throw ConfigError(std::string(setting) + ": " + what);
}

std::string read_file(const std::string& path, std::string_view setting) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(setting, path + " cannot be read");
    std::string text;
    text.resize(kMaxKeyFileBytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxKeyFileBytes) fail(setting, path + " is larger than 1 MiB");
    return text;
}

bool is_p256(EVP_PKEY* key) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
        return false;
    }
    const std::string_view name(group, len);
    return name == "prime256v1" || name == "P-256";
}

// Binds a public key to its algorithm by type; `what` names it in errors.
JwtKey key_from_pkey(PkeyPtr pkey, std::string kid, std::string_view setting,
                     const std::string& what) {
    JwtKey key;
    key.kid = std::move(kid);
    if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
        if (EVP_PKEY_get_bits(pkey.get()) < kMinRsaBits) {
            fail(setting, what + " is an RSA key of fewer than 2048 bits");
        }
        key.alg = JwtAlg::kRs256;
    } else if (EVP_PKEY_is_a(pkey.get(), "EC") && is_p256(pkey.get())) {
        key.alg = JwtAlg::kEs256;
    } else {
        fail(setting, what + " is neither an RSA nor an EC P-256 public key");
    }
    key.pkey = std::move(pkey);
    return key;
}

std::optional<std::string> member_string(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
}

// A base64url member of a JWK, decoded; an error when missing or malformed.
std::string b64_member(const json::object& o, std::string_view name, std::string_view setting,
                       const std::string& what) {
    const auto text = member_string(o, name);
    if (!text) fail(setting, what + ": member \"" + std::string(name) + "\" missing");
    auto bytes = base64url_decode(*text);
    if (!bytes || bytes->empty()) {
        fail(setting, what + ": member \"" + std::string(name) + "\" is not base64url");
    }
    return std::move(*bytes);
}

PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, std::string_view setting,
                         const std::string& what) {
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        fail(setting, what + " is not a valid public key");
    }
    PkeyPtr pkey(raw);
    // fromdata takes the numbers as given; make OpenSSL check them (an EC point on the curve,
    // a sane RSA modulus and exponent).
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        fail(setting, what + " is not a valid public key");
    }
    return pkey;
}

PkeyPtr rsa_from_jwk(const json::object& jwk, std::string_view setting, const std::string& what) {
    const auto n = b64_member(jwk, "n", setting, what);
    const auto e = b64_member(jwk, "e", setting, what);
    std::unique_ptr<BIGNUM, BnDeleter> bn_n(BN_bin2bn(
        reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> bn_e(BN_bin2bn(
        reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        fail(setting, what + ": out of memory");
    }
    return pkey_from_params("RSA", bld.get(), setting, what);
}

PkeyPtr ec_from_jwk(const json::object& jwk, std::string_view setting, const std::string& what) {
    const auto x = b64_member(jwk, "x", setting, what);
    const auto y = b64_member(jwk, "y", setting, what);
    if (x.size() != 32 || y.size() != 32) {
        fail(setting, what + ": P-256 coordinates must be 32 bytes each");
    }
    const std::string point = std::string(1, '\x04') + x + y;  // uncompressed (SEC 1 §2.3.3)
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        fail(setting, what + ": out of memory");
    }
    return pkey_from_params("EC", bld.get(), setting, what);
}

}  // namespace

std::optional<JwtAlg> parse_alg(std::string_view name) {
    if (name == "HS256") return JwtAlg::kHs256;
    if (name == "RS256") return JwtAlg::kRs256;
    if (name == "ES256") return JwtAlg::kEs256;
    return std::nullopt;
}

std::string_view to_string(JwtAlg alg) {
    switch (alg) {
        case JwtAlg::kHs256:
            return "HS256";
        case JwtAlg::kRs256:
            return "RS256";
        case JwtAlg::kEs256:
            return "ES256";
    }
    return "?";
}

void PkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

JwtKey hs256_key(std::string secret) {
    if (secret.size() < 32) throw ConfigError("JWT_HS256_SECRET: must be at least 32 bytes");
    JwtKey key;
    key.alg = JwtAlg::kHs256;
    key.secret = std::move(secret);
    return key;
}

JwtKey load_pem_public_key(const std::string& path) {
    constexpr std::string_view kSetting = "JWT_PUBLIC_KEY_FILE";
    const auto text = read_file(path, kSetting);
    std::unique_ptr<BIO, BioDeleter> bio(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    PkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!pkey) fail(kSetting, path + " holds no PEM public key (BEGIN PUBLIC KEY)");
    return key_from_pkey(std::move(pkey), {}, kSetting, path);
}

std::vector<JwtKey> parse_jwks(std::string_view text, std::string_view setting) {
    json::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    const auto doc = json::parse(text, ec, {}, opts);
    if (ec || !doc.is_object()) fail(setting, "not a JSON object");
    const auto* keys = doc.as_object().if_contains("keys");
    if (!keys || !keys->is_array()) fail(setting, "no \"keys\" array");
    std::vector<JwtKey> out;
    size_t index = 0;
    for (const auto& v : keys->as_array()) {
        const std::string what = "key " + std::to_string(++index);
        if (!v.is_object()) fail(setting, what + " is not an object");
        const auto& jwk = v.as_object();
        const auto kty = member_string(jwk, "kty");
        if (!kty) fail(setting, what + ": member \"kty\" missing");
        const auto use = member_string(jwk, "use");
        if (use && *use != "sig") continue;
        std::optional<JwtAlg> alg_of_type;
        if (*kty == "RSA") {
            alg_of_type = JwtAlg::kRs256;
        } else if (*kty == "EC" && member_string(jwk, "crv") == "P-256") {
            alg_of_type = JwtAlg::kEs256;
        } else {
            continue;  // another type or curve: never used for the algorithms we accept
        }
        if (const auto declared = member_string(jwk, "alg")) {
            const auto alg = parse_alg(*declared);
            if (alg && *alg != *alg_of_type) {
                fail(setting, what + ": \"alg\" " + *declared + " does not fit kty " + *kty);
            }
            if (!alg) continue;  // meant for another algorithm (RS512, PS256, ...)
        }
        std::string kid;
        if (const auto* k = jwk.if_contains("kid")) {
            if (!k->is_string()) fail(setting, what + ": \"kid\" is not a string");
            kid = std::string(k->as_string());
        }
        const std::string named = kid.empty() ? what : what + " (kid " + kid + ")";
        auto pkey = *alg_of_type == JwtAlg::kRs256 ? rsa_from_jwk(jwk, setting, named)
                                                   : ec_from_jwk(jwk, setting, named);
        out.push_back(key_from_pkey(std::move(pkey), std::move(kid), setting, named));
    }
    if (out.empty()) fail(setting, "no RSA or EC P-256 signing key");
    return out;
}

std::vector<JwtKey> load_jwks_file(const std::string& path) {
    constexpr std::string_view kSetting = "JWT_JWKS_FILE";
    const auto text = read_file(path, kSetting);
    try {
        return parse_jwks(text, kSetting);
    } catch (const ConfigError& e) {
        // Name the file: "JWT_JWKS_FILE: /etc/keys.json: key 2: ..."
        const std::string msg = e.what();
        throw ConfigError(std::string(kSetting) + ": " + path + msg.substr(kSetting.size()));
    }
}

}  // namespace cg::auth
