#include "cli/admin_client.hpp"

#include <gtest/gtest.h>

#include "support/test_env.hpp"
#include "support/test_http_server.hpp"

namespace cg::cli {
namespace {

using test::Recorded;
using test::Reply;
using test::TestHttpServer;

TEST(AdminClient, DefaultUrlUsesPort) {
    EXPECT_EQ(default_admin_url(nullptr), "http://127.0.0.1:8080");
    EXPECT_EQ(default_admin_url(""), "http://127.0.0.1:8080");
    EXPECT_EQ(default_admin_url("9090"), "http://127.0.0.1:9090");
}

TEST(AdminClient, EscapesPathSegments) {
    EXPECT_EQ(escape_path_segment("0193abcd-ef00"), "0193abcd-ef00");
    EXPECT_EQ(escape_path_segment("../x y?z"), "..%2Fx%20y%3Fz");
}

TEST(AdminClient, DescribesFailuresInOneLine) {
    EXPECT_EQ(describe_http_failure(404, R"({"status":"error","message":"No such request."})"),
              "HTTP 404 Not Found: No such request.");
    EXPECT_NE(describe_http_failure(401, "").find("--admin-token"), std::string::npos);
    EXPECT_EQ(describe_http_failure(502, "<html>bad gateway</html>"), "HTTP 502");
}

TEST(AdminClient, SendsTheBearerTokenAndReadsJson) {
    TestHttpServer server;
    server.set_handler([](const Recorded&) { return Reply(200, R"({"total":0,"items":[]})"); });
    AdminClient client(AdminEndpoint{"http://127.0.0.1:" + std::to_string(server.port()) + "/",
                                     "s3cret", "", 5000});
    const auto o = client.get_object("/api/v1/admin/dead-letters?limit=5");
    EXPECT_EQ(o.at("total").as_int64(), 0);
    const auto r = server.requests().at(0);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/api/v1/admin/dead-letters?limit=5");
    EXPECT_EQ(r.header("authorization"), "Bearer s3cret");

    // The same handle POSTs next, without a body.
    const auto answer = client.request("POST", "/api/v1/charging-session/x/redeliver");
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(server.requests().at(1).method, "POST");
}

std::string error_of(AdminClient& client, const std::string& path) {
    try {
        (void)client.get_object(path);
    } catch (const AdminError& e) {
        return e.what();
    }
    return "no error";
}

TEST(AdminClient, EveryFailureIsAOneLineAdminError) {
    TestHttpServer server;
    server.set_handler([](const Recorded& r) {
        if (r.target == "/401") return Reply(401, R"({"status":"error","message":"Invalid"})");
        if (r.target == "/403") {
            return Reply(403, R"({"status":"error","message":"loopback clients only"})");
        }
        if (r.target == "/html") return Reply(200, "<html>hello</html>");
        return Reply(200, "[1,2]");
    });
    AdminClient client(
        AdminEndpoint{"http://127.0.0.1:" + std::to_string(server.port()), "", "", 5000});
    EXPECT_NE(error_of(client, "/401").find("401 Unauthorized"), std::string::npos);
    EXPECT_NE(error_of(client, "/403").find("403 Forbidden: loopback clients only"),
              std::string::npos);
    EXPECT_NE(error_of(client, "/html").find("not a JSON object"), std::string::npos);
    EXPECT_NE(error_of(client, "/array").find("not a JSON object"), std::string::npos);

    const auto closed = test::free_port();  // nothing listens there
    AdminClient nowhere(AdminEndpoint{"http://127.0.0.1:" + std::to_string(closed), "", "", 5000});
    const auto e = error_of(nowhere, "/api/v1/admin/stats");
    EXPECT_NE(e.find("cannot reach http://127.0.0.1:" + std::to_string(closed)), std::string::npos)
        << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);

    EXPECT_THROW(AdminClient(AdminEndpoint{"127.0.0.1:8080", "", "", 5000}), AdminError);
}

TEST(AdminClient, CancelEndsAWaitingRequest) {
    TestHttpServer server;
    server.set_handler(
        [](const Recorded&) { return Reply(200, "{}", {}, std::chrono::milliseconds(3000)); });
    AdminClient client(
        AdminEndpoint{"http://127.0.0.1:" + std::to_string(server.port()), "", "", 10000});
    const auto started = std::chrono::steady_clock::now();
    client.set_cancel([started] {
        return std::chrono::steady_clock::now() - started > std::chrono::milliseconds(200);
    });
    EXPECT_EQ(error_of(client, "/slow"), "interrupted");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace cg::cli
