// HTTP/1.1 by the book (RFC 9110/9112, contract intro; issue 12), observed on a real socket the
// way a client or a proxy in front of the service sees it: status lines, interim answers,
// whether a pipelined request is answered, whether the connection is closed.

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "service_fixture.hpp"
#include "support/raw_connection.hpp"

namespace cg::test {
namespace {

using namespace std::chrono_literals;

// The value of header `name` (as the service spells it) in the first answer of `raw`.
std::string header_of(const std::string& raw, const std::string& name) {
    const auto head_end = raw.find("\r\n\r\n");
    const auto pos = raw.find("\r\n" + name + ": ");
    if (pos == std::string::npos || pos > head_end) return {};
    const auto start = pos + name.size() + 4;
    return raw.substr(start, raw.find("\r\n", start) - start);
}

std::string body_of(const std::string& raw) {
    const auto head_end = raw.find("\r\n\r\n");
    return head_end == std::string::npos ? std::string() : raw.substr(head_end + 4);
}

class HttpConformanceTest : public ServiceTest {
  protected:
    std::string host() const { return "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n"; }
    // A request refused before routing, then a pipelined GET on the same connection: the
    // refusal is answered with `status`, the GET is not, and the service closes.
    void expect_refused_and_closed(const std::string& request, const std::string& status) {
        RawConnection w(port_);
        ASSERT_TRUE(w.connected());
        ASSERT_TRUE(w.send(request + "GET /health/live HTTP/1.1\r\n" + host() + "\r\n"));
        const auto raw = w.read_all();
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 " + status + " ")) << request << "\n→\n" << raw;
        // The pipelined GET /health/live would be answered with 200.
        EXPECT_EQ(raw.find("HTTP/1.1 200"), std::string::npos)
            << "the pipelined GET was answered:\n"
            << raw;
        EXPECT_TRUE(w.closed()) << request;
        EXPECT_EQ(header_of(raw, "Connection"), "close") << raw;
        EXPECT_EQ(str(parse_object(body_of(raw)), "status"), "error") << raw;
    }
};

// Issue 12, point 1: `Transfer-Encoding: identity` followed by a pipelined GET got 400 then 200
// (the body was read as a second request).
TEST_F(HttpConformanceTest, TransferEncodingOtherThanChunkedIs400AndNothingAfterItIsServed) {
    start();
    for (const std::string te : {"Transfer-Encoding: identity\r\n", "Transfer-Encoding: gzip\r\n",
                                 "Transfer-Encoding: chunked, chunked\r\n",
                                 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"}) {
        expect_refused_and_closed("PUT /api/v1/acl/" + kToken + " HTTP/1.1\r\n" + host() + te +
                                      "Content-Type: application/json\r\n\r\n",
                                  "400");
    }
    // The same refusal for a new charging session is one of that route's answers.
    expect_refused_and_closed("POST /api/v1/charging-session HTTP/1.1\r\n" + host() +
                                  "Transfer-Encoding: identity\r\n"
                                  "Content-Type: application/json\r\n\r\n",
                              "400");
    const auto metrics = http_get(url("/metrics")).body;
    EXPECT_NE(metrics.find(R"(http_requests_total{route="other",code="400"} 5)"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(R"(charging_requests_total{status="malformed"} 1)"), std::string::npos)
        << metrics;
}

// Issue 12, point 4: a request without Host, or with two, was served.
TEST_F(HttpConformanceTest, Http11WithoutExactlyOneHostIs400AndCloses) {
    start();
    expect_refused_and_closed("GET /health/live HTTP/1.1\r\n\r\n", "400");
    expect_refused_and_closed("GET /health/live HTTP/1.1\r\n" + host() + "Host: other\r\n\r\n",
                              "400");
    // HTTP/1.0 predates Host: served without one (RFC 9112 §3.2 requires it of 1.1 only).
    RawConnection w(port_);
    ASSERT_TRUE(w.send("GET /health/live HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(w.read_all().starts_with("HTTP/1.0 200 ")) << w.received();
}

// Issue 12, point 2: `Expect: 100-continue` never got `100 Continue`, so clients waited
// (curl: 1 s) before sending the body.
TEST_F(HttpConformanceTest, ExpectContinueGets100ContinueBeforeTheBodyIsSent) {
    start();
    const std::string body = R"({"status":"allowed","stations":null})";
    RawConnection w(port_);
    ASSERT_TRUE(w.send("PUT /api/v1/acl/" + kToken + " HTTP/1.1\r\n" + host() +
                       "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                       "Content-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n"));
    const auto interim = w.read_until("\r\n\r\n", 3s);
    ASSERT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(w.send(body));
    const auto raw = w.read_until("}", 5s);
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ")) << raw;
    EXPECT_FALSE(w.closed());
}

// Issue 12, point 2: a request refused from its headers gets the final answer instead of 100.
TEST_F(HttpConformanceTest, ExpectContinueRefusedFromTheHeadersGetsTheFinalAnswerAtOnce) {
    start();
    {
        RawConnection w(port_);
        ASSERT_TRUE(w.send("POST /api/v1/charging-session HTTP/1.1\r\n" + host() +
                           "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                           "Content-Length: 20000\r\n\r\n"));
        const auto raw = w.read_all(3s);
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 413 ")) << raw;
        EXPECT_TRUE(w.closed());
    }
    {
        RawConnection w(port_);
        ASSERT_TRUE(w.send("POST /api/v1/charging-session HTTP/1.1\r\n" + host() +
                           "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
                           "Expect: 100-continue\r\nContent-Length: 20\r\n\r\n"));
        const auto raw = w.read_all(3s);
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 415 ")) << raw;
        EXPECT_TRUE(w.closed());
    }
    expect_refused_and_closed("PUT /api/v1/acl/" + kToken + " HTTP/1.1\r\n" + host() +
                                  "Expect: 200-ok\r\nContent-Length: 0\r\n\r\n",
                              "417");
    // Refused by the route from its headers alone: the content type of a new session, and the
    // admin API asked under a foreign Host while ADMIN_TOKEN is unset. No 100 Continue either.
    {
        RawConnection w(port_);
        ASSERT_TRUE(w.send("POST /api/v1/charging-session HTTP/1.1\r\n" + host() +
                           "Content-Type: text/plain\r\nExpect: 100-continue\r\n"
                           "Content-Length: 20\r\n\r\n"));
        const auto raw = w.read_all(3s);
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 415 ")) << raw;
        EXPECT_TRUE(w.closed());
    }
    {
        RawConnection w(port_);
        ASSERT_TRUE(w.send("PUT /api/v1/acl/" + kToken +
                           " HTTP/1.1\r\nHost: rebind.attacker.example:8080\r\n"
                           "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                           "Content-Length: 40\r\n\r\n"));
        const auto raw = w.read_all(3s);
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 403 ")) << raw;
        EXPECT_TRUE(w.closed());
    }
    // Each refused POST is one of the session route's answers in charging_requests_total.
    const auto m = http_get(url("/metrics")).body;
    EXPECT_NE(m.find(R"(charging_requests_total{status="too_large"} 1)"), std::string::npos) << m;
    EXPECT_NE(m.find(R"(charging_requests_total{status="unsupported_media_type"} 2)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(R"(http_requests_total{route="acl",code="403"} 1)"), std::string::npos) << m;
}

// Issue 12, point 3: HEAD got 405 on GET routes. Each HEAD is followed by a pipelined GET on
// the same connection: if the HEAD answer carried a body, the GET's status line would not
// start right after its header.
TEST_F(HttpConformanceTest, HeadIsServedWhereverGetIsWithTheSameHeadersAndNoBody) {
    start();
    allow(kToken);
    const auto accepted = post_session(receiver_.url());
    ASSERT_EQ(accepted.status, 200) << accepted.body;
    const auto id = str(parse_object(accepted.body), "request_id");
    ASSERT_TRUE(wait_state(id, "delivered"));  // its status no longer changes
    // Routes whose answer does not change between two calls: same Content-Length.
    for (const std::string& path : std::vector<std::string>{
             "/health/live", "/api/v1/charging-session/" + id, "/api/v1/acl/" + kToken,
             "/api/v1/stations/" + kStation, "/api/v1/admin/requests/" + id, "/dashboard",
             "/api/v1/charging-session/00000000-0000-7000-8000-000000000000"}) {
        RawConnection w(port_);
        ASSERT_TRUE(w.send("GET " + path + " HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n"));
        const auto get = w.read_all();
        const std::string status_line = get.substr(0, get.find("\r\n"));
        const auto length = header_of(get, "Content-Length");
        ASSERT_FALSE(length.empty()) << path << "\n" << get;
        EXPECT_EQ(std::to_string(body_of(get).size()), length) << path;
        RawConnection h(port_);
        ASSERT_TRUE(h.send("HEAD " + path + " HTTP/1.1\r\n" + host() + "\r\n" +
                           "GET /health/live HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n"));
        const auto raw = h.read_all();
        EXPECT_EQ(raw.substr(0, raw.find("\r\n")), status_line) << path;
        EXPECT_EQ(header_of(raw, "Content-Length"), length) << path;
        EXPECT_EQ(header_of(raw, "Content-Type"), header_of(get, "Content-Type")) << path;
        const auto head_end = raw.find("\r\n\r\n");
        EXPECT_EQ(raw.compare(head_end + 4, 9, "HTTP/1.1 "), 0)
            << path << ": the HEAD answer carried a body:\n"
            << raw;
    }
    // Routes whose answer changes from call to call: same status, a Content-Length, no body.
    for (const std::string path : {"/health", "/health/ready", "/metrics", "/api/v1/admin/stats",
                                   "/api/v1/admin/dead-letters"}) {
        RawConnection h(port_);
        ASSERT_TRUE(h.send("HEAD " + path + " HTTP/1.1\r\n" + host() + "\r\n" +
                           "GET /health/live HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n"));
        const auto raw = h.read_all();
        EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 ")) << path << "\n" << raw;
        EXPECT_GT(std::stoul("0" + header_of(raw, "Content-Length")), 0u) << path << "\n" << raw;
        const auto head_end = raw.find("\r\n\r\n");
        EXPECT_EQ(raw.compare(head_end + 4, 9, "HTTP/1.1 "), 0) << path << "\n" << raw;
    }
}

// Issue 12, point 3: a 405 names HEAD among the allowed methods wherever GET is one.
// HEAD through an ordinary client library (libcurl) on every kind of GET route, so that the
// recorded answers are checked against docs/openapi.yaml too (scripts/api-check.sh): the status
// and Content-Type of the GET, no body.
TEST_F(HttpConformanceTest, HeadThroughAClientLibraryMatchesGet) {
    start();
    allow(kToken);
    for (const std::string& path : std::vector<std::string>{
             "/health", "/health/live", "/health/ready", "/metrics", "/api/v1/admin/stats",
             "/api/v1/admin/dead-letters", "/api/v1/acl/" + kToken,
             "/api/v1/acl/NOBODY-0000000000000000", "/api/v1/stations/" + kStation,
             "/api/v1/charging-session/00000000-0000-7000-8000-000000000000",
             "/api/v1/admin/requests/00000000-0000-7000-8000-000000000000", "/dashboard",
             "/dashboard/app.js"}) {
        const auto get = http_get(url(path));
        const auto head = http_request("HEAD", url(path));
        EXPECT_EQ(head.status, get.status) << path;
        EXPECT_EQ(head.header("content-type"), get.header("content-type")) << path;
        EXPECT_TRUE(head.body.empty()) << path;
    }
}

TEST_F(HttpConformanceTest, AllowOn405ListsHeadWhereGetIsServed) {
    start();
    const std::map<std::string, std::string> allow_of = {
        {"/health", "GET, HEAD"},
        {"/metrics", "GET, HEAD"},
        {"/dashboard", "GET, HEAD"},
        {"/api/v1/admin/stats", "GET, HEAD"},
        {"/api/v1/charging-session/" + kStation, "GET, HEAD"},
        {"/api/v1/acl/" + kToken, "GET, HEAD, PUT, DELETE"},
        {"/api/v1/stations/" + kStation, "GET, HEAD, PUT"},
    };
    for (const auto& [path, allow] : allow_of) {
        const auto r =
            http_request("PATCH", url(path), {{"Content-Type", "application/json"}}, "{}");
        EXPECT_EQ(r.status, 405) << path;
        EXPECT_EQ(r.header("allow"), allow) << path;
    }
}

// Issue 12, point 5: a gzip body got a JSON syntax error instead of 415.
TEST_F(HttpConformanceTest, EncodedBodyIs415WithTheErrorShape) {
    start();
    const std::string gzip_magic("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
    for (const std::string& path :
         {std::string("/api/v1/charging-session"), "/api/v1/acl/" + kToken}) {
        const auto r = http_request(
            path.ends_with("session") ? "POST" : "PUT", url(path),
            {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, gzip_magic);
        EXPECT_EQ(r.status, 415) << path << " " << r.body;
        const auto body = parse_object(r.body);
        EXPECT_EQ(str(body, "status"), "error") << r.body;
        EXPECT_FALSE(str(body, "message").empty()) << r.body;
        EXPECT_EQ(r.header("accept-encoding"), "identity");
    }
    EXPECT_EQ(http_get(url("/api/v1/acl/" + kToken)).status, 404);  // nothing was stored
}

// Issue 12, point 6 (docs/security.md T23): DNS rebinding. A page from rebind.attacker.example
// whose name now resolves to 127.0.0.1 reaches the service from a loopback peer, with its own
// name in Host and a matching Origin. Without ADMIN_TOKEN that was enough to change the ACL.
TEST_F(HttpConformanceTest, WithoutAdminTokenAForeignHostIsRefusedEvenFromLoopback) {
    start();
    const std::string evil = "/api/v1/acl/EVIL-rebind0000000000000";
    const auto port = std::to_string(port_);
    const auto rebound = http_request("PUT", url(evil),
                                      {{"Host", "rebind.attacker.example:" + port},
                                       {"Origin", "http://rebind.attacker.example:" + port},
                                       {"Content-Type", "application/json"}},
                                      R"({"status":"allowed","stations":null})");
    EXPECT_EQ(rebound.status, 403) << rebound.body;
    EXPECT_EQ(str(parse_object(rebound.body), "status"), "error") << rebound.body;
    EXPECT_NE(str(parse_object(rebound.body), "message").find("ADMIN_ALLOWED_HOSTS"),
              std::string::npos);
    EXPECT_EQ(http_get(url(evil), {{"Host", "rebind.attacker.example"}}).status, 403);
    EXPECT_EQ(http_get(url("/dashboard"), {{"Host", "rebind.attacker.example"}}).status, 403);
    EXPECT_EQ(http_get(url(evil)).status, 404);  // nothing was stored
    // Loopback names are served, with or without port.
    EXPECT_EQ(http_get(url(evil), {{"Host", "localhost:" + port}}).status, 404);
    EXPECT_EQ(http_get(url(evil), {{"Host", "[::1]"}}).status, 404);
    EXPECT_EQ(http_get(url(evil), {{"Host", "127.0.0.1"}}).status, 404);
    // Public routes do not care about Host.
    EXPECT_EQ(http_get(url("/health/live"), {{"Host", "rebind.attacker.example"}}).status, 200);
}

TEST_F(HttpConformanceTest, AdminAllowedHostsAddsNamesAndABadListStopsStartUp) {
    env["ADMIN_ALLOWED_HOSTS"] = "Ops.Example.test, [fd00::1]";
    start();
    const std::string path = "/api/v1/acl/" + kToken;
    EXPECT_EQ(http_get(url(path), {{"Host", "ops.example.TEST:8443"}}).status, 404);
    EXPECT_EQ(http_get(url(path), {{"Host", "[fd00::1]"}}).status, 404);
    EXPECT_EQ(http_get(url(path), {{"Host", "rebind.attacker.example"}}).status, 403);

    env["ADMIN_ALLOWED_HOSTS"] = "ops.example.test:8080";
    const auto r = run_command(binary(), {"migrate"}, env);  // loads the configuration first
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("ADMIN_ALLOWED_HOSTS"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cg::test
