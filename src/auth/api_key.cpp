#include "auth/api_key.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace cg::auth {

namespace {

constexpr std::string_view kPrefix = "cgk_";
constexpr size_t kIdHex = 16;
constexpr size_t kSecretHex = 64;

std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        throw std::runtime_error("the system's random generator failed");
    }
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 0x0F]);
    }
    return out;
}

bool lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

bool valid_client_id(std::string_view client_id) {
    if (client_id.empty() || client_id.size() > 128) return false;
    for (char c : client_id) {
        if (c <= 0x20 || c >= 0x7F) return false;
    }
    return true;
}

NewApiKey generate_api_key(const std::string& client_id, const std::string& label, int64_t now_ms) {
    NewApiKey out;
    const std::string id = random_hex(kIdHex / 2);
    const std::string secret = random_hex(kSecretHex / 2);
    out.key = std::string(kPrefix) + id + "_" + secret;
    out.record.key_id = id;
    out.record.client_id = client_id;
    out.record.secret_hash = hash_secret(secret);
    out.record.label = label;
    out.record.created_at_ms = now_ms;
    return out;
}

std::optional<ParsedApiKey> parse_api_key(std::string_view key) {
    if (key.size() != kPrefix.size() + kIdHex + 1 + kSecretHex) return std::nullopt;
    if (key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    const auto id = key.substr(kPrefix.size(), kIdHex);
    if (key[kPrefix.size() + kIdHex] != '_') return std::nullopt;
    const auto secret = key.substr(kPrefix.size() + kIdHex + 1);
    if (!lower_hex(id) || !lower_hex(secret)) return std::nullopt;
    return ParsedApiKey{std::string(id), std::string(secret)};
}

store::SecretHash hash_secret(std::string_view secret) {
    store::SecretHash h{};
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), h.data());
    return h;
}

bool secret_matches(const store::ApiKeyRecord& record, std::string_view secret) {
    const auto h = hash_secret(secret);
    return CRYPTO_memcmp(h.data(), record.secret_hash.data(), h.size()) == 0;
}

}  // namespace cg::auth
