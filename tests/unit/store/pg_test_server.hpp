#pragma once
// The PostgreSQL server of the store unit tests (built with CG_STORE_PG_TESTS): one real server
// per test binary, started when the first test needs it and stopped when the tests end, and a
// fresh database for each test, copied from a template database migrated once.
#include <memory>
#include <mutex>
#include <string>

#include "support/postgres_server.hpp"

namespace cg::store::test {

class PgTestServer {
  public:
    // The binary's server, started on first use. Throws std::runtime_error with a clear message
    // when it cannot start (no PostgreSQL binaries, initdb failing); every later call throws the
    // same message at once instead of trying again.
    static PgTestServer& get();
    // Stops the server, if it was started (at the end of the test program).
    static void shutdown();

    // The URL of a new, empty database at the latest schema. Thread-safe.
    std::string fresh_database();

  private:
    PgTestServer();

    std::mutex mu_;
    std::unique_ptr<cg::test::PostgresServer> server_;
    int next_ = 0;
};

}  // namespace cg::store::test
