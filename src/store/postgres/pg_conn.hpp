#pragma once
// A thin RAII layer over libpq: one connection, parameterized statements in text format, results
// read by row and column, errors as PgError with the server's SQLSTATE. libpq itself does the
// protocol; this only manages lifetimes and turns error codes into exceptions.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cg::store::postgres {

class PgError : public std::runtime_error {
  public:
    PgError(const std::string& message, std::string sqlstate)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
    // The connection or server failed (not the statement): the same work may succeed on a new
    // connection. Classes 08 (connection), 57 (shutdown, cancel), 53 (resources), 58 (system),
    // and errors without a SQLSTATE (libpq could not reach the server).
    [[nodiscard]] bool environmental() const;

  private:
    std::string sqlstate_;
};

// A statement parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

// One statement of a transaction sent in one go (PgConnection::exec_transaction).
struct PgStatement {
    std::string sql;  // constant text, prepared like exec's
    std::vector<Param> params;
};

class PgResult {
  public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
    [[nodiscard]] bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
    [[nodiscard]] std::string text(int row, int col) const;
    [[nodiscard]] int64_t int64(int row, int col) const;
    [[nodiscard]] std::optional<int64_t> opt_int64(int row, int col) const;
    [[nodiscard]] std::optional<std::string> opt_text(int row, int col) const;
    // bytea in hex output format ("\x0a1b...") decoded to bytes.
    [[nodiscard]] std::string bytes(int row, int col) const;
    // Rows changed by an INSERT/UPDATE/DELETE without RETURNING.
    [[nodiscard]] int64_t affected() const;
    [[nodiscard]] ExecStatusType status() const { return PQresultStatus(r_.get()); }
    // Hands the libpq result over to the caller.
    [[nodiscard]] PGresult* release() { return r_.release(); }

  private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConnection {
  public:
    // Connects at once; throws PgError (environmental) when the server cannot be reached.
    // `durable_commits` false sets synchronous_commit=off for this session: for writes that may
    // be lost in a database crash without losing anything accepted (leases, claims).
    explicit PgConnection(std::string conninfo, bool durable_commits = true);
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // Runs one statement; reconnects first if the connection was lost. Throws PgError.
    // Each distinct statement text is prepared on this connection the first time it runs
    // (PQprepare) and executed by name from then on: the server parses and plans it once per
    // connection instead of once per call. In the cluster benchmark planning was ~0.12 of the
    // 0.5 ms of PostgreSQL CPU per session (pg_stat_statements, track_planning), the ACL lookup
    // alone spending 42 µs planning for 9 µs executing. Callers pass constant SQL text.
    PgResult exec(std::string_view sql, const std::vector<Param>& params = {});
    // Runs the statements as one transaction in one round trip, with libpq's pipeline mode
    // (PostgreSQL 14+): BEGIN, `SET LOCAL synchronous_commit = off` unless `durable`, each
    // statement, COMMIT and a sync go out together, and the results are read afterwards. The
    // separate round trips cost the group-commit writer 3-5 network turns per batch, each a
    // wake-up, a read and a write of the server process. Returns the statements' results in
    // order. Throws PgError (the first failed statement's); the transaction is then aborted and
    // the caller sends ROLLBACK. Statements are prepared first, as in exec (once per connection).
    // The connection stays blocking: results are small (keys and counts), so the server never
    // waits on a full socket while libpq is still sending.
    std::vector<PgResult> exec_transaction(const std::vector<PgStatement>& statements,
                                           bool durable);
    // Runs a script of several statements without parameters (migrations). Throws PgError.
    void exec_script(std::string_view sql);
    // Whether the last failure left the connection unusable (it is re-opened on the next exec).
    [[nodiscard]] bool ok() const;

  private:
    void connect();
    // The name of the statement prepared for `sql` on this connection, preparing it the first
    // time; nullptr past kMaxPrepared (then sent unprepared).
    const std::string* prepared_name(std::string_view sql, int params);
    // Wraps a successful result; throws PgError (dropping a broken connection) otherwise.
    PgResult check(PGresult* raw);
    // Throws the PgError that `raw` (taken over; may be null) or the connection reports.
    [[noreturn]] void fail(PGresult* raw);
    // Drops a connection left in an unknown state and throws an environmental PgError.
    [[noreturn]] void fail_broken(const std::string& what);
    std::string conninfo_;
    bool durable_commits_;
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
    // Statement text → name of its prepared statement on conn_ (emptied on every (re)connect).
    std::unordered_map<std::string, std::string> prepared_;
};

// PostgreSQL array literal of text elements ('{"a","b",NULL}'), each element quoted and escaped,
// for `unnest($1::text[])`-style batch statements.
std::string text_array(const std::vector<Param>& items);
std::string int_array(const std::vector<int64_t>& items);
// bytea hex input format.
std::string bytea_hex(const uint8_t* data, size_t size);

}  // namespace cg::store::postgres
