#include "store/postgres/pg_conn.hpp"

#include <charconv>

namespace cg::store::postgres {

namespace {
// Distinct statements prepared per connection at most (the code has a few dozen).
constexpr size_t kMaxPrepared = 256;
}  // namespace

bool PgError::environmental() const {
    if (sqlstate_.size() != 5) return true;
    const auto cls = sqlstate_.substr(0, 2);
    return cls == "08" || cls == "57" || cls == "53" || cls == "58";
}

std::string PgResult::text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
}

int64_t PgResult::int64(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    const auto len = static_cast<size_t>(PQgetlength(r_.get(), row, col));
    int64_t out = 0;
    const auto [p, ec] = std::from_chars(v, v + len, out);
    if (ec != std::errc() || p != v + len) {
        throw PgError("unexpected non-integer value from the database", "XX000");
    }
    return out;
}

std::optional<int64_t> PgResult::opt_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

std::optional<std::string> PgResult::opt_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return text(row, col);
}

std::string PgResult::bytes(int row, int col) const {
    const std::string t = text(row, col);
    std::string out;
    if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return out;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 2; i + 1 < t.size(); i += 2) {
        const int hi = nibble(t[i]);
        const int lo = nibble(t[i + 1]);
        if (hi < 0 || lo < 0) return {};
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

int64_t PgResult::affected() const {
    const char* n = PQcmdTuples(r_.get());
    int64_t out = 0;
    std::from_chars(n, n + std::char_traits<char>::length(n), out);
    return out;
}

PgConnection::PgConnection(std::string conninfo, bool durable_commits)
    : conninfo_(std::move(conninfo)), durable_commits_(durable_commits), conn_(nullptr, &PQfinish) {
    connect();
}

void PgConnection::connect() {
    // connect_timeout bounds how long a dead server can hold a caller; keepalives notice a
    // server that vanished without closing the socket.
    // The server-side timeouts turn any wait that should never last (a lock held by a stuck
    // session, a statement that does not return) into an error the caller retries, instead of a
    // thread blocked for good.
    // The planner settings keep the plans of prepared statements (see exec) on key lookups.
    // Every statement chargegate sends finds its rows through an index (a key, or a partial
    // index of one state); a generic plan made while the table was small (a fresh database, no
    // statistics yet) chose sequential scans and hash joins and kept them as the table grew:
    // with prepared statements alone the cluster benchmark ran 1,225 sequential scans of
    // `requests` in 10 s and the batch updates cost 5x more. The settings only price those
    // plans out; a query that has no other plan still runs.
    const char* keys[] = {
        "dbname",           "connect_timeout",  "keepalives_idle", "keepalives_interval",
        "keepalives_count", "application_name", "options",         nullptr};
    const char* values[] = {conninfo_.c_str(),
                            "3",
                            "5",
                            "2",
                            "3",
                            "chargegate",
                            "-c statement_timeout=15000 -c lock_timeout=5000"
                            " -c idle_in_transaction_session_timeout=60000"
                            " -c enable_seqscan=off -c enable_hashjoin=off"
                            " -c enable_mergejoin=off",
                            nullptr};
    prepared_.clear();  // prepared statements live and die with the server session
    conn_.reset(PQconnectdbParams(keys, values, 1));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        std::string msg = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        for (auto& c : msg) {
            if (c == '\n') c = ' ';
        }
        conn_.reset();
        throw PgError("cannot connect to PostgreSQL: " + msg, "08006");
    }
    // Errors and notices go to exceptions and nowhere else.
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
    if (!durable_commits_) exec("SET synchronous_commit = off");
}

bool PgConnection::ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

void PgConnection::exec_script(std::string_view sql) {
    if (!ok()) connect();
    const std::string text(sql);
    check(PQexec(conn_.get(), text.c_str()));
}

const std::string* PgConnection::prepared_name(std::string_view sql, int params) {
    std::string text(sql);
    auto it = prepared_.find(text);
    if (it != prepared_.end()) return &it->second;
    if (prepared_.size() >= kMaxPrepared) return nullptr;  // not expected with constant SQL
    std::string name = "cg";
    name += std::to_string(prepared_.size() + 1);
    // Parameter types are left to the server (as with PQexecParams); a failure to prepare
    // throws like a failed statement and leaves nothing cached.
    check(PQprepare(conn_.get(), name.c_str(), text.c_str(), params, nullptr));
    return &prepared_.emplace(std::move(text), std::move(name)).first->second;
}

PgResult PgConnection::exec(std::string_view sql, const std::vector<Param>& params) {
    if (!ok()) connect();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    if (const std::string* name = prepared_name(sql, n)) {
        return check(
            PQexecPrepared(conn_.get(), name->c_str(), n, values.data(), nullptr, nullptr, 0));
    }
    const std::string text(sql);
    return check(
        PQexecParams(conn_.get(), text.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0));
}

