#pragma once
// Thin RAII wrappers over the SQLite C API. Hand-written because SQLite's C API is the
// well-kept library here; these only add ownership and type-safe binding.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cg::store::sqlite {

// Thrown for an unexpected SQLite result; carries the result code so callers can tell
// environment failures (full, I/O, read-only) from bugs.
class SqliteError : public std::runtime_error {
  public:
    SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    [[nodiscard]] int code() const { return code_; }

  private:
    int code_;
};

class Statement {
  public:
    Statement() = default;
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, int64_t value);
    Statement& bind(int index, std::string_view value);
    // Like bind(), without SQLite's copy of the text: `value` must stay unchanged until the
    // statement is reset. For bulk writes, where the copy is a measurable share of the work.
    Statement& bind_unowned(int index, std::string_view value);
    Statement& bind_blob(int index, const void* data, size_t size);
    Statement& bind_null(int index);
    template <typename T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // Returns true while a row is available; false when done. Throws SqliteError on failure.
    bool step();
    // Runs to completion (for statements without rows).
    void run();
    // Resets the statement and clears bindings, ending its read transaction. Always call
    // between uses (the Reset guard does it).
    void reset();

    [[nodiscard]] bool is_null(int col) const;
    [[nodiscard]] int64_t int64(int col) const;
    [[nodiscard]] std::string text(int col) const;
    [[nodiscard]] std::optional<int64_t> opt_int64(int col) const;
    [[nodiscard]] std::optional<std::string> opt_text(int col) const;
    [[nodiscard]] std::string_view blob(int col) const;

  private:
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when leaving scope, so no read snapshot outlives its use.
class Reset {
  public:
    explicit Reset(Statement& s) : s_(s) {}
    ~Reset() { s_.reset(); }
    Reset(const Reset&) = delete;
    Reset& operator=(const Reset&) = delete;

  private:
    Statement& s_;
};

class Database {
  public:
    // Opens (creating if needed) the file; throws SqliteError.
    explicit Database(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    [[nodiscard]] sqlite3* handle() const { return db_; }
    [[nodiscard]] int64_t changes() const { return sqlite3_changes64(db_); }
    [[nodiscard]] int64_t last_rowid() const { return sqlite3_last_insert_rowid(db_); }

  private:
    sqlite3* db_ = nullptr;
};

// True for results that mean the environment failed (disk full, I/O error, read-only, busy,
// corruption) rather than one operation being wrong.
bool is_environment_failure(int code);

}  // namespace cg::store::sqlite
