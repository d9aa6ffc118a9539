#pragma once
// The public and admin HTTP API on Boost.Beast: a fixed number of event-loop threads, each
// with its own io_context and SO_REUSEPORT acceptor, no thread per request or connection.
// Handlers never block an event-loop thread: durable writes complete through the store's
// writer, reads run on a small reader pool, and answers are posted back to the connection.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "api/connection_limiter.hpp"
#include "api/services.hpp"

namespace cg::api {

struct ServerOptions {
    std::string bind_address = "0.0.0.0";
    uint16_t port = 8080;  // 0: any free port (see port())
    int threads = 2;       // event-loop threads
    int reader_threads = 2;
    ConnectionLimits limits;
    std::chrono::milliseconds idle_timeout{60000};     // HTTP_IDLE_TIMEOUT_MS
    std::chrono::milliseconds request_timeout{10000};  // HTTP_REQUEST_TIMEOUT_MS
    // Set: the listener serves HTTPS only (make_server_tls_context). Null: plain HTTP.
    std::shared_ptr<boost::asio::ssl::context> tls;
};

// The pause after a failed accept that followed a pause of `previous` (0: none): 10 ms, then
// doubling, at most 1 s.
std::chrono::milliseconds next_accept_pause(std::chrono::milliseconds previous);

class HttpServer {
  public:
    HttpServer(ServerOptions options, ApiServices services);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts serving; throws std::runtime_error with a one-line message when the
    // address cannot be bound.
    void start();
    [[nodiscard]] uint16_t port() const;
    // Stops accepting connections and marks /health/ready as not ready; connections already
    // open finish the request in progress and are closed after their answer.
    void stop_accepting();
    // True once every connection is closed and no answer is pending.
    [[nodiscard]] bool idle() const;
    // Stops the event loops and joins the threads. Idempotent.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cg::api
