// HTTPS serving (TLS_CERT_FILE, TLS_KEY_FILE) and callbacks to https receivers
// (CALLBACK_CA_FILE), with a test CA made by the openssl CLI.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <cerrno>
#include <fstream>

#include "service_fixture.hpp"
#include "support/tcp_probe.hpp"
#include "support/test_ca.hpp"

namespace cg::test {
namespace {

class TlsTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        ca_ = std::make_unique<TestCa>(dir_.path(), "test-ca");
        server_cert_ = localhost_cert(*ca_);
    }

    // Serve HTTPS with the test CA's certificate for 127.0.0.1 and localhost.
    void serve_https() {
        env["TLS_CERT_FILE"] = server_cert_.cert;
        env["TLS_KEY_FILE"] = server_cert_.key;
        tls_ca_file_ = ca_->ca_file();
    }

    std::string https_url(const std::string& path) const {
        return "https://127.0.0.1:" + std::to_string(port_) + path;
    }

    HttpResult https(const std::string& method, const std::string& path, const Headers& h = {},
                     const std::string& body = {}) {
        return http_request(method, https_url(path), h, body, 5000, ca_->ca_file());
    }

    // Runs `openssl s_client` against the service; its output.
    CommandResult s_client(const std::vector<std::string>& extra) {
        std::vector<std::string> args = {"s_client", "-connect",
                                         "127.0.0.1:" + std::to_string(port_), "-CAfile",
                                         ca_->ca_file()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_command(openssl_binary(), args, {}, std::chrono::seconds(20));
    }

    std::unique_ptr<TestCa> ca_;
    CertFiles server_cert_;
};

TEST_F(TlsTest, ServesHttpsWithTheConfiguredCertificate) {
    serve_https();
    start();
    const auto health = https("GET", "/health");
    EXPECT_EQ(health.status, 200) << health.error;
    const auto accepted =
        https("POST", "/api/v1/charging-session", {{"Content-Type", "application/json"}},
              body(kStation, kToken, receiver_.url()));
    ASSERT_EQ(accepted.status, 200) << accepted.error << accepted.body;
    const auto id = str(parse_object(accepted.body), "request_id");
    ASSERT_FALSE(id.empty());
    EXPECT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(15)));
    const auto status = https("GET", "/api/v1/charging-session/" + id);
    EXPECT_EQ(status.status, 200);
    EXPECT_EQ(str(parse_object(status.body), "request_id"), id);
    // The certificate is the test CA's: a client trusting only the system's CAs refuses it.
    const auto untrusting = http_request("GET", https_url("/health"));
    EXPECT_EQ(untrusting.status, 0);
    EXPECT_FALSE(untrusting.error.empty());
}

