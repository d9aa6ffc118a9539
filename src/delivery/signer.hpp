#pragma once
// Standard Webhooks signatures: `v1,<base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))>`
// where the key is the base64-decoded part of a `whsec_<base64>` secret. Several secrets
// (rotation: old and new side by side) give several signatures, space-separated, which the
// Standard Webhooks verifiers accept when any one of them matches.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg::delivery {

// Decoded signing keys, in the order their secrets were given. Immutable once built, so one
// object may sign on any number of threads; build it once per secret list (start-up, or when
// a client's secrets change), not per callback.
class SigningKeys {
  public:
    SigningKeys() = default;  // no keys: callbacks go unsigned

    // One key per secret, in order (config::Config::callback_signing_secrets is such a list).
    // nullopt (and `error` set, naming the 1-based position but never the secret) when a secret
    // lacks the `whsec_` prefix or is not non-empty base64.
    static std::optional<SigningKeys> from_secrets(const std::vector<std::string>& secrets,
                                                   std::string* error);

    [[nodiscard]] bool empty() const { return keys_.empty(); }
    [[nodiscard]] size_t size() const { return keys_.size(); }

    // The `webhook-signature` header value: one `v1,<sig>` per key, in key order, separated by
    // single spaces; "" when there are no keys.
    [[nodiscard]] std::string sign(std::string_view msg_id, int64_t timestamp_s,
                                   std::string_view body) const;

  private:
    explicit SigningKeys(std::vector<std::string> keys) : keys_(std::move(keys)) {}
    std::vector<std::string> keys_;
};

}  // namespace cg::delivery
