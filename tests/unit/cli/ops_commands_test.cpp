// Argument handling of `status`, `dlq` and `stats` (no service needed).
#include "cli/ops_commands.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

namespace cg::cli {
namespace {

struct Parsed {
    bool ok = false;
    OpsCommand chosen = OpsCommand::kNone;
    OpsSettings settings;
};

Parsed parse(std::vector<std::string> args, OpsDefaults defaults = {"http://127.0.0.1:8080", ""}) {
    CLI::App app;
    app.require_subcommand(1);
    OpsCommands ops(app, std::move(defaults));
    std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front
    Parsed p;
    try {
        app.parse(args);
        p.ok = true;
    } catch (const CLI::ParseError&) {
        return p;
    }
    p.chosen = ops.chosen();
    p.settings = ops.settings();
    return p;
}

TEST(OpsArguments, StatusNeedsARequestId) {
    const auto p = parse({"status", "0193-abc", "--json"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.chosen, OpsCommand::kStatus);
    EXPECT_EQ(p.settings.request_id, "0193-abc");
    EXPECT_TRUE(p.settings.json);
    EXPECT_FALSE(parse({"status"}).ok);
}

TEST(OpsArguments, UrlAndTokenDefaultFromTheEnvironmentAndFlagsWin) {
    auto p = parse({"stats", "--once"}, {"http://127.0.0.1:9999", "from-env"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.chosen, OpsCommand::kStats);
    EXPECT_EQ(p.settings.url, "http://127.0.0.1:9999");
    EXPECT_EQ(p.settings.admin_token, "from-env");
    EXPECT_TRUE(p.settings.once);
    p = parse({"stats", "--url", "http://h:1", "--admin-token", "flag"}, {"u", "from-env"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.settings.url, "http://h:1");
    EXPECT_EQ(p.settings.admin_token, "flag");
    EXPECT_FALSE(p.settings.once);
    EXPECT_DOUBLE_EQ(p.settings.interval_seconds, 2);
}

TEST(OpsArguments, StatsIntervalMustBePositive) {
    EXPECT_DOUBLE_EQ(parse({"stats", "--interval", "0.5"}).settings.interval_seconds, 0.5);
    EXPECT_FALSE(parse({"stats", "--interval", "0"}).ok);
    EXPECT_FALSE(parse({"stats", "--interval", "-1"}).ok);
    EXPECT_FALSE(parse({"stats", "--interval", "soon"}).ok);
}

TEST(OpsArguments, DlqListLimitAllJson) {
    auto p = parse({"dlq", "list"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.chosen, OpsCommand::kDlqList);
    EXPECT_EQ(p.settings.limit, 50);
    EXPECT_FALSE(p.settings.all);
    p = parse({"dlq", "list", "--limit", "1200", "--all", "--json"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.settings.limit, 1200);
    EXPECT_TRUE(p.settings.all);
    EXPECT_TRUE(p.settings.json);
    EXPECT_FALSE(parse({"dlq", "list", "--limit", "0"}).ok);
    EXPECT_FALSE(parse({"dlq"}).ok);
}

TEST(OpsArguments, RedeliverTakesIdsOrAllButNotBothOrNeither) {
    auto p = parse({"dlq", "redeliver", "id-1", "id-2"});
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.chosen, OpsCommand::kDlqRedeliver);
    EXPECT_EQ(p.settings.redeliver_ids, (std::vector<std::string>{"id-1", "id-2"}));
    EXPECT_FALSE(p.settings.all);
    p = parse({"dlq", "redeliver", "--all"});
    ASSERT_TRUE(p.ok);
    EXPECT_TRUE(p.settings.all);
    EXPECT_TRUE(p.settings.redeliver_ids.empty());
    EXPECT_FALSE(parse({"dlq", "redeliver"}).ok);
    EXPECT_FALSE(parse({"dlq", "redeliver", "id-1", "--all"}).ok);
}

}  // namespace
}  // namespace cg::cli
