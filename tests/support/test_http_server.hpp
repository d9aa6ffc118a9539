#pragma once
// An HTTP/1.1 server on 127.0.0.1 for tests: the callback receiver and the fake authorizer.
// Each connection is served by its own thread (test code: simplicity over scale), with
// keep-alive, so a slow answer on one connection never delays another; ServerOptions gives
// [::1] and idle-connection closing. With a certificate it
// serves HTTPS only (TLS 1.2+), like a callback receiver on the internet.
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_ca.hpp"

namespace cg::test {

struct Recorded {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::chrono::steady_clock::time_point at;
    int connection = 0;
    [[nodiscard]] std::string header(const std::string& lower) const {
        auto it = headers.find(lower);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct Reply {
    Reply() = default;
    Reply(int s, std::string b, std::vector<std::pair<std::string, std::string>> h = {},
          std::chrono::milliseconds d = std::chrono::milliseconds(0))
        : status(s), body(std::move(b)), headers(std::move(h)), delay(d) {}
    int status = 200;  // 0: close the connection without answering
    std::string body = "{}";
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};
};

struct ServerOptions {
    bool ipv6 = false;  // listen on [::1] instead of 127.0.0.1 (throws when there is no ::1)
    // Closes a keep-alive connection that has waited this long for its next request (0: never),
    // like a receiver behind a proxy with a short idle timeout.
    std::chrono::milliseconds close_idle_after{0};
};

class TestHttpServer {
  public:
    TestHttpServer();
    explicit TestHttpServer(ServerOptions options);
    // HTTPS with this certificate and key (e.g. from TestCa::issue).
    explicit TestHttpServer(const CertFiles& tls);
    ~TestHttpServer();
    TestHttpServer(const TestHttpServer&) = delete;
    TestHttpServer& operator=(const TestHttpServer&) = delete;

    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] std::string url(const std::string& path = "/cb") const;
    // The same with `host` (a name or IP literal) in place of 127.0.0.1.
    [[nodiscard]] std::string url_for_host(const std::string& host,
                                           const std::string& path = "/cb") const;
    // TLS handshakes that failed (a client that did not trust the certificate, for instance).
    [[nodiscard]] int failed_handshakes() const { return failed_handshakes_.load(); }

    // Decides each answer (called on the connection's thread). Default: 200 {}.
    void set_handler(std::function<Reply(const Recorded&)> handler);

    [[nodiscard]] std::vector<Recorded> requests() const;
    [[nodiscard]] size_t count() const;
    [[nodiscard]] int connections() const { return connections_.load(); }
    bool wait_for_count(size_t n, std::chrono::milliseconds timeout) const;
    bool wait_for(const std::function<bool(const std::vector<Recorded>&)>& pred,
                  std::chrono::milliseconds timeout) const;

    // Simulates a receiver outage: closes the listening socket and every open connection, so
    // new connections are refused (RST) until reopen_listener() listens on the same port again.
    // The request log survives. Not to be called concurrently with itself or reopen_listener().
    void close_listener();
    // Listens again on the same port; throws if the port cannot be bound.
    void reopen_listener();
    [[nodiscard]] bool listening() const { return !down_.load(); }

    void stop();

  private:
    // Binds and listens on 127.0.0.1:`port` (0: any free port); returns the port.
    uint16_t listen_on(uint16_t port);
    void accept_loop();
    void serve(int fd, int connection);
    template <class Stream>
    void serve_requests(Stream& stream, int fd, int connection);
    // Shuts every open connection down and joins their threads.
    void drop_connections();

    ServerOptions options_;
    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> down_{false};  // between close_listener() and reopen_listener()
    std::atomic<int> connections_{0};
    std::atomic<int> failed_handshakes_{0};
    std::shared_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
    std::thread acceptor_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::vector<Recorded> log_;
    std::function<Reply(const Recorded&)> handler_;
    std::vector<std::thread> workers_;
    std::vector<int> fds_;  // open connections; each is removed before its socket is closed
    int next_connection_ = 0;
};

}  // namespace cg::test
