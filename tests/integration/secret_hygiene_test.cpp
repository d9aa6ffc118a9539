// docs/security.md: secrets never appear in logs, metrics, health, status answers or error
// bodies. One service run uses every kind of secret (admin token, signing secret, API keys —
// right and wrong ones —, driver tokens), at DEBUG level, through success and failure paths;
// then the whole log and every answer is searched for each of them.
#include <thread>

#include "service_fixture.hpp"
#include "support/jwt_maker.hpp"

namespace cg::test {
namespace {

class SecretHygieneTest : public ServiceTest {};

TEST_F(SecretHygieneTest, NoSecretAppearsInLogsMetricsOrAnswers) {
    const std::string admin_token = "adm1n-T0ken-that-must-never-be-logged-4242";
    const std::string signing_secret = "whsec_bG9nLXNjYW4tc2lnbmluZy1zZWNyZXQtMDEyMzQ1Njc4OQ==";
    const std::string client_secret = "whsec_Y2xpZW50LW93bi1zZWNyZXQtbmV2ZXItbG9nZ2VkLTk4NzY=";
    const std::string driver_token = "SECRETdriverTOKEN-0123456789_~abc";
    const std::string wrong_key = "cgk_0123456789abcdef_" + std::string(64, 'e');
    const std::string jwt_secret = "jwt-hs256-secret-never-logged-0123456789";
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    const std::string good_jwt = jwt::sign_hs256(jwt_secret, jwt::claims_at(now_s, "gamma"));
    const std::string bad_jwt =
        jwt::sign_hs256("another-secret-that-is-long-enough-000000", jwt::claims_at(now_s));
    env["LOG_LEVEL"] = "DEBUG";
    env["ADMIN_TOKEN"] = admin_token;
    env["CALLBACK_SIGNING_SECRET"] = signing_secret;
    env["API_AUTH"] = "on";
    env["API_KEYS_REFRESH_MS"] = "200";
    env["JWT_HS256_SECRET"] = jwt_secret;
    start();

    auto created = run_command(binary(), {"api-key", "create", "--client", "alpha"}, env);
    ASSERT_EQ(created.exit_code, 0) << created.err;
    std::string key = created.out;
    while (!key.empty() && key.back() == '\n') key.pop_back();
    ASSERT_EQ(
        run_command(binary(), {"client-secrets", "set", "--client", "beta", client_secret}, env)
            .exit_code,
        0);

    std::vector<std::string> answers;  // every body and header the service sent back
    auto keep = [&answers](const HttpResult& r) {
        std::string all = r.body;
        for (const auto& [k, v] : r.headers) all += "\n" + k + ": " + v;
        answers.push_back(std::move(all));
        return r;
    };
    const Headers admin = {{"Authorization", "Bearer " + admin_token},
                           {"Content-Type", "application/json"}};
    // The admin API's own answers carry the ACL's driver tokens (its data), so they are not
    // searched; its refusal is.
    ASSERT_EQ(http_request("PUT", url("/api/v1/acl/" + driver_token), admin,
                           R"({"status":"allowed","stations":null})")
                  .status,
              200);
    keep(http_request("PUT", url("/api/v1/acl/" + driver_token),
                      {{"Authorization", "Bearer wrong-" + admin_token}},
                      R"({"status":"allowed"})"));

    // Wait for the key to be loaded, then use it, the wrong one, and none.
    HttpResult accepted;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
        accepted = post_json(url("/api/v1/charging-session"),
                             body(kStation, driver_token, receiver_.url()), {{"X-API-Key", key}});
        if (accepted.status == 200) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(keep(accepted).status, 200) << accepted.body;
    keep(post_json(url("/api/v1/charging-session"), body(kStation, driver_token, receiver_.url()),
                   {{"X-API-Key", wrong_key}}));
    keep(post_json(url("/api/v1/charging-session"), body(kStation, driver_token, receiver_.url()),
                   {{"Authorization", "Bearer " + wrong_key}}));
    keep(post_json(url("/api/v1/charging-session"), body(kStation, driver_token, receiver_.url()),
                   {{"Authorization", "Bearer " + good_jwt}}));
    keep(post_json(url("/api/v1/charging-session"), body(kStation, driver_token, receiver_.url()),
                   {{"Authorization", "Bearer " + bad_jwt}}));
    keep(post_json(url("/api/v1/charging-session"), body("not-a-uuid", driver_token, "ftp://x"),
                   {{"X-API-Key", key}}));
    keep(post_json(url("/api/v1/charging-session"), R"({"driver_token":")" + driver_token + "\"",
                   {{"X-API-Key", key}}));
    const auto id = str(parse_object(accepted.body), "request_id");
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(10)));
    HttpResult status;
    for (int i = 0; i < 500; ++i) {
        status = http_get(url("/api/v1/charging-session/" + id), {{"X-API-Key", key}});
        if (str(parse_object(status.body), "state") == "delivered") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(str(parse_object(status.body), "state"), "delivered") << status.body;
    keep(http_get(url("/api/v1/charging-session/" + id), {{"X-API-Key", key}}));
    keep(http_get(url("/metrics")));
    keep(http_get(url("/health")));
    service_->terminate();
    ASSERT_EQ(service_->wait_exit(), 0);

    const std::string log = service_->log();
    ASSERT_NE(log.find(id), std::string::npos) << "the log is not the service's";
    const std::vector<std::pair<std::string, std::string>> secrets = {
        {"ADMIN_TOKEN", admin_token},
        {"CALLBACK_SIGNING_SECRET", signing_secret},
        {"its base64 part", signing_secret.substr(6)},
        {"a client's webhook secret", client_secret.substr(6)},
        {"an API key", key},
        {"an API key's secret part", key.substr(21)},
        {"a wrong API key", wrong_key},
        {"JWT_HS256_SECRET", jwt_secret},
        {"a valid JWT", good_jwt},
        {"a JWT's signature", good_jwt.substr(good_jwt.rfind('.') + 1)},
        {"a forged JWT", bad_jwt},
        {"a driver token", driver_token},
    };
    for (const auto& [what, secret] : secrets) {
        EXPECT_EQ(log.find(secret), std::string::npos) << what << " is in the service log";
        for (const auto& answer : answers) {
            EXPECT_EQ(answer.find(secret), std::string::npos) << what << " is in an answer:\n"
                                                              << answer;
        }
    }
    // Driver tokens do appear, masked (docs/api.md §3, §5).
    EXPECT_NE(log.find(driver_token.substr(0, 4) + "***"), std::string::npos);
}

}  // namespace
}  // namespace cg::test
