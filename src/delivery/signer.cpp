#include "delivery/signer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.hpp"

namespace cg::delivery {

std::optional<SigningKeys> SigningKeys::from_secrets(const std::vector<std::string>& secrets,
                                                     std::string* error) {
    constexpr std::string_view kPrefix = "whsec_";
    std::vector<std::string> keys;
    keys.reserve(secrets.size());
    for (size_t i = 0; i < secrets.size(); ++i) {
        const std::string_view secret = secrets[i];
        const std::string which =
            "signing secret " + std::to_string(i + 1) + " of " + std::to_string(secrets.size());
        if (secret.substr(0, kPrefix.size()) != kPrefix) {
            if (error) *error = which + " must start with whsec_";
            return std::nullopt;
        }
        auto key = base64_decode(secret.substr(kPrefix.size()));
        if (!key || key->empty()) {
            if (error) *error = which + ": the part after whsec_ must be non-empty base64";
            return std::nullopt;
        }
        keys.push_back(std::move(*key));
    }
    return SigningKeys(std::move(keys));
}

std::string SigningKeys::sign(std::string_view msg_id, int64_t timestamp_s,
                              std::string_view body) const {
    if (keys_.empty()) return {};
    std::string message;
    message.reserve(msg_id.size() + body.size() + 24);
    message.append(msg_id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
    std::string header;
    header.reserve(keys_.size() * 48);
    for (const auto& key : keys_) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
        if (!header.empty()) header += ' ';
        header += "v1,";
        header += base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
    }
    return header;
}

}  // namespace cg::delivery
