// The HttpClient contract, run against each implementation (CurlHttpClient, BeastHttpClient).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "net/http_client_factory.hpp"
#include "support/eventually.hpp"
#include "support/test_ca.hpp"
#include "support/test_env.hpp"
#include "support/test_http_server.hpp"

namespace cg::net {
namespace {

using namespace std::chrono_literals;

net::HttpResponse post(net::HttpClient& client, const std::string& url, bool block = false,
                       std::chrono::milliseconds timeout = 2000ms) {
    net::HttpRequest req;
    req.url = url;
    req.body = R"({"x":1})";
    req.headers.emplace_back("Content-Type", "application/json");
    req.headers.emplace_back("webhook-id", "abc");
    req.timeout = timeout;
    req.block_private_addresses = block;
    std::promise<net::HttpResponse> p;
    auto f = p.get_future();
    client.post(std::move(req), [&p](net::HttpResponse r) { p.set_value(std::move(r)); });
    return f.get();
}

template <net::HttpClientKind K>
struct Kind {
    static constexpr net::HttpClientKind kKind = K;
};
using Curl = Kind<net::HttpClientKind::kCurl>;
using Beast = Kind<net::HttpClientKind::kBeast>;

struct KindName {
    template <class T>
    static std::string GetName(int /*index*/) {
        return T::kKind == net::HttpClientKind::kCurl ? "Curl" : "Beast";
    }
};

template <class T>
class HttpClientContract : public ::testing::Test {
  protected:
    static std::unique_ptr<net::HttpClient> make(net::HttpClientOptions options = {}) {
        options.kind = T::kKind;
        return net::make_http_client(options);
    }
    static std::unique_ptr<net::HttpClient> make_with_ca(const std::string& ca_file) {
        net::HttpClientOptions options;
        options.ca_bundle = ca_file;
        return make(options);
    }
    static std::unique_ptr<net::HttpClient> make_per_host(size_t limit) {
        net::HttpClientOptions options;
        options.max_connections_per_host = limit;
        return make(options);
    }
};

using Kinds = ::testing::Types<Curl, Beast>;
TYPED_TEST_SUITE(HttpClientContract, Kinds, KindName);

TYPED_TEST(HttpClientContract, PostsBodyAndHeadersAndReadsTheAnswer) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{201, "created"}; });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    const auto r = post(client, server.url("/cb"));
    EXPECT_EQ(r.error, net::HttpError::kNone) << r.error_message;
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, "created");
    const auto got = server.requests().at(0);
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.body, R"({"x":1})");
    EXPECT_EQ(got.header("webhook-id"), "abc");
    EXPECT_EQ(client.in_flight(), 0u);
}

TYPED_TEST(HttpClientContract, ReusesOneConnectionForSequentialRequests) {
    test::TestHttpServer server;
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(post(client, server.url()).status, 200);
    EXPECT_EQ(server.connections(), 1);
}

// The per-attempt deadline covers sending and the answer, not the wait for one of the host's
// connections: with one connection and three requests that each take 300 ms, the third waits
// 600 ms and still has its full 500 ms.
TYPED_TEST(HttpClientContract, TheDeadlineStartsWhenAConnectionIsFree) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 300ms}; });
    const auto client_ptr = TestFixture::make_per_host(1);
    auto& client = *client_ptr;
    std::vector<std::future<net::HttpResponse>> answers;
    for (int i = 0; i < 3; ++i) {
        answers.push_back(std::async(std::launch::async,
                                     [&] { return post(client, server.url(), false, 500ms); }));
    }
    for (auto& a : answers) {
        const auto r = a.get();
        EXPECT_EQ(r.error, net::HttpError::kNone) << r.error_message;
        EXPECT_EQ(r.status, 200);
        EXPECT_LT(r.duration, std::chrono::microseconds(500'000));  // measured from sending
    }
    EXPECT_EQ(server.count(), 3u);
    EXPECT_EQ(server.connections(), 1);  // the per-host limit still holds
    EXPECT_EQ(client.in_flight(), 0u);
}

TYPED_TEST(HttpClientContract, ErrorsAreClassified) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded& r) {
        if (r.target == "/slow") return test::Reply{200, "{}", {}, 1500ms};
        return test::Reply{503, "busy", {{"Retry-After", "7"}}};
    });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    auto r = post(client, server.url("/busy"));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.retry_after_ms, 7000);
    r = post(client, server.url("/slow"), false, 200ms);
    EXPECT_EQ(r.error, net::HttpError::kTimeout);
    EXPECT_EQ(r.status, 0);
    r = post(client, "http://127.0.0.1:" + std::to_string(test::free_port()) + "/");
    EXPECT_EQ(r.error, net::HttpError::kConnect);
    r = post(client, "http://no-such-host.invalid/");
    EXPECT_EQ(r.error, net::HttpError::kDns);
}

