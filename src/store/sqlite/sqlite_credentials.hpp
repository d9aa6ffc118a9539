#pragma once
// CredentialStore over the embedded database file (its own connection; SQLite's locking lets
// the CLI write while the service runs).
#include <string>

#include "store/credential_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace cg::store::sqlite {

class SqliteCredentials final : public CredentialStore {
  public:
    // Opens DATA_DIR's database, creating and migrating it when `writable`. Throws StoreError.
    SqliteCredentials(const std::string& data_dir, bool writable);

    bool add_api_key(const ApiKeyRecord& key) override;
    bool revoke_api_key(std::string_view key_id, int64_t now_ms) override;
    std::vector<ApiKeyRecord> api_keys() override;
    bool set_client_secrets(std::string_view client_id, std::string_view secrets,
                            int64_t now_ms) override;
    std::vector<ClientSecretsRecord> client_secrets() override;

  private:
    std::string path_;
    Database db_;
};

}  // namespace cg::store::sqlite
