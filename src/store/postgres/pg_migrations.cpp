#include "store/postgres/pg_migrations.hpp"

#include "obs/log.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/store_error.hpp"

namespace cg::store::postgres {

namespace {

// Any fixed number shared by every chargegate process: the lock that serializes migrations.
constexpr const char* kMigrationLock = "7291845503";

int current_version(PgConnection& c) {
    const auto r = c.exec(
        "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0"
        " ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END");
    return static_cast<int>(r.int64(0, 0));
}

}  // namespace

int pg_schema_version(const std::string& database_url) {
    try {
        PgConnection c(database_url);
        return current_version(c);
    } catch (const PgError& e) {
        throw StoreError(e.what());
    }
}

void migrate_pg(const std::string& database_url) {
    try {
        PgConnection c(database_url);
        c.exec(std::string("SELECT pg_advisory_lock(") + kMigrationLock + ")");
        c.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
        const int have = current_version(c);
        const int latest = pg_migrations().empty() ? 0 : pg_migrations().back().version;
        if (have > latest) {
            throw StoreError("the database schema is at version " + std::to_string(have) +
                             ", newer than this binary's " + std::to_string(latest) +
                             ": run a newer chargegate");
        }
        for (const auto& m : pg_migrations()) {
            if (m.version <= have) continue;
            c.exec("BEGIN");
            try {
                c.exec_script(m.sql);
                c.exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                       {std::to_string(m.version), std::string(m.name)});
                c.exec("COMMIT");
            } catch (...) {
                try {
                    c.exec("ROLLBACK");
                } catch (...) {  // the connection is gone; the server rolled back
                }
                throw;
            }
            obs::log_info("applied migration")
                .kv("version", static_cast<int64_t>(m.version))
                .kv("name", std::string(m.name));
        }
        c.exec(std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")");
    } catch (const PgError& e) {
        throw StoreError(std::string("migrating the database failed: ") + e.what());
    }
}

}  // namespace cg::store::postgres