TYPED_TEST(HttpClientContract, TheSsrfGuardChecksTheAddressConnectedTo) {
    test::TestHttpServer server;
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    // 127.0.0.1 is loopback: refused when private addresses are blocked...
    auto r = post(client, server.url(), true);
    EXPECT_EQ(r.error, net::HttpError::kBlockedAddress);
    EXPECT_EQ(server.count(), 0u);
    // ... also when reached through a name that resolves to it ...
    r = post(client, "http://localhost:" + std::to_string(server.port()) + "/", true);
    EXPECT_EQ(r.error, net::HttpError::kBlockedAddress);
    EXPECT_EQ(server.count(), 0u);
    // ... and allowed when the guard is off.
    r = post(client, server.url(), false);
    EXPECT_EQ(r.status, 200);
}

// DNS rebinding: what is checked is the address connected to, so a public-looking name that
// resolves to loopback is refused however it was judged when the request was accepted.
TYPED_TEST(HttpClientContract, TheSsrfGuardChecksWhatANameResolvesTo) {
    const auto name = test::loopback_host_name();
    if (name.empty()) GTEST_SKIP() << "no host name here resolves to loopback only";
    test::TestHttpServer server;
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    auto r = post(client, server.url_for_host(name), true);
    EXPECT_EQ(r.error, net::HttpError::kBlockedAddress) << name << ": " << r.error_message;
    EXPECT_EQ(server.count(), 0u);
}

// A proxy from the environment would be the address open_socket() checks, and the receiver's
// address would never be judged: callbacks never use one.
TYPED_TEST(HttpClientContract, ProxySettingsFromTheEnvironmentAreIgnored) {
    test::TestHttpServer proxy;
    test::TestHttpServer receiver;
    const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    for (const char* var : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"}) {
        ::setenv(var, proxy_url.c_str(), 1);
    }
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    const auto r = post(client, receiver.url("/cb"), false);
    for (const char* var : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"}) {
        ::unsetenv(var);
    }
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(receiver.count(), 1u);
    EXPECT_EQ(proxy.count(), 0u);
}

// https receivers are verified (chain and name) against ca_bundle (CALLBACK_CA_FILE).
TYPED_TEST(HttpClientContract, HttpsReceiversAreVerified) {
    test::TempDir dir;
    const test::TestCa ca(dir.path(), "ca");
    const test::TestCa rogue(dir.path(), "rogue");
    test::TestHttpServer trusted(test::localhost_cert(ca));
    test::TestHttpServer untrusted(test::localhost_cert(rogue));
    test::TestHttpServer wrong_name(ca.issue("other", {"other.example"}));

    const auto with_ca_ptr = TestFixture::make_with_ca(ca.ca_file());
    auto& with_ca = *with_ca_ptr;
    auto r = post(with_ca, trusted.url());
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(trusted.count(), 1u);

    r = post(with_ca, untrusted.url());
    EXPECT_EQ(r.error, net::HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
    r = post(with_ca, wrong_name.url());
    EXPECT_EQ(r.error, net::HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;

    const auto system_cas_ptr = TestFixture::make();
    auto& system_cas = *system_cas_ptr;
    r = post(system_cas, trusted.url());
    EXPECT_EQ(r.error, net::HttpError::kTls) << r.error_message;
    EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
    EXPECT_EQ(untrusted.count() + wrong_name.count(), 0u);
    EXPECT_EQ(trusted.count(), 1u);
}

TYPED_TEST(HttpClientContract, RedirectsAreNotFollowed) {
    test::TestHttpServer server;
    server.set_handler([&server](const test::Recorded&) {
        return test::Reply{302, "", {{"Location", server.url("/elsewhere")}}};
    });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    const auto r = post(client, server.url("/cb"));
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(server.count(), 1u);
}

TYPED_TEST(HttpClientContract, StopCancelsWhatIsPending) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 3000ms}; });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    std::promise<net::HttpResponse> p;
    net::HttpRequest req;
    req.url = server.url();
    req.block_private_addresses = false;
    client.post(std::move(req), [&p](net::HttpResponse r) { p.set_value(std::move(r)); });
    // On the wire (the server holds its answer for 3 s). EXPECT, not ASSERT: stop() must still
    // run before `p` goes out of scope.
    EXPECT_TRUE(server.wait_for_count(1, 10s)) << "the request never reached the server";
    client.stop();
    EXPECT_EQ(p.get_future().get().error, net::HttpError::kCancelled);
}

