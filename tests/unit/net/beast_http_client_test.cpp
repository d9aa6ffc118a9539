// What only BeastHttpClient promises; the shared contract is in http_client_contract_test.cpp.
#include "net/beast_http_client.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/test_http_server.hpp"

namespace cg::net {
namespace {

using namespace std::chrono_literals;

net::HttpResponse post_blocking(net::HttpClient& client, const std::string& url, bool block) {
    net::HttpRequest req;
    req.url = url;
    req.body = "{}";
    req.timeout = 2000ms;
    req.block_private_addresses = block;
    std::promise<net::HttpResponse> p;
    auto f = p.get_future();
    client.post(std::move(req), [&p](net::HttpResponse r) { p.set_value(std::move(r)); });
    return f.get();
}

TEST(BeastHttpClient, IdleConnectionsOlderThanTheIdleTimeoutAreClosed) {
    test::TestHttpServer server;
    net::BeastOptions options;
    options.idle_timeout = 50ms;
    net::BeastHttpClient client(options);
    EXPECT_EQ(post_blocking(client, server.url(), false).status, 200);
    EXPECT_EQ(post_blocking(client, server.url(), false).status, 200);
    EXPECT_EQ(server.connections(), 1);
    std::this_thread::sleep_for(150ms);  // idleness is the point here
    EXPECT_EQ(post_blocking(client, server.url(), false).status, 200);
    EXPECT_EQ(server.connections(), 2);
}

// A connection opened for a request that allowed private addresses is not lent to one that
// does not: the guard judges every request.
TEST(BeastHttpClient, AConnectionToABlockedAddressIsNotReusedWhenTheGuardIsOn) {
    test::TestHttpServer server;
    net::BeastHttpClient client({});
    EXPECT_EQ(post_blocking(client, server.url(), false).status, 200);
    const auto r = post_blocking(client, server.url(), true);
    EXPECT_EQ(r.error, net::HttpError::kBlockedAddress);
    EXPECT_EQ(r.error_message, "address not allowed");
    EXPECT_EQ(server.count(), 1u);
    EXPECT_EQ(post_blocking(client, server.url(), false).status,
              200);  // still there for the others
    EXPECT_EQ(server.connections(), 1);
}

// max_total_connections over all origins: an idle connection elsewhere is closed to make room,
// and a request waits when every connection is busy.
TEST(BeastHttpClient, TheTotalConnectionLimitSpansOrigins) {
    test::TestHttpServer a;
    test::TestHttpServer b;
    a.set_handler([](const test::Recorded& r) {
        return test::Reply{200, "{}", {}, r.target == "/slow" ? 300ms : 0ms};
    });
    net::BeastOptions options;
    options.max_total_connections = 1;
    options.idle_timeout = 10s;
    net::BeastHttpClient client(options);
    EXPECT_EQ(post_blocking(client, a.url(), false).status, 200);
    EXPECT_EQ(post_blocking(client, b.url(), false).status, 200);  // a's idle connection makes room
    EXPECT_EQ(a.connections(), 1);
    EXPECT_EQ(b.connections(), 1);
    auto slow = std::async(std::launch::async,
                           [&] { return post_blocking(client, a.url("/slow"), false); });
    ASSERT_TRUE(a.wait_for_count(2, 2000ms));
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = post_blocking(client, b.url(), false);  // waits for a's connection to close
    // a's connection is closed to make room as soon as it is idle, not when its idle timeout
    // ends (it once was: every such request waited 30 s).
    EXPECT_LT(std::chrono::steady_clock::now() - t0, options.idle_timeout);
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(slow.get().status, 200);
    EXPECT_EQ(b.connections(), 2);
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST(BeastHttpClient, MalformedUrlsAreProtocolErrors) {
    net::BeastHttpClient client({});
    for (const char* url : {"not a url", "http://", "mailto:a@b.c", "http://127.0.0.1:99999/"}) {
        const auto r = post_blocking(client, url, false);
        EXPECT_EQ(r.error, net::HttpError::kProtocol) << url << ": " << r.error_message;
    }
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST(BeastHttpClient, PostAfterStopIsCancelledAtOnce) {
    net::BeastHttpClient client({});
    client.stop();
    client.stop();
    const auto r = post_blocking(client, "http://127.0.0.1:1/", false);
    EXPECT_EQ(r.error, net::HttpError::kCancelled);
    EXPECT_EQ(client.in_flight(), 0u);
}

}  // namespace
}  // namespace cg::net
