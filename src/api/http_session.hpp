#pragma once
// One HTTP/1.1 connection (Beast's session shape). A session lives on one event-loop thread,
// so it needs no strand: answers computed on other threads are posted back to it.
// One request is processed at a time; pipelined requests wait in the buffer and are answered
// in order. The same session serves plain HTTP (PlainStream) and HTTPS (TlsStream): the only
// difference is the TLS handshake before the first read.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "api/connection_limiter.hpp"
#include "api/router.hpp"
#include "obs/metrics.hpp"

namespace cg::api {

// State shared by the sessions of one server.
struct SessionShared {
    Router& router;
    obs::Metrics& metrics;
    std::atomic<bool>& draining;
    ConnectionLimiter& limiter;
    std::atomic<int64_t>& pending;  // requests read and not yet answered
    // A keep-alive connection may wait this long for a request's first byte.
    std::chrono::milliseconds idle_timeout;
    // From its first byte, a request (header and body) must arrive in full within this, so a
    // client trickling bytes (slowloris) holds a connection at most this long per request.
    // The TLS handshake must also complete within it.
    std::chrono::milliseconds request_timeout;
    // HTTPS only: the server's certificate and settings; null for plain HTTP.
    boost::asio::ssl::context* tls = nullptr;
};

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// What the event loop needs of a session of either kind.
class Session {
  public:
    virtual ~Session() = default;
    // Closes the connection if no request is in progress (drain). Event-loop thread only.
    virtual void close_if_idle() = 0;
};

template <class Stream>
class HttpSession final : public Session, public std::enable_shared_from_this<HttpSession<Stream>> {
  public:
    // `peer` was admitted by shared.limiter; the session releases it when destroyed. A TLS
    // session needs shared.tls.
    HttpSession(boost::asio::ip::tcp::socket socket, boost::asio::ip::address peer,
                SessionShared& shared);
    ~HttpSession() override;
    void start();
    void close_if_idle() override;

  private:
    using std::enable_shared_from_this<HttpSession<Stream>>::shared_from_this;
    boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
    void on_handshake(boost::beast::error_code ec);
    void do_read();
    void on_first_bytes(boost::beast::error_code ec, size_t n);
    void read_header();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_read(boost::beast::error_code ec);
    void dispatch();
    void write(Response res);
    void on_write(bool close, boost::beast::error_code ec);
    void fail_and_close(unsigned status, std::string_view message);
    void close();

    Stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    SessionShared& shared_;
    boost::asio::ip::address peer_;
    bool busy_ = false;
    bool keep_alive_ = true;
    unsigned version_ = 11;
    bool head_ = false;  // the request being answered is a HEAD: its answer has no body
    // `100 Continue` for requests with `Expect: 100-continue`; built once per connection.
    boost::beast::http::response<boost::beast::http::empty_body> continue_{
        boost::beast::http::status::continue_, 11};
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace cg::api