std::vector<PgResult> PgConnection::exec_transaction(const std::vector<PgStatement>& statements,
                                                     bool durable) {
    if (!ok()) connect();
    std::vector<const std::string*> names;
    names.reserve(statements.size());
    for (const auto& s : statements) {
        names.push_back(prepared_name(s.sql, static_cast<int>(s.params.size())));
    }
    PGconn* c = conn_.get();
    if (PQenterPipelineMode(c) != 1) fail_broken("cannot enter pipeline mode");
    bool sent = true;
    int commands = 0;
    auto send_plain = [&](const char* sql) {
        sent = sent && PQsendQueryParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
        ++commands;
    };
    send_plain("BEGIN");
    if (!durable) send_plain("SET LOCAL synchronous_commit = off");
    const int first = commands;
    std::vector<const char*> values;
    for (size_t i = 0; i < statements.size() && sent; ++i) {
        values.clear();
        for (const auto& p : statements[i].params) values.push_back(p ? p->c_str() : nullptr);
        const int n = static_cast<int>(values.size());
        if (names[i]) {
            sent = PQsendQueryPrepared(c, names[i]->c_str(), n, values.data(), nullptr, nullptr,
                                       0) == 1;
        } else {
            const std::string text(statements[i].sql);
            sent = PQsendQueryParams(c, text.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                                     0) == 1;
        }
        ++commands;
    }
    send_plain("COMMIT");
    if (!sent || PQpipelineSync(c) != 1) fail_broken(PQerrorMessage(c));

    // Each command's result is followed by a null; the sync's result ends the pipeline. A
    // failed command makes the ones after it PGRES_PIPELINE_ABORTED up to the sync.
    std::vector<PgResult> results;
    results.reserve(static_cast<size_t>(commands));
    int nulls = 0;
    for (;;) {
        PGresult* r = PQgetResult(c);
        if (!r) {
            // Two nulls in a row only come from a connection that stopped answering.
            if (++nulls > 1 || PQstatus(c) != CONNECTION_OK) fail_broken(PQerrorMessage(c));
            continue;
        }
        nulls = 0;
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        results.emplace_back(r);
    }
    if (PQexitPipelineMode(c) != 1) fail_broken(PQerrorMessage(c));
    if (results.size() != static_cast<size_t>(commands)) {
        fail_broken("unexpected number of results in a pipeline");
    }
    for (auto& r : results) {
        const auto status = r.status();
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) continue;
        if (status == PGRES_PIPELINE_ABORTED) continue;  // after the failed one
        fail(r.release());
    }
    std::vector<PgResult> out;
    out.reserve(statements.size());
    for (size_t i = 0; i < statements.size(); ++i) {
        out.push_back(std::move(results[static_cast<size_t>(first) + i]));
    }
    return out;
}

PgResult PgConnection::check(PGresult* raw) {
    const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(raw);
    fail(raw);
}

namespace {
std::string one_line(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    for (auto& c : msg) {
        if (c == '\n') c = ' ';
    }
    return msg;
}
}  // namespace

void PgConnection::fail(PGresult* raw) {
    std::string state;
    std::string msg;
    if (raw) {
        if (const char* s = PQresultErrorField(raw, PG_DIAG_SQLSTATE)) state = s;
        if (const char* m = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY)) msg = m;
        PQclear(raw);
    }
    if (msg.empty() && conn_) msg = PQerrorMessage(conn_.get());
    // A connection that broke is dropped here, so the next exec() opens a new one.
    if (conn_ && PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();
    throw PgError("PostgreSQL: " + one_line(std::move(msg)), state);
}

void PgConnection::fail_broken(const std::string& what) {
    const std::string msg = one_line(what);
    conn_.reset();  // the server rolls back whatever the session had open
    throw PgError("PostgreSQL: " + (msg.empty() ? std::string("connection lost") : msg), "08006");
}

namespace {
void append_quoted(std::string& out, const std::string& v) {
    out.push_back('"');
    for (const char c : v) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}
}  // namespace

std::string text_array(const std::vector<Param>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        if (items[i]) {
            append_quoted(out, *items[i]);
        } else {
            out += "NULL";
        }
    }
    out.push_back('}');
    return out;
}

std::string int_array(const std::vector<int64_t>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        out += std::to_string(items[i]);
    }
    out.push_back('}');
    return out;
}

std::string bytea_hex(const uint8_t* data, size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\\x";
    for (size_t i = 0; i < size; ++i) {
        out.push_back(kHex[data[i] >> 4]);
        out.push_back(kHex[data[i] & 15]);
    }
    return out;
}

}  // namespace cg::store::postgres
