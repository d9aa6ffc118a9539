#pragma once
// Numbered SQL migrations from migrations/postgres/, compiled into the binary by CMake, and their
// application: under a PostgreSQL advisory lock, so several instances may run them at once (the
// first applies, the others wait and then find nothing left to do).
#include <string>
#include <string_view>
#include <vector>

namespace cg::store::postgres {

struct PgMigration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Ascending by version.
const std::vector<PgMigration>& pg_migrations();

// Applies every migration the database lacks, each in its own transaction. Throws StoreError
// with a one-line message (unreachable server, a failing migration, a newer schema).
void migrate_pg(const std::string& database_url);

// The schema version the database is at (0: none); throws StoreError when unreachable.
int pg_schema_version(const std::string& database_url);

}  // namespace cg::store::postgres
