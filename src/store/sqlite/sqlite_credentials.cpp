#include "store/sqlite/sqlite_credentials.hpp"

#include <cstring>

#include "store/sqlite/schema.hpp"
#include "store/store_error.hpp"

namespace cg::store::sqlite {

namespace {

Database open_database(const std::string& data_dir, const std::string& path, bool writable) {
    if (writable) prepare_data_dir(data_dir);
    try {
        return Database(path);
    } catch (const SqliteError& e) {
        throw StoreError(path + ": " + e.what());
    }
}

// Runs `fn`, turning SQLite failures into StoreError with the file's path.
template <typename Fn>
auto guarded(const std::string& path, Fn&& fn) {
    try {
        return fn();
    } catch (const SqliteError& e) {
        throw StoreError(path + ": " + e.what());
    }
}

}  // namespace

SqliteCredentials::SqliteCredentials(const std::string& data_dir, bool writable)
    : path_(database_path(data_dir)), db_(open_database(data_dir, path_, writable)) {
    configure_connection(db_, path_, writable);
    if (writable) apply_migrations(db_, path_);
}

bool SqliteCredentials::add_api_key(const ApiKeyRecord& key) {
    return guarded(path_, [&] {
        Statement s(db_.handle(),
                    "INSERT OR IGNORE INTO api_keys (key_id, client_id, secret_hash, label, "
                    "created_at) VALUES (?, ?, ?, ?, ?)");
        s.bind(1, key.key_id)
            .bind(2, key.client_id)
            .bind_blob(3, key.secret_hash.data(), key.secret_hash.size())
            .bind(4, key.label)
            .bind(5, key.created_at_ms);
        s.run();
        return db_.changes() == 1;
    });
}

bool SqliteCredentials::revoke_api_key(std::string_view key_id, int64_t now_ms) {
    return guarded(path_, [&] {
        Statement s(db_.handle(),
                    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ?");
        s.bind(1, now_ms).bind(2, key_id);
        s.run();
        return db_.changes() == 1;
    });
}

std::vector<ApiKeyRecord> SqliteCredentials::api_keys() {
    return guarded(path_, [&] {
        Statement s(db_.handle(),
                    "SELECT key_id, client_id, secret_hash, label, created_at, revoked_at "
                    "FROM api_keys ORDER BY created_at, key_id");
        std::vector<ApiKeyRecord> out;
        while (s.step()) {
            ApiKeyRecord k;
            k.key_id = s.text(0);
            k.client_id = s.text(1);
            const auto hash = s.blob(2);
            if (hash.size() == k.secret_hash.size()) {
                std::memcpy(k.secret_hash.data(), hash.data(), hash.size());
            } else {
                continue;  // not a key this binary wrote: it can never match
            }
            k.label = s.text(3);
            k.created_at_ms = s.int64(4);
            k.revoked_at_ms = s.opt_int64(5);
            out.push_back(std::move(k));
        }
        return out;
    });
}

bool SqliteCredentials::set_client_secrets(std::string_view client_id, std::string_view secrets,
                                           int64_t now_ms) {
    return guarded(path_, [&] {
        if (secrets.empty()) {
            Statement s(db_.handle(), "DELETE FROM client_webhook_secrets WHERE client_id = ?");
            s.bind(1, client_id);
            s.run();
            return db_.changes() == 1;
        }
        Statement s(db_.handle(),
                    "INSERT OR REPLACE INTO client_webhook_secrets (client_id, secrets, "
                    "updated_at) VALUES (?, ?, ?)");
        s.bind(1, client_id).bind(2, secrets).bind(3, now_ms);
        s.run();
        return true;
    });
}

std::vector<ClientSecretsRecord> SqliteCredentials::client_secrets() {
    return guarded(path_, [&] {
        Statement s(db_.handle(),
                    "SELECT client_id, secrets, updated_at FROM client_webhook_secrets "
                    "ORDER BY client_id");
        std::vector<ClientSecretsRecord> out;
        while (s.step()) out.push_back({s.text(0), s.text(1), s.int64(2)});
        return out;
    });
}

}  // namespace cg::store::sqlite
