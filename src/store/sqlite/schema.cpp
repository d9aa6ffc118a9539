#include "store/sqlite/schema.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "obs/log.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/store_error.hpp"

namespace cg::store::sqlite {

namespace fs = std::filesystem;

std::string database_path(const std::string& data_dir) {
    return (fs::path(data_dir) / "chargegate.db").string();
}

void prepare_data_dir(const std::string& data_dir) {
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) throw StoreError("DATA_DIR " + data_dir + " cannot be created: " + ec.message());
    if (!fs::is_directory(data_dir, ec)) {
        throw StoreError("DATA_DIR " + data_dir + " is not a directory");
    }
    if (::access(data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
        throw StoreError("DATA_DIR " + data_dir + " is not writable");
    }
}

void configure_connection(Database& db, const std::string& path, bool writer) {
    try {
        sqlite3_busy_timeout(db.handle(), 5000);
        // Reading the schema is the first access to the file: a foreign or corrupt file fails
        // here with SQLITE_NOTADB / SQLITE_CORRUPT.
        db.exec("SELECT count(*) FROM sqlite_master");
        if (writer) {
            db.exec("PRAGMA journal_mode=WAL");
            db.exec("PRAGMA synchronous=FULL");  // every commit's WAL frames are fsync'd
            db.exec("PRAGMA cache_size=-8000");  // 8 MiB
            db.exec("PRAGMA wal_autocheckpoint=4000");
            db.exec("PRAGMA journal_size_limit=67108864");
        } else {
            db.exec("PRAGMA cache_size=-2000");
            db.exec("PRAGMA query_only=1");
        }
        db.exec("PRAGMA temp_store=MEMORY");
    } catch (const SqliteError& e) {
        const int code = e.code() & 0xFF;
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
            throw StoreError(path + " is not a chargegate database or is corrupt (" + e.what() +
                             "); move it away or point DATA_DIR elsewhere");
        }
        throw StoreError(path + ": " + e.what());
    }
}

void apply_migrations(Database& db, const std::string& path) {
    try {
        db.exec("BEGIN IMMEDIATE");
        try {
            Statement tables(db.handle(),
                             "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                             "name NOT LIKE 'sqlite_%'");
            tables.step();
            const int64_t table_count = tables.int64(0);
            tables.reset();
            Statement has_meta(db.handle(),
                               "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                               "name='schema_migrations'");
            has_meta.step();
            const bool meta = has_meta.int64(0) == 1;
            has_meta.reset();
            if (!meta && table_count > 0) {
                throw StoreError(path +
                                 " is a SQLite database but not chargegate's (it has other "
                                 "tables); point DATA_DIR at an empty directory");
            }
            if (!meta) {
                db.exec(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
                    "NULL, applied_at INTEGER NOT NULL)");
            }
            Statement current(db.handle(),
                              "SELECT coalesce(max(version), 0) FROM schema_migrations");
            current.step();
            const int64_t have = current.int64(0);
            current.reset();
            const auto& all = migrations();
            const int64_t newest = all.empty() ? 0 : all.back().version;
            if (have > newest) {
                throw StoreError(path + " has schema version " + std::to_string(have) +
                                 ", newer than this binary's " + std::to_string(newest) +
                                 "; run a newer chargegate");
            }
            Statement record(db.handle(),
                             "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                             "(?, ?, ?)");
            for (const auto& m : all) {
                if (m.version <= have) continue;
                db.exec(m.sql);
                const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
                record.bind(1, static_cast<int64_t>(m.version)).bind(2, m.name).bind(3, now);
                record.run();
                record.reset();
                obs::log_info("applied migration").kv("version", m.version).kv("name", m.name);
            }
            db.exec("COMMIT");
        } catch (...) {
            try {
                db.exec("ROLLBACK");
            } catch (...) {  // the original error is the one to report
            }
            throw;
        }
    } catch (const SqliteError& e) {
        throw StoreError(path + ": migration failed: " + e.what());
    }
}

}  // namespace cg::store::sqlite
