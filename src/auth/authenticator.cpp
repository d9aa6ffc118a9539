#include "auth/authenticator.hpp"

#include "auth/jwt_verifier.hpp"
#include "common/text.hpp"
#include "obs/log.hpp"

namespace cg::auth {

namespace {

constexpr size_t kMaxCredential = 8192;

AuthResult refuse(const char* reason) {
    obs::log_debug("request refused: invalid credentials").kv("reason", reason);
    return {};
}

}  // namespace

Authenticator::Authenticator(bool required, const CredentialDirectory* keys, JwtCheck jwt)
    : required_(required), keys_(keys), jwt_(std::move(jwt)) {}

AuthResult Authenticator::authenticate(std::string_view authorization, std::string_view api_key,
                                       int64_t now_unix_s) const {
    if (!required_) return {true, {}};
    std::string_view credential = trim_ascii(api_key);
    if (credential.empty()) {
        const auto auth = trim_ascii(authorization);
        const auto token = bearer_token(auth);
        if (!token) return refuse(auth.empty() ? "no credentials" : "not a bearer credential");
        credential = *token;
    }
    if (credential.empty() || credential.size() > kMaxCredential) return refuse("bad length");
    if (credential.substr(0, 4) == "cgk_") {
        if (keys_ == nullptr) return refuse("API keys are not in use");
        if (auto client = keys_->client_for_key(credential)) return {true, std::move(*client)};
        return refuse("unknown, revoked or wrong API key");
    }
    if (!jwt_) return refuse("not an API key, and JWTs are not configured");
    std::string reason;
    if (auto client = jwt_(credential, now_unix_s, reason)) return {true, std::move(*client)};
    obs::log_debug("request refused: invalid credentials").kv("reason", "JWT: " + reason);
    return {};
}

}  // namespace cg::auth