// stop() completes the request on the wire and those queued behind it, each exactly once, on
// the client's thread.
TYPED_TEST(HttpClientContract, StopCancelsQueuedRequestsExactlyOnce) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 3000ms}; });
    const auto client_ptr = TestFixture::make_per_host(1);
    auto& client = *client_ptr;
    std::mutex mu;
    std::vector<int> calls(3, 0);
    std::vector<net::HttpError> errors(3, net::HttpError::kNone);
    bool on_caller_thread = false;
    const auto caller = std::this_thread::get_id();
    for (int i = 0; i < 3; ++i) {
        net::HttpRequest req;
        req.url = server.url();
        req.block_private_addresses = false;
        client.post(std::move(req), [&, i](const net::HttpResponse& r) {
            std::lock_guard lock(mu);
            ++calls[i];
            errors[i] = r.error;
            on_caller_thread = on_caller_thread || std::this_thread::get_id() == caller;
        });
    }
    ASSERT_TRUE(server.wait_for_count(1, 2000ms));
    client.stop();
    std::lock_guard lock(mu);
    EXPECT_EQ(calls, (std::vector<int>{1, 1, 1}));
    for (const auto e : errors) EXPECT_EQ(e, net::HttpError::kCancelled);
    EXPECT_FALSE(on_caller_thread);
    EXPECT_EQ(client.in_flight(), 0u);
}

// Connections follow concurrency: 20 requests at once over at most 4 connections, which 100
// sequential requests then reuse.
TYPED_TEST(HttpClientContract, ConnectionsFollowConcurrencyAndAreReused) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{200, "{}", {}, 20ms}; });
    const auto client_ptr = TestFixture::make_per_host(4);
    auto& client = *client_ptr;
    std::vector<std::future<net::HttpResponse>> answers;
    for (int i = 0; i < 20; ++i) {
        answers.push_back(
            std::async(std::launch::async, [&] { return post(client, server.url()); }));
    }
    for (auto& a : answers) {
        const auto r = a.get();
        EXPECT_EQ(r.status, 200) << r.error_message;
    }
    EXPECT_LE(server.connections(), 4);
    server.set_handler([](const test::Recorded&) { return test::Reply{}; });
    for (int i = 0; i < 100; ++i) ASSERT_EQ(post(client, server.url()).status, 200);
    EXPECT_LE(server.connections(), 4);
    EXPECT_EQ(server.count(), 120u);
    EXPECT_EQ(client.in_flight(), 0u);
}

// A receiver (or a proxy in front of it) that closes idle keep-alive connections: the next
// request goes out on a new connection and succeeds.
TYPED_TEST(HttpClientContract, ConnectionsTheServerClosedWhileIdleAreNotUsed) {
    test::TestHttpServer server({.ipv6 = false, .close_idle_after = 50ms});
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    for (int i = 0; i < 3; ++i) {
        const auto r = post(client, server.url());
        EXPECT_EQ(r.status, 200) << r.error_message;
        // Idleness is the point here: wait past the server's idle limit.
        std::this_thread::sleep_for(150ms);
    }
    EXPECT_EQ(server.connections(), 3);
}

