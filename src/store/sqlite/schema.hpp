#pragma once
// Connection set-up and schema migrations for the embedded store.
#include <string>

#include "store/sqlite/sqlite_db.hpp"

namespace cg::store::sqlite {

// Path of the database file inside a data directory.
std::string database_path(const std::string& data_dir);

// Creates `data_dir` if needed and checks it is a writable directory; throws StoreError.
void prepare_data_dir(const std::string& data_dir);

// Pragmas every connection gets (WAL, synchronous=FULL, busy timeout, foreign-file check).
// Throws StoreError when the file is not a usable SQLite database.
void configure_connection(Database& db, const std::string& path, bool writer);

// Applies pending migrations under the write lock; throws StoreError for a foreign database or
// a schema newer than this binary.
void apply_migrations(Database& db, const std::string& path);

}  // namespace cg::store::sqlite
