#pragma once
// Who is calling the public API (docs/api.md §1, §3): an API key (`X-API-Key: <key>` or
// `Authorization: Bearer <key>`) or a JWT bearer token. The answer is a client id, or a refusal
// that says nothing about why (the caller learns only "invalid credentials"; the reason goes to
// the DEBUG log without the credential).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/credential_directory.hpp"

namespace cg::auth {

// Verifies a JWT at `now_unix_s`: the client id, or nullopt with `reason` set.
using JwtCheck = std::function<std::optional<std::string>(std::string_view token,
                                                          int64_t now_unix_s, std::string& reason)>;

struct AuthResult {
    bool ok = false;
    std::string client_id;  // empty when authentication is off
};

class Authenticator {
  public:
    // `required` false: every request is let through anonymously. `keys` may be null (no API
    // keys), `jwt` empty (no JWTs).
    Authenticator(bool required, const CredentialDirectory* keys, JwtCheck jwt);

    [[nodiscard]] bool required() const { return required_; }
    // `authorization` and `api_key` are the raw header values (empty when absent).
    [[nodiscard]] AuthResult authenticate(std::string_view authorization, std::string_view api_key,
                                          int64_t now_unix_s) const;

  private:
    bool required_;
    const CredentialDirectory* keys_;
    JwtCheck jwt_;
};

}  // namespace cg::auth
