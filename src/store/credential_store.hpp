#pragma once
// API clients' credentials: API keys (stored as a hash of their secret part) and each client's
// own webhook signing secrets. Rare, small writes (the CLI) and whole-table reads (a refresher
// in the service), so this sits beside the request store instead of inside its group-committed
// writer. Embedded implementation: store/sqlite; cluster: store/postgres.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg::store {

using SecretHash = std::array<uint8_t, 32>;  // SHA-256

struct ApiKeyRecord {
    std::string key_id;     // the public part of the key, unique
    std::string client_id;  // who the key speaks for
    SecretHash secret_hash{};
    std::string label;  // free text for operators
    int64_t created_at_ms = 0;
    std::optional<int64_t> revoked_at_ms;
};

struct ClientSecretsRecord {
    std::string client_id;
    std::string secrets;  // space-separated `whsec_...`
    int64_t updated_at_ms = 0;
};

// Not thread-safe: each thread uses its own instance. Every method throws StoreError (one line
// for the operator) when the storage cannot be used.
class CredentialStore {
  public:
    virtual ~CredentialStore() = default;
    // Adds a key; false if its key_id exists already.
    virtual bool add_api_key(const ApiKeyRecord& key) = 0;
    // Marks a key revoked at `now_ms`; false if there is no such key. Revoking twice keeps the
    // first time.
    virtual bool revoke_api_key(std::string_view key_id, int64_t now_ms) = 0;
    // Every key, revoked ones too, oldest first.
    virtual std::vector<ApiKeyRecord> api_keys() = 0;
    // Replaces a client's webhook secrets; empty `secrets` removes them (the client's callbacks
    // are then signed with CALLBACK_SIGNING_SECRET). Returns false when removing absent ones.
    virtual bool set_client_secrets(std::string_view client_id, std::string_view secrets,
                                    int64_t now_ms) = 0;
    virtual std::vector<ClientSecretsRecord> client_secrets() = 0;
};

}  // namespace cg::store
