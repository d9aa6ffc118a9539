#ifdef CG_STORE_PG_TESTS
#include "pg_test_server.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

#include "store/postgres/pg_conn.hpp"
#include "store/postgres/pg_migrations.hpp"

namespace cg::store::test {
namespace {

constexpr const char* kTemplate = "cg_store_template";

std::mutex g_mu;
std::unique_ptr<PgTestServer> g_server;  // guarded by g_mu
std::optional<std::string> g_failure;    // guarded by g_mu: why the server could not start

// Stops the server after the last test, so no postgres process outlives the test binary.
class PgServerEnvironment : public ::testing::Environment {
  public:
    void TearDown() override { PgTestServer::shutdown(); }
};
[[maybe_unused]] const ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

}  // namespace

PgTestServer::PgTestServer() : server_(std::make_unique<cg::test::PostgresServer>()) {
    server_->start();
    server_->create_database(kTemplate);
    postgres::migrate_pg(server_->url(kTemplate));
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
    g_server.reset();
}

std::string PgTestServer::fresh_database() {
    std::lock_guard lock(mu_);
    std::string name = "store_test_";
    name += std::to_string(++next_);
    // A copy of the migrated template: much faster than migrating each database.
    postgres::PgConnection admin(server_->url("postgres"));
    std::string sql = "CREATE DATABASE ";
    sql += name;
    sql += " TEMPLATE ";
    sql += kTemplate;
    admin.exec(sql);
    return server_->url(name);
}

}  // namespace cg::store::test
#endif
