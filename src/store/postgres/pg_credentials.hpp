#pragma once
// CredentialStore over the cluster's PostgreSQL database (one connection, re-opened after a
// failure on the next call).
#include <memory>
#include <string>

#include "store/credential_store.hpp"
#include "store/postgres/pg_conn.hpp"

namespace cg::store::postgres {

class PgCredentials final : public CredentialStore {
  public:
    // Does not connect yet: the first call does (so a service can start while the database is
    // briefly away, and the refresher retries).
    explicit PgCredentials(std::string database_url);

    bool add_api_key(const ApiKeyRecord& key) override;
    bool revoke_api_key(std::string_view key_id, int64_t now_ms) override;
    std::vector<ApiKeyRecord> api_keys() override;
    bool set_client_secrets(std::string_view client_id, std::string_view secrets,
                            int64_t now_ms) override;
    std::vector<ClientSecretsRecord> client_secrets() override;

  private:
    // Runs one statement, turning PgError into StoreError.
    PgResult exec(std::string_view sql, const std::vector<Param>& params);

    std::string url_;
    std::unique_ptr<PgConnection> conn_;
};

}  // namespace cg::store::postgres
