#include "cli/client_commands.hpp"

#include <cstdio>
#include <stdexcept>

#include "app/backends.hpp"
#include "auth/api_key.hpp"
#include "common/clock.hpp"
#include "common/text.hpp"
#include "delivery/signer.hpp"
#include "obs/log.hpp"

namespace cg::cli {

namespace {

std::unique_ptr<store::CredentialStore> open(const config::Config& cfg) {
    obs::init_logging(config::LogLevel::kWarn);
    return app::open_credentials(cfg, true);
}

void check_client_id(const std::string& client_id) {
    if (!auth::valid_client_id(client_id)) {
        throw std::runtime_error("client id must be 1-128 visible ASCII characters without spaces");
    }
}

int64_t now_ms() { return SystemClock().now_ms(); }

}  // namespace

int create_api_key(const config::Config& cfg, const std::string& client_id,
                   const std::string& label) {
    check_client_id(client_id);
    if (label.size() > 200) throw std::runtime_error("--label: at most 200 characters");
    auto store = open(cfg);
    for (int attempt = 0; attempt < 3; ++attempt) {  // a clash of 64 random bits: try again
        auto fresh = auth::generate_api_key(client_id, label, now_ms());
        if (!store->add_api_key(fresh.record)) continue;
        std::printf("%s\n", fresh.key.c_str());
        std::fprintf(stderr,
                     "created API key %s for client %s; this is the only time the key is shown\n",
                     fresh.record.key_id.c_str(), client_id.c_str());
        return 0;
    }
    throw std::runtime_error("could not store a new API key");
}

int list_api_keys(const config::Config& cfg) {
    auto store = open(cfg);
    std::printf("%-16s  %-24s  %-24s  %-32s  %s\n", "KEY_ID", "CLIENT", "CREATED", "STATE",
                "LABEL");
    for (const auto& k : store->api_keys()) {
        const std::string state =
            k.revoked_at_ms ? "revoked " + format_rfc3339_ms(*k.revoked_at_ms) : "active";
        std::printf("%-16s  %-24s  %-24s  %-32s  %s\n", k.key_id.c_str(), k.client_id.c_str(),
                    format_rfc3339_ms(k.created_at_ms).c_str(), state.c_str(), k.label.c_str());
    }
    return 0;
}

int revoke_api_key(const config::Config& cfg, const std::string& key_id) {
    auto store = open(cfg);
    if (!store->revoke_api_key(key_id, now_ms())) {
        throw std::runtime_error("no API key with id " + key_id);
    }
    std::printf("revoked API key %s; running services refuse it within %lld ms\n", key_id.c_str(),
                static_cast<long long>(cfg.api_keys_refresh_ms));
    return 0;
}

int set_client_secrets(const config::Config& cfg, const std::string& client_id,
                       const std::vector<std::string>& secrets) {
    check_client_id(client_id);
    if (secrets.empty()) throw std::runtime_error("give at least one whsec_ secret");
    std::string error;
    if (!delivery::SigningKeys::from_secrets(secrets, &error)) throw std::runtime_error(error);
    std::string joined;
    for (const auto& s : secrets) {
        if (!joined.empty()) joined += ' ';
        joined += s;
    }
    auto store = open(cfg);
    store->set_client_secrets(client_id, joined, now_ms());
    std::printf("client %s: %zu webhook secret(s) set; its callbacks are signed with each\n",
                client_id.c_str(), secrets.size());
    return 0;
}

int clear_client_secrets(const config::Config& cfg, const std::string& client_id) {
    check_client_id(client_id);
    auto store = open(cfg);
    if (!store->set_client_secrets(client_id, "", now_ms())) {
        throw std::runtime_error("client " + client_id + " has no webhook secrets");
    }
    std::printf("client %s: webhook secrets removed; CALLBACK_SIGNING_SECRET applies again\n",
                client_id.c_str());
    return 0;
}

int list_client_secrets(const config::Config& cfg) {
    auto store = open(cfg);
    std::printf("%-24s  %-7s  %s\n", "CLIENT", "SECRETS", "UPDATED");
    for (const auto& c : store->client_secrets()) {
        size_t n = 0;
        for (size_t i = 0; i < c.secrets.size();) {
            const auto b = c.secrets.find_first_not_of(' ', i);
            if (b == std::string::npos) break;
            ++n;
            i = c.secrets.find(' ', b);
            if (i == std::string::npos) break;
        }
        std::printf("%-24s  %-7zu  %s\n", c.client_id.c_str(), n,
                    format_rfc3339_ms(c.updated_at_ms).c_str());
    }
    return 0;
}

}  // namespace cg::cli