TEST_F(TlsTest, PlainHttpToTheTlsPortGetsNoHttpAnswer) {
    serve_https();
    start();
    const auto plain = http_request("GET", url("/health"), {}, {}, 3000);
    EXPECT_EQ(plain.status, 0) << plain.body;
    const auto raw = tcp_exchange(port_, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                  "\r\n\r\n", std::chrono::seconds(5));
    EXPECT_EQ(raw.find("HTTP/"), std::string::npos) << raw;
    // The service is still up and counted the failed handshakes.
    EXPECT_EQ(https("GET", "/health").status, 200);
    const auto metrics = https("GET", "/metrics");
    EXPECT_EQ(metrics.body.find("tls_handshake_failures_total 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("tls_handshake_failures_total "), std::string::npos);
}

// A client that connects and never starts the handshake is closed once HTTP_REQUEST_TIMEOUT_MS
// has passed, like a plain-HTTP client that never finishes its request.
TEST_F(TlsTest, AStalledHandshakeIsClosedByTheServer) {
    serve_https();
    env["HTTP_REQUEST_TIMEOUT_MS"] = "300";
    start();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval limit{20, 0};  // a bound for a hung test, far above the timeout
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    char byte = 0;
    const auto n = ::recv(fd, &byte, 1, 0);
    const int err = errno;
    ::close(fd);
    EXPECT_TRUE(n == 0 || (n < 0 && err == ECONNRESET)) << "recv " << n << " errno " << err;
    EXPECT_EQ(https("GET", "/health").status, 200);
}

// SIGTERM drains and stops an HTTPS service like a plain one.
TEST_F(TlsTest, SigtermStopsAnHttpsServiceCleanly) {
    serve_https();
    start();
    ASSERT_EQ(https("GET", "/health").status, 200);
    service_->terminate();
    EXPECT_EQ(service_->wait_exit(), 0) << service_->log();
}

// MAX_CONNECTIONS_PER_CLIENT holds for HTTPS: past it a connection is closed (no plain-text 503
// on a TLS port) and counted; a freed slot is usable again.
TEST_F(TlsTest, ConnectionLimitsHoldForHttps) {
    serve_https();
    env["MAX_CONNECTIONS_PER_CLIENT"] = "3";
    start();
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::ssl::context client_ctx(asio::ssl::context::tls_client);
    client_ctx.load_verify_file(ca_->ca_file());
    client_ctx.set_verify_mode(asio::ssl::verify_peer);
    using Held = asio::ssl::stream<asio::ip::tcp::socket>;
    std::vector<std::unique_ptr<Held>> held;
    const asio::ip::tcp::endpoint service(asio::ip::make_address("127.0.0.1"), port_);
    // Each is admitted once its handshake is done (the readiness probes' slots are released
    // when their connection closes, so a refused attempt is retried).
    for (int attempt = 0; attempt < 50 && held.size() < 3; ++attempt) {
        auto s = std::make_unique<Held>(ioc, client_ctx);
        boost::system::error_code ec;
        s->next_layer().connect(service, ec);
        if (!ec) s->handshake(asio::ssl::stream_base::client, ec);
        if (!ec) {
            held.push_back(std::move(s));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ASSERT_EQ(held.size(), 3u);
    const auto refused = https("GET", "/health/live");
    EXPECT_EQ(refused.status, 0) << refused.body;
    held.clear();  // closes them
    HttpResult metrics;
    for (int attempt = 0; attempt < 50 && metrics.status != 200; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        metrics = https("GET", "/metrics");
    }
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find(R"(http_connections_refused_total{reason="per_client"} 1)"),
              std::string::npos)
        << metrics.body;
}

TEST_F(TlsTest, Tls11ClientsAreRefused) {
    serve_https();
    start();
    // Control: the same client at TLS 1.2 completes a verified handshake.
    const auto tls12 = s_client({"-tls1_2"});
    ASSERT_EQ(tls12.exit_code, 0) << tls12.out << tls12.err;
    EXPECT_NE(tls12.out.find("Verify return code: 0 (ok)"), std::string::npos) << tls12.out;
    EXPECT_EQ(tls12.out.find("Cipher is (NONE)"), std::string::npos) << tls12.out;
    // SECLEVEL=0 lets OpenSSL 3's client offer TLS 1.1 at all (Debian's default forbids it).
    const auto tls11 = s_client({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
    const auto all = tls11.out + tls11.err;
    if (all.find("no protocols available") != std::string::npos ||
        all.find("unknown option") != std::string::npos) {
        GTEST_SKIP() << "the local openssl client cannot offer TLS 1.1: " << all;
    }
    EXPECT_NE(tls11.exit_code, 0) << all;
    EXPECT_NE(all.find("Cipher is (NONE)"), std::string::npos) << all;  // no session
    EXPECT_NE(all.find("alert protocol version"), std::string::npos) << all;
    EXPECT_EQ(https("GET", "/health").status, 200);
}

TEST_F(TlsTest, BadTlsSettingsAreOneLineStartupErrors) {
    const auto other = ca_->issue("other", {"127.0.0.1"});
    const auto missing = (dir_.path() / "missing.pem").string();
    const auto garbage = (dir_.path() / "garbage.pem").string();
    std::ofstream(garbage) << "not PEM\n";
    struct Case {
        Env settings;
        std::string expect;  // in the message
    };
    const std::vector<Case> cases = {
        {{{"TLS_CERT_FILE", server_cert_.cert}}, "TLS_KEY_FILE"},
        {{{"TLS_KEY_FILE", server_cert_.key}}, "TLS_CERT_FILE"},
        {{{"TLS_CERT_FILE", missing}, {"TLS_KEY_FILE", server_cert_.key}}, "TLS_CERT_FILE"},
        {{{"TLS_CERT_FILE", garbage}, {"TLS_KEY_FILE", server_cert_.key}}, "TLS_CERT_FILE"},
        {{{"TLS_CERT_FILE", server_cert_.cert}, {"TLS_KEY_FILE", garbage}}, "TLS_KEY_FILE"},
        {{{"TLS_CERT_FILE", server_cert_.cert}, {"TLS_KEY_FILE", other.key}}, "does not match"},
        {{{"CALLBACK_CA_FILE", missing}}, "CALLBACK_CA_FILE"},
    };
    for (const auto& c : cases) {
        Env e = env;
        for (const auto& [k, v] : c.settings) e[k] = v;
        const auto r = run_command(binary(), {"serve"}, e, std::chrono::seconds(20));
        EXPECT_NE(r.exit_code, 0) << c.expect;
        EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.err;  // no crash
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("chargegate: error: "), std::string::npos) << r.err;
        // One line: the error, nothing after it.
        ASSERT_FALSE(r.err.empty());
        const auto line_start = r.err.find("chargegate: error: ");
        if (line_start != std::string::npos) {
            EXPECT_EQ(r.err.find('\n', line_start), r.err.size() - 1) << r.err;
        }
    }
}

// Callbacks to https receivers.
class CallbackTlsTest : public TlsTest {
  protected:
    std::string accept_one(const std::string& callback) {
        const auto r = post_session(callback);
        EXPECT_EQ(r.status, 200) << r.body;
        return str(parse_object(r.body), "request_id");
    }

    // Waits until the request has had at least `n` attempts; its callback status then.
    boost::json::object after_attempts(const std::string& id, int64_t n) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        boost::json::object cb;
        while (std::chrono::steady_clock::now() < end) {
            const auto s = status_of(id);
            if (const auto* c = s.if_contains("callback"); c && c->is_object()) {
                cb = c->as_object();
                if (cb.at("attempts").as_int64() >= n) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return cb;
    }

    // The receiver's TLS handshakes fail and nothing is delivered; the status says why.
    void expect_refused(TestHttpServer& receiver, const std::string& callback) {
        env["CALLBACK_MAX_ATTEMPTS"] = "5";
        start();
        const auto id = accept_one(callback);
        const auto cb = after_attempts(id, 2);  // retried
        ASSERT_FALSE(cb.empty());
        EXPECT_GE(cb.at("attempts").as_int64(), 2);
        ASSERT_TRUE(cb.at("last_error").is_string()) << cb;
        const std::string error(cb.at("last_error").as_string());
        EXPECT_NE(error.find("certificate"), std::string::npos) << error;
        EXPECT_EQ(receiver.count(), 0u);
        EXPECT_NE(str(status_of(id), "state"), "delivered");
    }
};

TEST_F(CallbackTlsTest, DeliveredWhenTheCallbackCaFileTrustsTheReceiver) {
    TestHttpServer receiver(server_cert_);
    env["CALLBACK_CA_FILE"] = ca_->ca_file();
    start();
    const auto id = accept_one(receiver.url());
    ASSERT_TRUE(wait_state(id, "delivered")) << status_of(id);
    ASSERT_EQ(receiver.count(), 1u);
    EXPECT_EQ(receiver.requests()[0].header("webhook-id"), id);
}

TEST_F(CallbackTlsTest, SystemCasAloneDoNotTrustAPrivateCa) {
    TestHttpServer receiver(server_cert_);
    expect_refused(receiver, receiver.url());
    EXPECT_GE(receiver.failed_handshakes(), 2);
}

TEST_F(CallbackTlsTest, AReceiverSignedByAnotherCaIsRefused) {
    const TestCa rogue(dir_.path(), "rogue-ca");
    TestHttpServer receiver(localhost_cert(rogue));
    env["CALLBACK_CA_FILE"] = ca_->ca_file();
    expect_refused(receiver, receiver.url());
}

TEST_F(CallbackTlsTest, AReceiverWhoseNameDoesNotMatchTheUrlIsRefused) {
    TestHttpServer receiver(ca_->issue("elsewhere", {"elsewhere.example"}));
    env["CALLBACK_CA_FILE"] = ca_->ca_file();
    expect_refused(receiver, receiver.url());
}

}  // namespace
}  // namespace cg::test
