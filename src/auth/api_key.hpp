#pragma once
// API keys: `cgk_<key_id>_<secret>`, the key id 16 hex digits (public: it names the key in
// listings and logs), the secret 64 hex digits (32 random bytes from OpenSSL's CSPRNG). Only
// SHA-256 of the secret is stored; with 256 random bits a plain hash is enough (no password
// stretching needed: there is nothing to guess from).
#include <optional>
#include <string>
#include <string_view>

#include "store/credential_store.hpp"

namespace cg::auth {

struct ParsedApiKey {
    std::string key_id;
    std::string secret;
};

struct NewApiKey {
    std::string key;  // shown once, never stored
    store::ApiKeyRecord record;
};

// A client id: 1–128 characters, each a visible ASCII character other than space.
bool valid_client_id(std::string_view client_id);

// A fresh key for `client_id`. Throws std::runtime_error if the CSPRNG fails.
NewApiKey generate_api_key(const std::string& client_id, const std::string& label, int64_t now_ms);

// Splits a presented key; nullopt unless it has the exact shape.
std::optional<ParsedApiKey> parse_api_key(std::string_view key);

store::SecretHash hash_secret(std::string_view secret);

// True when `presented`'s secret hashes to `record`'s stored hash (constant time).
bool secret_matches(const store::ApiKeyRecord& record, std::string_view secret);

}  // namespace cg::auth
