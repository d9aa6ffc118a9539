#pragma once
// The PostgreSQL server of the store unit tests (built with CG_STORE_PG_TESTS): one real server
// per test binary, started when the first test needs it and killed when the tests end, with one
// database migrated once and emptied for each test.
//
// Emptied rather than created per test: CREATE DATABASE (~300 ms with fsync on) and the
// shutdown checkpoint of a hundred databases (~a minute) made the suite slow, and a TRUNCATE is
// a few milliseconds. The server's data is thrown away, so the end is a kill -9, not a
// checkpoint.
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

    // The URL of the test database at the latest schema, emptied of every row a test may have
    // left (requests, attempts, keys, ACL, stations, credentials; the authorization generation
    // back to 0). Seqs are not reset. Call it while no store of an earlier test is open: it waits
    // for their locks at most a few seconds and throws then. Thread-safe.
    std::string clean_database();

  private:
    PgTestServer();

    std::mutex mu_;
    std::unique_ptr<cg::test::PostgresServer> server_;
    bool migrated_ = false;
};

}  // namespace cg::store::test
