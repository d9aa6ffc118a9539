#include "delivery/curl_http_client.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "support/test_ca.hpp"
#include "support/test_env.hpp"
#include "support/test_http_server.hpp"

namespace cg::delivery {
namespace {

using namespace std::chrono_literals;

HttpResponse post(HttpClient& client, const std::string& url, bool block = false,
                  std::chrono::milliseconds timeout = 2000ms) {
    HttpRequest req;
    req.url = url;
    req.body = R"({"x":1})";
    req.headers.emplace_back("Content-Type", "application/json");
    req.headers.emplace_back("webhook-id", "abc");
    req.timeout = timeout;
    req.block_private_addresses = block;
    std::promise<HttpResponse> p;
    auto f = p.get_future();
    client.post(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    return f.get();
}

TEST(CurlHttpClient, PostsBodyAndHeadersAndReadsTheAnswer) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{201, "created"}; });
    CurlHttpClient client({});
    const auto r = post(client, server.url("/cb"));
    EXPECT_EQ(r.error, HttpError::kNone) << r.error_message;
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "created");
    const auto got = server.requests().at(0);
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.body, R"({"x":1})");
    EXPECT_EQ(got.header("webhook-id"), "abc");
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST(CurlHttpClient, ReusesOneConnectionForSequentialRequests) {
    test::TestHttpServer server;
    CurlHttpClient client({});
    for (int i = 0; i < 10; ++i) EXPECT_EQ(post(client, server.url()).status, 200);
    EXPECT_EQ(server.connections(), 1);
}

// The per-attempt deadline covers sending and the answer, not the wait for one of the host's
// connections: with one connection and three requests that each take 300 ms, the third waits
// 600 ms and still has its full 500 ms.
TEST(CurlHttpClient, TheDeadlineStartsWhenAConnectionIsFree) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 300ms}; });
    CurlOptions options;
    options.max_connections_per_host = 1;
    CurlHttpClient client(options);
    std::vector<std::future<HttpResponse>> answers;
    for (int i = 0; i < 3; ++i) {
        answers.push_back(std::async(std::launch::async,
                                     [&] { return post(client, server.url(), false, 500ms); }));
    }
    for (auto& a : answers) {
        const auto r = a.get();
        EXPECT_EQ(r.error, HttpError::kNone) << r.error_message;
        EXPECT_EQ(r.status, 200);
        EXPECT_LT(r.duration, std::chrono::microseconds(500'000));  // measured from sending
    }
    EXPECT_EQ(server.count(), 3u);
    EXPECT_EQ(server.connections(), 1);  // the per-host limit still holds
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST(CurlHttpClient, ErrorsAreClassified) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded& r) {
        if (r.target == "/slow") return test::Reply{200, "{}", {}, 1500ms};
        return test::Reply{503, "busy", {{"Retry-After", "7"}}};
    });
    CurlHttpClient client({});
    auto r = post(client, server.url("/busy"));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.retry_after_ms, 7000);
    r = post(client, server.url("/slow"), false, 200ms);
    EXPECT_EQ(r.error, HttpError::kTimeout);
    EXPECT_EQ(r.status, 0);
    r = post(client, "http://127.0.0.1:" + std::to_string(test::free_port()) + "/");
    EXPECT_EQ(r.error, HttpError::kConnect);
    r = post(client, "http://no-such-host.invalid/");
    EXPECT_EQ(r.error, HttpError::kDns);
}

TEST(CurlHttpClient, TheSsrfGuardChecksTheAddressConnectedTo) {
    test::TestHttpServer server;
    CurlHttpClient client({});
    // 127.0.0.1 is loopback: refused when private addresses are blocked...
    auto r = post(client, server.url(), true);
    EXPECT_EQ(r.error, HttpError::kBlockedAddress);
    EXPECT_EQ(server.count(), 0u);
    // ... also when reached through a name that resolves to it ...
    r = post(client, "http://localhost:" + std::to_string(server.port()) + "/", true);
    EXPECT_EQ(r.error, HttpError::kBlockedAddress);
    EXPECT_EQ(server.count(), 0u);
    // ... and allowed when the guard is off.
    r = post(client, server.url(), false);
    EXPECT_EQ(r.status, 200);
}

// DNS rebinding: what is checked is the address connected to, so a public-looking name that
// resolves to loopback is refused however it was judged when the request was accepted.
TEST(CurlHttpClient, TheSsrfGuardChecksWhatANameResolvesTo) {
    const auto name = test::loopback_host_name();
    if (name.empty()) GTEST_SKIP() << "no host name here resolves to loopback only";
    test::TestHttpServer server;
    CurlHttpClient client({});
    auto r = post(client, server.url_for_host(name), true);
    EXPECT_EQ(r.error, HttpError::kBlockedAddress) << name << ": " << r.error_message;
    EXPECT_EQ(server.count(), 0u);
}

// A proxy from the environment would be the address open_socket() checks, and the receiver's
// address would never be judged: callbacks never use one.
TEST(CurlHttpClient, ProxySettingsFromTheEnvironmentAreIgnored) {
    test::TestHttpServer proxy;
    test::TestHttpServer receiver;
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    for (const char* var : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"}) {
        ::setenv(var, proxy_url.c_str(), 1);
    }
    CurlHttpClient client({});
    const auto r = post(client, receiver.url("/cb"), false);
    for (const char* var : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"}) {
        ::unsetenv(var);
    }
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(receiver.count(), 1u);
    EXPECT_EQ(proxy.count(), 0u);
}

// https receivers are verified (chain and name) against ca_bundle (CALLBACK_CA_FILE).
TEST(CurlHttpClient, HttpsReceiversAreVerified) {
    test::TempDir dir;
    const test::TestCa ca(dir.path(), "ca");
    const test::TestCa rogue(dir.path(), "rogue");
    test::TestHttpServer trusted(test::localhost_cert(ca));
    test::TestHttpServer untrusted(test::localhost_cert(rogue));
    test::TestHttpServer wrong_name(ca.issue("other", {"other.example"}));

    CurlHttpClient with_ca({32, 512, ca.ca_file()});
    auto r = post(with_ca, trusted.url());
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(trusted.count(), 1u);

    r = post(with_ca, untrusted.url());
    EXPECT_EQ(r.error, HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
    r = post(with_ca, wrong_name.url());
    EXPECT_EQ(r.error, HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;

    CurlHttpClient system_cas({});
    r = post(system_cas, trusted.url());
    EXPECT_EQ(r.error, HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
    EXPECT_EQ(untrusted.count() + wrong_name.count(), 0u);
    EXPECT_EQ(trusted.count(), 1u);
}

TEST(CurlHttpClient, RedirectsAreNotFollowed) {
    test::TestHttpServer server;
    server.set_handler([&server](const test::Recorded&) {
        return test::Reply{302, "", {{"Location", server.url("/elsewhere")}}};
    });
    CurlHttpClient client({});
    const auto r = post(client, server.url("/cb"));
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(server.count(), 1u);
}

TEST(CurlHttpClient, StopCancelsWhatIsPending) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 3000ms}; });
    CurlHttpClient client({});
    std::promise<HttpResponse> p;
    HttpRequest req;
    req.url = server.url();
    req.block_private_addresses = false;
    client.post(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    std::this_thread::sleep_for(100ms);
    client.stop();
    EXPECT_EQ(p.get_future().get().error, HttpError::kCancelled);
}

}  // namespace
}  // namespace cg::delivery
