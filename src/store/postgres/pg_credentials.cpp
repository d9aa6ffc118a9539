#include "store/postgres/pg_credentials.hpp"

#include <cstring>

#include "store/store_error.hpp"

namespace cg::store::postgres {

PgCredentials::PgCredentials(std::string database_url) : url_(std::move(database_url)) {}

PgResult PgCredentials::exec(std::string_view sql, const std::vector<Param>& params) {
    try {
        if (!conn_) conn_ = std::make_unique<PgConnection>(url_);
        return conn_->exec(sql, params);
    } catch (const PgError& e) {
        if (e.environmental()) conn_.reset();
        throw StoreError(std::string("PostgreSQL: ") + e.what());
    }
}

bool PgCredentials::add_api_key(const ApiKeyRecord& key) {
    const auto r = exec(
        "INSERT INTO api_keys (key_id, client_id, secret_hash, label, created_at)"
        " VALUES ($1, $2, $3::bytea, $4, $5) ON CONFLICT (key_id) DO NOTHING",
        {key.key_id, key.client_id, bytea_hex(key.secret_hash.data(), key.secret_hash.size()),
         key.label, std::to_string(key.created_at_ms)});
    return r.affected() == 1;
}

bool PgCredentials::revoke_api_key(std::string_view key_id, int64_t now_ms) {
    const auto r =
        exec("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE key_id = $1",
             {std::string(key_id), std::to_string(now_ms)});
    return r.affected() == 1;
}

std::vector<ApiKeyRecord> PgCredentials::api_keys() {
    const auto r = exec(
        "SELECT key_id, client_id, secret_hash, label, created_at, revoked_at FROM api_keys"
        " ORDER BY created_at, key_id",
        {});
    std::vector<ApiKeyRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
        ApiKeyRecord k;
        const auto hash = r.bytes(i, 2);
        if (hash.size() != k.secret_hash.size()) continue;  // never written by chargegate
        std::memcpy(k.secret_hash.data(), hash.data(), hash.size());
        k.key_id = r.text(i, 0);
        k.client_id = r.text(i, 1);
        k.label = r.text(i, 3);
        k.created_at_ms = r.int64(i, 4);
        k.revoked_at_ms = r.opt_int64(i, 5);
        out.push_back(std::move(k));
    }
    return out;
}

bool PgCredentials::set_client_secrets(std::string_view client_id, std::string_view secrets,
                                       int64_t now_ms) {
    if (secrets.empty()) {
        const auto r = exec("DELETE FROM client_webhook_secrets WHERE client_id = $1",
                            {std::string(client_id)});
        return r.affected() == 1;
    }
    exec(
        "INSERT INTO client_webhook_secrets (client_id, secrets, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (client_id) DO UPDATE SET secrets = EXCLUDED.secrets,"
        " updated_at = EXCLUDED.updated_at",
        {std::string(client_id), std::string(secrets), std::to_string(now_ms)});
    return true;
}

std::vector<ClientSecretsRecord> PgCredentials::client_secrets() {
    const auto r = exec(
        "SELECT client_id, secrets, updated_at FROM client_webhook_secrets ORDER BY client_id", {});
    std::vector<ClientSecretsRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return out;
}

}  // namespace cg::store::postgres
