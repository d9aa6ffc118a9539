#pragma once
// `chargegate api-key ...` and `chargegate client-secrets ...`: managing API clients'
// credentials in the configured store (embedded or cluster), while the service runs or not.
// A running service picks changes up within API_KEYS_REFRESH_MS.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cg::cli {

// Prints the new key (once: only its hash is stored) and its id. Returns the exit code.
int create_api_key(const config::Config& cfg, const std::string& client_id,
                   const std::string& label);
// One line per key: id, client, created, state, label. Never a secret.
int list_api_keys(const config::Config& cfg);
int revoke_api_key(const config::Config& cfg, const std::string& key_id);

// Replaces the client's webhook secrets (each `whsec_<base64>`; all of them sign, so a receiver
// holding any one verifies: add the new one, let receivers switch, then drop the old one).
int set_client_secrets(const config::Config& cfg, const std::string& client_id,
                       const std::vector<std::string>& secrets);
int clear_client_secrets(const config::Config& cfg, const std::string& client_id);
// One line per client: its id, how many secrets, when they changed. Never a secret.
int list_client_secrets(const config::Config& cfg);

}  // namespace cg::cli
