// Cluster mode, migrations: `chargegate migrate` started by several processes at once against
// one fresh database (as several instances deploying together would) all succeed and leave
// one schema, which the service then runs on without migrating again.
#include <gtest/gtest.h>

#include <future>

#include "cluster/cluster_support.hpp"
#include "support/http_client.hpp"

namespace cg::test::cluster {
namespace {

TEST(ClusterMigrateTest, ConcurrentMigrationsAllSucceedAndLeaveOneSchemaVersion) {
    Cluster cluster;
    cluster.start_backends();
    const Env env = cluster.command_env();
    std::vector<std::future<CommandResult>> runs;
    for (int i = 0; i < 3; ++i) {
        runs.push_back(std::async(std::launch::async,
                                  [&env] { return run_command(binary(), {"migrate"}, env); }));
    }
    for (auto& run : runs) {
        const auto r = run.get();
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    // One row per migration: versions 1..N, none applied twice.
    const auto versions = cluster.postgres().psql(
        "chargegate",
        "SELECT count(*), count(DISTINCT version), min(version), max(version)"
        " FROM schema_migrations");
    ASSERT_EQ(versions.exit_code, 0) << versions.err;
    int count = 0, distinct = 0, min_version = 0, max_version = 0;
    ASSERT_EQ(std::sscanf(versions.out.c_str(), "%d|%d|%d|%d", &count, &distinct, &min_version,
                          &max_version),
              4)
        << versions.out;
    EXPECT_GE(count, 1);
    EXPECT_EQ(distinct, count);
    EXPECT_EQ(min_version, 1);
    EXPECT_EQ(max_version, count);
    std::cout << "[ migrate ] 3 concurrent runs, schema version " << max_version << "\n";

    // Again: nothing to do, same schema.
    const auto again = run_command(binary(), {"migrate"}, env);
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(cluster.postgres().psql("chargegate", "SELECT count(*) FROM schema_migrations").out,
              std::to_string(count) + "\n");

    // The service starts on that schema without migrating itself, and works.
    auto& all = cluster.add("all", "all", {{"MIGRATE_ON_START", "false"}});
    EXPECT_EQ(http_get(cluster.url("all", "/health")).status, 200) << all.log();
    for (const auto& report : cluster.sanitizer_reports()) ADD_FAILURE() << report;
}

}  // namespace
}  // namespace cg::test::cluster
