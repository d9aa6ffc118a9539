#include "config/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_env.hpp"

namespace cg::config {
namespace {

TEST(Config, DefaultsFollowTheContract) {
    const auto c = load({}, {});
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.bind_address, "0.0.0.0");
    EXPECT_EQ(c.data_dir, "./data");
    EXPECT_EQ(c.authorization_timeout_ms, 30000);
    EXPECT_EQ(c.callback_timeout_ms, 10000);
    EXPECT_EQ(c.callback_max_attempts, 12);
    EXPECT_EQ(c.callback_retry_base_ms, 1000);
    EXPECT_EQ(c.callback_retry_max_ms, 3600000);
    EXPECT_FALSE(c.callback_allow_private_networks);
    EXPECT_TRUE(c.callback_signing_secret.empty());
    EXPECT_TRUE(c.authorizer_url.empty());
    EXPECT_TRUE(c.admin_token.empty());
    EXPECT_EQ(c.log_level, LogLevel::kInfo);
    EXPECT_GE(c.workers, 1);
}

TEST(Config, EnvironmentOverridesFile) {
    const auto c =
        load({{"PORT", "9000"}, {"LOG_LEVEL", "debug"}, {"WORKERS", "3"}}, {{"PORT", "9100"}});
    EXPECT_EQ(c.port, 9100);
    EXPECT_EQ(c.log_level, LogLevel::kDebug);
    EXPECT_EQ(c.workers, 3);
}

TEST(Config, BadValuesNameTheKey) {
    auto message_of = [](std::map<std::string, std::string> env) -> std::string {
        try {
            (void)load({}, env);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_NE(message_of({{"PORT", "abc"}}).find("PORT"), std::string::npos);
    EXPECT_NE(message_of({{"PORT", "70000"}}).find("PORT"), std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_MAX_ATTEMPTS", "0"}}).find("CALLBACK_MAX_ATTEMPTS"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_ALLOW_PRIVATE_NETWORKS", "maybe"}})
                  .find("CALLBACK_ALLOW_PRIVATE_NETWORKS"),
              std::string::npos);
    EXPECT_NE(message_of({{"LOG_LEVEL", "LOUD"}}).find("LOG_LEVEL"), std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_SIGNING_SECRET", "plain"}}).find("whsec_"), std::string::npos);
    EXPECT_NE(message_of({{"AUTHORIZER_URL", "ftp://x"}}).find("AUTHORIZER_URL"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_RETRY_BASE_MS", "5000"}, {"CALLBACK_RETRY_MAX_MS", "100"}})
                  .find("CALLBACK_RETRY_MAX_MS"),
              std::string::npos);
}

TEST(Config, ClusterModeNeedsBothUrlsAndAKnownRole) {
    EXPECT_FALSE(load({}, {}).cluster());
    const auto c = load({}, {{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/cg"},
                             {"REDIS_URL", "redis://127.0.0.1:6379"},
                             {"ROLE", "Worker"},
                             {"CLUSTER_TAKEOVER_MS", "5000"}});
    EXPECT_TRUE(c.cluster());
    EXPECT_EQ(c.role, Role::kWorker);
    EXPECT_FALSE(c.runs_api());
    EXPECT_TRUE(c.runs_workers());
    EXPECT_EQ(c.cluster_takeover_ms, 5000);
    EXPECT_EQ(load({}, {}).cluster_takeover_ms, 30000);  // the "at most 30 s"

    auto message_of = [](const std::map<std::string, std::string>& env) {
        try {
            (void)load({}, env);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message_of({{"DATABASE_URL", "postgresql://x/y"}}).find("REDIS_URL"),
              std::string::npos);
    EXPECT_NE(message_of({{"REDIS_URL", "redis://x"}}).find("DATABASE_URL"), std::string::npos);
    EXPECT_NE(message_of({{"DATABASE_URL", "postgresql://x/y"}, {"REDIS_URL", "http://x"}})
                  .find("REDIS_URL"),
              std::string::npos);
    EXPECT_NE(message_of({{"ROLE", "api"}}).find("cluster mode"), std::string::npos);
    EXPECT_NE(
        message_of(
            {{"DATABASE_URL", "postgresql://x/y"}, {"REDIS_URL", "redis://x"}, {"ROLE", "boss"}})
            .find("ROLE"),
        std::string::npos);
    EXPECT_NE(message_of({{"CLUSTER_TAKEOVER_MS", "10"}}).find("CLUSTER_TAKEOVER_MS"),
              std::string::npos);
}

TEST(Config, RateLimitIsOffByDefaultAndBurstDefaultsToTheRateRoundedUp) {
    const auto off = load({}, {});
    EXPECT_FALSE(off.rate_limited());
    EXPECT_EQ(off.rate_limit_per_second, 0);
    EXPECT_EQ(off.rate_limit_burst, 1);

    const auto fractional = load({}, {{"RATE_LIMIT_PER_SECOND", "2.5"}});
    EXPECT_TRUE(fractional.rate_limited());
    EXPECT_DOUBLE_EQ(fractional.rate_limit_per_second, 2.5);
    EXPECT_EQ(fractional.rate_limit_burst, 3);

    const auto slow = load({}, {{"RATE_LIMIT_PER_SECOND", "0.2"}});
    EXPECT_EQ(slow.rate_limit_burst, 1);  // at least one token

    const auto both = load({{"RATE_LIMIT_PER_SECOND", "10"}}, {{"RATE_LIMIT_BURST", "40"}});
    EXPECT_DOUBLE_EQ(both.rate_limit_per_second, 10);
    EXPECT_EQ(both.rate_limit_burst, 40);
}

TEST(Config, BadRateLimitValuesNameTheKey) {
    auto message_of = [](const std::map<std::string, std::string>& env) {
        try {
            (void)load({}, env);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    for (const char* bad : {"-1", "fast", "1e3", "", "0.0001", "2000000"}) {
        EXPECT_NE(message_of({{"RATE_LIMIT_PER_SECOND", bad}}).find("RATE_LIMIT_PER_SECOND"),
                  std::string::npos)
            << bad;
    }
    for (const char* bad : {"0", "-3", "1.5", "many"}) {
        EXPECT_NE(message_of({{"RATE_LIMIT_BURST", bad}}).find("RATE_LIMIT_BURST"),
                  std::string::npos)
            << bad;
    }
}

TEST(ConfigFile, ReadsKeyValueLines) {
    test::TempDir dir;
    const auto path = (dir.path() / "chargegate.env").string();
    {
        std::ofstream out(path);
        out << "# comment\n\nPORT=9001\nexport DATA_DIR = \"/var/lib/cg\"\nADMIN_TOKEN='s3cret'\n";
    }
    const auto values = read_config_file(path);
    EXPECT_EQ(values.at("PORT"), "9001");
    EXPECT_EQ(values.at("DATA_DIR"), "/var/lib/cg");
    EXPECT_EQ(values.at("ADMIN_TOKEN"), "s3cret");
    const auto c = load(values, {});
    EXPECT_EQ(c.port, 9001);
}

TEST(ConfigFile, MalformedLineAndMissingFileAreErrors) {
    test::TempDir dir;
    const auto path = (dir.path() / "bad.env").string();
    {
        std::ofstream out(path);
        out << "PORT 9001\n";
    }
    EXPECT_THROW(read_config_file(path), ConfigError);
    EXPECT_THROW(read_config_file((dir.path() / "missing.env").string()), ConfigError);
}

}  // namespace
}  // namespace cg::config
