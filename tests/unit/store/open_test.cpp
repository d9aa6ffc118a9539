// Opening a data directory: migrations, re-open, and the clear errors for files that are not
// chargegate's.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "store/sqlite/migrations.hpp"
#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

namespace fs = std::filesystem;

// Runs `sql` on the file at `path` with a plain SQLite connection (an "other program").
void run_sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
}

int64_t query_int(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_stmt* st = nullptr;
    int64_t v = -1;
    if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

// Expects open() to throw StoreError whose message contains `needle`.
template <typename Open>
void expect_store_error(Open open, const std::string& needle) {
    try {
        (void)open();
        ADD_FAILURE() << "opened, expected a StoreError mentioning '" << needle << "'";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST_F(StoreTest, FreshDirectoryIsCreatedAndMigrated) {
    ASSERT_FALSE(fs::exists(data_dir()));
    auto s = open();
    EXPECT_TRUE(fs::is_regular_file(db_path()));
    const auto c = s->counters();
    EXPECT_EQ(c.queued, 0);
    EXPECT_EQ(c.delivering, 0);
    EXPECT_EQ(c.max_seq, 0);
    EXPECT_TRUE(c.writable);
    s->close();
    EXPECT_EQ(query_int(db_path(), "SELECT max(version) FROM schema_migrations"),
              migrations().back().version);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST_F(StoreTest, ReopenKeepsDataAndDoesNotMigrateAgain) {
    {
        auto s = open();
        stored(*s, "id-1");
        s->close();
    }
    migrate_sqlite(data_dir());  // the `migrate` command on an up-to-date store is a no-op
    auto s = open();
    const auto v = s->open_reader()->find_request("id-1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->state, RequestState::kQueued);
    EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM schema_migrations"),
              static_cast<int64_t>(migrations().size()));
}

TEST_F(StoreTest, MigrateCreatesAUsableStore) {
    migrate_sqlite(data_dir());
    auto s = open();
    stored(*s, "id-1");
    EXPECT_TRUE(s->open_reader()->find_request("id-1"));
}

TEST_F(StoreTest, GarbageFileIsAClearError) {
    fs::create_directories(data_dir());
    std::ofstream(db_path(), std::ios::binary) << std::string(8192, 'g');
    expect_store_error([&] { return open(); }, "not a chargegate database");
    // The file is left as it was for the operator to inspect.
    EXPECT_EQ(fs::file_size(db_path()), 8192u);
}

TEST_F(StoreTest, ForeignSqliteDatabaseIsAClearError) {
    fs::create_directories(data_dir());
    run_sql(db_path(),
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
            "INSERT INTO customers (name) VALUES ('x');");
    expect_store_error([&] { return open(); }, "not chargegate's");
    expect_store_error([&] { migrate_sqlite(data_dir()); }, "not chargegate's");
    // Nothing was added to the foreign database.
    EXPECT_EQ(query_int(db_path(), "SELECT count(*) FROM sqlite_master WHERE type='table'"), 1);
}

TEST_F(StoreTest, NewerSchemaIsAClearError) {
    { open()->close(); }
    run_sql(db_path(),
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x.sql', 0)");
    expect_store_error([&] { return open(); }, "newer than this binary");
}

TEST_F(StoreTest, DataDirThatIsAFileIsAClearError) {
    std::ofstream(data_dir()) << "not a directory";
    expect_store_error([&] { return open(); }, "DATA_DIR");
}

}  // namespace
}  // namespace cg::store::sqlite::test
