// Client authentication of the public API (docs/api.md §1, §3; docs/security.md): API keys made
// with the CLI, 401 answers, revocation, and each client seeing only its own requests.
#include <thread>

#include "service_fixture.hpp"
#include "support/eventually.hpp"
#include "support/webhook_verify.hpp"

namespace cg::test {
namespace {

class ClientAuthTest : public ServiceTest {
  protected:
    void start_with_auth() {
        env["API_AUTH"] = "on";
        env["API_KEYS_REFRESH_MS"] = "200";
        start();
    }

    // Runs a chargegate CLI command against the service's store.
    CommandResult cli(const std::vector<std::string>& args) {
        return run_command(binary(), args, env);
    }

    // Creates an API key for `client` with the CLI and waits until the service accepts it.
    std::string create_key(const std::string& client) {
        const auto r = cli({"api-key", "create", "--client", client, "--label", "test"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::string key = r.out;
        while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
        EXPECT_EQ(key.rfind("cgk_", 0), 0u) << key;
        EXPECT_TRUE(eventually(
            [&] {
                return http_get(url("/api/v1/charging-session/" + kStation), {{"X-API-Key", key}})
                           .status != 401;
            },
            std::chrono::seconds(10), std::chrono::milliseconds(50)))
            << "the service never accepted the new key of " << client;
        return key;
    }

    // Waits until the service has read API keys and client secrets again since now: a key made
    // now is accepted only after such a read, and each read takes the keys before the secrets.
    // (One process: the same directory checks keys and signs callbacks, in both backends.)
    void wait_for_credentials_read() { create_key("refresh-probe"); }

    static std::string key_id_of(const std::string& key) { return key.substr(4, 16); }

    void expect_401(const HttpResult& r) {
        EXPECT_EQ(r.status, 401) << r.body;
        EXPECT_EQ(r.header("www-authenticate"), R"(Bearer realm="chargegate")");
        const auto o = parse_object(r.body);
        EXPECT_EQ(str(o, "status"), "error");
        EXPECT_EQ(str(o, "message"), "Invalid credentials.");
    }
};

TEST_F(ClientAuthTest, WhenOffEveryoneMayCallAndTheStartLogSaysSoLoudly) {
    start();
    EXPECT_EQ(post_session(receiver_.url()).status, 200);
    EXPECT_NE(service_->log().find("API AUTHENTICATION IS OFF"), std::string::npos);
}

TEST_F(ClientAuthTest, MissingOrWrongCredentialsAre401WithoutAReason) {
    start_with_auth();
    const auto key = create_key("alpha");
    expect_401(post_session(receiver_.url()));
    expect_401(post_session(receiver_.url(), {{"Authorization", "Basic dXNlcjpwYXNz"}}));
    expect_401(post_session(receiver_.url(), {{"Authorization", "Bearer "}}));
    std::string wrong = key;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    expect_401(post_session(receiver_.url(), {{"X-API-Key", wrong}}));
    expect_401(post_session(receiver_.url(),
                            {{"X-API-Key", "cgk_0000000000000000_" + std::string(64, 'a')}}));
    expect_401(post_session(receiver_.url(), {{"Authorization", "Bearer not.a.jwt"}}));
    expect_401(http_get(url("/api/v1/charging-session/" + kStation)));
    // Health and metrics stay open to orchestrators and scrapers.
    EXPECT_EQ(http_get(url("/health/ready")).status, 200);
    EXPECT_EQ(http_get(url("/metrics")).status, 200);
}

TEST_F(ClientAuthTest, AValidKeyWorksAsBearerOrXApiKey) {
    start_with_auth();
    const auto key = create_key("alpha");
    const auto a = post_session(receiver_.url(), {{"Authorization", "Bearer " + key}});
    ASSERT_EQ(a.status, 200) << a.body;
    const auto b = post_session(receiver_.url(), {{"X-API-Key", key}});
    ASSERT_EQ(b.status, 200) << b.body;
    const auto id = str(parse_object(a.body), "request_id");
    const auto r = http_get(url("/api/v1/charging-session/" + id), {{"X-API-Key", key}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(parse_object(r.body), "request_id"), id);
    ASSERT_TRUE(receiver_.wait_for_count(2, std::chrono::seconds(10)));
}

TEST_F(ClientAuthTest, ARevokedKeyIsRefusedAndListShowsNoSecret) {
    start_with_auth();
    const auto key = create_key("alpha");
    ASSERT_EQ(post_session(receiver_.url(), {{"X-API-Key", key}}).status, 200);

    const auto listed = cli({"api-key", "list"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find(key_id_of(key)), std::string::npos);
    EXPECT_NE(listed.out.find("alpha"), std::string::npos);
    EXPECT_EQ(listed.out.find(key.substr(21)), std::string::npos) << "the secret was listed";

    const auto revoked = cli({"api-key", "revoke", key_id_of(key)});
    ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
    int status = 0;
    EXPECT_TRUE(eventually(
        [&] {
            status = post_session(receiver_.url(), {{"X-API-Key", key}}).status;
            return status == 401;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(50)))
        << "the revoked key is still accepted: " << status;
    EXPECT_EQ(status, 401);
    expect_401(post_session(receiver_.url(), {{"X-API-Key", key}}));
    EXPECT_NE(cli({"api-key", "list"}).out.find("revoked"), std::string::npos);
}

TEST_F(ClientAuthTest, AnotherClientsRequestIsNotFound) {
    start_with_auth();
    const auto alpha = create_key("alpha");
    const auto beta = create_key("beta");
    const auto a = post_session(receiver_.url(), {{"X-API-Key", alpha}});
    ASSERT_EQ(a.status, 200) << a.body;
    const auto id = str(parse_object(a.body), "request_id");
    const auto theirs = http_get(url("/api/v1/charging-session/" + id), {{"X-API-Key", beta}});
    const auto unknown =
        http_get(url("/api/v1/charging-session/00000000-0000-7000-8000-000000000000"),
                 {{"X-API-Key", beta}});
    EXPECT_EQ(theirs.status, 404);
    EXPECT_EQ(theirs.body, unknown.body);  // indistinguishable from an id that does not exist
    EXPECT_EQ(http_get(url("/api/v1/charging-session/" + id), {{"X-API-Key", alpha}}).status, 200);
}

TEST_F(ClientAuthTest, IdempotencyKeysBelongToTheirClient) {
    start_with_auth();
    const auto alpha = create_key("alpha");
    const auto beta = create_key("beta");
    const Headers key = {{"Idempotency-Key", "order-7"}};
    auto with = [&](const std::string& api_key) {
        Headers h = key;
        h.emplace_back("X-API-Key", api_key);
        const auto r = post_session(receiver_.url(), h);
        EXPECT_EQ(r.status, 200) << r.body;
        return str(parse_object(r.body), "request_id");
    };
    const auto a1 = with(alpha);
    const auto b1 = with(beta);
    const auto a2 = with(alpha);
    EXPECT_EQ(a1, a2);
    EXPECT_NE(a1, b1);  // beta never learns alpha's request id
}

TEST_F(ClientAuthTest, AClientsOwnSecretsSignItsCallbacksAndTheDefaultSignsOthers) {
    const std::string own_old = "whsec_YWxwaGEtb2xkLXNlY3JldC0wMTIzNDU2Nzg5";
    const std::string own_new = "whsec_YWxwaGEtbmV3LXNlY3JldC05ODc2NTQzMjEw";
    env["CALLBACK_SIGNING_SECRET"] = kSecret;
    start_with_auth();
    const auto alpha = create_key("alpha");
    const auto beta = create_key("beta");
    const auto set = cli({"client-secrets", "set", "--client", "alpha", own_old, own_new});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    EXPECT_NE(cli({"client-secrets", "list"}).out.find("alpha"), std::string::npos);
    // The service reads the secrets again every API_KEYS_REFRESH_MS (200 ms here).
    wait_for_credentials_read();
    ASSERT_EQ(post_session(receiver_.url("/alpha"), {{"X-API-Key", alpha}}).status, 200);
    ASSERT_EQ(post_session(receiver_.url("/beta"), {{"X-API-Key", beta}}).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(2, std::chrono::seconds(10)));
    for (const auto& r : receiver_.requests()) {
        const auto id = r.header("webhook-id");
        const auto ts = r.header("webhook-timestamp");
        const auto sig = r.header("webhook-signature");
        if (r.target == "/alpha") {
            // Either of alpha's secrets verifies (rotation); the default one does not.
            EXPECT_TRUE(verify_webhook(own_old, id, ts, r.body, sig)) << sig;
            EXPECT_TRUE(verify_webhook(own_new, id, ts, r.body, sig)) << sig;
            EXPECT_FALSE(verify_webhook(kSecret, id, ts, r.body, sig)) << sig;
        } else {
            EXPECT_TRUE(verify_webhook(kSecret, id, ts, r.body, sig)) << sig;
            EXPECT_FALSE(verify_webhook(own_old, id, ts, r.body, sig)) << sig;
        }
    }
    // Cleared: alpha's callbacks are signed with the default again.
    ASSERT_EQ(cli({"client-secrets", "clear", "--client", "alpha"}).exit_code, 0);
    wait_for_credentials_read();
    ASSERT_EQ(post_session(receiver_.url("/alpha-again"), {{"X-API-Key", alpha}}).status, 200);
    ASSERT_TRUE(receiver_.wait_for_count(3, std::chrono::seconds(10)));
    for (const auto& r : receiver_.requests()) {
        if (r.target != "/alpha-again") continue;
        EXPECT_TRUE(verify_webhook(kSecret, r.header("webhook-id"), r.header("webhook-timestamp"),
                                   r.body, r.header("webhook-signature")));
    }
}

TEST_F(ClientAuthTest, TheCliRefusesBadInputWithOneLine) {
    start_with_auth();
    auto one_line_error = [](const CommandResult& r) {
        EXPECT_NE(r.exit_code, 0);
        EXPECT_NE(r.err.find("error"), std::string::npos) << r.err;
        EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    };
    one_line_error(cli({"api-key", "revoke", "0123456789abcdef"}));
    one_line_error(cli({"api-key", "create", "--client", "has space"}));
    one_line_error(cli({"client-secrets", "set", "--client", "alpha", "not-a-secret"}));
    one_line_error(cli({"client-secrets", "clear", "--client", "nobody"}));
}

}  // namespace
}  // namespace cg::test
