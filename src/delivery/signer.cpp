#include "delivery/signer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

namespace cg::delivery {

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
        if (!ok) return std::nullopt;
    }
    std::string out(3 * text.size() / 4, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts padding bytes as data; drop one byte per '='.
    size_t len = static_cast<size_t>(n);
    if (text.back() == '=') --len;
    if (text.size() > 1 && text[text.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

std::optional<WebhookSigner> WebhookSigner::from_secret(std::string_view secret,
                                                        std::string* error) {
    constexpr std::string_view kPrefix = "whsec_";
    if (secret.substr(0, kPrefix.size()) != kPrefix) {
        if (error) *error = "signing secret must start with whsec_";
        return std::nullopt;
    }
    auto key = base64_decode(secret.substr(kPrefix.size()));
    if (!key || key->empty()) {
        if (error) *error = "signing secret after whsec_ must be non-empty base64";
        return std::nullopt;
    }
    return WebhookSigner(std::move(*key));
}

std::string WebhookSigner::sign(std::string_view msg_id, int64_t timestamp_s,
                                std::string_view body) const {
    std::string message;
    message.reserve(msg_id.size() + body.size() + 24);
    message.append(msg_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
    return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace cg::delivery
