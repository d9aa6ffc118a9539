#ifdef CG_STORE_PG_TESTS
#include "pg_test_server.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

#include "store/postgres/pg_conn.hpp"
#include "store/postgres/pg_migrations.hpp"

namespace cg::store::test {
namespace {

constexpr const char* kDatabase = "store_test";

std::mutex g_mu;
std::unique_ptr<PgTestServer> g_server;  // guarded by g_mu
std::optional<std::string> g_failure;    // guarded by g_mu: why the server could not start

// Kills the server after the last test, so no postgres process outlives the test binary.
class PgServerEnvironment : public ::testing::Environment {
  public:
    void TearDown() override { PgTestServer::shutdown(); }
};
[[maybe_unused]] const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

}  // namespace

PgTestServer::PgTestServer() : server_(std::make_unique<cg::test::PostgresServer>()) {
    server_->start();
    server_->create_database(kDatabase);
    postgres::migrate_pg(server_->url(kDatabase));
}

PgTestServer& PgTestServer::get() {
    std::lock_guard lock(g_mu);
    if (g_failure) throw std::runtime_error(*g_failure);
    if (!g_server) {
        try {
            g_server.reset(new PgTestServer());
        } catch (const std::exception& e) {
            g_failure = std::string("cannot start the test PostgreSQL server: ") + e.what();
            throw std::runtime_error(*g_failure);
        }
    }
    return *g_server;
}

void PgTestServer::shutdown() {
    std::lock_guard lock(g_mu);
    if (g_server) g_server->server_->kill9();  // nothing to keep: no shutdown checkpoint
    g_server.reset();
}

std::string PgTestServer::clean_database() {
    std::lock_guard lock(mu_);
    const std::string url = server_->url(kDatabase);
    postgres::PgConnection c(url);
    // Every table the migrations made except their own bookkeeping and the seeded
    // authorization generation, so a table added by a later migration is emptied too.
    // DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE's new files cost more.
    c.exec_script(
        "SET lock_timeout = '5s';"
        "SET session_replication_role = replica;"  // no foreign-key order to follow
        "DO $$ DECLARE t text; BEGIN"
        " FOR t IN SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename NOT IN ('schema_migrations', 'authz_state') LOOP"
        " EXECUTE 'DELETE FROM ' || t; END LOOP;"
        " UPDATE authz_state SET generation = 0;"
        " END $$;");
    return url;
}

}  // namespace cg::store::test
#endif
