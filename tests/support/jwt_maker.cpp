#include "support/jwt_maker.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <stdexcept>

namespace cg::test::jwt {

namespace {

// Test helpers fail loudly: a broken fixture must not look like a verifier bug.
void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("jwt_maker: ") + what);
}

EVP_PKEY* mut(const EVP_PKEY& key) { return const_cast<EVP_PKEY*>(&key); }

std::string bn_param(const EVP_PKEY& key, const char* name, size_t pad_to = 0) {
    BIGNUM* bn = nullptr;
    check(EVP_PKEY_get_bn_param(mut(key), name, &bn) == 1, "get_bn_param");
    const size_t len = std::max(pad_to, static_cast<size_t>(BN_num_bytes(bn)));
    std::string out(len, '\0');
    check(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) ==
              static_cast<int>(len),
          "bn2binpad");
    BN_free(bn);
    return out;
}

std::string sign_with(std::string_view alg, std::string_view kid, const boost::json::object& claims,
                      const std::function<std::string(std::string_view)>& signer) {
    boost::json::object header{{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    const auto input =
        signing_input(boost::json::serialize(header), boost::json::serialize(claims));
    return input + "." + b64url(signer(input));
}

}  // namespace

void KeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Key make_rsa_key(unsigned bits) {
    Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
    check(key != nullptr, "RSA keygen");
    return key;
}

Key make_ec_key() {
    Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    check(key != nullptr, "EC keygen");
    return key;
}

std::string public_pem(const EVP_PKEY& key) {
    BIO* bio = BIO_new(BIO_s_mem());
    check(bio && PEM_write_bio_PUBKEY(bio, mut(key)) == 1, "PEM_write_bio_PUBKEY");
    char* data = nullptr;
    const long len = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

void write_public_pem(const EVP_PKEY& key, const std::filesystem::path& file) {
    std::ofstream(file) << public_pem(key);
}

boost::json::object public_jwk(const EVP_PKEY& key, std::string_view kid, std::string_view alg) {
    boost::json::object jwk;
    if (EVP_PKEY_is_a(mut(key), "RSA")) {
        jwk["kty"] = "RSA";
        jwk["n"] = b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N));
        jwk["e"] = b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    } else {
        jwk["kty"] = "EC";
        jwk["crv"] = "P-256";
        jwk["x"] = b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32));
        jwk["y"] = b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    }
    if (!kid.empty()) jwk["kid"] = kid;
    if (!alg.empty()) jwk["alg"] = alg;
    return jwk;
}

void write_jwks(const std::vector<boost::json::object>& keys, const std::filesystem::path& file) {
    boost::json::array arr;
    for (const auto& k : keys) arr.push_back(k);
    std::ofstream(file) << boost::json::serialize(boost::json::object{{"keys", arr}});
}

std::string b64url(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

std::string signing_input(std::string_view header_json, std::string_view claims_json) {
    return b64url(header_json) + "." + b64url(claims_json);
}

std::string hs256_signature(std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    check(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
               &len) != nullptr,
          "HMAC");
    return std::string(reinterpret_cast<const char*>(mac), len);
}

namespace {
std::string digest_sign(const EVP_PKEY& key, std::string_view input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    check(
        ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, mut(key)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1,
        "DigestSign size");
    std::string sig(len, '\0');
    check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
          "DigestSign");
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
}
}  // namespace

std::string rs256_signature(const EVP_PKEY& key, std::string_view input) {
    return digest_sign(key, input);
}

std::string es256_signature(const EVP_PKEY& key, std::string_view input) {
    const std::string der = digest_sign(key, input);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    check(sig != nullptr, "d2i_ECDSA_SIG");
    std::string out(64, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    check(BN_bn2binpad(ECDSA_SIG_get0_r(sig), o, 32) == 32 &&
              BN_bn2binpad(ECDSA_SIG_get0_s(sig), o + 32, 32) == 32,
          "r||s");
    ECDSA_SIG_free(sig);
    return out;
}

std::string sign_hs256(std::string_view secret, const boost::json::object& claims,
                       std::string_view kid) {
    return sign_with("HS256", kid, claims,
                     [&](std::string_view input) { return hs256_signature(secret, input); });
}

std::string sign_rs256(const EVP_PKEY& key, const boost::json::object& claims,
                       std::string_view kid) {
    return sign_with("RS256", kid, claims,
                     [&](std::string_view input) { return rs256_signature(key, input); });
}

std::string sign_es256(const EVP_PKEY& key, const boost::json::object& claims,
                       std::string_view kid) {
    return sign_with("ES256", kid, claims,
                     [&](std::string_view input) { return es256_signature(key, input); });
}

boost::json::object claims_at(int64_t now, std::string_view subject, int64_t lifetime_s) {
    return boost::json::object{{"sub", subject}, {"iat", now}, {"exp", now + lifetime_s}};
}

}  // namespace cg::test::jwt
