#pragma once
// Standard Webhooks signatures: `v1,<base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))>`
// where the key is the base64-decoded part of a `whsec_<base64>` secret.
#include <optional>
#include <string>
#include <string_view>

namespace cg::delivery {

class WebhookSigner {
  public:
    // nullopt (and `error` set) when the secret lacks the prefix or is not valid base64.
    static std::optional<WebhookSigner> from_secret(std::string_view secret, std::string* error);

    [[nodiscard]] std::string sign(std::string_view msg_id, int64_t timestamp_s,
                                   std::string_view body) const;

  private:
    explicit WebhookSigner(std::string key) : key_(std::move(key)) {}
    std::string key_;
};

// Base64 via OpenSSL; decode returns nullopt for malformed input.
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cg::delivery
