#pragma once
// A real PostgreSQL server (Debian package postgresql, binaries in /usr/lib/postgresql/<v>/bin)
// on 127.0.0.1 for tests, in a temp dir.
//
// - Durability as in production: fsync=on and synchronous_commit=on, which are PostgreSQL's
//   defaults, set explicitly so a test's kill -9 means what it means in production.
// - Trust authentication for user `postgres` over loopback TCP and the server's own unix
//   socket (inside the temp dir); nothing else listens.
// - PostgreSQL refuses to run as root: when the tests run as root (CI), initdb and postgres run
//   as the `postgres` system user and the temp dir is given to it.
// - initdb takes seconds, so one initdb'd data directory per PostgreSQL version and user is
//   kept under $TMPDIR (or /tmp) as a template and copied for each server.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "support/child_process.hpp"
#include "support/service_process.hpp"
#include "support/test_env.hpp"

namespace cg::test {

class PostgresServer {
  public:
    PostgresServer();
    // Stops the server (kill -9 of every server process if it does not stop in time) and
    // removes its directory.
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Starts on a free port (chosen at the first start, kept afterwards) and waits until it
    // accepts connections (after crash recovery, if any); throws std::runtime_error with the
    // end of its log when it does not.
    void start();
    // SIGKILL of the postmaster and every backend it started, as a machine or container crash
    // would; the data directory is left as the crash left it.
    void kill9();
    // Starts again on the same port and data directory (crash recovery after kill9()).
    void restart();
    // Fast shutdown (SIGINT): clients are disconnected, a checkpoint is written.
    void stop();

    // CREATE DATABASE `name`; throws on failure.
    void create_database(const std::string& name);
    // Runs `sql` with psql in database `dbname`: unaligned, tuples only (e.g. "3\n").
    CommandResult psql(const std::string& dbname, const std::string& sql) const;

    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] std::string url(const std::string& dbname) const {
        return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + dbname;
    }
    // True when the server completes a connection handshake now (not while it starts up or
    // recovers).
    [[nodiscard]] bool accepting() const;
    [[nodiscard]] std::string log() const;

    // The directory of the server binaries: $CG_PG_BINDIR, else /usr/lib/postgresql/15/bin,
    // else the newest /usr/lib/postgresql/<v>/bin.
    static std::filesystem::path bindir();

  private:
    // One attempt to start on port_; false if the process exited (e.g. the port was taken).
    bool try_start(std::chrono::milliseconds timeout);

    TempDir dir_;
    std::filesystem::path bindir_;
    std::optional<RunAs> run_as_;  // the postgres user when we are root
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace cg::test
