#include "config/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_env.hpp"

namespace cg::config {
namespace {

// The one-line message load() throws for `env`, or "no error".
std::string message_of(const std::map<std::string, std::string>& env) {
    try {
        (void)load({}, env);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

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
    EXPECT_TRUE(c.callback_signing_secrets.empty());
    EXPECT_TRUE(c.authorizer_url.empty());
    EXPECT_TRUE(c.admin_token.empty());
    EXPECT_EQ(c.log_level, LogLevel::kInfo);
    EXPECT_GE(c.workers, 1);
}

TEST(Config, DeliveryPaceLimits) {
    const auto d = load({}, {});
    EXPECT_EQ(d.callback_max_concurrency, 1024);
    EXPECT_EQ(d.callback_min_per_host, 4);
    EXPECT_EQ(d.callback_max_per_host, 256);
    EXPECT_EQ(d.callback_http_client, "beast");
    // A maximum below the default minimum lowers the minimum with it.
    EXPECT_EQ(load({}, {{"CALLBACK_MAX_PER_HOST", "2"}}).callback_min_per_host, 2);
    const auto c = load({}, {{"CALLBACK_MIN_PER_HOST", "8"},
                             {"CALLBACK_MAX_PER_HOST", "64"},
                             {"CALLBACK_HTTP_CLIENT", "curl"}});
    EXPECT_EQ(c.callback_min_per_host, 8);
    EXPECT_EQ(c.callback_max_per_host, 64);
    EXPECT_EQ(c.callback_http_client, "curl");
    // Both set and contradictory, or an unknown client: one-line errors naming the key.
    EXPECT_NE(message_of({{"CALLBACK_MIN_PER_HOST", "10"}, {"CALLBACK_MAX_PER_HOST", "5"}})
                  .find("CALLBACK_MIN_PER_HOST (10) must not exceed CALLBACK_MAX_PER_HOST (5)"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_MIN_PER_HOST", "0"}}).find("CALLBACK_MIN_PER_HOST"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_HTTP_CLIENT", "wget"}}).find("CALLBACK_HTTP_CLIENT"),
              std::string::npos);
}

TEST(Config, EnvironmentOverridesFile) {
    const auto c =
        load({{"PORT", "9000"}, {"LOG_LEVEL", "debug"}, {"WORKERS", "3"}}, {{"PORT", "9100"}});
    EXPECT_EQ(c.port, 9100);
    EXPECT_EQ(c.log_level, LogLevel::kDebug);
    EXPECT_EQ(c.workers, 3);
}

TEST(Config, BadValuesNameTheKey) {
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

TEST(Config, SigningSecretsAreAListCheckedOneByOne) {
    const std::string a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const std::string b = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";
    EXPECT_EQ(load({}, {{"CALLBACK_SIGNING_SECRET", a}}).callback_signing_secrets,
              std::vector<std::string>{a});
    const std::vector<std::string> both{a, b};
    EXPECT_EQ(load({}, {{"CALLBACK_SIGNING_SECRET", a + " " + b}}).callback_signing_secrets, both);
    EXPECT_EQ(load({}, {{"CALLBACK_SIGNING_SECRET", a + "," + b}}).callback_signing_secrets, both);
    EXPECT_EQ(load({}, {{"CALLBACK_SIGNING_SECRET", " " + a + " ,  " + b + ", "}})
                  .callback_signing_secrets,
              both);
    EXPECT_TRUE(load({}, {{"CALLBACK_SIGNING_SECRET", ""}}).callback_signing_secrets.empty());
    // A bad one is named by its position, not shown.
    const auto second = message_of({{"CALLBACK_SIGNING_SECRET", a + " whsec_abc"}});
    EXPECT_NE(second.find("CALLBACK_SIGNING_SECRET: secret 2 of 2"), std::string::npos) << second;
    EXPECT_EQ(second.find("whsec_abc"), std::string::npos) << second;
    const auto first = message_of({{"CALLBACK_SIGNING_SECRET", "plain," + b}});
    EXPECT_NE(first.find("secret 1 of 2 must start with whsec_"), std::string::npos) << first;
    EXPECT_NE(message_of({{"CALLBACK_SIGNING_SECRET", "whsec_"}}).find("secret 1 of 1"),
              std::string::npos);
}

TEST(Config, JwtSettings) {
    const auto off = load({}, {});
    EXPECT_FALSE(off.jwt_enabled());
    EXPECT_EQ(off.jwt_clock_skew_s, 60);
    EXPECT_EQ(off.jwt_client_claim, "sub");
    EXPECT_TRUE(off.jwt_issuer.empty());
    EXPECT_TRUE(off.jwt_audience.empty());
    EXPECT_FALSE(load({}, {{"JWT_ISSUER", "https://idp"}}).jwt_enabled());
    EXPECT_TRUE(load({}, {{"JWT_PUBLIC_KEY_FILE", "/k.pem"}}).jwt_enabled());
    EXPECT_TRUE(load({}, {{"JWT_JWKS_FILE", "/k.json"}}).jwt_enabled());
    const auto c =
        load({{"JWT_HS256_SECRET", std::string(32, 's')}}, {{"JWT_ISSUER", "https://idp"},
                                                            {"JWT_AUDIENCE", "chargegate"},
                                                            {"JWT_CLOCK_SKEW_SECONDS", "600"},
                                                            {"JWT_CLIENT_CLAIM", "azp"}});
    EXPECT_TRUE(c.jwt_enabled());
    EXPECT_EQ(c.jwt_hs256_secret, std::string(32, 's'));
    EXPECT_EQ(c.jwt_issuer, "https://idp");
    EXPECT_EQ(c.jwt_audience, "chargegate");
    EXPECT_EQ(c.jwt_clock_skew_s, 600);
    EXPECT_EQ(c.jwt_client_claim, "azp");
    EXPECT_EQ(load({}, {{"JWT_CLOCK_SKEW_SECONDS", "0"}}).jwt_clock_skew_s, 0);

    const auto short_secret = message_of({{"JWT_HS256_SECRET", std::string(31, 's')}});
    EXPECT_NE(short_secret.find("JWT_HS256_SECRET"), std::string::npos);
    EXPECT_EQ(short_secret.find(std::string(31, 's')), std::string::npos) << "secret shown";
    EXPECT_NE(message_of({{"JWT_CLOCK_SKEW_SECONDS", "601"}}).find("JWT_CLOCK_SKEW_SECONDS"),
              std::string::npos);
    EXPECT_NE(message_of({{"JWT_CLOCK_SKEW_SECONDS", "-1"}}).find("JWT_CLOCK_SKEW_SECONDS"),
              std::string::npos);
    EXPECT_NE(message_of({{"JWT_CLIENT_CLAIM", ""}}).find("JWT_CLIENT_CLAIM"), std::string::npos);
}

TEST(Config, OnlyAClusterWorkerProcessWaitsToGrowItsCommitsByDefault) {
    const std::map<std::string, std::string> cluster{
        {"DATABASE_URL", "postgresql://u@127.0.0.1:5432/cg"}, {"REDIS_URL", "redis://127.0.0.1"}};
    auto with = [&](std::map<std::string, std::string> more) {
        more.insert(cluster.begin(), cluster.end());
        return load({}, more).commit_interval();
    };
    EXPECT_EQ(load({}, {}).commit_interval(), 0);  // embedded: the accept path waits on it
    EXPECT_EQ(with({{"ROLE", "api"}}), 0);
    EXPECT_EQ(with({{"ROLE", "all"}}), 0);
    EXPECT_EQ(with({{"ROLE", "worker"}}), Config::kWorkerCommitIntervalUs);
    EXPECT_EQ(with({{"ROLE", "worker"}, {"COMMIT_INTERVAL_US", "0"}}), 0);  // the user's word wins
    EXPECT_EQ(load({}, {{"COMMIT_INTERVAL_US", "500"}}).commit_interval(), 500);
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

TEST(Config, ApiAuthIsOffByDefaultAndTakesABoolean) {
    EXPECT_FALSE(load({}, {}).api_auth);
    EXPECT_EQ(load({}, {}).api_keys_refresh_ms, 2000);
    const auto c = load({}, {{"API_AUTH", "on"}, {"API_KEYS_REFRESH_MS", "250"}});
    EXPECT_TRUE(c.api_auth);
    EXPECT_EQ(c.api_keys_refresh_ms, 250);
    EXPECT_THROW((void)load({}, {{"API_AUTH", "sometimes"}}), ConfigError);
    EXPECT_THROW((void)load({}, {{"API_KEYS_REFRESH_MS", "5"}}), ConfigError);
}

TEST(Config, AdminAllowedHostsAreLowerCaseNamesWithoutPort) {
    EXPECT_TRUE(load({}, {}).admin_allowed_hosts.empty());
    EXPECT_TRUE(load({}, {{"ADMIN_ALLOWED_HOSTS", ""}}).admin_allowed_hosts.empty());
    const auto c = load({}, {{"ADMIN_ALLOWED_HOSTS", " Ops.Example.COM, box-1 ,[FD00::1]"}});
    EXPECT_EQ(c.admin_allowed_hosts,
              (std::vector<std::string>{"ops.example.com", "box-1", "[fd00::1]"}));
    for (const char* bad : {"ops.example.com:8080", "a,,b", "http://x", "*.example", "a b", ","}) {
        EXPECT_NE(message_of({{"ADMIN_ALLOWED_HOSTS", bad}}).find("ADMIN_ALLOWED_HOSTS"),
                  std::string::npos)
            << bad;
    }
}

TEST(Config, TlsFilesComeInPairsAndMustBeReadable) {
    test::TempDir dir;
    const auto cert = (dir.path() / "cert.pem").string();
    const auto key = (dir.path() / "key.pem").string();
    const auto ca = (dir.path() / "ca.pem").string();
    for (const auto& path : {cert, key, ca}) std::ofstream(path) << "-----BEGIN X-----\n";
    const auto c = load({}, {{"TLS_CERT_FILE", cert}, {"TLS_KEY_FILE", key}});
    EXPECT_EQ(c.tls_cert_file, cert);
    EXPECT_EQ(c.tls_key_file, key);
    EXPECT_TRUE(load({}, {}).tls_cert_file.empty());  // plain HTTP by default
    EXPECT_TRUE(load({}, {{"TLS_CERT_FILE", ""}, {"TLS_KEY_FILE", ""}}).tls_cert_file.empty());
    EXPECT_EQ(load({}, {{"CALLBACK_CA_FILE", ca}}).callback_ca_file, ca);
    EXPECT_TRUE(load({}, {}).callback_ca_file.empty());  // the system's CAs

    const auto missing = (dir.path() / "missing.pem").string();
    const auto empty = (dir.path() / "empty.pem").string();
    std::ofstream{empty};
    // One without the other.
    EXPECT_NE(message_of({{"TLS_CERT_FILE", cert}}).find("TLS_KEY_FILE"), std::string::npos);
    EXPECT_NE(message_of({{"TLS_KEY_FILE", key}}).find("TLS_CERT_FILE"), std::string::npos);
    // Missing, a directory, empty.
    EXPECT_NE(message_of({{"TLS_CERT_FILE", missing}, {"TLS_KEY_FILE", key}}).find("TLS_CERT_FILE"),
              std::string::npos);
    EXPECT_NE(message_of({{"TLS_CERT_FILE", cert}, {"TLS_KEY_FILE", dir.path().string()}})
                  .find("TLS_KEY_FILE"),
              std::string::npos);
    EXPECT_NE(message_of({{"TLS_CERT_FILE", empty}, {"TLS_KEY_FILE", key}}).find("TLS_CERT_FILE"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_CA_FILE", missing}}).find("CALLBACK_CA_FILE"),
              std::string::npos);
    EXPECT_NE(message_of({{"CALLBACK_CA_FILE", dir.path().string()}}).find("CALLBACK_CA_FILE"),
              std::string::npos);
    for (const auto& m :
         {message_of({{"TLS_CERT_FILE", cert}}), message_of({{"CALLBACK_CA_FILE", missing}})}) {
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;  // one line
    }
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

TEST(ConfigFile, UnknownKeyIsAnErrorNamingItAndTheClosestKey) {
    test::TempDir dir;
    const auto path = (dir.path() / "typo.env").string();
    auto error_for = [&](const std::string& text) -> std::string {
        std::ofstream(path) << text;
        try {
            read_config_file(path);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    auto msg = error_for("LOG_LEVEL=INFO\nPROT=9001\n");
    EXPECT_NE(msg.find(":2: unknown key PROT (did you mean PORT?)"), std::string::npos) << msg;
    msg = error_for("callback_timeout_ms=5\n");  // case is a typo too: keys are upper case
    EXPECT_NE(msg.find("unknown key callback_timeout_ms (did you mean CALLBACK_TIMEOUT_MS?)"),
              std::string::npos)
        << msg;
    msg = error_for("CALLBAK_MAX_ATEMPTS=3\n");
    EXPECT_NE(msg.find("(did you mean CALLBACK_MAX_ATTEMPTS?)"), std::string::npos) << msg;
    msg = error_for("FROBNICATE=1\n");  // nothing close: no suggestion
    EXPECT_NE(msg.find("unknown key FROBNICATE"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cg::config