// The server closes a kept-alive connection about when the next request goes out: whether
// the client sees the close first or sends into it, no request fails.
TYPED_TEST(HttpClientContract, AServerClosingKeptAliveConnectionsNeverFailsARequest) {
    test::TestHttpServer server({.ipv6 = false, .close_idle_after = 1ms});
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    for (int i = 0; i < 30; ++i) {
        const auto r = post(client, server.url());
        ASSERT_EQ(r.status, 200) << i << ": " << r.error_message;
        if (i % 2 == 1) std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(server.count(), 30u);
}

TYPED_TEST(HttpClientContract, Ipv6LiteralsWork) {
    std::unique_ptr<test::TestHttpServer> server;
    try {
        server = std::make_unique<test::TestHttpServer>(test::ServerOptions{.ipv6 = true});
    } catch (const std::exception&) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    const auto client_ptr = TestFixture::make();
    const auto url = server->url("/cb?a=1");
    ASSERT_EQ(url.rfind("http://[::1]:", 0), 0u) << url;
    const auto r = post(*client_ptr, url);
    EXPECT_EQ(r.status, 200) << r.error_message;
    ASSERT_EQ(server->count(), 1u);
    const auto got = server->requests().at(0);
    EXPECT_EQ(got.target, "/cb?a=1");
    EXPECT_EQ(got.header("host"), "[::1]:" + std::to_string(server->port()));
    // The SSRF guard knows ::1 is loopback (a new client: curl would reuse the connection).
    EXPECT_EQ(post(*TestFixture::make(), url, true).error, net::HttpError::kBlockedAddress);
}

// The receiver hung up a kept-alive connection just as the request went out: sent once more,
// on a new connection (callbacks carry a webhook-id, so a receiver can tell a repeat).
TYPED_TEST(HttpClientContract, ARequestThatFindsItsReusedConnectionClosedIsSentOnceMore) {
    test::TestHttpServer server;
    std::mutex mu;
    std::map<int, int> per_connection;
    server.set_handler([&](const test::Recorded& r) {
        std::lock_guard lock(mu);
        return ++per_connection[r.connection] == 2 ? test::Reply{0, ""} : test::Reply{};
    });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    auto r = post(client, server.url());
    EXPECT_EQ(r.status, 200) << r.error_message;
    r = post(client, server.url());
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(server.count(), 3u);
    EXPECT_EQ(server.connections(), 2);
}

// ... but never a request that failed on a connection of its own.
TYPED_TEST(HttpClientContract, ARequestIsNotRepeatedAfterAFreshConnectionFailed) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded&) { return test::Reply{0, ""}; });
    const auto client_ptr = TestFixture::make();
    const auto r = post(*client_ptr, server.url());
    EXPECT_EQ(r.error, net::HttpError::kConnect) << r.error_message;
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(server.count(), 1u);
}

TYPED_TEST(HttpClientContract, SendsHostAndTargetAndRefusesOtherSchemes) {
    test::TestHttpServer server;
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    auto r = post(client, server.url("/cb/x?id=7&b=%20"));
    EXPECT_EQ(r.status, 200) << r.error_message;
    const auto got = server.requests().at(0);
    EXPECT_EQ(got.target, "/cb/x?id=7&b=%20");
    EXPECT_EQ(got.header("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(got.header("content-length"), "7");
    r = post(client, "ftp://127.0.0.1:" + std::to_string(server.port()) + "/cb");
    EXPECT_EQ(r.error, net::HttpError::kProtocol) << r.error_message;
    EXPECT_EQ(server.count(), 1u);
}

// A big answer is not an error: 64 KiB of it are kept, and the status is reported even past
// what a client reads of it.
TYPED_TEST(HttpClientContract, LargeAnswersAreTruncatedNotFailed) {
    test::TestHttpServer server;
    server.set_handler([](const test::Recorded& r) {
        const size_t size = r.target == "/huge" ? 3 * 1024 * 1024 : 200 * 1024;
        return test::Reply{200, std::string(size, 'x')};
    });
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    auto r = post(client, server.url("/big"));
    EXPECT_EQ(r.error, net::HttpError::kNone) << r.error_message;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 64u * 1024);
    r = post(client, server.url("/huge"));
    EXPECT_EQ(r.error, net::HttpError::kNone) << r.error_message;
    EXPECT_EQ(r.status, 200);
    EXPECT_LE(r.body.size(), 64u * 1024);
    r = post(client, server.url("/big"));  // the client is still fine
    EXPECT_EQ(r.status, 200) << r.error_message;
}

// post() from many threads at once; every completion arrives exactly once.
TYPED_TEST(HttpClientContract, PostIsThreadSafe) {
    test::TestHttpServer server;
    const auto client_ptr = TestFixture::make();
    auto& client = *client_ptr;
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                net::HttpRequest req;
                req.url = server.url();
                req.block_private_addresses = false;
                client.post(std::move(req), [&done](const net::HttpResponse& r) {
                    EXPECT_EQ(r.status, 200) << r.error_message;
                    done.fetch_add(1);
                });
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(server.wait_for_count(100, 10s));
    EXPECT_TRUE(test::eventually([&] { return done.load() >= 100; }, 10s)) << done.load();
    EXPECT_EQ(done.load(), 100);
    EXPECT_EQ(client.in_flight(), 0u);
}

}  // namespace
}  // namespace cg::net
